"""Signed event format v1: the leaf splice equals a full encoding; bad leaves are named."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.core.events import Event
from reclaim.log import canonical
from reclaim.log import event as log_event
from reclaim.log.keys import SignerKey

KEY = SignerKey.from_seed("admin", b"\x07" * 32)
T0 = "2025-01-03T15:00:00.000000Z"

keys = st.sampled_from(["time", "seq", "sig", "a", "payload", "v", "type", "z_1"])
scalars = st.one_of(
    st.text(max_size=20), st.booleans(), st.none(), st.integers(-(2**63), 2**63 - 1)
)
payloads = st.dictionaries(
    keys,
    st.recursive(scalars, lambda inner: st.dictionaries(keys, inner, max_size=3), max_leaves=6),
)


@settings(max_examples=200, deadline=None)
@given(payloads, st.integers(0, 2**62))
def test_leaf_splice_equals_full_encoding(payload: dict, seq: int) -> None:  # type: ignore[type-arg]
    prepared = canonical.prepare(payload)
    assert isinstance(prepared, dict)
    event = Event("document.published", 1, T0, "admin", KEY.key_id.hex(), prepared)
    signed = log_event.sign(event, KEY)
    fields = log_event.body_fields(event) | {
        "seq": seq,
        "sig": base64.b64encode(signed.signature).decode(),
    }
    leaf = signed.leaf(seq)
    assert leaf == canonical.encode(fields)
    logged = log_event.parse_leaf(leaf)
    assert logged.seq == seq
    assert logged.signed.body == signed.body
    assert log_event.verify_signature(logged.signed, KEY.verifier)


def _leaf(**changes: object) -> bytes:
    event = Event("document.published", 1, T0, "admin", KEY.key_id.hex(), {"a": "1"})
    fields = canonical.decode(log_event.sign(event, KEY).leaf(3))
    fields.update(changes)  # type: ignore[arg-type]
    return canonical.encode({k: v for k, v in fields.items() if v is not None})


@pytest.mark.parametrize(
    ("leaf", "message"),
    [
        (_leaf(seq="03"), "seq '03' is not a non-negative decimal integer"),
        (_leaf(seq="-1"), "seq '-1' is not a non-negative decimal integer"),
        (_leaf(v="2"), "encoding version '2' is not supported"),
        (_leaf(type="log.unknown"), "unknown event type 'log.unknown'"),
        (
            _leaf(time="2025-01-03T15:00:00Z"),
            "time '2025-01-03T15:00:00Z' is not RFC 3339 UTC with microseconds",
        ),
        (_leaf(payload="x"), "payload is not an object"),
        (_leaf(sig="!!"), "sig is not base64"),
        (_leaf(sig="AAAA"), "signature of 3 bytes, not 64"),
        (_leaf(actor=None), "fields missing ['actor'], unexpected []"),
        (_leaf(extra="1"), "fields missing [], unexpected ['extra']"),
        (b'{"seq": "1"}', "bytes are not in canonical form (v1)"),
    ],
)
def test_malformed_leaves_are_named(leaf: bytes, message: str) -> None:
    with pytest.raises(log_event.EventFormatError) as caught:
        log_event.parse_leaf(leaf)
    assert str(caught.value) == message


def test_a_flipped_signature_bit_fails_verification() -> None:
    event = Event("document.published", 1, T0, "admin", KEY.key_id.hex(), {"a": "1"})
    signed = log_event.sign(event, KEY)
    bad = log_event.SignedEvent(
        event, bytes([signed.signature[0] ^ 1]) + signed.signature[1:], signed.body
    )
    assert log_event.verify_signature(signed, KEY.verifier)
    assert not log_event.verify_signature(bad, KEY.verifier)


def test_decided_bodies_equal_canonical_bodies() -> None:
    event = Event("document.published", 1, T0, "admin", KEY.key_id.hex(), {"a": "é", "b": "1"})
    assert log_event.decided_body_bytes(event) == log_event.body_bytes(event)


_REFUSED = "refusing to sign a non-canonical body: "


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"a": 1}, _REFUSED + "number 1 is not allowed (integers are decimal strings)"),
        ({"a": "e\u0301"}, _REFUSED + "bytes are not in canonical form (v1)"),
        ({"A": "x"}, _REFUSED + "$: object key 'A' is not a lower-case identifier"),
    ],
)
def test_signers_refuse_non_canonical_bodies(payload: dict, message: str) -> None:  # type: ignore[type-arg]
    event = Event("document.published", 1, T0, "admin", KEY.key_id.hex(), payload)
    body = log_event.decided_body_bytes(event)
    with pytest.raises(log_event.NotCanonicalError) as caught:
        log_event.sign_body(KEY, log_event.SIGNING_CONTEXT + body)
    assert str(caught.value) == message
