"""Payout rails (``reclaim.app.withdrawal_ports.Rail``) and what they share.

| module      | asset | destination checked with                    | batch file             |
| ----------- | ----- | ------------------------------------------- | ---------------------- |
| ``sepa``    | EUR   | schwifty (IBAN checksums and structure,     | ISO 20022 pain.001     |
|             |       | SEPA zone; BIC)                             | (sepaxml, XSD-checked) |
| ``hk_wire`` | USD   | schwifty (BIC; IBAN when the account is     | CSV for the Hong Kong  |
|             |       | one), else a local account number           | correspondent          |
| ``usdc``    | USDC  | eth-utils (EIP-55) and the allow-list       | CSV for custody        |

Adapters are pure over their configuration: no network. A batch file goes to the bank or the
custody desk by the operator's own channel; what comes back is a statement
(``reclaim.adapters.files.statements``), reconciled by reference.

Each rail subclasses the port's ``Rail``, whose ``batch_file`` checks the batch (1 … the
rail's ``payments_per_file_max`` instructions, each in the rail's asset) and hands it, as one
``PayoutBatch``, to the rail's ``write_file``.

``VaultBeneficiaryCommitments`` commits a destination with the PII vault's secret
(``Commitments``, kind ``beneficiary``, value ``<rail>:<canonical>``), so the log names a
destination only by its HMAC and equal destinations have equal commitments.

Imported by ``reclaim.bootstrap`` (through ``app.withdrawal_ports.rails_by_name``) and the tests.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from text_unidecode import unidecode

from reclaim.adapters.vault import CommitmentsAdapter
from reclaim.app.withdrawal_ports import (
    BeneficiaryCode,
    BeneficiaryProblem,
    PayoutInstruction,
    RailFile,
)
from reclaim.app.withdrawal_ports import PayoutBatch as PayoutBatch
from reclaim.app.withdrawal_ports import Rail as Rail

#: The commitment kind of a withdrawal's destination.
BENEFICIARY_KIND: Final = "beneficiary"


class VaultBeneficiaryCommitments(CommitmentsAdapter):
    """``BeneficiaryCommitments`` over the vault's ``Commitments``."""

    def beneficiary(self, rail: str, canonical: str) -> str:
        value = unicodedata.normalize("NFC", f"{rail}:{canonical}")
        return self._commitments.commit(BENEFICIARY_KIND, value)


def spreadsheet_safe(cell: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


#: Characters of the SWIFT "x" set (FIN messages, and the EPC's SEPA set): what survives a wire.
_NOT_SWIFT: Final = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")


def latin_name(name: str, max_chars: int) -> str:
    """A person's name as payment messages carry it: transliterated to Latin letters
    (``张伟`` → ``Zhang Wei``), reduced to the SWIFT character set, spaces collapsed, cut."""
    latin = _NOT_SWIFT.sub(" ", unidecode(unicodedata.normalize("NFC", name)))
    return " ".join(latin.split())[:max_chars].strip()


def fields_problem(
    rail: str,
    fields: Mapping[str, str],
    known: Sequence[str],
    required: Sequence[str],
    missing: str,
) -> BeneficiaryProblem | None:
    """The first rung of every rail's destination check: a field ``rail`` does not take
    (``beneficiary_field_unknown``), or a ``required`` one blank (``beneficiary_field_missing``,
    the sentence ``missing``); else ``None``."""
    unknown = sorted(set(fields) - set(known))
    if unknown:
        detail = f"{rail} takes {', '.join(known)}: {unknown}"
        return BeneficiaryProblem(BeneficiaryCode.beneficiary_field_unknown, detail)
    if any(not fields.get(name, "").strip() for name in required):
        return BeneficiaryProblem(BeneficiaryCode.beneficiary_field_missing, missing)
    return None


#: The media type of the rails' CSV batch files.
CSV_MEDIA_TYPE: Final = "text/csv"


def csv_file(
    filename: str,
    header: Sequence[str],
    instructions: Sequence[PayoutInstruction],
    row: Callable[[PayoutInstruction], Sequence[str]],
) -> RailFile:
    """A CSV batch file (``\\n`` line ends): ``header``, then ``row`` of each instruction with
    every cell spreadsheet-safe; it pays the instructions' count and total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for ins in instructions:
        writer.writerow([spreadsheet_safe(cell) for cell in row(ins)])
    total = sum(ins.amount_minor for ins in instructions)
    return RailFile(filename, CSV_MEDIA_TYPE, out.getvalue().encode(), len(instructions), total)
