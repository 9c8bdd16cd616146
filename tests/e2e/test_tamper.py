"""A real log on SQLite, exported, verified; then tampered with, one way at a time.

The log (``SIZE`` = 310 events), built once per module by a ``LogService`` with fixed keys and a
clock that steps one second per event::

    seq 0        log.genesis (admin "admin", log key "reclaim.test/log")
    seq 1..3     actor.registered by admin: kyc-1 (kyc_officer), treasury-1 (treasury), gateway
    seq 4        actor.registered by gateway: creditor-1 (creditor), key creditor-1#1
    seq 5        actor.key_added by admin: creditor-1#2
    seq 6        actor.key_revoked by admin: creditor-1#1
    seq 7..309   document.published by admin: doc-0000 .. doc-0302

with checkpoints at 100, 200, 300 and 310, exported in bundles of ``BUNDLE`` = 64 events
(files 000000000000, ...064, ...128, ...192, ...256). Every test tampers with a fresh copy of
the export and asserts the exact failure: kind, seq, checkpoint and message.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import httpx
import pytest

from reclaim.adapters.db.store import open_store
from reclaim.adapters.log_sources import DirectorySource, HttpSource, open_source
from reclaim.app.export import ExportError, export_log
from reclaim.app.log_service import KeyRing, LogService
from reclaim.app.ports import EventStore
from reclaim.core.events import Event
from reclaim.core.machine import (
    AddKey,
    Command,
    Genesis,
    PublishDocument,
    RegisterActor,
    RevokeKey,
)
from reclaim.core.rejections import Rejection
from reclaim.core.types import JsonValue
from reclaim.entrypoints.api.app import create_app
from reclaim.log import canonical
from reclaim.log.checkpoint import Checkpoint, parse_body, sign_checkpoint
from reclaim.log.digest import full_digest
from reclaim.log.event import parse_leaf, sign
from reclaim.log.keys import SignerKey
from reclaim.log.merkle import ProofError, verify_consistency
from reclaim.log.note import Note, NoteSignature
from reclaim.log.public_keys import keys_document
from reclaim.verifier import FailureKind, LogSource, VerifyFailure, VerifyReport, verify_log

with warnings.catch_warnings():
    # Starlette asks for httpx2 and warns once, at import, when it finds httpx instead.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ORIGIN: Final = "reclaim.test/log"
SIZE: Final = 310
BUNDLE: Final = 64
CHECKPOINTS: Final = (100, 200, 300, 310)
START: Final = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def key(name: str, generation: int = 0) -> SignerKey:
    return SignerKey.from_seed(
        name, hashlib.sha256(f"tamper {name} {generation}".encode()).digest()
    )


ADMIN: Final = key("admin")
LOG_KEY: Final = key(ORIGIN)
GATEWAY: Final = key("gateway")
CREDITOR_1: Final = key("creditor-1", 1)
CREDITOR_2: Final = key("creditor-1", 2)
ATTACKER: Final = key("mallory")


class StepClock:
    """One second per reading, from ``START``: the same log, byte for byte, every run."""

    def __init__(self) -> None:
        self._now = START

    def now(self) -> datetime:
        self._now += timedelta(seconds=1)
        return self._now


def commands() -> list[tuple[Command, str]]:
    """The module docstring's events, as commands with the actor that authorises each."""
    made: list[tuple[Command, str]] = [
        (Genesis(ORIGIN, "admin", ADMIN.verifier.to_text(), LOG_KEY.verifier.to_text()), "admin")
    ]
    for name, role in (("kyc-1", "kyc_officer"), ("treasury-1", "treasury")):
        made.append((RegisterActor(name, role, key(name).verifier.to_text()), "admin"))
    made.append((RegisterActor("gateway", "gateway", GATEWAY.verifier.to_text()), "admin"))
    made.append((RegisterActor("creditor-1", "creditor", CREDITOR_1.verifier.to_text()), "gateway"))
    made.append((AddKey("creditor-1", CREDITOR_2.verifier.to_text()), "admin"))
    made.append((RevokeKey("creditor-1", CREDITOR_1.key_id.hex()), "admin"))
    for n in range(SIZE - len(made)):
        sha = hashlib.sha256(f"document {n}".encode()).hexdigest()
        made.append(
            (PublishDocument(f"doc-{n:04d}", f"Document {n}", sha, "application/pdf"), "admin")
        )
    return made


@dataclass(frozen=True, slots=True)
class Published:
    service: LogService
    store: EventStore
    export: Path  # pristine; tests copy it


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    directory = tmp_path_factory.mktemp("tamper")
    store = open_store(f"sqlite:///{directory / 'log.db'}")
    ring = KeyRing(LOG_KEY, {"admin": ADMIN, "gateway": GATEWAY})
    service = LogService(store, ring, StepClock())
    todo, start = commands(), 0
    for end in CHECKPOINTS:
        outcomes = service.submit_many(todo[start:end])
        assert not [o for o in outcomes if isinstance(o, Rejection)]
        service.publish_checkpoint()
        start = end
    assert [c.size for c in store.checkpoints(0, 100)] == list(CHECKPOINTS)
    summary = export_log(store, service.state, directory / "export", bundle_size=BUNDLE)
    assert (summary.events, summary.bundles, summary.checkpoints) == (SIZE, 5, 4)
    yield Published(service, store, directory / "export")
    store.close()


@pytest.fixture
def export(published: Published, tmp_path: Path) -> Path:
    """A fresh copy of the export, to tamper with."""
    copy = tmp_path / "export"
    shutil.copytree(published.export, copy)
    return copy


# Helpers ---------------------------------------------------------------------------------------


def bundle_file(export: Path, seq: int) -> Path:
    return export / "entries" / f"{seq // BUNDLE * BUNDLE:012d}.jsonl"


def read_lines(export: Path, seq: int) -> list[bytes]:
    return bundle_file(export, seq).read_bytes().split(b"\n")[:-1]


def write_lines(export: Path, seq: int, lines: list[bytes]) -> None:
    bundle_file(export, seq).write_bytes(b"".join(line + b"\n" for line in lines))


def replace_leaf(export: Path, seq: int, leaf: bytes) -> None:
    lines = read_lines(export, seq)
    lines[seq % BUNDLE] = leaf
    write_lines(export, seq, lines)


def leaf(export: Path, seq: int) -> bytes:
    return read_lines(export, seq)[seq % BUNDLE]


def where(seq: int) -> str:
    return f"entries/{seq // BUNDLE * BUNDLE:012d}.jsonl line {seq % BUNDLE + 1}"


def failure(export: Path, **options: object) -> VerifyFailure:
    outcome = verify_log(DirectorySource(export), **options)  # type: ignore[arg-type]
    assert isinstance(outcome, VerifyFailure), outcome
    return outcome


def verified(source: LogSource) -> VerifyReport:
    outcome = verify_log(source)
    assert isinstance(outcome, VerifyReport), outcome
    return outcome


def signed_checkpoint(export: Path, size: int) -> Checkpoint:
    return parse_body(Note.parse((export / "checkpoints" / str(size)).read_text()).text)


def write_checkpoint(export: Path, size: int, note: str) -> None:
    (export / "checkpoints" / str(size)).write_text(note)
    if size == CHECKPOINTS[-1]:
        (export / "checkpoint").write_text(note)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def rewrite_keys(export: Path, change: dict[str, JsonValue]) -> None:
    doc = canonical.decode((export / "keys.json").read_bytes())
    (export / "keys.json").write_bytes(canonical.encode(doc | change))


def actors_with(export: Path, name: str, keys: list[str]) -> list[JsonValue]:
    doc = canonical.decode((export / "keys.json").read_bytes())
    actors = doc["actors"]
    assert isinstance(actors, list)
    out: list[JsonValue] = []
    for actor in actors:
        assert isinstance(actor, dict)
        out.append(actor | {"keys": list[JsonValue](keys)} if actor["name"] == name else actor)
    return out


# The untampered log ----------------------------------------------------------------------------


def test_the_export_verifies(published: Published, export: Path) -> None:
    report = verified(DirectorySource(export))
    state = published.service.state
    assert report == VerifyReport(
        origin=ORIGIN,
        events=SIZE,
        checkpoints=4,
        consistency_proofs=0,
        root=published.store.root(SIZE),
        state_digest=full_digest(state),
        actors=5,
        keys=6,
        workers=0,
        elapsed_seconds=report.elapsed_seconds,
    )
    assert str(dataclasses.replace(report, elapsed_seconds=0.5)) == (
        f"reclaim.test/log: 310 events, 4 signed checkpoints, 0 consistency proofs; "
        f"root {b64(report.root)}, state {report.state_digest.hex()}; 5 actors, 6 keys; "
        "0.50 s (620 events/s, in process)"
    )


def test_the_export_layout(published: Published, export: Path) -> None:
    assert sorted(p.relative_to(export).as_posix() for p in export.rglob("*")) == [
        "checkpoint", "checkpoints", "checkpoints/100", "checkpoints/200",
        "checkpoints/300", "checkpoints/310", "entries",
        "entries/000000000000.jsonl", "entries/000000000064.jsonl",
        "entries/000000000128.jsonl", "entries/000000000192.jsonl",
        "entries/000000000256.jsonl", "keys.json",
    ]  # fmt: skip
    store = published.store
    assert (export / "entries/000000000128.jsonl").read_bytes() == b"".join(
        leaf + b"\n" for leaf in store.leaves(128, 192)
    )
    latest = store.latest_checkpoint()
    assert latest is not None
    assert (export / "checkpoint").read_text() == latest.note
    assert (export / "keys.json").read_bytes() == keys_document(published.service.state)
    assert b"PRIVATE" not in b"".join(p.read_bytes() for p in export.rglob("*") if p.is_file())


def test_trusted_keys_that_match_verify(export: Path) -> None:
    report = verify_log(
        DirectorySource(export), trusted_log_key=LOG_KEY.verifier, trusted_admin_key=ADMIN.verifier
    )
    assert isinstance(report, VerifyReport), report
    assert report.events == SIZE


def test_progress_reports_every_bundle(export: Path) -> None:
    seen: list[tuple[int, int]] = []
    verify_log(DirectorySource(export), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(64, 310), (128, 310), (192, 310), (256, 310), (310, 310)]


def test_open_source_chooses_by_prefix(export: Path) -> None:
    assert isinstance(open_source(str(export)), DirectorySource)
    source = open_source("https://log.example/")
    assert isinstance(source, HttpSource)
    source.close()


# Entries ---------------------------------------------------------------------------------------


def test_a_flipped_byte_in_a_signature(export: Path) -> None:
    data = leaf(export, 150)
    at = data.index(b'"sig":"') + len(b'"sig":"')
    replace_leaf(
        export, 150, data[:at] + (b"B" if data[at : at + 1] != b"B" else b"C") + data[at + 1 :]
    )
    found = failure(export)
    assert (found.kind, found.seq, found.checkpoint) == (FailureKind.signature_invalid, 150, None)
    assert str(found) == (
        f"seq 150: signature by key {ADMIN.key_id.hex()} (admin) does not verify over the "
        f"event's bytes ({where(150)})"
    )


def test_a_flipped_byte_in_a_payload(export: Path) -> None:
    data = leaf(export, 150)
    assert b'"title":"Document 143"' in data
    replace_leaf(export, 150, data.replace(b'"title":"Document 143"', b'"title":"Document 943"'))
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.signature_invalid, 150)
    assert str(found) == (
        f"seq 150: signature by key {ADMIN.key_id.hex()} (admin) does not verify over the "
        f"event's bytes ({where(150)})"
    )


def test_a_flipped_byte_that_breaks_the_json(export: Path) -> None:
    data = leaf(export, 150)
    replace_leaf(export, 150, data[:-1] + b"]")
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.leaf_malformed, 150)
    assert str(found) == (
        f"seq 150: malformed event: not JSON: Expecting ',' delimiter at character "
        f"{len(data) - 1} ({where(150)})"
    )


def test_a_non_canonical_spelling(export: Path) -> None:
    data = leaf(export, 150)
    replace_leaf(export, 150, data.replace(b'"actor":', b'"actor": ', 1))
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.leaf_malformed, 150)
    assert str(found) == (
        f"seq 150: malformed event: bytes are not in canonical form (v1) ({where(150)})"
    )


def test_a_dropped_event(export: Path) -> None:
    lines = read_lines(export, 150)
    del lines[150 % BUNDLE]
    write_lines(export, 150, lines)
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.seq_mismatch, 150)
    assert str(found) == f"seq 150: expected seq 150, found 151 ({where(150)})"


def test_two_reordered_events(export: Path) -> None:
    lines = read_lines(export, 150)
    i = 150 % BUNDLE
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    write_lines(export, 150, lines)
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.seq_mismatch, 150)
    assert str(found) == f"seq 150: expected seq 150, found 151 ({where(150)})"


def test_a_duplicated_event(export: Path) -> None:
    lines = read_lines(export, 150)
    lines.insert(150 % BUNDLE, lines[150 % BUNDLE])
    write_lines(export, 150, lines)
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.seq_mismatch, 151)
    assert str(found) == f"seq 151: expected seq 151, found 150 ({where(151)})"


def event_at(export: Path, seq: int, signer: SignerKey, actor: str) -> bytes:
    """A valid document event at ``seq`` (same time as the original), signed by ``signer``."""
    original = parse_leaf(leaf(export, seq)).event
    payload = dict(original.payload) | {"document_id": f"forged-{seq}"}
    event = Event(original.type, 1, original.time, actor, signer.key_id.hex(), payload)
    return sign(event, signer).leaf(seq)


def test_an_event_signed_by_an_unknown_key(export: Path) -> None:
    replace_leaf(export, 150, event_at(export, 150, ATTACKER, "admin"))
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.unknown_key, 150)
    assert str(found) == f"seq 150: signed by unknown key {ATTACKER.key_id.hex()} ({where(150)})"


def test_an_event_the_core_refuses(export: Path) -> None:
    replace_leaf(export, 150, event_at(export, 150, CREDITOR_2, "creditor-1"))
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.event_rejected, 150)
    assert str(found) == (
        "seq 150: rejected by the core: actor_not_authorised: "
        f"creditor 'creditor-1' may not sign document.published ({where(150)})"
    )


def test_an_event_signed_by_a_revoked_key(export: Path) -> None:
    replace_leaf(export, 150, event_at(export, 150, CREDITOR_1, "creditor-1"))
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.event_rejected, 150)
    assert str(found) == (
        "seq 150: rejected by the core: actor_key_revoked: "
        f"key {CREDITOR_1.key_id.hex()} of 'creditor-1' ({where(150)})"
    )


def test_a_cut_last_line(export: Path) -> None:
    path = bundle_file(export, 300)
    path.write_bytes(path.read_bytes()[:-1])
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.leaf_malformed, 309)
    assert str(found) == f"seq 309: no newline after the last event ({where(309)})"


# Files -----------------------------------------------------------------------------------------


def test_a_missing_bundle_file(export: Path) -> None:
    (export / "entries" / "000000000128.jsonl").unlink()
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.entries_missing, 128)
    assert str(found) == (
        "seq 128: entries 128 to 191 are missing: entries/000000000128.jsonl is absent, "
        "the next bundle is entries/000000000192.jsonl"
    )


def test_a_missing_last_bundle_file(export: Path) -> None:
    (export / "entries" / "000000000256.jsonl").unlink()
    found = failure(export)
    assert (found.kind, found.seq, found.checkpoint) == (
        FailureKind.checkpoint_beyond_log, None, 300,
    )  # fmt: skip
    assert str(found) == (
        "checkpoint 300 is beyond the log: the source has 256 events "
        "(nothing from entries/000000000256.jsonl)"
    )


@pytest.mark.parametrize("name", ["keys.json", "checkpoint", "entries", "checkpoints"])
def test_a_missing_file(export: Path, name: str) -> None:
    target = export / name
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.source_error, None)
    assert str(found) == f"{export}: {name} is missing"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("notes.txt", "notes.txt"),
        ("entries/000000000310.json", "entries/000000000310.json"),
        ("entries/310.jsonl", "entries/310.jsonl"),
        ("checkpoints/0300", "checkpoints/0300"),
    ],
)
def test_an_unexpected_file(export: Path, name: str, shown: str) -> None:
    (export / name).write_bytes(b"")
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.source_error, None)
    assert str(found) == f"{export}: unexpected file {shown}"


def test_a_checkpoint_file_under_another_size(export: Path) -> None:
    (export / "checkpoints" / "200").rename(export / "checkpoints" / "201")
    found = failure(export)
    assert (found.kind, str(found)) == (
        FailureKind.source_error, "checkpoints/201 holds a checkpoint of size '200', not 201",
    )  # fmt: skip


def test_a_latest_checkpoint_that_is_not_the_latest(export: Path) -> None:
    shutil.copy(export / "checkpoints" / "300", export / "checkpoint")
    found = failure(export)
    assert (found.kind, str(found)) == (
        FailureKind.source_error, "checkpoint is not the latest checkpoint, checkpoints/310",
    )  # fmt: skip


def test_events_after_the_last_checkpoint(export: Path) -> None:
    (export / "checkpoints" / "310").unlink()
    shutil.copy(export / "checkpoints" / "300", export / "checkpoint")
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.events_uncovered, 300)
    assert str(found) == (
        "10 events not covered by a signed checkpoint (seq 300 to 309; "
        "the latest checkpoint is 300)"
    )


# Checkpoints -----------------------------------------------------------------------------------


def test_a_checkpoint_re_signed_by_an_attacker(export: Path) -> None:
    cp = signed_checkpoint(export, 200)
    forged = Checkpoint(cp.origin, cp.size, hashlib.sha256(b"forged").digest(), cp.extensions)
    text = forged.body()
    # The attacker's signature line claims the log key's name and id.
    line = NoteSignature(ORIGIN, LOG_KEY.key_id, ATTACKER.sign(text.encode()))
    write_checkpoint(export, 200, Note(text, (line,)).render())
    found = failure(export)
    assert (found.kind, found.seq, found.checkpoint) == (FailureKind.checkpoint_invalid, None, None)
    assert str(found) == (
        f"checkpoint 200: signature by {ORIGIN}+{LOG_KEY.key_id.hex()} does not verify"
    )


def test_a_checkpoint_signed_by_the_attacker_s_own_key(export: Path) -> None:
    cp = signed_checkpoint(export, 200)
    forged = Checkpoint(cp.origin, cp.size, hashlib.sha256(b"forged").digest(), cp.extensions)
    write_checkpoint(export, 200, sign_checkpoint(forged, ATTACKER))
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.checkpoint_invalid, None)
    assert str(found).startswith(
        f"checkpoint 200: checkpoint is not signed by {ORIGIN}+{LOG_KEY.key_id.hex()}: "
    )


def test_a_wrong_root_signed_with_the_real_log_key(published: Published, export: Path) -> None:
    cp = signed_checkpoint(export, 200)
    wrong = hashlib.sha256(b"another tree").digest()
    write_checkpoint(
        export, 200, sign_checkpoint(Checkpoint(cp.origin, 200, wrong, cp.extensions), LOG_KEY)
    )
    found = failure(export)
    assert (found.kind, found.seq, found.checkpoint) == (FailureKind.root_mismatch, None, 200)
    assert str(found) == (
        f"checkpoint 200: root mismatch, computed {b64(published.store.root(200))}, "
        f"signed {b64(wrong)}"
    )


def test_a_wrong_state_digest(export: Path) -> None:
    cp = signed_checkpoint(export, 200)
    honest = cp.extensions[0].removeprefix("reclaim-state ")
    wrong = ("reclaim-state " + "00" * 32,)
    write_checkpoint(
        export, 200, sign_checkpoint(Checkpoint(cp.origin, 200, cp.root, wrong), LOG_KEY)
    )
    found = failure(export)
    assert (found.kind, found.seq, found.checkpoint) == (
        FailureKind.state_digest_mismatch, None, 200,
    )  # fmt: skip
    assert str(found) == (
        f"checkpoint 200: state digest mismatch, computed {honest}, signed {'00' * 32}"
    )


def test_a_checkpoint_without_a_state_digest(export: Path) -> None:
    cp = signed_checkpoint(export, 200)
    write_checkpoint(export, 200, sign_checkpoint(Checkpoint(cp.origin, 200, cp.root), LOG_KEY))
    found = failure(export)
    assert (found.kind, found.checkpoint) == (FailureKind.checkpoint_invalid, 200)
    assert str(found) == "checkpoint 200: no valid 'reclaim-state <hex>' extension line"


def test_a_checkpoint_of_another_origin(export: Path) -> None:
    cp = signed_checkpoint(export, 200)
    other = Checkpoint("other.test/log", 200, cp.root, cp.extensions)
    write_checkpoint(export, 200, sign_checkpoint(other, LOG_KEY))
    found = failure(export)
    assert (found.kind, found.checkpoint) == (FailureKind.checkpoint_origin, 200)
    assert str(found) == (
        "checkpoint 200: origin 'other.test/log' is not the log's 'reclaim.test/log'"
    )


def test_a_checkpoint_beyond_the_log(export: Path) -> None:
    cp = signed_checkpoint(export, 310)
    write_checkpoint(
        export, 310, sign_checkpoint(Checkpoint(cp.origin, 320, cp.root, cp.extensions), LOG_KEY)
    )
    (export / "checkpoints" / "310").rename(export / "checkpoints" / "320")
    found = failure(export)
    assert (found.kind, found.checkpoint) == (FailureKind.checkpoint_beyond_log, 320)
    assert str(found) == (
        "checkpoint 320 is beyond the log: the source has 310 events "
        "(nothing from entries/000000000310.jsonl)"
    )


# Keys ------------------------------------------------------------------------------------------


def test_keys_json_with_a_changed_key_of_an_actor_that_never_signed(export: Path) -> None:
    listed, replaced = key("kyc-1").verifier.to_text(), key("kyc-1", 9).verifier.to_text()
    rewrite_keys(export, {"actors": actors_with(export, "kyc-1", [replaced])})
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.keys_disagree, None)
    assert str(found) == (
        "keys.json disagrees with the replayed log: actor 'kyc-1': keys is "
        f"[{listed!r}] in the log, [{replaced!r}] in keys.json"
    )


def test_keys_json_with_a_changed_admin_key(export: Path) -> None:
    rewrite_keys(export, {"actors": actors_with(export, "admin", [ATTACKER.verifier.to_text()])})
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.unknown_key, 0)
    assert str(found) == f"seq 0: signed by unknown key {ADMIN.key_id.hex()} ({where(0)})"


def test_keys_json_and_every_checkpoint_under_an_attacker_s_log_key(export: Path) -> None:
    attacker_log = key(ORIGIN, 9)
    rewrite_keys(export, {"log_key": attacker_log.verifier.to_text()})
    for size in CHECKPOINTS:
        write_checkpoint(
            export, size, sign_checkpoint(signed_checkpoint(export, size), attacker_log)
        )
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.keys_disagree, 0)
    assert str(found) == (
        f"seq 0: the genesis event names log key {LOG_KEY.verifier.to_text()}, "
        f"keys.json {attacker_log.verifier.to_text()} ({where(0)})"
    )
    # A user who trusts the real log key is told so before anything else.
    found = failure(export, trusted_log_key=LOG_KEY.verifier)
    assert (found.kind, found.seq) == (FailureKind.untrusted_key, None)
    assert str(found) == (
        f"untrusted key: keys.json names the log key {attacker_log.verifier.to_text()}, "
        f"not the trusted {LOG_KEY.verifier.to_text()}"
    )


def test_an_untrusted_admin_key(export: Path) -> None:
    found = failure(export, trusted_admin_key=ATTACKER.verifier)
    assert (found.kind, found.seq) == (FailureKind.untrusted_key, None)
    assert str(found) == (
        f"untrusted key: keys.json lists no admin with the trusted key "
        f"{ATTACKER.verifier.to_text()}"
    )


def test_keys_json_that_is_not_canonical(export: Path) -> None:
    (export / "keys.json").write_bytes((export / "keys.json").read_bytes() + b"\n")
    found = failure(export)
    assert (found.kind, found.seq) == (FailureKind.keys_malformed, None)
    assert str(found) == "keys.json: bytes are not in canonical form (v1)"


def test_keys_json_listing_a_key_twice(export: Path) -> None:
    twice = [ADMIN.verifier.to_text(), ADMIN.verifier.to_text()]
    rewrite_keys(export, {"actors": actors_with(export, "admin", twice)})
    found = failure(export)
    assert (found.kind, str(found)) == (
        FailureKind.keys_malformed,
        f"keys.json: actor 'admin': key id {ADMIN.key_id.hex()} is listed twice",
    )


# Over HTTP, from the server's API --------------------------------------------------------------


def test_the_api_serves_a_log_that_verifies_with_its_consistency_proofs(
    published: Published, export: Path
) -> None:
    with TestClient(create_app(published.service)) as client:
        over_http = verified(HttpSource("http://testserver", client))
    from_files = verified(DirectorySource(export))
    assert over_http == dataclasses.replace(
        from_files, consistency_proofs=3, elapsed_seconds=over_http.elapsed_seconds
    )


def through(
    client: TestClient, change: Callable[[httpx.Request, httpx.Response], httpx.Response]
) -> httpx.Client:
    """A client whose answers come from ``client`` (the real API), passed through ``change``."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = client.get(request.url.path, params=request.url.params)
        return change(request, httpx.Response(answer.status_code, headers=answer.headers,
                                              content=answer.content))  # fmt: skip

    return httpx.Client(transport=httpx.MockTransport(handle))


def test_an_api_that_fails(published: Published) -> None:
    def fail_keys(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        return httpx.Response(503) if request.url.path == "/log/keys" else response

    with TestClient(create_app(published.service)) as client:
        found = verify_log(HttpSource("http://log.test", through(client, fail_keys)))
    assert found == VerifyFailure(
        FailureKind.source_error, None, "GET http://log.test/log/keys: HTTP 503"
    )


def test_an_api_that_serves_a_short_page(published: Published) -> None:
    def drop_a_line(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path != "/log/entries":
            return response
        return httpx.Response(200, content=response.content.split(b"\n", 1)[1])

    with TestClient(create_app(published.service)) as client:
        found = verify_log(HttpSource("http://log.test", through(client, drop_a_line)))
    assert found == VerifyFailure(
        FailureKind.source_error,
        None,
        "GET http://log.test/log/entries?start=0&end=310: 309 lines, not 310",
    )


def test_an_api_whose_events_are_tampered_with_is_located_by_request(
    published: Published,
) -> None:
    def reorder(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path != "/log/entries":
            return response
        lines = response.content.split(b"\n")
        lines[150], lines[151] = lines[151], lines[150]
        return httpx.Response(200, content=b"\n".join(lines))

    with TestClient(create_app(published.service)) as client:
        found = verify_log(HttpSource("http://log.test", through(client, reorder)))
    assert found == VerifyFailure(
        FailureKind.seq_mismatch,
        150,
        "seq 150: expected seq 150, found 151 "
        "(http://log.test/log/entries?start=0&end=310 line 151)",
    )


class ProvingSource(DirectorySource):
    """An export whose consistency proofs come from the store, with one hash flipped."""

    def __init__(self, path: Path, store: EventStore) -> None:
        super().__init__(path)
        self.store = store

    def consistency_proof(self, first: int, second: int) -> list[bytes] | None:
        proof = self.store.consistency_proof(first, second)
        if (first, second) == (200, 300):
            proof[-1] = bytes([proof[-1][0] ^ 1]) + proof[-1][1:]
        return proof


def test_a_consistency_proof_that_does_not_verify(published: Published, export: Path) -> None:
    source = ProvingSource(export, published.store)
    bad = source.consistency_proof(200, 300)
    assert bad is not None
    with pytest.raises(ProofError) as proof_error:
        verify_consistency(200, 300, bad, published.store.root(200), published.store.root(300))
    found = verify_log(source)
    assert isinstance(found, VerifyFailure), found
    assert (found.kind, found.seq, found.checkpoint) == (
        FailureKind.consistency_proof_invalid, None, 300,
    )  # fmt: skip
    assert str(found) == (
        "checkpoint 300: the source's consistency proof from checkpoint 200 does not verify: "
        f"{proof_error.value}"
    )


# The exporter ----------------------------------------------------------------------------------


def test_export_replaces_an_earlier_export(published: Published, tmp_path: Path) -> None:
    target = tmp_path / "export"
    export_log(published.store, published.service.state, target, bundle_size=BUNDLE)
    (target / "entries" / "000000000000.jsonl").write_bytes(b"stale\n")
    export_log(published.store, published.service.state, target)
    assert sorted(p.name for p in (target / "entries").iterdir()) == ["000000000000.jsonl"]
    assert verified(DirectorySource(target)).events == SIZE
    assert [p.name for p in tmp_path.iterdir()] == ["export"]  # no temporary left behind


def test_export_refuses_a_directory_that_is_not_an_export(
    published: Published, tmp_path: Path
) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("mine")
    with pytest.raises(ExportError) as caught:
        export_log(published.store, published.service.state, tmp_path / "home")
    assert str(caught.value) == (
        f"{tmp_path / 'home'} is not a log export (it holds notes.txt): not replacing it"
    )
    assert (tmp_path / "home" / "notes.txt").read_text() == "mine"


def test_export_refuses_an_empty_log(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    service = LogService(store, KeyRing(LOG_KEY, {"admin": ADMIN}), StepClock())
    with pytest.raises(ExportError) as caught:
        export_log(store, service.state, tmp_path / "export")
    assert str(caught.value) == "the log is empty: there is nothing to export"
    store.close()


def test_export_needs_a_checkpoint_covering_the_state(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    service = LogService(store, KeyRing(LOG_KEY, {"admin": ADMIN, "gateway": GATEWAY}), StepClock())
    service.submit_many(commands()[:7])
    with pytest.raises(ExportError) as caught:
        export_log(store, service.state, tmp_path / "export")
    assert str(caught.value) == (
        "the latest checkpoint covers 0 of 7 events: publish a checkpoint before exporting"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.db", "log.db-shm", "log.db-wal"]
    store.close()
