"""The composition root: builds every part of reclaim from validated settings.

Nothing in reclaim is constructed at import time; entry points (CLI, API server, tests) call
``build`` and get a ``Container``. Tests pass their own store or clock instead of patching.

Every service is made here, with the container's clock: the log, liabilities and onboarding by
``build``; the withdrawal service by ``Container.withdrawals()`` on first use, with the rails the
settings name (so a rail's settings are read, and checked, only by the commands that pay);
the register import's PII vault by ``open_claims_vault``. The entry points reach the adapters
through here (and ``adapters.files``, the operator's files, directly): key files
(``init_keys``), the public log's sources (``open_log_source``, ``open_checkpoints``). Key-file
problems come out as ``BootstrapError``.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from reclaim.adapters.clock import SystemClock
from reclaim.adapters.codes import (
    CODE_CHECKS_PER_CLIENT,
    CODE_GUESSES_PER_ADDRESS,
    CODE_SENDS_PER_ADDRESS_KEY,
    CODE_SENDS_PER_CLIENT,
    SqlChallenges,
    SqlCodeStore,
    SqlRateLimiter,
)
from reclaim.adapters.db.store import SqlEventStore, open_store
from reclaim.adapters.identity import FoldedCommitments
from reclaim.adapters.keyfiles import (
    OPERATOR_ACTORS,
    VAULT_KEY_FILE,
    KeyFileError,
    load_keyring,
    load_kyc_webhook_secret,
    load_liabilities_secret,
    load_pii_keys,
)
from reclaim.adapters.keyfiles import init_keys as init_key_files
from reclaim.adapters.kyc import HostedSessionApi, ManualReviewQueue, SqlKycWebhookLog, WebhookKyc
from reclaim.adapters.log_sources import open_source
from reclaim.adapters.mail import DeliveryReport, SmtpMailSender, SqlOutbox, deliver_due
from reclaim.adapters.passwords import Argon2PasswordHasher
from reclaim.adapters.published_checkpoints import (
    open_checkpoints as open_published_checkpoints,
)
from reclaim.adapters.rails import VaultBeneficiaryCommitments
from reclaim.adapters.rails.batch_book import JsonBatchBook
from reclaim.adapters.rails.hk_wire import HkWireRail
from reclaim.adapters.rails.sepa import SepaDebtor, SepaRail
from reclaim.adapters.rails.usdc import UsdcRail
from reclaim.adapters.signing import ProcessSigner
from reclaim.adapters.vault import Commitments, FileKeyWrapper, SqlVault
from reclaim.app.liabilities import CheckpointSource, LiabilitiesService
from reclaim.app.log_service import KeyRing, LogService
from reclaim.app.market import MarketService
from reclaim.app.market_desk import MarketDesk
from reclaim.app.notes import NotesService
from reclaim.app.onboarding import OnboardingRules, OnboardingService
from reclaim.app.ports import (
    Clock,
    EventStore,
    HostedKyc,
    KycProvider,
    MailSender,
    PasswordHasher,
    RateLimiter,
)
from reclaim.app.web_accounts import csrf_secret
from reclaim.app.withdrawal_ports import rails_by_name
from reclaim.app.withdrawals import WithdrawalService
from reclaim.config import Settings
from reclaim.core import limits
from reclaim.core.machine import Command, Genesis, RegisterActor
from reclaim.core.rejections import Rejection
from reclaim.log.keys import SignerKey
from reclaim.verifier import LogSource


class BootstrapError(Exception):
    """The log could not be opened or initialised as the settings ask."""


@dataclass(slots=True)
class OnboardingWiring:
    """Sign-up, KYC and linking (``OnboardingService``), the hosted provider's webhook
    verifier (``None`` without ``kyc-webhook.secret``), the operator actors whose keys this
    process holds, the mail outbox with its sender, the rate limiter of signed writes per
    actor (the API's ``auth.limit_signed_writes``; the same SQL buckets as onboarding's), and
    the portal's CSRF secret (``web_accounts.csrf_secret``: derived from ``codes.key``, so
    every process over these keys accepts the others' forms)."""

    service: OnboardingService
    webhook: WebhookKyc | None
    operators: Collection[str]
    outbox: SqlOutbox
    sender: MailSender
    signed_writes: RateLimiter
    csrf_secret: bytes = field(repr=False)

    def deliver_mail(self) -> DeliveryReport:
        """Send the code e-mails that are due (one run of the delivery loop)."""
        return deliver_due(self.service.outbox, self.sender, self.service.clock.now())


@dataclass(slots=True)
class Container:
    settings: Settings
    keys: KeyRing
    store: EventStore
    log: LogService
    liabilities: LiabilitiesService
    onboarding: OnboardingWiring | None = None
    _stop_mail: threading.Event = field(default_factory=threading.Event, repr=False)
    _withdrawals: WithdrawalService | None = field(default=None, repr=False)

    @property
    def clock(self) -> Clock:
        """The one clock every service of this container reads."""
        return self.log.clock

    def withdrawals(self) -> WithdrawalService:
        """The withdrawal service over this container's log, vault and clock, with the rails
        the settings name (``build_withdrawals``), built on first use. ``BootstrapError``
        without a SQL store or vault; ``SettingsError`` if the allow-list cannot be read; a
        malformed debtor IBAN or BIC raises ``ValueError`` (from the SEPA rail)."""
        if self._withdrawals is None:
            self._withdrawals = build_withdrawals(
                self,
                sepa_debtor=sepa_debtor(self.settings),
                usdc_allow_list=self.settings.usdc_addresses(),
            )
        return self._withdrawals

    def notes(self) -> NotesService:
        """The notes service (series, conversions, pass-through) over this container's log."""
        return NotesService(self.log)

    def market_desk(self) -> MarketDesk:
        """The operator's market desk over a market service following this container's log."""
        return MarketDesk(MarketService(self.log))

    def close(self) -> None:
        self._stop_mail.set()
        self.log.stop()
        self.store.close()

    def start_mail_delivery(self) -> threading.Thread | None:
        """Run the mail delivery loop in a daemon thread until ``close`` (``reclaim serve``)."""
        wiring = self.onboarding
        if wiring is None:
            return None

        def loop() -> None:
            while not self._stop_mail.wait(limits.mail_delivery_interval_seconds):
                wiring.deliver_mail()

        thread = threading.Thread(target=loop, name="mail-delivery", daemon=True)
        thread.start()
        return thread


def build(
    settings: Settings, *, store: EventStore | None = None, clock: Clock | None = None
) -> Container:
    """Open the store and key ring, replay the log, and write its genesis if it has none."""
    tune_garbage_collector()
    with _key_files():
        keys = load_keyring(settings.keys_dir)
        secret = load_liabilities_secret(settings.keys_dir)
    if store is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = open_store(settings.database_url)
    clock = clock or SystemClock()
    log = LogService(store, keys, clock, ProcessSigner(keys.for_actor))
    ensure_genesis(log, keys, settings.origin)
    gc.freeze()  # the replayed state is long-lived: keep it out of every later collection
    liabilities = LiabilitiesService(log, store, secret, keys.log_signer, clock=clock)
    onboarding = None
    if isinstance(store, SqlEventStore) and (settings.keys_dir / VAULT_KEY_FILE).exists():
        with _key_files():
            onboarding = build_onboarding(settings, store, log, keys, clock)
    return Container(settings, keys, store, log, liabilities, onboarding)


@contextmanager
def _key_files() -> Iterator[None]:
    """A key file that cannot be used, as a ``BootstrapError`` (the same message)."""
    try:
        yield
    except KeyFileError as exc:
        raise BootstrapError(str(exc)) from exc


def init_keys(settings: Settings) -> dict[str, str]:
    """Create the operator's key files in the settings' key directory (never overwriting);
    returns the verifier keys by file stem. ``BootstrapError`` if there are keys already."""
    with _key_files():
        return init_key_files(settings.keys_dir, settings.origin)


def holding_entity_key(settings: Settings, name: str) -> str:
    """The verifier key of holding entity ``name``: of ``<keys dir>/<name>.key``, created (mode
    0600) on first use. The holding entity signs nothing itself (the admin records its
    assignments, the treasury its pass-throughs); the key makes it an actor of the log."""
    path = settings.keys_dir / f"{name}.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(SignerKey.generate(name).to_private_text() + "\n")
    return SignerKey.parse(path.read_text()).verifier.to_text()


def open_log_source(location: str) -> LogSource:
    """The public log at ``location`` for the verifier: an exported directory or a server URL."""
    return open_source(location)


def open_checkpoints(location: str) -> CheckpointSource:
    """The published checkpoints at ``location``: a note file, an exported log or a server."""
    return open_published_checkpoints(location)


def sepa_debtor(settings: Settings) -> SepaDebtor | None:
    """The SEPA debtor account of the settings, when its IBAN is set (``reclaim serve``'s
    defaults for a missing holder or BIC; ``withdrawals export-sepa`` asks for all three)."""
    if not settings.sepa_debtor_iban:
        return None
    return SepaDebtor(
        settings.sepa_debtor_name or "reclaim operator",
        settings.sepa_debtor_iban,
        settings.sepa_debtor_bic or "",
    )


def build_onboarding(
    settings: Settings,
    store: SqlEventStore,
    log: LogService,
    keys: KeyRing,
    clock: Clock,
    *,
    passwords: PasswordHasher | None = None,
    sender: MailSender | None = None,
) -> OnboardingWiring:
    """The onboarding service over the store's database and the operator's PII keys."""
    pii = load_pii_keys(settings.keys_dir)
    engine = store.engine
    vault = SqlVault(engine, FileKeyWrapper.from_keks(pii.vault))
    outbox = SqlOutbox(engine, vault)
    webhook_secret = load_kyc_webhook_secret(settings.keys_dir)
    webhook = None if webhook_secret is None else WebhookKyc(webhook_secret)
    providers: dict[str, KycProvider] = {"manual": ManualReviewQueue()}
    rate_limiter = SqlRateLimiter(engine, pii.codes_secret)
    if webhook is not None:
        providers[webhook.name] = webhook
    hosted = hosted_kyc(settings, webhook)
    if hosted is not None:
        providers[hosted.name] = hosted
    service = OnboardingService(
        log=log,
        vault=vault,
        identity=FoldedCommitments(Commitments(pii.commitment_secret)),
        codes=SqlCodeStore(engine, pii.codes_secret),
        rate_limiter=rate_limiter,
        outbox=outbox,
        passwords=passwords or Argon2PasswordHasher(),
        clock=clock,
        rules=OnboardingRules(
            CODE_SENDS_PER_ADDRESS_KEY,
            CODE_SENDS_PER_CLIENT,
            CODE_CHECKS_PER_CLIENT,
            CODE_GUESSES_PER_ADDRESS,
        ),
        providers=providers,
        webhooks=SqlKycWebhookLog(engine),
        challenges=SqlChallenges(engine, pii.codes_secret),
        hosted=hosted,
    )
    if sender is None:
        sender = SmtpMailSender(
            settings.smtp_host, settings.smtp_port, settings.mail_sender, settings.smtp_starttls
        )
    operators = [n for n, role in OPERATOR_ACTORS.items() if role in ("kyc_officer", "admin")]
    return OnboardingWiring(service, webhook, operators, outbox, sender, rate_limiter,
                            csrf_secret(pii.codes_secret))  # fmt: skip


def hosted_kyc(settings: Settings, webhook: WebhookKyc | None) -> HostedKyc | None:
    """The hosted provider's session API the settings name (``None``: not offered); its
    decisions come back through ``webhook``, so without the webhook secret it is an error."""
    hosted = settings.kyc_hosted
    if hosted is None:
        return None
    if webhook is None:
        raise BootstrapError(
            "RECLAIM_KYC_HOSTED_URL is set but the keys have no kyc-webhook.secret to check "
            "the provider's decisions with"
        )
    return HostedSessionApi(hosted.api_url, hosted.api_key, hosted.api_secret,
                            display_name=hosted.display_name, flow_origin=hosted.flow_origin,
                            name=webhook.name)  # fmt: skip


#: Where exported withdrawal batches are recorded, under the data directory.
WITHDRAWAL_BATCH_BOOK = "withdrawal-batches.json"


def build_withdrawals(
    container: Container,
    *,
    sepa_debtor: SepaDebtor | None = None,
    usdc_allow_list: Sequence[str] = (),
) -> WithdrawalService:
    """The withdrawal service over the container's log and PII vault, with the SEPA rail (its
    debtor account, needed to export pain.001 files), the HK wire rail and the USDC rail (its
    allow-list of EIP-55 addresses). Raises ``BootstrapError`` without a SQL store or vault.
    Destination codes and their e-mails use the onboarding tables (``SqlCodeStore`` under
    ``codes.key``, ``SqlOutbox``); the cooling-off is the setting's (issue 9, finding 7)."""
    vault, commitments = open_claims_vault(container)
    rails = rails_by_name([SepaRail(sepa_debtor), HkWireRail(None), UsdcRail(usdc_allow_list)])
    store = container.store
    assert isinstance(store, SqlEventStore), "open_claims_vault refuses other stores"
    engine = store.engine
    with _key_files():
        codes_secret = load_pii_keys(container.settings.keys_dir).codes_secret
    return WithdrawalService(
        container.log,
        vault,
        VaultBeneficiaryCommitments(commitments),
        rails,
        JsonBatchBook(container.settings.data_dir / WITHDRAWAL_BATCH_BOOK),
        container.clock,
        codes=SqlCodeStore(engine, codes_secret),
        outbox=SqlOutbox(engine, vault),
        cooling_off_seconds=container.settings.destination_cooling_off_seconds,
    )


def open_claims_vault(container: Container) -> tuple[SqlVault, Commitments]:
    """The PII vault and commitments the register import writes with: the vault lives in the
    store's database, under the operator's ``vault.key``; commitments use ``commitment.key``
    (the same secret sign-up uses, so a creditor's e-mail meets its claim)."""
    store = container.store
    if not isinstance(store, SqlEventStore):
        raise BootstrapError("the register import needs a SQL store (the vault lives in it)")
    if not (container.settings.keys_dir / VAULT_KEY_FILE).exists():
        raise BootstrapError(f"no {VAULT_KEY_FILE} in {container.settings.keys_dir}")
    with _key_files():
        pii = load_pii_keys(container.settings.keys_dir)
    vault = SqlVault(store.engine, FileKeyWrapper.from_keks(pii.vault))
    return vault, Commitments(pii.commitment_secret)


#: Objects allocated before a young collection runs. The writer allocates a few dozen objects
#: per event and frees them at once (no cycles), while the state it keeps is large: with the
#: default (700) the collector walked the whole state ~8 times per 60,000 transfers, a fifth of
#: the writer's time. Cycles still get collected, just less often.
GC_YOUNG_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Process-wide: fewer, cheaper collections for a service that keeps a large state."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def ensure_genesis(log: LogService, keys: KeyRing, origin: str) -> None:
    """On an empty log: the genesis event, then the operator actors. Otherwise check the origin."""
    if log.size:
        if log.state.origin != origin:
            raise BootstrapError(f"the log's origin is {log.state.origin!r}, not {origin!r}")
        if log.state.log_key != keys.log_signer.verifier.to_text():
            raise BootstrapError("the log key file does not match the log's genesis")
        return
    if keys.log_signer.name != origin:
        raise BootstrapError(f"the log key is named {keys.log_signer.name!r}, not {origin!r}")
    admin = keys.for_actor("admin")
    commands: list[tuple[Command, str]] = [
        (
            Genesis(origin, "admin", admin.verifier.to_text(), keys.log_signer.verifier.to_text()),
            "admin",
        )
    ]
    for name, role in OPERATOR_ACTORS.items():
        if name != "admin":
            commands.append(
                (RegisterActor(name, role, keys.for_actor(name).verifier.to_text()), "admin")
            )
    for outcome in log.submit_many(commands):
        if isinstance(outcome, Rejection):
            raise BootstrapError(f"genesis refused: {outcome}")
    log.publish_checkpoint()
