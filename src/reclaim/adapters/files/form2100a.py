"""Form 2100A, the evidence of a transfer of claim (Fed. R. Bankr. P. 3001(e)(2)), as a PDF.

A conversion (``notes.claim_converted``) carries the evidence as data
(``reclaim.core.notes.TransferEvidence``: transferor, transferee, claim number, estate, amount,
date the claim was filed, date of the transfer); this module renders it in the layout of the
official form B 2100A ("Transfer of Claim Other than for Security") with the case caption the
operator supplies and the signatures the log holds (each signer's Ed25519 key id and signature
of the event), and gives the SHA-256 the admin records with ``claim.assigned``
(``evidence_sha256``: of the canonical JSON of the evidence, so anyone recomputes it from the
log without the PDF).

The PDF is made with fpdf2 (a maintained, pure-Python PDF library); its creation date is the
transfer date, so the same evidence always gives the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final, NamedTuple

from fpdf import FPDF

from reclaim.core.money import format_usd
from reclaim.core.notes import TransferEvidence
from reclaim.core.notes.machine import evidence_payload
from reclaim.log import canonical
from reclaim.log.event import SignedEvent

TITLE: Final = "TRANSFER OF CLAIM OTHER THAN FOR SECURITY"
NOTICE: Final = (
    "A CLAIM HAS BEEN FILED IN THIS CASE or deemed filed under 11 U.S.C. § 1111(a). Transferee "
    "hereby gives evidence and notice pursuant to Rule 3001(e)(2), Fed. R. Bankr. P., of the "
    "transfer, other than for security, of the claim referenced in this evidence and notice."
)
DECLARATION: Final = (
    "I declare under penalty of perjury that the information provided in this notice is true "
    "and correct to the best of my knowledge and belief."
)


class Caption(NamedTuple):
    """The case caption: the court, the debtor and the case number."""

    court: str
    debtor: str
    case_number: str


class Signature(NamedTuple):
    """A signature of the evidence as the log holds it: who signed, in which capacity, with
    which key, the signature (hex) and when."""

    capacity: str
    signer: str
    key_id: str
    signature_hex: str
    signed_at: str


def signature_of(signed: SignedEvent, capacity: str) -> Signature:
    """The signature a logged event carries, in ``capacity`` (``Transferor``: the creditor's
    own signature of its ``notes.claim_converted``)."""
    e = signed.event
    return Signature(capacity, e.actor, e.key_id, signed.signature.hex(), e.time)


def evidence_sha256(evidence: TransferEvidence) -> str:
    """SHA-256 (hex) of the canonical JSON of the evidence: what ``claim.assigned`` records."""
    return hashlib.sha256(canonical.encode(evidence_payload(evidence))).hexdigest()


def fields(evidence: TransferEvidence) -> list[tuple[str, str]]:
    """The form's fields, in its order, as the PDF prints them."""
    return [
        ("Name of Transferee", evidence.transferee),
        ("Name of Transferor", evidence.transferor),
        ("Court Claim # (if known)", evidence.claim_id),
        ("Amount of Claim", format_usd(evidence.amount_minor)),
        ("Date Claim Filed", evidence.claim_filed_date),
        ("Date of Transfer", evidence.transfer_date),
        ("Estate", evidence.estate),
        ("Evidence SHA-256", evidence_sha256(evidence)),
    ]


def render(evidence: TransferEvidence, caption: Caption, signatures: Sequence[Signature]) -> bytes:
    """The PDF of the evidence (deterministic: the same arguments give the same bytes)."""
    pdf = FPDF(format="Letter")
    pdf.set_creation_date(datetime.fromisoformat(evidence.transfer_date).replace(tzinfo=UTC))
    pdf.set_title(f"Form 2100A: claim {evidence.claim_id}")
    pdf.set_author(evidence.transferee)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(0, 6, caption.court.upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, f"In re {caption.debtor}    Case No. {caption.case_number}", align="C",
                   new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(0, 6, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, NOTICE, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for label, value in fields(evidence):
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(55, 7, f"{label}:")
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.multi_cell(0, 5, DECLARATION, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(0, 6, "Signatures (Ed25519, as recorded in the public log)",
                   new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_font("Courier", "", 8)
    for s in signatures:
        text = f"{s.capacity}: {s.signer} on {s.signed_at}\nkey {s.key_id}\n"
        text += f"signature {s.signature_hex}"
        pdf.multi_cell(0, 4, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    return bytes(pdf.output())
