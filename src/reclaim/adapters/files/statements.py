"""Bank statements: CSV and ISO 20022 camt.053, read into ``StatementLine``s, exactly.

Two formats (``read_statement`` tells them apart by their first byte, ``<`` being XML):

**CSV** (UTF-8, a byte-order mark tolerated, comma-separated, ``"`` quoting, one header line;
columns by name, in any order, other columns ignored)::

    booking_date,amount,currency,end_to_end_id,bank_reference,return_reason
    2025-06-03,-2500.00,EUR,w-1,BK-0001,
    2025-06-04,2500.00,EUR,w-7,BK-0002,AC04

``booking_date`` ``YYYY-MM-DD``; ``amount`` signed decimal in the currency's major unit, negative
for money leaving the account (a payout), positive for money coming in (a return, a deposit);
``currency`` an ISO code reclaim knows (EUR, USD, USDC); ``end_to_end_id`` the payment's end-to-end
reference (empty or ``NOTPROVIDED`` when the bank has none); ``bank_reference`` and
``return_reason`` (an ISO 20022 return reason code) optional.

**camt.053** (Bank-to-Customer Statement), versions ``camt.053.001.02`` to ``.13`` by namespace,
parsed with ``defusedxml`` (no DTDs, entities or external references). Every booked entry
(``Sts`` ``BOOK``, or ``Sts/Cd`` ``BOOK`` from version 8) gives one line per transaction
(``NtryDtls/TxDtls``): the reference is ``Refs/EndToEndId``, the amount the transaction's own
(``Amt``, or ``AmtDtls/TxAmt/Amt`` in version 2) or, for an entry with one transaction, the
entry's; the direction ``CdtDbtInd`` (``DBIT`` → debit); the date ``BookgDt/Dt`` (or the date of
``BookgDt/DtTm``); the bank's reference ``AcctSvcrRef``; a return's reason ``RtrInf/Rsn/Cd``.
An entry that books several transactions without their amounts (or with none listed) gives one
line without a reference — reconciliation reports it, never splits it. Pending and information
entries (``PDNG``, ``INFO``) are not booked and give no line.

Amounts go from text to minor units through ``reclaim.core.money.parse_amount``: ``Decimal``
only, no float anywhere, and a value with more decimals than the currency has (``12.345`` EUR)
is refused, never rounded.

Errors: a file that cannot be read whole raises ``StatementError`` with every problem found (at
most ``problems_max``), each naming its line or entry — an operating error of the adapter; the
service reports it and reconciles nothing from that file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final
from xml.etree.ElementTree import Element  # a type only: parsing is defusedxml's

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from reclaim.core.claims.model import is_date
from reclaim.core.limits import statement_lines_max, statement_size_max_bytes
from reclaim.core.limits import statement_problems_max as problems_max
from reclaim.core.limits import statement_reference_length_max_chars as reference_length_max_chars
from reclaim.core.money import ASSETS, AmountError, parse_amount
from reclaim.core.withdrawals.reconcile import CREDIT, DEBIT, StatementLine

CSV_REQUIRED: Final = ("booking_date", "amount", "currency", "end_to_end_id")
CSV_OPTIONAL: Final = ("bank_reference", "return_reason")
_CAMT_NS: Final = re.compile(r"\{urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d\d)\}Document")
_CAMT_VERSIONS: Final = range(2, 14)
_REASON: Final = re.compile(r"[A-Z0-9]{4}")
#: The end-to-end id of a payment that had none (ISO 20022's convention).
NOT_PROVIDED: Final = "NOTPROVIDED"


class StatementError(ValueError):
    """A statement that cannot be read; ``problems`` lists where and why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))
        self.problems = problems


def read_statement(path: Path) -> list[StatementLine]:
    """The lines of the statement file at ``path`` (camt.053 or CSV, by content)."""
    size = path.stat().st_size
    if size > statement_size_max_bytes:
        raise StatementError([f"{size} bytes: larger than {statement_size_max_bytes}"])
    return parse_statement(path.read_bytes())


def parse_statement(data: bytes) -> list[StatementLine]:
    if len(data) > statement_size_max_bytes:
        raise StatementError([f"{len(data)} bytes: larger than {statement_size_max_bytes}"])
    head = data.removeprefix(codecs.BOM_UTF8).lstrip()
    return read_camt053(data) if head.startswith(b"<") else read_csv(data)


# CSV --------------------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[StatementLine]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StatementError([f"not UTF-8: {exc.reason} at byte {exc.start}"]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    header = reader.fieldnames or []
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise StatementError([f"header: missing columns {missing} (has {header})"])
    lines: list[StatementLine] = []
    problems: list[str] = []
    try:
        for number, row in enumerate(reader, start=1):
            if number > statement_lines_max:
                raise StatementError([f"more than {statement_lines_max} lines"])
            if None in row or None in row.values():
                problems.append(f"line {number}: not {len(header)} cells")
                continue
            line = _csv_line(number, row, problems)
            if line is not None:
                lines.append(line)
            if len(problems) >= problems_max:
                break
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: {exc}")
    if problems:
        raise StatementError(problems)
    return lines


def _csv_line(number: int, row: dict[str, str], problems: list[str]) -> StatementLine | None:
    where = f"line {number}"
    booking_date = row["booking_date"].strip()
    if not is_date(booking_date):
        problems.append(f"{where}: booking_date {booking_date!r} is not YYYY-MM-DD")
        return None
    currency = row["currency"].strip()
    signed = _amount(where, currency, row["amount"].strip(), problems, signed=True)
    if signed is None:
        return None
    reason = (row.get("return_reason") or "").strip()
    if reason and not _REASON.fullmatch(reason):
        problems.append(f"{where}: return_reason {reason!r} is not an ISO reason code")
        return None
    reference = _reference(row["end_to_end_id"])
    bank_reference = (row.get("bank_reference") or "").strip()
    if not _references_fit(where, reference, bank_reference, problems):
        return None
    direction = DEBIT if signed < 0 else CREDIT
    return StatementLine(number, reference, abs(signed), currency, direction, booking_date,
                         bank_reference, reason)  # fmt: skip


def _amount(
    where: str, currency: str, text: str, problems: list[str], *, signed: bool
) -> int | None:
    """``text`` in minor units of ``currency``, not zero; else ``None``, the fault noted."""
    asset = ASSETS.get(currency)
    if asset is None:
        problems.append(f"{where}: currency {currency!r} is not one of {sorted(ASSETS)}")
        return None
    try:
        amount = parse_amount(text, asset, signed=signed)
    except AmountError as exc:
        problems.append(f"{where}: amount: {exc}")
        return None
    if amount == 0:
        problems.append(f"{where}: amount is zero")
        return None
    return amount


def _references_fit(where: str, reference: str, bank_reference: str, problems: list[str]) -> bool:
    """Both references within ``reference_length_max_chars``; else the fault in ``problems``."""
    if max(len(reference), len(bank_reference)) > reference_length_max_chars:
        problems.append(f"{where}: a reference longer than {reference_length_max_chars}")
        return False
    return True


def _reference(text: str) -> str:
    reference = text.strip()
    return "" if reference == NOT_PROVIDED else reference


# camt.053 ---------------------------------------------------------------------------------------


def read_camt053(data: bytes) -> list[StatementLine]:
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException) as exc:
        raise StatementError([f"not well-formed XML: {exc}"]) from None
    match = _CAMT_NS.fullmatch(root.tag)
    if match is None or int(match.group(1)) not in _CAMT_VERSIONS:
        raise StatementError([f"not a camt.053.001.02-13 document: root {root.tag!r}"])
    version = int(match.group(1))
    ns = {"c": root.tag[1:].partition("}")[0]}
    lines: list[StatementLine] = []
    problems: list[str] = []
    entries = root.iterfind("c:BkToCstmrStmt/c:Stmt/c:Ntry", ns)
    for entry_number, entry in enumerate(entries, start=1):
        if not _booked(entry, ns, version):
            continue
        for line in _entry_lines(entry, entry_number, len(lines), ns, problems):
            lines.append(line)
            if len(lines) > statement_lines_max:
                raise StatementError([f"more than {statement_lines_max} lines"])
        if len(problems) >= problems_max:
            break
    if problems:
        raise StatementError(problems)
    return lines


def _booked(entry: Element, ns: dict[str, str], version: int) -> bool:
    status = entry.findtext("c:Sts/c:Cd" if version >= 8 else "c:Sts", "", ns).strip()
    return status == "BOOK"


def _entry_lines(
    entry: Element, number: int, before: int, ns: dict[str, str], problems: list[str]
) -> Iterator[StatementLine]:
    where = f"entry {number}"
    amount_node = entry.find("c:Amt", ns)
    direction_text = entry.findtext("c:CdtDbtInd", "", ns).strip()
    booking = (
        entry.findtext("c:BookgDt/c:Dt", "", ns).strip()
        or entry.findtext("c:BookgDt/c:DtTm", "", ns).strip()[:10]
    )
    if amount_node is None or direction_text not in ("DBIT", "CRDT") or not is_date(booking):
        problems.append(f"{where}: needs Amt, CdtDbtInd DBIT/CRDT and BookgDt")
        return
    direction = DEBIT if direction_text == "DBIT" else CREDIT
    bank_reference = entry.findtext("c:AcctSvcrRef", "", ns).strip()
    details = entry.findall("c:NtryDtls/c:TxDtls", ns)
    amounts = [_tx_amount(tx, ns) for tx in details]
    if len(details) > 1 and any(a is None for a in amounts):
        details, amounts = [], []  # a batch booking without per-transaction amounts
    if not details:
        line = _line(amount_node, where, before + 1, "", direction, booking, bank_reference, "",
                     problems)  # fmt: skip
        if line is not None:
            yield line
        return
    for offset, (tx, tx_amount) in enumerate(zip(details, amounts, strict=True)):
        reference = _reference(tx.findtext("c:Refs/c:EndToEndId", "", ns))
        tx_reference = tx.findtext("c:Refs/c:AcctSvcrRef", "", ns).strip() or bank_reference
        reason = tx.findtext("c:RtrInf/c:Rsn/c:Cd", "", ns).strip()
        node = tx_amount if tx_amount is not None else amount_node
        line = _line(node, f"{where} transaction {offset + 1}", before + offset + 1, reference,
                     direction, booking, tx_reference, reason, problems)  # fmt: skip
        if line is not None:
            yield line


def _tx_amount(tx: Element, ns: dict[str, str]) -> Element | None:
    found = tx.find("c:Amt", ns)
    return found if found is not None else tx.find("c:AmtDtls/c:TxAmt/c:Amt", ns)


def _line(
    node: Element, where: str, number: int, reference: str, direction: str, booking: str,
    bank_reference: str, reason: str, problems: list[str],
) -> StatementLine | None:  # fmt: skip
    currency = node.get("Ccy", "")
    amount = _amount(where, currency, (node.text or "").strip(), problems, signed=False)
    if amount is None:
        return None
    if reason and not _REASON.fullmatch(reason):
        problems.append(f"{where}: return reason {reason!r} is not an ISO reason code")
        return None
    if not _references_fit(where, reference, bank_reference, problems):
        return None
    return StatementLine(number, reference, amount, currency, direction, booking,
                         bank_reference, reason)  # fmt: skip
