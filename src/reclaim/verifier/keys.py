"""Step 1: ``keys.json``, parsed and checked, and the keys the user trusts.

``keys.json`` is the canonical key set (``reclaim.log.public_keys``); the log key and every
actor key are verifier keys; key ids are unique; revoked ids are keys of their actor. Keys the
user trusts (``trusted_log_key``, ``trusted_admin_key``) must be the published ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeGuard

from reclaim.core.types import JsonValue
from reclaim.log import canonical
from reclaim.log.keys import KeyFormatError, VerifierKey
from reclaim.verifier.outcome import Failed, FailureKind


@dataclass(frozen=True, slots=True)
class KeySet:
    """``keys.json``, parsed and checked."""

    data: bytes
    origin: str
    log_key: VerifierKey
    log_key_text: str
    by_id: dict[str, str]  # hex key id -> verifier key text
    admins: frozenset[VerifierKey]  # keys of actors whose role is admin


def read_keys(data: bytes) -> KeySet:
    def fail(detail: str) -> Failed:
        return Failed(FailureKind.keys_malformed, None, f"keys.json: {detail}")

    try:
        doc = canonical.decode(data)
    except canonical.CanonicalError as exc:
        raise fail(str(exc)) from exc
    if sorted(doc) != ["actors", "log_key", "origin"]:
        raise fail(f"fields {sorted(doc)} are not ['actors', 'log_key', 'origin']")
    origin, log_key_text, actors = doc["origin"], doc["log_key"], doc["actors"]
    if not isinstance(origin, str) or not origin:
        raise fail("origin is not a non-empty text")
    if not isinstance(log_key_text, str):
        raise fail("log_key is not text")
    try:
        log_key = VerifierKey.parse(log_key_text)
    except KeyFormatError as exc:
        raise fail(f"log_key is not a verifier key: {exc}") from exc
    if not isinstance(actors, list):
        raise fail("actors is not a list")
    by_id: dict[str, str] = {}
    admins: set[VerifierKey] = set()
    for entry in actors:
        role, keys = _read_actor(entry, by_id, fail)
        if role == "admin":
            admins.update(keys)
    return KeySet(data, origin, log_key, log_key_text, by_id, frozenset(admins))


def _read_actor(
    entry: JsonValue, by_id: dict[str, str], fail: Callable[[str], Failed]
) -> tuple[str, list[VerifierKey]]:
    """An actor's role and keys; its keys are added to ``by_id``."""
    if not isinstance(entry, dict) or sorted(entry) != ["keys", "name", "revoked", "role"]:
        raise fail("an actor is not an object of keys, name, revoked and role")
    name, role, keys, revoked = entry["name"], entry["role"], entry["keys"], entry["revoked"]
    if not isinstance(name, str) or not isinstance(role, str):
        raise fail("an actor's name or role is not text")
    if not _all_text(keys) or not _all_text(revoked):
        raise fail(f"actor {name!r}: keys and revoked must be lists of text")
    parsed: list[VerifierKey] = []
    for text in keys:
        try:
            key = VerifierKey.parse(text)
        except KeyFormatError as exc:
            raise fail(f"actor {name!r}: {text!r} is not a verifier key: {exc}") from exc
        ident = key.key_id.hex()
        if ident in by_id:
            raise fail(f"actor {name!r}: key id {ident} is listed twice")
        by_id[ident] = text
        parsed.append(key)
    own = {key.key_id.hex() for key in parsed}
    for ident in revoked:
        if ident not in own:
            raise fail(f"actor {name!r}: revoked key {ident!r} is not one of its keys")
    return role, parsed


def _all_text(value: JsonValue) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def check_trusted(
    key_set: KeySet, log_key: VerifierKey | None, admin_key: VerifierKey | None
) -> None:
    if log_key is not None and log_key != key_set.log_key:
        raise Failed(
            FailureKind.untrusted_key,
            None,
            f"untrusted key: keys.json names the log key {key_set.log_key_text}, "
            f"not the trusted {log_key.to_text()}",
        )
    if admin_key is not None and admin_key not in key_set.admins:
        raise Failed(
            FailureKind.untrusted_key,
            None,
            f"untrusted key: keys.json lists no admin with the trusted key {admin_key.to_text()}",
        )
