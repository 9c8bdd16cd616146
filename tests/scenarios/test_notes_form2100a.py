"""Form 2100A from a conversion in the log: the evidence the event carries, rendered as a PDF
(``reclaim.adapters.files.form2100a``) and read back with pypdf — every field of the form, the
transferor's signature of the event (verified against mei's key), the SHA-256 the admin files
with ``claim.assigned``; the same evidence gives the same bytes."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Final

import pypdf

from reclaim.adapters.files.form2100a import (
    TITLE,
    Caption,
    Signature,
    evidence_sha256,
    render,
    signature_of,
)
from reclaim.core.notes.payloads import evidence_from_payload
from reclaim.log import canonical
from reclaim.log.event import sign, verify_signature
from tests.support.core_harness import Event
from tests.support.factories import key_for
from tests.support.market_world import HOLDING, MarketWorld

CAPTION: Final = Caption("United States Bankruptcy Court for the District of Delaware",
                         "FTX Trading Ltd., et al.", "22-11068 (JTD)")  # fmt: skip


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_evidence_of_a_conversion_renders_as_form_2100a() -> None:
    world = MarketWorld()
    (logged,) = [e for e in world.log if e[0] == "notes.claim_converted" and e[2] == "mei"]
    kind, time, actor, key_id, payload, version = logged
    event = Event(kind, version, time, actor, key_id, payload)
    signed = sign(event, key_for("mei"))
    assert verify_signature(signed, key_for("mei").verifier)
    evidence = evidence_from_payload(payload["evidence"])
    signature = signature_of(signed, "Transferor")
    pdf = render(evidence, CAPTION, [signature])

    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    flat = re.sub(r"\s+", "", text)
    assert TITLE in text
    assert "In re FTX Trading Ltd., et al." in text
    assert "Case No. 22-11068 (JTD)" in text
    assert "Rule 3001(e)(2)" in text
    assert f"Name of Transferee: {HOLDING}" in text
    assert "Name of Transferor: mei" in text
    assert "Court Claim # (if known): M1" in text
    assert "Amount of Claim: $10,000.00" in text
    assert "Date Claim Filed: 2022-11-11" in text
    assert "Date of Transfer: 2025-06-02" in text
    digest = hashlib.sha256(canonical.encode(payload["evidence"])).hexdigest()
    assert evidence_sha256(evidence) == digest
    assert f"EvidenceSHA-256:{digest}" in flat
    assert f"key{key_id}" in flat
    assert f"signature{signed.signature.hex()}" in flat
    assert render(evidence, CAPTION, [signature]) == pdf, "the same evidence, the same bytes"


def test_each_signature_is_printed() -> None:
    world = MarketWorld()
    (logged,) = [e for e in world.log if e[0] == "notes.claim_converted" and e[2] == "alice"]
    evidence = evidence_from_payload(logged[4]["evidence"])
    signatures = [Signature("Transferor", "alice", "11" * 16, "22" * 64, logged[1]),
                  Signature("Transferee", HOLDING, "33" * 16, "44" * 64, logged[1])]  # fmt: skip
    flat = re.sub(r"\s+", "", _text(render(evidence, CAPTION, signatures)))
    assert f"Transferor:aliceon{logged[1]}" in flat
    assert f"Transferee:{HOLDING}on{logged[1]}" in flat
    assert "key" + "33" * 16 in flat
    assert "signature" + "44" * 64 in flat
