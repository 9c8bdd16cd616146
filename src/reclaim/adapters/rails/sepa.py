"""SEPA credit transfers in EUR: IBAN/BIC checks (schwifty) and pain.001 batch files (sepaxml).

Destination fields: ``iban`` (required; spaces and lower case tolerated, stored compact and
upper case) and ``bic`` (optional: SEPA has been IBAN-only since 2016). An IBAN is accepted when
schwifty validates its country, length, structure and both checksums (ISO 7064 mod 97-10 and the
national one where the country has it) **and** its country is in the SEPA scheme's area; a BIC
when schwifty validates its structure and country. The canonical text (committed into the log) is
the compact IBAN; the masked one shows its first and last four characters.

Batch files are ISO 20022 ``pain.001.001.03`` (the version every SEPA bank accepts; sepaxml also
writes .09 to .11: ``schema=``), built by sepaxml and **validated against the XSD it ships**
before they are returned; a file that does not validate raises ``RailFileError``. One file is one
batch: the group header's ``MsgId`` is the batch id, ``CreDtTm`` the time given (not the
clock), every payment's ``EndToEndId`` is its withdrawal id (35 characters at most, SEPA's
character set — the core's id form guarantees both) and the remittance text ``reclaim
withdrawal <id>``; the payment information ids are ``<batch id>-<n>``. So the same batch gives
the same bytes, and the bank's statement names each withdrawal back (camt.053 ``EndToEndId``).
Creditor names are the KYC-verified names, transliterated to Latin by sepaxml (``clean=True``)
and cut at 70 characters, as the scheme requires.

Known limits: one debtor account per rail instance; no urgent (``INST``) service level; the
execution date applies to the whole batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError

from reclaim.adapters.rails import PayoutBatch, Rail, fields_problem, latin_name
from reclaim.app.withdrawal_ports import (
    Beneficiary,
    BeneficiaryCode,
    BeneficiaryProblem,
    RailFile,
    RailFileError,
)
from reclaim.core.limits import (
    sepa_id_length_max_chars,
    sepa_name_length_max_chars,
    sepa_payments_per_file_max,
)

NAME: Final = "sepa"
ASSET: Final = "EUR"
SCHEMAS: Final = ("pain.001.001.03", "pain.001.001.09", "pain.001.001.10", "pain.001.001.11")
FIELDS: Final = ("iban", "bic")
MEDIA_TYPE: Final = "application/xml"


@dataclass(frozen=True, slots=True)
class SepaDebtor:
    """The operator's account the transfers are paid from."""

    name: str
    iban: str
    bic: str


class SepaRail(Rail):
    """The ``Rail`` of SEPA credit transfers in EUR."""

    name = NAME
    asset = ASSET
    payments_per_file_max = sepa_payments_per_file_max

    def __init__(self, debtor: SepaDebtor | None, schema: str = SCHEMAS[0]) -> None:
        """``debtor``: the operator's paying account; ``None`` checks destinations only (a
        batch file then raises ``RailFileError``). A malformed IBAN or BIC raises here."""
        assert schema in SCHEMAS, f"sepaxml writes {SCHEMAS}, not {schema!r}"
        if debtor is not None:
            iban, bic = IBAN(debtor.iban), BIC(debtor.bic)
            debtor = SepaDebtor(debtor.name, iban.compact, bic.compact)
        self._debtor = debtor
        self._schema = schema

    def check_beneficiary(self, fields: Mapping[str, str]) -> Beneficiary | BeneficiaryProblem:
        problem = fields_problem(NAME, fields, FIELDS, ("iban",), "an IBAN is required")
        if problem is not None:
            return problem
        text = fields["iban"].strip()
        try:
            iban = IBAN(text)
        except SchwiftyException as exc:
            return BeneficiaryProblem(BeneficiaryCode.iban_invalid, str(exc))
        if not iban.in_sepa_zone:
            return BeneficiaryProblem(
                BeneficiaryCode.not_in_sepa_zone, f"{iban.country_code} is not in SEPA"
            )
        checked = {"iban": iban.compact}
        bic_text = fields.get("bic", "").strip()
        if bic_text:
            try:
                checked["bic"] = BIC(bic_text).compact
            except SchwiftyException as exc:
                return BeneficiaryProblem(BeneficiaryCode.bic_invalid, str(exc))
        compact = iban.compact
        return Beneficiary(NAME, checked, compact, f"{compact[:4]} **** {compact[-4:]}")

    def write_file(self, batch: PayoutBatch) -> RailFile:
        batch_id = batch.batch_id
        assert 0 < len(batch_id) <= sepa_id_length_max_chars - 6, f"batch id {batch_id!r}"
        debtor = self._debtor
        if debtor is None:
            raise RailFileError("no debtor account is configured for SEPA batch files")
        config = {
            "name": latin_name(debtor.name, sepa_name_length_max_chars),
            "IBAN": debtor.iban,
            "BIC": debtor.bic,
            "batch": True,
            "currency": ASSET,
        }
        document = _DeterministicTransfer(config, self._schema, batch_id, batch.created_at)
        total = 0
        for ins in batch.instructions:
            payment: dict[str, Any] = {
                "name": latin_name(ins.beneficiary_name, sepa_name_length_max_chars),
                "IBAN": ins.beneficiary["iban"],
                "amount": ins.amount_minor,
                "execution_date": batch.execution_date,
                "description": f"reclaim withdrawal {ins.withdrawal_id}",
                "endtoend_id": ins.withdrawal_id,
            }
            if ins.beneficiary.get("bic"):
                payment["BIC"] = ins.beneficiary["bic"]
            document.add_payment(payment)
            total += ins.amount_minor
        try:
            content: bytes = document.export(validate=True)
        except ValidationError as exc:
            raise RailFileError(f"batch {batch_id} does not validate: {exc.__cause__}") from exc
        count = len(batch.instructions)
        return RailFile(f"{batch_id}.pain.001.xml", MEDIA_TYPE, content, count, total)


class _DeterministicTransfer(SepaTransfer):  # type: ignore[misc] # sepaxml has no type hints
    """sepaxml's transfer document with the batch's own ids and time instead of random ones
    and the clock's (the only two things it would otherwise invent)."""

    def __init__(
        self, config: dict[str, Any], schema: str, batch_id: str, created_at: datetime
    ) -> None:
        self._batch_id = batch_id
        self._created_at = created_at
        super().__init__(config, schema=schema, clean=True)

    def _create_header(self) -> None:
        self.msg_id = self._batch_id
        super()._create_header()
        header = self._xml.find("CstmrCdtTrfInitn").find("GrpHdr")
        header.find("CreDtTm").text = self._created_at.strftime("%Y-%m-%dT%H:%M:%S")

    def _finalize_batch(self) -> None:
        super()._finalize_batch()
        for number, info in enumerate(self._xml.iter("PmtInf"), start=1):
            node = info.find("PmtInfId")
            assert node is not None
            node.text = f"{self._batch_id}-{number}"
