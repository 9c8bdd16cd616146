"""Issue 9, finding 1 — key squatting, in the core and in the verifier.

Every key is public at ``/log/keys``. Before the fix, the core accepted ``actor.registered`` of a
public key another actor held (under another name, so another C2SP key id), and the API's key
index then named nobody for it: the KYC officer, the admin, the treasury or any creditor got
``401 key_unknown`` for good. Now ``actor.registered``/``actor.key_added`` v2 refuse such a key
(``key_in_use``), the verifier refuses a log that does it, and a v1 log exported before the
rule (the demo's, whose 134 actors shared keys) still verifies.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import pytest

from reclaim.adapters.db.store import open_store
from reclaim.adapters.log_sources import DirectorySource
from reclaim.app.export import export_log
from reclaim.app.key_index import PublicKeyIndex
from reclaim.app.log_service import Accepted, KeyRing, LogService
from reclaim.core.events import Event, format_time
from reclaim.core.machine import Command, Genesis, PublishDocument, RegisterActor
from reclaim.core.rejections import Code, Rejection
from reclaim.log.event import sign
from reclaim.log.keys import SignerKey, VerifierKey
from reclaim.verifier import FailureKind, VerifyFailure, VerifyReport, verify_log

ORIGIN: Final = "reclaim.test/squat"
START: Final = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DOCUMENTS: Final = 20


def key(name: str) -> SignerKey:
    return SignerKey.from_seed(name, hashlib.sha256(f"squat {name}".encode()).digest())


ADMIN: Final = key("admin")
LOG_KEY: Final = key(ORIGIN)
GATEWAY: Final = key("gateway")
OFFICER: Final = key("kyc-1")


def same_key_as(signer: SignerKey, name: str) -> str:
    """``signer``'s public key under another name: another key id, the same API key."""
    return VerifierKey.from_public_bytes(name, signer.verifier.public_key).to_text()


class StepClock:
    def __init__(self) -> None:
        self._now = START

    def now(self) -> datetime:
        self._now += timedelta(seconds=1)
        return self._now


def honest_commands() -> list[tuple[Command, str]]:
    made: list[tuple[Command, str]] = [
        (Genesis(ORIGIN, "admin", ADMIN.verifier.to_text(), LOG_KEY.verifier.to_text()), "admin"),
        (RegisterActor("gateway", "gateway", GATEWAY.verifier.to_text()), "admin"),
        (RegisterActor("kyc-1", "kyc_officer", OFFICER.verifier.to_text()), "admin"),
    ]
    for n in range(DOCUMENTS):
        sha = hashlib.sha256(f"doc {n}".encode()).hexdigest()
        made.append((PublishDocument(f"doc-{n:02d}", f"Doc {n}", sha, "text/plain"), "admin"))
    return made


@pytest.fixture
def service(tmp_path: Path) -> Iterator[LogService]:
    store = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    log = LogService(store, KeyRing(LOG_KEY, {"admin": ADMIN, "gateway": GATEWAY}), StepClock())
    outcomes = log.submit_many(honest_commands())
    assert not [o for o in outcomes if isinstance(o, Rejection)]
    log.start()
    yield log
    log.stop()
    store.close()


def exported(log: LogService, directory: Path) -> Path:
    log.publish_checkpoint()
    export_log(log.store, log.state, directory, bundle_size=16)
    return directory


def test_the_gateway_cannot_register_the_kyc_officer_s_key(service: LogService) -> None:
    squat = RegisterActor("squatter", "creditor", same_key_as(OFFICER, "creditor"))
    refused = service.submit(squat, "gateway")
    assert isinstance(refused, Rejection)
    assert refused.code is Code.key_in_use
    assert refused.detail == "this public key is a key of 'kyc-1'"
    assert "squatter" not in service.state.actors
    assert service.actor_for_public_key(OFFICER.verifier.public_key) == "kyc-1"


def test_nobody_can_register_the_log_s_own_key(service: LogService) -> None:
    refused = service.submit(RegisterActor("x", "creditor", same_key_as(LOG_KEY, "x")), "gateway")
    assert isinstance(refused, Rejection)
    assert refused.detail == "this public key is the log's own key"


def test_the_verifier_refuses_a_log_that_registers_a_key_twice(
    service: LogService, tmp_path: Path
) -> None:
    """A malicious operator signs, with the real admin key, a v2 registration of the KYC
    officer's key in place of a document: the replay refuses it at that very event."""
    export = exported(service, tmp_path / "export")
    seq = 3 + DOCUMENTS // 2
    bundle = export / "entries" / f"{seq // 16 * 16:012d}.jsonl"
    lines = bundle.read_bytes().split(b"\n")[:-1]
    payload = {"name": "squatter", "role": "creditor", "key": same_key_as(OFFICER, "creditor")}
    time = format_time(START + timedelta(seconds=seq + 1))
    forged = Event("actor.registered", 2, time, "admin", ADMIN.key_id.hex(), dict(payload))
    lines[seq % 16] = sign(forged, ADMIN).leaf(seq)
    bundle.write_bytes(b"".join(line + b"\n" for line in lines))
    found = verify_log(DirectorySource(export))
    assert isinstance(found, VerifyFailure), found
    assert (found.kind, found.seq) == (FailureKind.event_rejected, seq)
    assert "key_in_use: this public key is a key of 'kyc-1'" in str(found)


def test_a_v1_log_whose_actors_share_a_key_still_verifies(
    service: LogService, tmp_path: Path
) -> None:
    """Logs exported before the rule (v1 registrations, as the demo made them) replay under v1's
    rule: they verify, and the shared key still names nobody."""
    time = format_time(START + timedelta(hours=1))
    payload = {"name": "holder-1", "role": "creditor", "key": same_key_as(OFFICER, "holder-1")}
    event = Event("actor.registered", 1, time, "gateway", GATEWAY.key_id.hex(), dict(payload))
    outcome = service.submit_signed(sign(event, GATEWAY))
    assert isinstance(outcome, Accepted), outcome
    export = exported(service, tmp_path / "export")
    report = verify_log(DirectorySource(export))
    assert isinstance(report, VerifyReport), report
    assert report.actors == 4
    index = PublicKeyIndex(service.state)
    assert index.actor_for(OFFICER.verifier.public_key) is None
    copy = tmp_path / "copy"
    shutil.copytree(export, copy)
    assert isinstance(verify_log(DirectorySource(copy)), VerifyReport)
