"""The fixed-shape JSON writers (``canonical.shaped_json``) give the general encoder's bytes.

A differential test: values of every fixed shape (event body and leaf, ledger transfers
payload and items, account and transfer entities), with leaves drawn from any text (quotes,
backslashes, control characters, non-ASCII, lone surrogates), text subclasses, and values of
the wrong type, and with keys missing, extra or renamed, and containers of other types. For each
one, ``plain_encode`` must give exactly what the general encoder gives (or raise the same
error), ``shaped_json`` must be ``None`` or the general encoder's text, and the digest's element
hash must be the one of its definition (plain sorted JSON of ``{"key", "value"}``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.core.ledger import Transfer, transfer_payload
from reclaim.log import canonical
from reclaim.log.digest import ENTITY_CONTEXT, element_hash

GENERAL = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)
DIGEST_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))

BODY_KEYS = ("actor", "key", "payload", "time", "tv", "type", "v")
LEAF_KEYS = ("actor", "key", "payload", "seq", "sig", "time", "tv", "type", "v")
ITEM_KEYS = (
    "id", "kind", "debit_account_id", "credit_account_id", "asset", "amount_minor", "code",
    "refs", "pending_id", "timeout_seconds", "expires_at",
)  # fmt: skip
ACCOUNT_KEYS = (
    "asset", "owner", "purpose", "flags", "debits_posted", "credits_posted", "debits_pending",
    "credits_pending",
)  # fmt: skip
TRANSFER_KEYS = (
    "kind", "debit_account_id", "credit_account_id", "asset", "amount_minor", "code", "refs",
    "pending_id", "timeout_seconds", "created_at", "expires_at", "status", "posted_minor",
)  # fmt: skip


class Text(str):
    """A text subclass whose str() and format() lie: encoders must read the characters."""

    def __str__(self) -> str:
        return "lie"

    def __format__(self, spec: str) -> str:
        return "lie"


class Mapping(dict):  # type: ignore[type-arg]
    """A dict subclass (the general encoder takes it; the fast path must not misread it)."""


any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=())
texts = st.one_of(
    st.text(max_size=12),
    st.text(alphabet='"\\\x00\x01\x1f\x7f/é\u2028 aZ09', max_size=8),
    st.text(alphabet=any_char, max_size=6),  # lone surrogates included
    st.sampled_from(["", "0", "USD", "alice/USD/creditor_available", "2026-01-01T00:00:00Z"]),
)
text_like = st.one_of(texts, texts.map(Text))
odd = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**20), st.just(1.5), st.just([]), st.just({})
)
leaf = st.one_of(text_like, text_like, text_like, text_like, odd)
text_maps = st.dictionaries(st.one_of(texts, st.integers(0, 3)), leaf, max_size=3)
refs = st.one_of(st.just({}), st.dictionaries(texts, text_like, max_size=3), text_maps, odd)


@st.composite
def shaped(draw: st.DrawFn, keys: tuple[str, ...], special: dict[str, Any]) -> object:
    """A dict with (mostly) exactly ``keys``; ``special`` gives strategies for some values.

    Half the values have only text leaves (the fast path's own cases, with any characters);
    the others may hold anything, and may lose, gain or rename a key."""
    if draw(st.booleans()):
        return {k: draw(special[k][0] if k in special else text_like) for k in keys}
    value = {k: draw(special[k][1] if k in special else leaf) for k in keys}
    mutation = draw(st.integers(0, 9))
    if mutation == 0:
        del value[draw(st.sampled_from(keys))]
    elif mutation == 1:
        value[draw(st.sampled_from(["zz", "a", "payload", "status", "debits_posted"]))] = "x"
    elif mutation == 2:
        gone = draw(st.sampled_from(keys))
        value["x_" + gone] = value.pop(gone)
    elif mutation == 3:
        return Mapping(value)
    return value


clean_refs = st.dictionaries(texts, text_like, max_size=3)
clean_flags = st.one_of(st.lists(text_like, max_size=3), st.lists(text_like, max_size=3).map(tuple))
flags = st.one_of(clean_flags, odd)
items = shaped(ITEM_KEYS, {"refs": (clean_refs, refs)})
clean_payloads = st.fixed_dictionaries(
    {"atomic": st.booleans(), "transfers": st.lists(items, max_size=3)}
)
payloads = st.one_of(
    clean_payloads,
    st.fixed_dictionaries(
        {
            "atomic": st.one_of(st.booleans(), odd),
            "transfers": st.one_of(st.lists(items, max_size=2).map(tuple), odd),
        }
    ),
    st.dictionaries(texts, leaf, max_size=3),
    odd,
)
values = st.one_of(
    shaped(BODY_KEYS, {"payload": (payloads, payloads)}),
    shaped(LEAF_KEYS, {"payload": (payloads, payloads)}),
    shaped(ACCOUNT_KEYS, {"flags": (clean_flags, flags)}),
    shaped(TRANSFER_KEYS, {"refs": (clean_refs, refs)}),
    items,
    payloads,
)


def outcome(encode: Any, value: object) -> bytes | type[BaseException]:
    try:
        result = encode(value)
    except (TypeError, ValueError) as exc:  # ValueError includes UnicodeEncodeError
        return type(exc)
    assert isinstance(result, bytes)
    return result


@settings(max_examples=1500, deadline=None)
@given(values)
def test_plain_encode_equals_the_general_encoder(value: object) -> None:
    expected = outcome(lambda v: GENERAL.encode(v).encode("utf-8"), value)
    assert outcome(canonical.plain_encode, value) == expected
    shaped_text = canonical.shaped_json(value)
    if shaped_text is not None:
        assert shaped_text == GENERAL.encode(value)


@settings(max_examples=500, deadline=None)
@given(st.one_of(texts, texts.map(Text)), values)
def test_element_hash_is_the_hash_of_plain_sorted_json(key: str, value: Any) -> None:
    try:
        text = DIGEST_JSON.encode({"key": key, "value": value}).encode()
    except (TypeError, ValueError) as exc:
        expected: bytes | type[BaseException] = type(exc)
    else:
        expected = hashlib.sha256(ENTITY_CONTEXT + text).digest()
    assert outcome(lambda v: element_hash(key, v), value) == expected


def test_the_shapes_of_the_hot_path_take_the_fast_path() -> None:
    """The ledger's real values do hit the fixed shapes (else the fast path would be dead)."""
    t = Transfer("t-1", "a/USD/fees", "b/USD/fees", "USD", 5, "fee", {"order": "o-1"})
    payload = {"atomic": False, "transfers": [transfer_payload(t, "")]}
    body = dict(zip(BODY_KEYS, ["treasury", "68c59bef", payload, "2026-01-01T00:00:00.000000Z",
                                "1", "ledger.transfers_created", "1"], strict=True))  # fmt: skip
    leaf = body | {"seq": "7", "sig": "c2ln"}
    account = dict.fromkeys(ACCOUNT_KEYS, "0") | {"flags": ["debits_must_not_exceed_credits"]}
    transfer = dict.fromkeys(TRANSFER_KEYS, "x") | {"refs": {"order": "o-1", "claim": "c"}}
    for value in (body, leaf, account, transfer):
        text = canonical.shaped_json(value)
        assert text is not None
        assert text == GENERAL.encode(value)
        assert canonical.decode(text.encode()) == value
