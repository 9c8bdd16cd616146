"""The operator's claims files: estate terms (TOML/JSON) and jurisdiction policy (CSV)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reclaim.adapters.files.estate_file import EstateFileError, load_estate_file, shipped_estate
from reclaim.adapters.files.policy_file import PolicyReport, load_policy_csv, shipped_policy
from reclaim.core.claims import ClaimClass, CreateEstate, PolicyEntry

HEADER = "iso,name,status,reason,source,effective_date,rails\n"


def policy(
    tmp_path: Path, body: str | bytes, header: str = HEADER
) -> list[PolicyEntry] | PolicyReport:
    path = tmp_path / "policy.csv"
    data = body if isinstance(body, bytes) else (header + body).encode()
    path.write_bytes(data)
    return load_policy_csv(path)


def faults(result: list[PolicyEntry] | PolicyReport) -> list[tuple[int | None, str | None, str]]:
    assert isinstance(result, PolicyReport), result
    return [(e.row, e.column, e.code) for e in result.errors]


def test_a_valid_policy_file(tmp_path: Path) -> None:
    entries = policy(
        tmp_path,
        "GB,United Kingdom,open,Served by all rails,https://example.org/a,2025-01-01,"
        "usdc sepa_eur usdc\n"
        "KP,,sanctioned,UN and OFAC sanctions,OFAC SDN list,2020-01-01,\n",
    )
    assert entries == [
        PolicyEntry("GB", "open", "Served by all rails", "https://example.org/a", "2025-01-01",
                    ("sepa_eur", "usdc")),
        PolicyEntry("KP", "sanctioned", "UN and OFAC sanctions", "OFAC SDN list", "2020-01-01"),
    ]  # fmt: skip


def test_the_name_column_is_optional(tmp_path: Path) -> None:
    header = "effective_date,iso,status,reason,source,rails\n"
    entries = policy(tmp_path, "2025-01-01,FR,open,ok,src,\n", header=header)
    assert entries == [PolicyEntry("FR", "open", "ok", "src", "2025-01-01")]


def test_every_bad_row_is_reported(tmp_path: Path) -> None:
    result = policy(
        tmp_path,
        "cn,China,restricted,r,s,2025-07-02,\n"  # 1
        "XK,Kosovo,restricted,r,s,2025-07-02,\n"  # 2
        "RU,Russia,closed,r,s,2025-07-02,\n"  # 3
        "BY,Belarus,restricted,,s,2025-07-02,\n"  # 4
        "IR,Iran,restricted,r,https://exämple.org,2025-07-02,\n"  # 5
        "SY,Syria,restricted,r,s,2025-02-30,\n"  # 6
        "MM,Myanmar,restricted,r,s,2025-07-02,USDC\n"  # 7
        "KP,North Korea,sanctioned,r,s,2025-07-02,usdc\n"  # 8
        "CU,Cuba,sanctioned,r,s,2025-07-02,\n"  # 9
        "CU,Cuba,open,r,s,2025-07-02,\n"  # 10
        "AF,Afghanistan,restricted,r,s\n"  # 11
        f"AD,Andorra,restricted,{'x' * 201},s,2025-07-02,\n",  # 12
    )
    assert faults(result) == [
        (1, "iso", "jurisdiction_not_upper_case"),
        (2, "iso", "unknown_jurisdiction"),
        (3, "status", "unknown_status"),
        (4, "reason", "invalid_text"),
        (5, "source", "invalid_text"),
        (6, "effective_date", "invalid_date"),
        (7, "rails", "bad_rail"),
        (8, "rails", "sanctioned_with_rails"),
        (10, "effective_date", "duplicate"),
        (11, None, "wrong_field_count"),
        (12, "reason", "invalid_text"),
    ]
    assert isinstance(result, PolicyReport)
    lines = result.lines()
    assert lines[0] == "row 1, iso: 'cn' must be upper case (CN)"
    assert "row 5, source: 'https://exämple.org' is not ASCII" in lines[4]
    assert lines[8] == "row 10, effective_date: CU from 2025-07-02 is given in row 9 already"
    assert lines[10] == "row 12, reason: 201 characters long; at most 200"


def test_header_and_encoding_faults(tmp_path: Path) -> None:
    assert faults(policy(tmp_path, "", header="iso,status,reason,source,date,rails,iso\n")) == [
        (None, "date", "unknown_column"),
        (None, "iso", "duplicate_column"),
        (None, "effective_date", "missing_column"),
    ]
    assert faults(policy(tmp_path, b"iso,status\nCN,restricted \xff\n")) == [
        (None, None, "not_utf8")
    ]
    assert faults(policy(tmp_path, "")) == [(None, None, "no_rows")]
    assert faults(policy(tmp_path, b"")) == [(None, None, "empty_file")]


def test_the_shipped_policy_loads() -> None:
    entries = load_policy_csv(shipped_policy("ftx_restricted_jurisdictions_2025"))
    assert isinstance(entries, list)
    assert len(entries) == 27
    assert "CN" in {e.iso for e in entries}


FTX = CreateEstate(
    "ftx", "FTX Trading Ltd. et al.", "2022-11-11",
    (ClaimClass("5A", "Dotcom customer entitlement claims", 1),
     ClaimClass("5B", "U.S. customer entitlement claims", 1),
     ClaimClass("7", "Convenience claims", 1),
     ClaimClass("6A", "General unsecured claims", 2),
     ClaimClass("6B", "Digital asset loan claims", 2)),
    "7", 5_000_000, 900, "simple", "ACT/365",
)  # fmt: skip


def test_the_shipped_ftx_estate() -> None:
    assert load_estate_file(shipped_estate("ftx")) == FTX


def test_an_estate_as_json_and_with_a_toml_date(tmp_path: Path) -> None:
    document = {
        "estate_id": "celsius",
        "name": "Celsius Network LLC",
        "petition_date": "2022-07-13",
        "classes": [{"code": "cust", "name": "Account holder claims", "priority": 1}],
    }
    path = tmp_path / "celsius.json"
    path.write_text(json.dumps(document))
    assert load_estate_file(path) == CreateEstate(
        "celsius", "Celsius Network LLC", "2022-07-13",
        (ClaimClass("cust", "Account holder claims", 1),),
    )  # fmt: skip
    toml = tmp_path / "celsius.toml"
    toml.write_text(
        'estate_id = "celsius"\nname = "Celsius"\npetition_date = 2022-07-13\n'
        '[[classes]]\ncode = "cust"\nname = "Account holders"\npriority = 1\n'
    )
    assert load_estate_file(toml).petition_date == "2022-07-13"


def test_every_fault_of_an_estate_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "estate_id": "x",
                "petition_date": 20221111,
                "consensus_rate_bps": 900.0,
                "convenience_threshold_minor": "5000000",
                "interst": "simple",
                "classes": [{"code": "A", "name": "A", "priority": True}, {"code": "B"}, "C"],
            }
        )
    )
    with pytest.raises(EstateFileError) as raised:
        load_estate_file(path)
    assert raised.value.faults == (
        "interst: unknown key (expected estate_id, name, petition_date, classes, "
        "convenience_class, convenience_threshold_minor, consensus_rate_bps, interest, day_count)",
        "name: missing",
        "petition_date: 20221111 is not text",
        "classes[1].priority: True is not an integer",
        "classes[2].name: missing",
        "classes[2].priority: missing",
        "classes[3]: not a table",
        "convenience_threshold_minor: '5000000' is not an integer",
        "consensus_rate_bps: 900.0 is not an integer",
    )
    broken = tmp_path / "broken.toml"
    broken.write_text("estate_id = \n")
    with pytest.raises(EstateFileError, match="not readable"):
        load_estate_file(broken)


def test_register_columns_match_its_rows(tmp_path: Path) -> None:
    from reclaim.adapters.files.register_file import read_register
    from reclaim.adapters.files.register_format import RegisterFile

    path = tmp_path / "r.csv"
    path.write_text(
        "claim_id,customer_code,email,holder_name,jurisdiction,class,admitted_usd,status\n"
        "A-1,K1, Wei@QQ.com ,王  伟,CN,5A,12.5,allowed\n"
        "A-2,K2,b@example.com,Bo Chen,FR,7,3,filed\n",
        encoding="utf-8",
    )
    register = read_register(path)
    assert isinstance(register, RegisterFile)
    rows = list(register.rows())
    for name in ("claim_id", "email", "email_normalized", "holder_name_normalized", "status"):
        assert register.texts(name) == [getattr(r, name) for r in rows]
    assert register.texts("email_normalized") == ["wei@qq.com", "b@example.com"]
    assert register.texts("holder_name_normalized") == ["王 伟", "bo chen"]
    assert register.amounts_cents() == [1250, 300]
    with pytest.raises(AssertionError, match="not a text column"):
        register.texts("admitted_cents")
