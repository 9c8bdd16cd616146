"""Backpack's request signing (``reclaim.app.request_signing``) and the public-key index.

The signing strings are those of Backpack's documentation ("Signing requests": an order cancel
with ``orderId`` 28 and ``symbol`` BTC_USDT at 1614550000000 ms, and a request without
parameters); the signature vector is Ed25519 of a fixed seed, pinned so a change to the bytes
signed fails here.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Final

from reclaim.app.key_index import PublicKeyIndex
from reclaim.app.request_signing import sign_request, signing_string, verify_signature
from reclaim.core.machine import State, check, evolve
from reclaim.log.keys import SignerKey
from tests.support.factories import LogFactory, key_for

SEED: Final = hashlib.sha256(b"reclaim request signing vector").digest()


def test_the_signing_string_of_backpacks_example() -> None:
    params: dict[str, str | int | bool] = {"symbol": "BTC_USDT", "orderId": 28}
    assert signing_string("orderCancel", params, 1614550000000, 5000) == (
        b"instruction=orderCancel&orderId=28&symbol=BTC_USDT&timestamp=1614550000000&window=5000"
    )


def test_a_request_without_parameters_and_booleans() -> None:
    assert signing_string("balanceQuery", {}, 1614550000000, 5000) == (
        b"instruction=balanceQuery&timestamp=1614550000000&window=5000"
    )
    assert signing_string("orderExecute", {"postOnly": True, "reduceOnly": False}, 1, 60000) == (
        b"instruction=orderExecute&postOnly=true&reduceOnly=false&timestamp=1&window=60000"
    )


def test_signed_headers_verify_and_are_pinned() -> None:
    key = SignerKey.from_seed("alice", SEED)
    signed = sign_request(key, "balanceQuery", {}, 1614550000000)
    message = b"instruction=balanceQuery&timestamp=1614550000000&window=5000"
    assert signed["X-API-Key"] == base64.b64encode(key.verifier.public_key).decode()
    assert (signed["X-Timestamp"], signed["X-Window"]) == ("1614550000000", "5000")
    signature = base64.b64decode(signed["X-Signature"])
    assert signature == key.sign(message)
    assert signed["X-Signature"] == SIGNATURE_VECTOR
    public = key.verifier.public_key
    assert verify_signature(public, signature, message)
    assert not verify_signature(public, signature, message + b"&x=1")
    assert not verify_signature(public, bytes([signature[0] ^ 1]) + signature[1:], message)
    assert not verify_signature(public, signature[:63], message)
    assert not verify_signature(public[:31], signature, message)


SIGNATURE_VECTOR: Final = (
    "PGbHs5MWL9pgV8tbAMHdDTCHADbTjU4zVCFOgMv0SPUG5bsjIDEIWVTmSye0Oh6LTFrSTMmMBPYGvH5kAtJoBQ=="
)


# Who holds a public key ---------------------------------------------------------------------------


def state_of(*events: object) -> State:
    state = State()
    for signed in events:
        event = signed.event  # type: ignore[attr-defined]
        assert check(state, event) is None
        evolve(state, event)
    return state


def test_a_public_key_names_its_one_live_holder() -> None:
    factory = LogFactory()
    alice, alice_next = key_for("alice"), key_for("alice", 1)
    twin = SignerKey.from_seed("bob", hashlib.sha256(b"reclaim test key alice 0").digest())
    assert twin.verifier.public_key == alice.verifier.public_key  # the same key, another name
    state = state_of(factory.genesis(), factory.register("alice", "creditor", alice))
    index = PublicKeyIndex(state)

    assert index.actor_for(alice.verifier.public_key) == "alice"
    assert index.actor_for(key_for("nobody").verifier.public_key) is None
    assert index.actor_for(factory.admin_key.verifier.public_key) == "admin"

    for event in (factory.add_key("alice", alice_next), factory.revoke_key("alice", alice)):
        evolve(state, event.event)  # the index catches up with keys added since
    assert index.actor_for(alice.verifier.public_key) is None
    assert index.actor_for(alice_next.verifier.public_key) == "alice"

    evolve(state, factory.register("bob", "trader", twin).event)
    assert index.actor_for(alice.verifier.public_key) == "bob"  # alice's copy is revoked
    evolve(state, factory.add_key("alice", SignerKey.from_seed("alice2", twin_seed())).event)
    assert index.actor_for(alice.verifier.public_key) is None  # two live holders: nobody
    assert index.follows(state)
    assert not index.follows(State())


def twin_seed() -> bytes:
    return hashlib.sha256(b"reclaim test key alice 0").digest()
