"""Steps 3d-e and 4: the ordered part, in the main process.

The core accepts each event after the ones before it (``check``, then ``evolve``); an order or
cancel that keeps its trader's signed request has it checked against the trader's key
(``authorisations``); the key it names is the one ``keys.json`` lists; its leaf hash joins
the Merkle frontier. At each checkpoint the root, the state digest and (when the source serves
them) the consistency proof from the previous checkpoint are checked. At the end: nothing
signed beyond the log, nothing unsigned in it, the invariants hold, and ``keys.json`` equals
the replayed key set.
"""

from __future__ import annotations

from collections.abc import Sequence

from reclaim.core.events import Event
from reclaim.core.machine import State, assert_invariants, check, evolve
from reclaim.core.types import JsonValue
from reclaim.log import canonical
from reclaim.log.keys import VerifierKey
from reclaim.log.merkle import CompactRange, ProofError, verify_consistency
from reclaim.log.public_keys import keys_document
from reclaim.verifier.authorisations import INSTRUCTIONS, Authorisations
from reclaim.verifier.bundles import BundleResult, EventTuple
from reclaim.verifier.checkpoints import SignedCheckpoint
from reclaim.verifier.keys import KeySet
from reclaim.verifier.outcome import Failed, FailureKind, b64
from reclaim.verifier.source import LogSource


class Replay:
    """The ordered part: the core, the Merkle frontier, the checkpoints, the final checks."""

    def __init__(
        self,
        source: LogSource,
        key_set: KeySet,
        checkpoints: list[SignedCheckpoint],
        trusted_admin_key: VerifierKey | None,
    ) -> None:
        # Imported here, not at the top: worker processes import this package and start faster
        # without numpy, which the digest pulls in and only the main process needs.
        from reclaim.log.digest import StateDigest

        self.state = State()
        self.digest = StateDigest()
        self.frontier = CompactRange()
        self.size = 0
        self.consistency_proofs = 0
        self._source = source
        self._keys = key_set
        self._checkpoints = checkpoints
        self._next = 0  # index of the next checkpoint to reach
        self._trusted_admin_key = trusted_admin_key
        self._proofs = True  # until the source says it has none
        #: Key ids whose registered text was found equal to keys.json's: a registered key never
        #: changes (``key_exists``), so each is compared once.
        self._confirmed: set[str] = set()
        #: The traders' signatures of orders and cancels (``authorisations``).
        self.authorisations = Authorisations()

    def check_start(self, start: int) -> None:
        expected = self.size
        if start > expected:
            raise Failed(
                FailureKind.entries_missing,
                expected,
                f"seq {expected}: entries {expected} to {start - 1} are missing: "
                f"{self._source.locate(expected)} is absent, the next bundle is "
                f"{self._source.locate(start)}",
            )
        if start < expected:
            raise Failed(
                FailureKind.bundle_misplaced,
                start,
                f"seq {start}: {self._source.locate(start)} starts at seq {start}, "
                f"inside the entries before it (they end at seq {expected - 1})",
            )

    def feed(self, start: int, result: BundleResult) -> None:
        """Replay a bundle's good prefix, then report its fault if it has one."""
        state, append, by_id = self.state, self.frontier.append, self._keys.by_id
        confirmed = self._confirmed
        next_size = self._next_size()
        seq = self.size
        events: Sequence[Event | EventTuple] = result.events
        for leaf_hash_, item in zip(result.hashes, events, strict=True):
            event = item if isinstance(item, Event) else Event(*item)
            rejection = check(state, event)
            if rejection is not None:
                raise Failed(
                    FailureKind.event_rejected,
                    seq,
                    f"seq {seq}: rejected by the core: {rejection.code.name}: "
                    f"{rejection.detail} ({self._source.locate(start, seq - start + 1)})",
                )
            if event.type in INSTRUCTIONS:
                self._check_authorisation(start, seq, event)
            evolve(state, event)
            if event.key_id not in confirmed:
                if state.actors[event.actor].keys[event.key_id] != by_id[event.key_id]:
                    self._key_differs(start, seq, event)
                confirmed.add(event.key_id)
            if seq == 0:
                self._check_genesis(start)
            append(leaf_hash_)
            seq += 1
            if seq == next_size:
                self.size = seq
                self._reach_checkpoint()
                next_size = self._next_size()
        self.size = seq
        if result.fault is not None:
            index, kind, message = result.fault
            at = start + index
            where = self._source.locate(start, index + 1)
            raise Failed(kind, at, f"seq {at}: {message} ({where})")

    def _check_authorisation(self, start: int, seq: int, event: Event) -> None:
        problem = self.authorisations.failure(self.state, event)
        if problem is not None:
            raise Failed(
                FailureKind.authorisation_invalid,
                seq,
                f"seq {seq}: the trader's authorisation of {event.type}: {problem} "
                f"({self._source.locate(start, seq - start + 1)})",
            )

    def _next_size(self) -> int:
        return self._checkpoints[self._next].size if self._next < len(self._checkpoints) else -1

    def _key_differs(self, start: int, seq: int, event: Event) -> None:
        registered = self.state.actors[event.actor].keys[event.key_id]
        raise Failed(
            FailureKind.keys_disagree,
            seq,
            f"seq {seq}: key {event.key_id} of {event.actor!r} is {registered} in the log, "
            f"but keys.json lists {self._keys.by_id[event.key_id]} "
            f"({self._source.locate(start, seq - start + 1)})",
        )

    def _check_genesis(self, start: int) -> None:
        state, key_set = self.state, self._keys
        where = self._source.locate(start, 1)
        if state.origin != key_set.origin:
            raise Failed(
                FailureKind.keys_disagree,
                0,
                f"seq 0: the genesis event names origin {state.origin!r}, "
                f"keys.json {key_set.origin!r} ({where})",
            )
        if state.log_key != key_set.log_key_text:
            raise Failed(
                FailureKind.keys_disagree,
                0,
                f"seq 0: the genesis event names log key {state.log_key}, "
                f"keys.json {key_set.log_key_text} ({where})",
            )
        trusted = self._trusted_admin_key
        (admin,) = state.actors.values()
        (admin_key,) = admin.keys.values()
        if trusted is not None and VerifierKey.parse(admin_key) != trusted:
            raise Failed(
                FailureKind.untrusted_key,
                0,
                f"seq 0: untrusted key: the genesis admin key is {admin_key}, "
                f"not the trusted {trusted.to_text()} ({where})",
            )

    def _reach_checkpoint(self) -> None:
        signed = self._checkpoints[self._next]
        root = b64(self.frontier.root())
        _as_signed(FailureKind.root_mismatch, signed.size, "root", root, b64(signed.root))
        self.digest.update(self.state)
        digest = self.digest.digest().hex()
        _as_signed(
            FailureKind.state_digest_mismatch,
            signed.size,
            "state digest",
            digest,
            signed.digest.hex(),
        )
        if self._next > 0 and self._proofs:
            self._check_consistency(self._checkpoints[self._next - 1], signed)
        self._next += 1

    def _check_consistency(self, old: SignedCheckpoint, new: SignedCheckpoint) -> None:
        proof = self._source.consistency_proof(old.size, new.size)
        if proof is None:
            self._proofs = False
            return
        try:
            verify_consistency(old.size, new.size, proof, old.root, new.root)
        except ProofError as exc:
            raise Failed.at_checkpoint(
                FailureKind.consistency_proof_invalid,
                new.size,
                f"the source's consistency proof from checkpoint {old.size} does not verify: {exc}",
            ) from exc
        self.consistency_proofs += 1

    def finish(self) -> None:
        """Step 4: nothing signed beyond the log, nothing unsigned in it, keys.json exact."""
        last = self._checkpoints[-1]
        if self._next < len(self._checkpoints):
            size = self._checkpoints[self._next].size
            raise Failed(
                FailureKind.checkpoint_beyond_log,
                None,
                f"checkpoint {size} is beyond the log: the source has {self.size} events "
                f"(nothing from {self._source.locate(self.size)})",
                checkpoint=size,
            )
        if self.size > last.size:
            uncovered = self.size - last.size
            raise Failed(
                FailureKind.events_uncovered,
                last.size,
                f"{uncovered} events not covered by a signed checkpoint "
                f"(seq {last.size} to {self.size - 1}; the latest checkpoint is {last.size})",
            )
        broken = invariant_failure(self.state)
        if broken is not None:
            raise Failed(
                FailureKind.invariant_violated,
                None,
                f"the replayed state breaks an invariant: {broken}",
            )
        replayed = keys_document(self.state)
        if replayed != self._keys.data:
            difference = _first_difference(replayed, self._keys.data)
            raise Failed(
                FailureKind.keys_disagree,
                None,
                f"keys.json disagrees with the replayed log: {difference}",
            )


def _as_signed(kind: FailureKind, size: int, what: str, computed: str, signed: str) -> None:
    """Return if checkpoint ``size`` signs the ``what`` replayed (both as text), else raise
    ``Failed`` of ``kind``: ``<what> mismatch, computed ..., signed ...``."""
    if computed != signed:
        detail = f"{what} mismatch, computed {computed}, signed {signed}"
        raise Failed.at_checkpoint(kind, size, detail)


def invariant_failure(state: State) -> str | None:
    """Every invariant of the replayed state, recomputed from scratch (the ledger's balances
    from its transfers: per asset debits = credits, no flagged account negative, pending ≤
    reserved; the claims' links and indexes); the first one broken, or ``None``."""
    try:
        assert_invariants(state, full=True)
    except AssertionError as broken:
        return str(broken) or "an assertion without a message"
    return None


def _first_difference(replayed: bytes, published: bytes) -> str:
    """The first actor (or field) where the replayed key set and keys.json differ."""
    mine, theirs = canonical.decode(replayed), canonical.decode(published)
    for field in ("origin", "log_key"):
        if mine[field] != theirs[field]:
            return f"{field} is {mine[field]!r} in the log, {theirs[field]!r} in keys.json"
    ours = {str(_field(a, "name")): a for a in _items(mine["actors"])}
    listed = {str(_field(a, "name")): a for a in _items(theirs["actors"])}
    for name in sorted(ours.keys() | listed.keys()):
        a, b = ours.get(name), listed.get(name)
        if a is None:
            return f"keys.json lists actor {name!r}, which the log never registered"
        if b is None:
            return f"the log registers actor {name!r}, which keys.json does not list"
        for field in ("role", "keys", "revoked"):
            if _field(a, field) != _field(b, field):
                return (
                    f"actor {name!r}: {field} is {_field(a, field)!r} in the log, "
                    f"{_field(b, field)!r} in keys.json"
                )
    return "the actors are listed in another order"


def _items(value: JsonValue) -> list[dict[str, JsonValue]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _field(item: dict[str, JsonValue], name: str) -> JsonValue:
    return item.get(name)
