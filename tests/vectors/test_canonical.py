"""Golden vectors of canonical encoding v1 and of the signed event format v1.

Provenance: computed by this repository when encoding v1 was frozen (2026-11-25) and checked by
hand against RFC 8785 section 3.2 (sorted keys, no white space, minimal escapes, UTF-8). The
Ed25519 signature is deterministic (RFC 8032), so the signed vector is reproducible from the seed
0x00..0x1f. A change to any of these bytes is a new encoding version, never an edit here.
"""

from __future__ import annotations

import hashlib

import pytest

from reclaim.core.events import Event
from reclaim.log import canonical
from reclaim.log import event as log_event
from reclaim.log.keys import SignerKey

GOLDEN_VALUE = {"b": 1, "a": [True, None, 'e\u0301\n"\\\x01\u2028'], "z": {"n": -5, "e": ""}}
GOLDEN_BYTES = (
    b'{"a":[true,null,"\xc3\xa9\\n\\"\\\\\\u0001\xe2\x80\xa8"],"b":"1","z":{"e":"","n":"-5"}}'
)

SEED = bytes(range(32))
ADMIN_VKEY = "admin+68c59bef+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
EVENT = Event(
    "document.published",
    1,
    "2025-01-03T15:00:00.000000Z",
    "admin",
    "68c59bef",
    {
        "document_id": "ftx/plan",
        "title": "Plan — 计划",
        "sha256": "00" * 32,
        "media_type": "application/pdf",
    },
)
SIGNING_MESSAGE = (
    b'reclaim/event/v1\n{"actor":"admin","key":"68c59bef","payload":{"document_id":"ftx/plan",'
    b'"media_type":"application/pdf","sha256":"' + b"0" * 64 + b'","title":"Plan \xe2\x80\x94 '
    b'\xe8\xae\xa1\xe5\x88\x92"},"time":"2025-01-03T15:00:00.000000Z","tv":"1",'
    b'"type":"document.published","v":"1"}'
)
SIGNATURE_HEX = (
    "ca0f46a06ece7e9cc4413393117eedf1c55388602a074ed5f934eb5ecc9d5aef"
    "5acc630fb659c776428dc3febef9dd4960253ef0984bca7b6130fd5220fd6207"
)
LEAF_AT_7 = (
    b'{"actor":"admin","key":"68c59bef","payload":{"document_id":"ftx/plan",'
    b'"media_type":"application/pdf","sha256":"' + b"0" * 64 + b'","title":"Plan \xe2\x80\x94 '
    b'\xe8\xae\xa1\xe5\x88\x92"},"seq":"7","sig":"yg9GoG7OfpzEQTOTEX7t8cVTiGAqB07V+TTrXsydWu9az'
    b'GMPtlnHdkKNw/6++d1JYCU+8JhLynthMP1SIP1iBw==","time":"2025-01-03T15:00:00.000000Z","tv":"1",'
    b'"type":"document.published","v":"1"}'
)
LEAF_HASH_AT_7 = "8441b692e950067b0ddb0590a85839507bfdde2f5f41be35ecf585f067b71b44"


def test_golden_value_encodes_to_frozen_bytes() -> None:
    assert canonical.encode(GOLDEN_VALUE) == GOLDEN_BYTES


def test_golden_bytes_decode_and_reencode() -> None:
    assert canonical.encode(canonical.decode(GOLDEN_BYTES)) == GOLDEN_BYTES


def test_signed_event_vector() -> None:
    key = SignerKey.from_seed("admin", SEED)
    assert key.verifier.to_text() == ADMIN_VKEY
    assert log_event.signing_message(EVENT) == SIGNING_MESSAGE
    signed = log_event.sign(EVENT, key)
    assert signed.signature.hex() == SIGNATURE_HEX
    assert signed.leaf(7) == LEAF_AT_7
    assert hashlib.sha256(b"\x00" + LEAF_AT_7).hexdigest() == LEAF_HASH_AT_7


def test_leaf_vector_parses_back_to_the_event() -> None:
    logged = log_event.parse_leaf(LEAF_AT_7)
    assert logged.seq == 7
    assert logged.event == EVENT
    assert logged.signed.signature.hex() == SIGNATURE_HEX


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"a": 1.5}, "$.a: float has no canonical encoding"),
        ({"A": "x"}, "$: object key 'A' is not a lower-case identifier"),
        ({"a": 2**63}, "$.a: integer 9223372036854775808 outside the signed 64-bit range"),
        ({"a": b"x"}, "$.a: bytes has no canonical encoding"),
        ({"a": "\ud800"}, "$: text is not valid Unicode (surrogates not allowed)"),
    ],
)
def test_values_without_canonical_form_are_refused(value: object, message: str) -> None:
    with pytest.raises(canonical.CanonicalError) as caught:
        canonical.encode(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": "1"}', "bytes are not in canonical form (v1)"),
        (b'{"b":"1","a":"2"}', "bytes are not in canonical form (v1)"),
        (b'{"a":1}', "number 1 is not allowed (integers are decimal strings)"),
        (b'{"a":-1.5}', "number -1.5 is not allowed (integers are decimal strings)"),
        (b'{"a":"1","a":"2"}', "bytes are not in canonical form (v1)"),
        (b'{"A":"1"}', "$: object key 'A' is not a lower-case identifier"),
        (b'{"a":{"b":"1","b":"1"}}', "bytes are not in canonical form (v1)"),
        (b'{"a":"e\xcc\x81"}', "bytes are not in canonical form (v1)"),
        (b'{"a":"\\u00e9"}', "bytes are not in canonical form (v1)"),
        (b"[]", "$: not a JSON object"),
        (b'{"a":NaN}', "NaN is not allowed"),
        (b"\xff", "not UTF-8 at byte 0"),
        (b'{"a":', "not JSON: Expecting value at character 5"),
    ],
)
def test_non_canonical_bytes_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(canonical.CanonicalError) as caught:
        canonical.decode(data)
    assert str(caught.value) == message
