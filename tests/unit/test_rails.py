"""Payout rails: destination checks (schwifty, eth-utils), batch files (pain.001 validated
against the XSD sepaxml ships; the wire and custody CSVs), batch books, beneficiary commitments.

IBANs are the published examples of their countries' registries (and their mutations); EIP-55
addresses are the test vectors of EIP-55 itself.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

import pytest
import sepaxml
import xmlschema
from defusedxml.ElementTree import fromstring

from reclaim.adapters.rails import VaultBeneficiaryCommitments, latin_name, spreadsheet_safe
from reclaim.adapters.rails.batch_book import JsonBatchBook
from reclaim.adapters.rails.hk_wire import Correspondent, HkWireRail
from reclaim.adapters.rails.sepa import SepaDebtor, SepaRail
from reclaim.adapters.rails.usdc import UsdcRail
from reclaim.adapters.vault import Commitments
from reclaim.app.withdrawal_ports import (
    BatchBookError,
    Beneficiary,
    BeneficiaryProblem,
    MemoryBatchBook,
    PayoutInstruction,
    RailFileError,
)

DEBTOR: Final = SepaDebtor("Reclaim Operator SAS", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX")
AT: Final = datetime(2025, 6, 2, 10, 30, tzinfo=UTC)
ON: Final = date(2025, 6, 3)
NS: Final = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
#: EIP-55's own test vectors (all caps, all lower, mixed).
EIP55: Final = (
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
)


def problem(found: Beneficiary | BeneficiaryProblem) -> str:
    return found.code.name if isinstance(found, BeneficiaryProblem) else "ok"


# SEPA -------------------------------------------------------------------------------------------

SEPA_CASES: Final = (
    ({"iban": "FR7630006000011234567890189"}, "ok"),
    ({"iban": "fr76 3000 6000 0112 3456 7890 189"}, "ok"),  # spaces, lower case
    ({"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}, "ok"),
    ({"iban": "GB33BUKB20201555555555"}, "ok"),  # the UK is in the SEPA scheme's area
    ({"iban": "FR7630006000011234567890188"}, "iban_invalid"),  # national check digits
    ({"iban": "FR7730006000011234567890189"}, "iban_invalid"),  # mod 97 check digits
    ({"iban": "FR763000600001123456789018"}, "iban_invalid"),  # one character short
    ({"iban": "XX7630006000011234567890189"}, "iban_invalid"),  # no such country
    ({"iban": "FR76-3000"}, "iban_invalid"),
    ({"iban": "BR1800360305000010009795493C1"}, "not_in_sepa_zone"),
    ({"iban": "FR7630006000011234567890189", "bic": "BNPAXXPP"}, "bic_invalid"),
    ({"iban": "FR7630006000011234567890189", "bic": "BNP"}, "bic_invalid"),
    ({"iban": ""}, "beneficiary_field_missing"),
    ({}, "beneficiary_field_missing"),
    ({"iban": "FR7630006000011234567890189", "name": "x"}, "beneficiary_field_unknown"),
)


@pytest.mark.parametrize(("fields", "expected"), SEPA_CASES)
def test_sepa_destinations(fields: dict[str, str], expected: str) -> None:
    assert problem(SepaRail(None).check_beneficiary(fields)) == expected


def test_sepa_normal_form() -> None:
    found = SepaRail(None).check_beneficiary({"iban": "fr76 3000 6000 0112 3456 7890 189 ",
                                              "bic": "bnpafrpp"})  # fmt: skip
    assert found == Beneficiary(
        "sepa", {"iban": "FR7630006000011234567890189", "bic": "BNPAFRPP"},
        "FR7630006000011234567890189", "FR76 **** 0189",
    )  # fmt: skip


def instructions() -> list[PayoutInstruction]:
    return [
        PayoutInstruction("W0a1", 250_000, "EUR", "ZHANG Wei 张伟",
                          {"iban": "FR7630006000011234567890189"}),
        PayoutInstruction("W0b2", 6_000_000, "EUR", "Björn O'Neil",
                          {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}),
        PayoutInstruction("W0c3", 1, "EUR", "=HYPERLINK(x)", {"iban": "GB33BUKB20201555555555"}),
    ]  # fmt: skip


def test_pain001_validates_and_pays_exactly_the_batch() -> None:
    made = SepaRail(DEBTOR).batch_file("sepa-20250602-1", AT, ON, instructions())
    assert (made.filename, made.media_type, made.count, made.total_minor) == (
        "sepa-20250602-1.pain.001.xml", "application/xml", 3, 6_250_001
    )  # fmt: skip
    schema = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
    xmlschema.XMLSchema(schema).validate(made.content.decode())  # raises if not valid
    root = fromstring(made.content)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header is not None
    assert [header.findtext(f"p:{n}", None, NS) for n in ("MsgId", "CreDtTm", "NbOfTxs",
                                                        "CtrlSum")] == [
        "sepa-20250602-1", "2025-06-02T10:30:00", "3", "62500.01"
    ]  # fmt: skip
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info is not None
    assert info.findtext("p:PmtInfId", None, NS) == "sepa-20250602-1-1"
    assert info.findtext("p:ReqdExctnDt", None, NS) == "2025-06-03"
    assert info.findtext("p:DbtrAcct/p:Id/p:IBAN", None, NS) == "DE89370400440532013000"
    payments = [
        (
            tx.findtext("p:PmtId/p:EndToEndId", None, NS),
            tx.findtext("p:Amt/p:InstdAmt", None, NS),
            tx.find("p:Amt/p:InstdAmt", NS).get("Ccy"),  # type: ignore[union-attr]
            tx.findtext("p:Cdtr/p:Nm", None, NS),
            tx.findtext("p:CdtrAcct/p:Id/p:IBAN", None, NS),
            tx.findtext("p:CdtrAgt/p:FinInstnId/p:BIC", None, NS),
            tx.findtext("p:RmtInf/p:Ustrd", None, NS),
        )
        for tx in info.iterfind("p:CdtTrfTxInf", NS)
    ]
    assert payments == [
        ("W0a1", "2500.00", "EUR", "ZHANG Wei Zhang Wei", "FR7630006000011234567890189", None,
         "reclaim withdrawal W0a1"),
        ("W0b2", "60000.00", "EUR", "Bjorn O'Neil", "DE89370400440532013000", "COBADEFFXXX",
         "reclaim withdrawal W0b2"),
        ("W0c3", "0.01", "EUR", "HYPERLINK(x)", "GB33BUKB20201555555555", None,
         "reclaim withdrawal W0c3"),
    ]  # fmt: skip


def test_pain001_is_deterministic_and_other_versions_validate() -> None:
    rail = SepaRail(DEBTOR)
    first = rail.batch_file("b-1", AT, ON, instructions()).content
    assert rail.batch_file("b-1", AT, ON, instructions()).content == first
    newer = SepaRail(DEBTOR, "pain.001.001.09").batch_file("b-1", AT, ON, instructions())
    assert b"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09" in newer.content
    assert b"<BICFI>COBADEFFXXX</BICFI>" in newer.content


def test_pain001_needs_a_debtor_and_a_valid_file() -> None:
    with pytest.raises(RailFileError, match="no debtor account"):
        SepaRail(None).batch_file("b-1", AT, ON, instructions())
    bad = [PayoutInstruction("W1", 100, "EUR", "x", {"iban": "NOT-AN-IBAN"})]
    with pytest.raises(RailFileError, match="does not validate"):
        SepaRail(DEBTOR).batch_file("b-1", AT, ON, bad)


# The Hong Kong wire -----------------------------------------------------------------------------

HK: Final = Correspondent("HSBCHKHHHKH", "848-123456-838", "Reclaim Operator Ltd")
HK_CASES: Final = (
    ({"account": "848-123456-838", "bic": "HSBCHKHHHKH"}, "ok"),
    ({"account": "012 345 678901", "bic": "BKCHHKHH"}, "ok"),
    ({"account": "DE89370400440532013000", "bic": "COBADEFFXXX"}, "ok"),  # a USD account by IBAN
    ({"account": "DE89370400440532013001", "bic": "COBADEFFXXX"}, "account_invalid"),
    ({"account": "DE89370400440532013000", "bic": "HSBCHKHHHKH"}, "bic_invalid"),
    ({"account": "12345", "bic": "HSBCHKHHHKH"}, "account_invalid"),
    ({"account": "12345678#", "bic": "HSBCHKHHHKH"}, "account_invalid"),
    ({"account": "848123456838", "bic": "HSBCZZHH"}, "bic_invalid"),
    ({"account": "848123456838"}, "beneficiary_field_missing"),
    ({"account": "848123456838", "bic": "HSBCHKHH", "iban": "x"}, "beneficiary_field_unknown"),
)


@pytest.mark.parametrize(("fields", "expected"), HK_CASES)
def test_hk_wire_destinations(fields: dict[str, str], expected: str) -> None:
    assert problem(HkWireRail(None).check_beneficiary(fields)) == expected


def test_hk_wire_instruction_file() -> None:
    rail = HkWireRail(HK)
    found = rail.check_beneficiary({"account": "012-345-678901", "bic": "bkchhkhh"})
    assert isinstance(found, Beneficiary)
    assert (found.canonical, found.masked) == ("BKCHHKHH/012345678901", "BKCHHKHH ****8901")
    batch = [
        PayoutInstruction("W1", 50_000, "USD", "CHEN Karol 陈卡罗尔", dict(found.fields)),
        PayoutInstruction("W2", 123_456_789, "USD", "@Mallory, Inc.",
                          {"account": "DE89370400440532013000", "bic": "COBADEFFXXX"}),
    ]  # fmt: skip
    made = rail.batch_file("hkwire-1", AT, ON, batch)
    assert (made.filename, made.count, made.total_minor) == ("hkwire-1.hk-wire.csv", 2, 123_506_789)
    assert made.content.decode().splitlines() == [
        "batch_id,end_to_end_id,value_date,currency,amount,ordering_account,ordering_name,"
        "beneficiary_name,beneficiary_account,beneficiary_bank_bic,intermediary_bic,charges,"
        "remittance",
        "hkwire-1,W1,2025-06-03,USD,500.00,848-123456-838,Reclaim Operator Ltd,"
        "CHEN Karol Chen Qia Luo Er,012345678901,BKCHHKHH,HSBCHKHHHKH,OUR,reclaim withdrawal W1",
        'hkwire-1,W2,2025-06-03,USD,1234567.89,848-123456-838,Reclaim Operator Ltd,"Mallory, '
        'Inc.",DE89370400440532013000,COBADEFFXXX,HSBCHKHHHKH,OUR,reclaim withdrawal W2',
    ]
    with pytest.raises(RailFileError, match="no correspondent"):
        HkWireRail(None).batch_file("x", AT, ON, batch)


# USDC -------------------------------------------------------------------------------------------


def usdc_rail() -> UsdcRail:
    return UsdcRail(EIP55[2:])


@pytest.mark.parametrize("address", EIP55[2:])
def test_usdc_accepts_allow_listed_checksummed_addresses(address: str) -> None:
    found = usdc_rail().check_beneficiary({"address": f" {address} "})
    assert isinstance(found, Beneficiary)
    assert found.fields == {"address": address}
    assert found.masked == f"{address[:6]}…{address[-4:]}"


USDC_CASES: Final = (
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "address_not_checksummed"),  # one case flip
    ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "address_not_checksummed"),  # no checksum
    ("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", "address_not_checksummed"),
    (EIP55[0], "address_not_allowed"),  # all caps IS its EIP-55 form: valid, but not listed
    (EIP55[1], "address_not_allowed"),  # all lower likewise
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA", "address_invalid"),  # 19 bytes
    ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "address_invalid"),  # no 0x
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", "address_invalid"),
    ("0x742d35cc6634c0532925a3b844bc454e4438f44e", "address_not_checksummed"),
    ("0x742d35Cc6634C0532925a3b844Bc454e4438f44e", "address_not_allowed"),  # valid, not listed
    ("", "beneficiary_field_missing"),
)


@pytest.mark.parametrize(("address", "expected"), USDC_CASES)
def test_usdc_refusals(address: str, expected: str) -> None:
    assert problem(usdc_rail().check_beneficiary({"address": address})) == expected


def test_usdc_allow_list_must_be_checksummed_and_the_file() -> None:
    with pytest.raises(AssertionError):
        UsdcRail(["0x742d35cc6634c0532925a3b844bc454e4438f44e"])
    batch = [PayoutInstruction("W1", 20_000_000, "USDC", "ignored", {"address": EIP55[3]})]
    made = usdc_rail().batch_file("usdc-1", AT, ON, batch)
    assert made.content.decode().splitlines() == [
        "batch_id,withdrawal_id,network,to,amount,asset",
        f"usdc-1,W1,ethereum,{EIP55[3]},20.000000,USDC",
    ]
    assert (made.count, made.total_minor) == (1, 20_000_000)


# Batch books, commitments, names ----------------------------------------------------------------


def test_memory_batch_book() -> None:
    book = MemoryBatchBook()
    book.record("b-1", ["W1", "W2"], AT)
    assert (book.batch_of("W1"), book.batch_of("W3")) == ("b-1", None)
    with pytest.raises(BatchBookError, match=r"exported already: \['W2'\]"):
        book.record("b-2", ["W3", "W2"], AT)
    assert book.batch_of("W3") is None, "a refused record adds nothing"


def test_json_batch_book(tmp_path: Path) -> None:
    path = tmp_path / "batches.json"
    book = JsonBatchBook(path)
    assert book.batch_of("W1") is None
    book.record("b-1", ["W2", "W1"], AT)
    assert json.loads(path.read_text()) == {"version": 1, "batches": {"W1": "b-1", "W2": "b-1"}}
    again = JsonBatchBook(path)
    assert again.batch_of("W2") == "b-1"
    with pytest.raises(BatchBookError, match="exported already"):
        again.record("b-2", ["W1"], AT)
    path.write_text("{not json")
    with pytest.raises(BatchBookError, match="is not JSON"):
        again.batch_of("W1")
    path.write_text("[]")
    with pytest.raises(BatchBookError, match="not a batch book of version 1"):
        again.batch_of("W1")


def test_beneficiary_commitments() -> None:
    commitments = VaultBeneficiaryCommitments(Commitments(bytes(range(32))))
    a = commitments.beneficiary("sepa", "FR7630006000011234567890189")
    assert a == commitments.beneficiary("sepa", "FR7630006000011234567890189")
    assert a != commitments.beneficiary("hk_wire", "FR7630006000011234567890189")
    assert len(a) == 64
    assert a == Commitments(bytes(range(32))).commit(
        "beneficiary", "sepa:FR7630006000011234567890189"
    )
    assert repr(commitments) == "VaultBeneficiaryCommitments(<secret>)"


def test_names_and_cells() -> None:
    assert latin_name("  Zoë   Ørsted-Ünal ", 70) == "Zoe Orsted-Unal"
    assert latin_name("陈卡罗尔", 35) == "Chen Qia Luo Er"
    assert latin_name("x" * 50, 35) == "x" * 35
    assert [spreadsheet_safe(c) for c in ("=1+1", "+1", "-1", "@x", "ok")] == [
        "'=1+1", "'+1", "'-1", "'@x", "ok"
    ]  # fmt: skip
