"""Bank statements read exactly: the samples of ``tests/data/withdrawals`` (camt.053.001.02 and
.08, CSV) line by line, and every refusal (excess precision, floats, unknown currencies, XML
bombs, wrong namespaces, malformed rows)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from reclaim.adapters.files.statements import (
    StatementError,
    parse_statement,
    read_camt053,
    read_csv,
    read_statement,
)
from reclaim.core.withdrawals.reconcile import StatementLine

DATA: Final = Path(__file__).resolve().parents[1] / "data" / "withdrawals"
DAY: Final = "2025-06-04"

#: The EUR day of both samples, as lines.
EUR_DAY: Final = [
    StatementLine(1, "W0001", 250_000, "EUR", "debit", DAY, "BK-20250604-0001", ""),
    StatementLine(2, "W0002", 60_000, "EUR", "debit", DAY, "BK-20250604-0002", ""),
    StatementLine(3, "INV-2025-77", 1_000, "EUR", "debit", DAY, "BK-20250604-0003", ""),
    StatementLine(4, "W0003", 200_000, "EUR", "credit", DAY, "BK-20250604-0004", "AC04"),
    StatementLine(5, "W0004", 10_000, "EUR", "debit", DAY, "BK-20250604-0005-1", ""),
    StatementLine(6, "W0005", 20_000, "EUR", "debit", DAY, "BK-20250604-0005-2", ""),
    StatementLine(7, "", 500_000, "EUR", "credit", DAY, "BK-20250604-0006", ""),
    StatementLine(8, "W0001", 250_000, "EUR", "debit", DAY, "BK-20250604-0007", ""),
]


def test_camt053_v02_sample() -> None:
    assert read_statement(DATA / "camt053-001-02.xml") == EUR_DAY


def test_csv_sample_reads_as_the_same_day() -> None:
    assert read_statement(DATA / "statement.csv") == EUR_DAY


def test_camt053_v08_sample() -> None:
    assert read_statement(DATA / "camt053-001-08.xml") == [
        StatementLine(1, "W0006", 50_000, "USD", "debit", "2025-06-05", "HK-0001", "")
    ]


def camt(entries: str, version: str = "02") -> bytes:
    return (
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">'
        f"<BkToCstmrStmt><Stmt>{entries}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def entry(amount: str = '<Amt Ccy="EUR">1.00</Amt>', details: str = "", ind: str = "DBIT") -> str:
    return (
        f"<Ntry>{amount}<CdtDbtInd>{ind}</CdtDbtInd><Sts>BOOK</Sts>"
        f"<BookgDt><Dt>2025-06-04</Dt></BookgDt><AcctSvcrRef>R</AcctSvcrRef>{details}</Ntry>"
    )


def test_a_batch_booking_without_amounts_is_one_line_without_reference() -> None:
    details = (
        "<NtryDtls><TxDtls><Refs><EndToEndId>W1</EndToEndId></Refs></TxDtls>"
        "<TxDtls><Refs><EndToEndId>W2</EndToEndId></Refs></TxDtls></NtryDtls>"
    )
    assert read_camt053(camt(entry('<Amt Ccy="EUR">3.00</Amt>', details))) == [
        StatementLine(1, "", 300, "EUR", "debit", DAY, "R", "")
    ]
    assert read_camt053(camt(entry())) == [StatementLine(1, "", 100, "EUR", "debit", DAY, "R")]


CAMT_REFUSALS: Final = (
    (camt(entry('<Amt Ccy="EUR">1.005</Amt>')),
     "entry 1: amount: '1.005' has 3 decimal places; EUR allows 2"),
    (camt(entry('<Amt Ccy="EUR">1e2</Amt>')),
     "entry 1: amount: '1e2' is not a plain decimal amount (digits, one optional point)"),
    (camt(entry('<Amt Ccy="EUR">-1.00</Amt>')),
     "entry 1: amount: '-1.00': a sign is not allowed here"),
    (camt(entry('<Amt Ccy="EUR">0.00</Amt>')), "entry 1: amount is zero"),
    (camt(entry('<Amt Ccy="GBP">1.00</Amt>')),
     "entry 1: currency 'GBP' is not one of ['EUR', 'USD', 'USDC']"),
    (camt(entry(ind="XXXX")), "entry 1: needs Amt, CdtDbtInd DBIT/CRDT and BookgDt"),
    (camt(entry(details="<NtryDtls><TxDtls><RtrInf><Rsn><Cd>closed</Cd></Rsn></RtrInf>"
                        "</TxDtls></NtryDtls>")),
     "entry 1 transaction 1: return reason 'closed' is not an ISO reason code"),
)  # fmt: skip


@pytest.mark.parametrize(("data", "problem"), CAMT_REFUSALS)
def test_camt053_refusals(data: bytes, problem: str) -> None:
    with pytest.raises(StatementError) as caught:
        read_camt053(data)
    assert caught.value.problems == [problem]


def test_not_a_camt053() -> None:
    for data, message in (
        (b"<Document/>", "not a camt.053.001.02-13 document: root 'Document'"),
        (camt("", "01"), "not a camt.053.001.02-13 document"),
        (camt("", "14"), "not a camt.053.001.02-13 document"),
        (b"<Document", "not well-formed XML"),
        (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><d>&a;</d>',
         "not well-formed XML"),
    ):  # fmt: skip
        with pytest.raises(StatementError, match=message):
            parse_statement(data)


HEADER: Final = "booking_date,amount,currency,end_to_end_id\n"
CSV_REFUSALS: Final = (
    (HEADER + "2025-06-04,-1.005,EUR,W1\n",
     "line 1: amount: '-1.005' has 3 decimal places; EUR allows 2"),
    (HEADER + "2025-06-04,-1.5e1,EUR,W1\n",
     "line 1: amount: '-1.5e1' is not a plain decimal amount (digits, one optional point)"),
    (HEADER + "2025-06-04,0.00,EUR,W1\n", "line 1: amount is zero"),
    (HEADER + "2025-06-04,-1.00,GBP,W1\n",
     "line 1: currency 'GBP' is not one of ['EUR', 'USD', 'USDC']"),
    (HEADER + "04/06/2025,-1.00,EUR,W1\n", "line 1: booking_date '04/06/2025' is not YYYY-MM-DD"),
    (HEADER + "2025-06-04,-1.00,EUR\n", "line 1: not 4 cells"),
    ("booking_date,amount,currency\n", "header: missing columns ['end_to_end_id'] (has "
     "['booking_date', 'amount', 'currency'])"),
    (HEADER.replace("\n", ",return_reason\n") + "2025-06-04,1.00,EUR,W1,gone\n",
     "line 1: return_reason 'gone' is not an ISO reason code"),
)  # fmt: skip


@pytest.mark.parametrize(("text", "problem"), CSV_REFUSALS)
def test_csv_refusals(text: str, problem: str) -> None:
    with pytest.raises(StatementError) as caught:
        read_csv(text.encode())
    assert caught.value.problems == [problem]


def test_csv_details() -> None:
    text = (
        "\ufeff" + HEADER + "2025-06-04,1234567.89,USD,NOTPROVIDED\n2025-06-04,-0.000001,USDC,W9\n"
    )
    assert read_csv(text.encode()) == [
        StatementLine(1, "", 123_456_789, "USD", "credit", DAY),
        StatementLine(2, "W9", 1, "USDC", "debit", DAY),
    ]
    with pytest.raises(StatementError, match="not UTF-8"):
        read_csv(HEADER.encode() + b"2025-06-04,-1.00,EUR,W\xff\n")
    many = HEADER + "".join(f"x,-1.00,EUR,W{n}\n" for n in range(150))
    with pytest.raises(StatementError) as caught:
        read_csv(many.encode())
    assert len(caught.value.problems) == 100
