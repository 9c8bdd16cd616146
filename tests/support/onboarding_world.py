"""A running onboarding world for the e2e and API tests: a SQLite log with its genesis, a small
imported register, the onboarding service wired by the composition root, the HTTP API, and a
real SMTP server on loopback (aiosmtpd) that keeps every message it receives.

The register (commitments made exactly as the import makes them: ``FoldedCommitments``):

    FTX-1  zhang.wei@example.cn   holder "ZHANG Wei"    5A  $100,000.00
    FTX-2  zhang.wei@example.cn   holder "ZHANG Wei"    7   $40,000.00
    FTX-3  marie.curie@example.fr holder "Marie Curie"  5A  $500.00
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Final

from aiosmtpd.controller import Controller

from reclaim import bootstrap
from reclaim.adapters.clock import SystemClock
from reclaim.adapters.db.store import SqlEventStore, open_store
from reclaim.adapters.identity import FoldedCommitments
from reclaim.adapters.keyfiles import init_keys, load_keyring, load_pii_keys
from reclaim.adapters.passwords import Argon2Parameters, Argon2PasswordHasher
from reclaim.adapters.vault import Commitments
from reclaim.app.log_service import LogService
from reclaim.app.request_signing import Param, sign_request
from reclaim.config import Settings
from reclaim.core.claims import ClaimClass, CreateEstate, ImportClaims, RegisterRow
from reclaim.core.rejections import Rejection
from reclaim.entrypoints.api.app import create_app
from reclaim.log.keys import SignerKey
from tests.support.factories import ORIGIN

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

#: Cheap argon2 for tests (the parameters are in every hash; production uses RECOMMENDED).
CHEAP_ARGON2: Final = Argon2Parameters(time_cost=1, memory_cost_kib=1024, parallelism=1)
REGISTER: Final = (
    ("FTX-1", "zhang.wei@example.cn", "ZHANG Wei", "CN", "5A", 10_000_000),
    ("FTX-2", "zhang.wei@example.cn", "ZHANG Wei", "CN", "7", 4_000_000),
    ("FTX-3", "marie.curie@example.fr", "Marie Curie", "FR", "5A", 50_000),
)
FTX: Final = CreateEstate(
    "ftx", "FTX Trading Ltd.", "2022-11-11",
    (ClaimClass("5A", "Dotcom customer entitlement", 1), ClaimClass("7", "Convenience", 1)),
    "7", 5_000_000, 900, "simple", "ACT/365",
)  # fmt: skip
_CODE_RE: Final = re.compile(r"^\s*([0-9]{4}) ([0-9]{4})\s*$", re.MULTILINE)
_KEY_RE: Final = re.compile(r"^\s*([A-Z2-7]{5}(?:-[A-Z2-7]{5}){3})\s*$", re.MULTILINE)
_FINGERPRINT_RE: Final = re.compile(r"^\s*([0-9a-f]{4}(?: [0-9a-f]{4}){3})\s*$", re.MULTILINE)
PASSWORD: Final = "correct horse battery staple"
_ticks = itertools.count(1)


class Inbox:
    """An aiosmtpd handler that keeps every message (``handle_DATA``)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=email_policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def last_body(self, address: str) -> str:
        (*_, message) = self.to(address)
        body = message.get_body(("plain",))
        assert body is not None
        text: str = body.get_content()
        return text

    def last_code(self, address: str) -> str:
        found = _CODE_RE.search(self.last_body(address))
        assert found is not None, "the code e-mail shows the code on its own line"
        return found.group(1) + found.group(2)

    def last_confirmation_key(self, address: str) -> str:
        found = _KEY_RE.search(self.last_body(address))
        assert found is not None, "the code e-mail shows the confirmation key on its own line"
        return found.group(1)

    def last_fingerprint(self, address: str) -> str:
        found = _FINGERPRINT_RE.search(self.last_body(address))
        assert found is not None, "the code e-mail shows the key's fingerprint on its own line"
        return found.group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@dataclass(slots=True)
class World:
    directory: Path
    settings: Settings
    store: SqlEventStore
    log: LogService
    wiring: bootstrap.OnboardingWiring
    client: TestClient
    inbox: Inbox
    identity: FoldedCommitments
    webhook_secret: bytes
    officer: SignerKey
    creditor_keys: dict[str, SignerKey] = field(default_factory=dict)

    def signed(
        self, method: str, path: str, key: SignerKey, instruction: str,
        params: dict[str, Param] | None = None, path_params: dict[str, Param] | None = None,
    ) -> Any:  # fmt: skip
        """A request signed with ``key`` (Backpack's scheme; path parameters signed too)."""
        query = dict(params or {})
        stamp_ms = int(datetime.now(UTC).timestamp() * 1000) + next(_ticks)
        headers = sign_request(key, instruction, {**query, **(path_params or {})}, stamp_ms)
        return self.client.request(method, path, params=query, headers=headers)

    def challenge(self, email: str) -> str:
        """``POST /onboarding/challenge``: a sign-up challenge for ``email``."""
        answer = self.client.post("/onboarding/challenge", json={"email": email})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["challenge"])

    def sign_up(
        self, email: str, name: str, *, password: str = PASSWORD, challenge: str | None = None,
        key: SignerKey | None = None, prover: SignerKey | None = None,
    ) -> Any:  # fmt: skip
        """``POST /onboarding/signup`` with the API key ``key`` (by default a fresh one kept as
        ``creditor_keys[name]``), proving it: ``prover`` (by default the key) signs
        ``sign_up_message`` over ``challenge`` (by default a fresh one)."""
        if key is None:
            key = self.creditor_keys.setdefault(name, SignerKey.generate(name))
        challenge = self.challenge(email) if challenge is None else challenge
        message = sign_up_message(ORIGIN, challenge, email)
        body = {
            "email": email,
            "password": password,
            "public_key": b64(key.verifier.public_key),
            "locale": "zh-CN",
            "challenge": challenge,
            "signature": b64((prover or key).sign(message)),
        }
        return self.client.post("/onboarding/signup", json=body)

    def verify(self, email: str, code: str, name: str) -> Any:
        """``POST /onboarding/verify`` of ``code`` with the API key of ``creditor_keys[name]``."""
        public_key = b64(self.creditor_keys[name].verifier.public_key)
        body = {"email": email, "code": code, "public_key": public_key}
        return self.client.post("/onboarding/verify", json=body)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sign_up_message(origin: str, challenge: str, email: str) -> bytes:
    """What a new key signs at sign-up, written out from its documented format (not imported
    from the service, so a change to it fails here)."""
    parts = (b"reclaim/sign-up-possession/v1", origin.encode(), challenge.encode(), email.encode())
    return b"\x00".join(parts)


def key_add_message(origin: str, challenge: str, actor: str) -> bytes:
    """What a new key signs to be added to ``actor`` (``POST /onboarding/keys``)."""
    parts = (b"reclaim/key-add-possession/v1", origin.encode(), challenge.encode(), actor.encode())
    return b"\x00".join(parts)


def fingerprint(key: SignerKey) -> str:
    """A key's fingerprint as the code e-mail shows it: 16 hex of SHA-256, four groups."""
    digest = hashlib.sha256(key.verifier.public_key).hexdigest()[:16]
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


def import_register(log: LogService, identity: FoldedCommitments) -> None:
    """What the register import does: the estate, then the claims with their commitments."""
    rows = tuple(
        RegisterRow(
            cid,
            f"CUST-{cid}",
            identity.email(email),
            identity.holder_name(holder),
            iso,
            cls,
            cents,
            "allowed",
        )
        for cid, email, holder, iso, cls, cents in REGISTER
    )
    register_id = hashlib.sha256(b"ftx register v1").hexdigest()
    for outcome in log.submit_many(
        [(FTX, "admin"), (ImportClaims("ftx", register_id, rows), "admin")]
    ):
        assert not isinstance(outcome, Rejection), outcome


@contextmanager
def onboarding_world(directory: Path) -> Iterator[World]:
    with smtp_server() as (inbox, port):
        settings = Settings.from_env({}, data_dir=directory, origin=ORIGIN, smtp_port=port)
        init_keys(settings.keys_dir, ORIGIN)
        keys = load_keyring(settings.keys_dir)
        store = open_store(settings.database_url)
        clock = SystemClock()
        log = LogService(store, keys, clock)
        bootstrap.ensure_genesis(log, keys, ORIGIN)
        wiring = bootstrap.build_onboarding(
            settings, store, log, keys, clock, passwords=Argon2PasswordHasher(CHEAP_ARGON2)
        )
        assert wiring.webhook is not None, "init_keys writes the webhook secret"
        pii = load_pii_keys(settings.keys_dir)
        identity = FoldedCommitments(Commitments(pii.commitment_secret))
        import_register(log, identity)
        log.start()
        secret = (settings.keys_dir / "kyc-webhook.secret").read_bytes()
        try:
            with TestClient(create_app(log, onboarding=wiring)) as client:
                yield World(
                    directory, settings, store, log, wiring, client, inbox, identity, secret,
                    keys.for_actor("kyc-officer"),
                )  # fmt: skip
        finally:
            log.stop()
            store.close()
