"""USD wires through a Hong Kong correspondent bank: destination checks and the instruction CSV.

The operator holds a USD account with a correspondent bank in Hong Kong, which sends each wire
(SWIFT MT103 / pacs.008) to the beneficiary's bank with itself as the intermediary agent. The
correspondent takes a batch as a CSV instruction file; reclaim writes it, the operator uploads
it through the bank's own channel.

Destination fields: ``account`` (required) and ``bic`` (required: the beneficiary's bank). The
account is an IBAN when it starts like one (two letters, two digits) — then schwifty checks it
fully, and the beneficiary bank's BIC must be of the IBAN's country — or otherwise a local
account number: 6 … 34 of ``A-Z 0-9`` (spaces and hyphens, common in Hong Kong account numbers,
are dropped). The BIC is checked with schwifty (structure, country). Canonical text:
``<BIC>/<account>``.

The instruction file (UTF-8, comma-separated, ``"`` quoting, LF line ends, one header line)::

    batch_id,end_to_end_id,value_date,currency,amount,ordering_account,ordering_name,
    beneficiary_name,beneficiary_account,beneficiary_bank_bic,intermediary_bic,charges,remittance

- ``end_to_end_id``: the withdrawal id, which the correspondent returns on its statement;
- ``amount``: USD with exactly two decimals (``500.00``), never a float;
- ``intermediary_bic``: the correspondent's BIC; ``charges``: ``OUR`` — the operator pays every
  bank's charges, so the beneficiary receives the amount to the cent and the statement's debit
  is exactly the withdrawal's amount (the correspondent bills charges separately);
- names are the KYC-verified names in the SWIFT character set (transliterated, 35 characters,
  the MT103 line length); no cell starts with a spreadsheet formula character.

Known limits: no intermediary chains beyond the correspondent; the correspondent's own file
layout may differ — this is the documented one the adapter writes, which the operator agrees
with the bank.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from reclaim.adapters.rails import PayoutBatch, Rail, csv_file, fields_problem, latin_name
from reclaim.app.withdrawal_ports import (
    Beneficiary,
    BeneficiaryCode,
    BeneficiaryProblem,
    PayoutInstruction,
    RailFile,
    RailFileError,
)
from reclaim.core.limits import hk_wire_name_length_max_chars, hk_wire_payments_per_file_max
from reclaim.core.money import ASSETS, format_amount

NAME: Final = "hk_wire"
ASSET: Final = "USD"
FIELDS: Final = ("account", "bic")
HEADER: Final = (
    "batch_id", "end_to_end_id", "value_date", "currency", "amount", "ordering_account",
    "ordering_name", "beneficiary_name", "beneficiary_account", "beneficiary_bank_bic",
    "intermediary_bic", "charges", "remittance",
)  # fmt: skip
_IBAN_START: Final = re.compile(r"[A-Z]{2}[0-9]{2}")
_LOCAL_ACCOUNT: Final = re.compile(r"[A-Z0-9]{6,34}")


@dataclass(frozen=True, slots=True)
class Correspondent:
    """The Hong Kong correspondent bank, and the operator's USD account with it."""

    bank_bic: str
    account: str
    account_name: str


class HkWireRail(Rail):
    """The ``Rail`` of USD wires through the Hong Kong correspondent."""

    name = NAME
    asset = ASSET
    payments_per_file_max = hk_wire_payments_per_file_max

    def __init__(self, correspondent: Correspondent | None) -> None:
        """``correspondent``: the operator's account in Hong Kong; ``None`` checks destinations
        only (a batch file then raises ``RailFileError``). A malformed BIC raises here."""
        if correspondent is not None:
            bic = BIC(correspondent.bank_bic)
            assert bic.country_code == "HK", f"the correspondent {bic} is not in Hong Kong"
            correspondent = Correspondent(
                bic.compact, correspondent.account, correspondent.account_name
            )
        self._correspondent = correspondent

    def check_beneficiary(self, fields: Mapping[str, str]) -> Beneficiary | BeneficiaryProblem:
        problem = fields_problem(NAME, fields, FIELDS, FIELDS, "account and bic are required")
        if problem is not None:
            return problem
        raw_account = fields["account"].strip().upper()
        raw_bic = fields["bic"].strip()
        try:
            bic = BIC(raw_bic)
        except SchwiftyException as exc:
            return BeneficiaryProblem(BeneficiaryCode.bic_invalid, str(exc))
        account = re.sub(r"[\s-]", "", raw_account)
        if _IBAN_START.match(account):
            try:
                iban = IBAN(account)
            except SchwiftyException as exc:
                return BeneficiaryProblem(BeneficiaryCode.account_invalid, f"not an IBAN: {exc}")
            if iban.country_code != bic.country_code:
                return BeneficiaryProblem(
                    BeneficiaryCode.bic_invalid, f"bank {bic.compact} is not in {iban.country_code}"
                )
            account = iban.compact
        elif not _LOCAL_ACCOUNT.fullmatch(account):
            return BeneficiaryProblem(BeneficiaryCode.account_invalid, "6 to 34 letters and digits")
        checked = {"account": account, "bic": bic.compact}
        masked = f"{bic.compact} ****{account[-4:]}"
        return Beneficiary(NAME, checked, f"{bic.compact}/{account}", masked)

    def write_file(self, batch: PayoutBatch) -> RailFile:
        c = self._correspondent
        if c is None:
            raise RailFileError("no correspondent account is configured for wire files")
        value_date = batch.execution_date.isoformat()

        def row(ins: PayoutInstruction) -> tuple[str, ...]:
            return (
                batch.batch_id, ins.withdrawal_id, value_date, ASSET,
                format_amount(ins.amount_minor, ASSETS[ASSET]), c.account,
                latin_name(c.account_name, hk_wire_name_length_max_chars),
                latin_name(ins.beneficiary_name, hk_wire_name_length_max_chars),
                ins.beneficiary["account"], ins.beneficiary["bic"], c.bank_bic, "OUR",
                f"reclaim withdrawal {ins.withdrawal_id}",
            )  # fmt: skip

        return csv_file(f"{batch.batch_id}.hk-wire.csv", HEADER, batch.instructions, row)
