"""Settings: validated once, from the environment and the command line, then passed down.

| variable              | meaning                                   | default                      |
| --------------------- | ----------------------------------------- | ---------------------------- |
| RECLAIM_DATA_DIR      | where the SQLite database and keys live   | ``./.reclaim``               |
| RECLAIM_DATABASE_URL  | SQLAlchemy URL (sqlite or postgresql)     | SQLite file in the data dir  |
| RECLAIM_KEYS_DIR      | the operator's key files                  | ``<data dir>/keys``          |
| RECLAIM_ORIGIN        | the log's origin line (checkpoints)       | ``reclaim.local/log``        |
| RECLAIM_SMTP_HOST     | the mail server code e-mails go through   | ``127.0.0.1``                |
| RECLAIM_SMTP_PORT     | its port                                  | ``25``                       |
| RECLAIM_SMTP_STARTTLS | ``1`` to upgrade the session with STARTTLS | ``0``                       |
| RECLAIM_MAIL_SENDER   | the ``From`` of code e-mails              | ``reclaim <no-reply@...>``   |
| RECLAIM_TRUSTED_PROXIES | reverse proxies: IPs, CIDRs (comma-separated) | none                   |
| RECLAIM_DESTINATION_COOLING_OFF_SECONDS | a new destination's wait (below) | ``86400`` |
| RECLAIM_SEPA_DEBTOR_NAME | the SEPA paying account's holder (below) | none |
| RECLAIM_SEPA_DEBTOR_IBAN | its IBAN                                  | none |
| RECLAIM_SEPA_DEBTOR_BIC  | its bank's BIC                            | none |
| RECLAIM_USDC_ALLOW_LIST  | a file of EIP-55 addresses USDC may go to | none |
| RECLAIM_KYC_HOSTED_URL   | the hosted KYC provider's API (below)     | none: not offered |
| RECLAIM_KYC_HOSTED_NAME  | its name as creditors read it             | the URL's host |
| RECLAIM_KYC_HOSTED_FLOW_ORIGIN | the origin of its verification pages | the API's origin |
| RECLAIM_KYC_HOSTED_API_KEY | reclaim's API key id at the provider    | none |
| RECLAIM_KYC_HOSTED_API_SECRET_FILE | a file holding the API secret   | none |
| RECLAIM_KYC_HOSTED_API_SECRET | the API secret itself (if no file)   | none |

``RECLAIM_TRUSTED_PROXIES`` (issue 9, finding 5): the client address that rate limits count by is
the TCP peer's, unless the peer is one of these reverse proxies; with none (the default) no
proxy header is ever read, so no client can choose its own address.

``RECLAIM_DESTINATION_COOLING_OFF_SECONDS`` (issue 9, finding 7): how long a new withdrawal
destination, once its owner's mailbox confirmed it, waits before money may go to it (0 … 30
days; default a day). Each confirmation records the figure in the log, so a change applies to
later confirmations only.

The withdrawal rails' settings (read here only; ``bootstrap`` builds the rails from them):
the SEPA debtor account is the operator's account that pain.001 batch files pay from
(``reclaim withdrawals export-sepa`` needs all three; ``reclaim serve`` builds the SEPA rail
with it when the IBAN is set); the USDC allow-list is a file of EIP-55 addresses, one a line,
that USDC withdrawals may go to (none without it). The commands' ``--debtor-*`` and
``--allow-list`` options override them.

The hosted KYC provider (``HostedKycSettings``; ``adapters.kyc.HostedSessionApi`` speaks to it):
without ``RECLAIM_KYC_HOSTED_URL`` the portal offers the manual queue only. With it, the API key
id and the secret are required (the secret from the file, else from the variable; at least 16
bytes; never in ``repr``, so never in a log line), and the URL and the flow origin are
``https``, or ``http`` on a loopback address (a test provider). Its webhooks are checked with
``<keys dir>/kyc-webhook.secret`` as before; ``bootstrap`` offers the hosted option only when
that file exists too.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from reclaim.core.limits import destination_cooling_off_max_seconds
from reclaim.core.withdrawals.model import destination_cooling_off_default_seconds

DEFAULT_ORIGIN = "reclaim.local/log"


class SettingsError(ValueError):
    """A setting that cannot be used."""


#: The shortest API secret of a hosted KYC provider that is taken (128 bits).
KYC_API_SECRET_MIN_BYTES = 16
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class HostedKycSettings:
    """The hosted KYC provider's session API: where it is, what creditors call it, the origin of
    its verification pages, and reclaim's credentials there (the secret never shown)."""

    api_url: str
    display_name: str
    flow_origin: str
    api_key: str
    api_secret: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    keys_dir: Path
    origin: str
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    mail_sender: str = "reclaim <no-reply@reclaim.local>"
    #: Reverse proxies whose forwarding headers are believed (IPs or CIDR networks); none.
    trusted_proxies: tuple[str, ...] = ()
    #: The cooling-off of a newly confirmed withdrawal destination (issue 9, finding 7).
    destination_cooling_off_seconds: int = destination_cooling_off_default_seconds
    #: The SEPA debtor account pain.001 files pay from: holder, IBAN, BIC (checked by the rail).
    sepa_debtor_name: str | None = None
    sepa_debtor_iban: str | None = None
    sepa_debtor_bic: str | None = None
    #: A file of the EIP-55 addresses USDC withdrawals may go to, one a line.
    usdc_allow_list: Path | None = None
    #: The hosted KYC provider's session API (none: the hosted option is not offered).
    kyc_hosted: HostedKycSettings | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(str(overrides.get("data_dir") or env.get("RECLAIM_DATA_DIR", ".reclaim")))
        url = str(
            overrides.get("database_url")
            or env.get("RECLAIM_DATABASE_URL")
            or f"sqlite:///{(data_dir / 'reclaim.db').resolve()}"
        )
        keys_dir = Path(
            str(overrides.get("keys_dir") or env.get("RECLAIM_KEYS_DIR") or data_dir / "keys")
        )
        origin = str(overrides.get("origin") or env.get("RECLAIM_ORIGIN", DEFAULT_ORIGIN))
        port_text = str(overrides.get("smtp_port") or env.get("RECLAIM_SMTP_PORT", "25"))
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SettingsError(f"SMTP port {port_text!r} is not a port number")
        return cls(
            data_dir, url, keys_dir, origin,
            smtp_host=str(overrides.get("smtp_host") or env.get("RECLAIM_SMTP_HOST", "127.0.0.1")),
            smtp_port=int(port_text),
            smtp_starttls=env.get("RECLAIM_SMTP_STARTTLS", "0") == "1",
            mail_sender=str(
                overrides.get("mail_sender")
                or env.get("RECLAIM_MAIL_SENDER", "reclaim <no-reply@reclaim.local>")
            ),
            trusted_proxies=_proxies(
                str(overrides.get("trusted_proxies") or env.get("RECLAIM_TRUSTED_PROXIES", ""))
            ),
            destination_cooling_off_seconds=_cooling_off(
                str(overrides.get("destination_cooling_off_seconds")
                    or env.get("RECLAIM_DESTINATION_COOLING_OFF_SECONDS", ""))
            ),
            sepa_debtor_name=_optional(overrides, "sepa_debtor_name", env,
                                       "RECLAIM_SEPA_DEBTOR_NAME"),
            sepa_debtor_iban=_optional(overrides, "sepa_debtor_iban", env,
                                       "RECLAIM_SEPA_DEBTOR_IBAN"),
            sepa_debtor_bic=_optional(overrides, "sepa_debtor_bic", env,
                                      "RECLAIM_SEPA_DEBTOR_BIC"),
            usdc_allow_list=_path(
                _optional(overrides, "usdc_allow_list", env, "RECLAIM_USDC_ALLOW_LIST")
            ),
            kyc_hosted=_hosted_kyc(env),
        ).validated()  # fmt: skip

    def validated(self) -> Settings:
        if not self.database_url.startswith(("sqlite:///", "postgresql")):
            raise SettingsError(f"database URL {self.database_url!r}: sqlite or postgresql only")
        if not self.origin or any(ch.isspace() or ch == "+" for ch in self.origin):
            raise SettingsError(f"origin {self.origin!r} must have no white space or '+'")
        return self

    def usdc_addresses(self) -> list[str]:
        """The addresses of the USDC allow-list file, one a line (none without a file); the
        rail checks each. ``SettingsError`` if the file cannot be read."""
        if self.usdc_allow_list is None:
            return []
        try:
            return self.usdc_allow_list.read_text().split()
        except OSError as exc:
            raise SettingsError(
                f"USDC allow-list {str(self.usdc_allow_list)!r}: {exc.strerror or exc}"
            ) from exc

    def with_data_dir(self, data_dir: Path) -> Settings:
        return replace(
            self,
            data_dir=data_dir,
            database_url=f"sqlite:///{(data_dir / 'reclaim.db').resolve()}",
            keys_dir=data_dir / "keys",
        )


def _optional(
    overrides: Mapping[str, object], name: str, env: Mapping[str, str], variable: str
) -> str | None:
    """The option ``name`` if given, else the variable if set and not empty, else ``None``."""
    value = overrides.get(name)
    if value is not None and str(value):
        return str(value)
    return env.get(variable) or None


def _hosted_kyc(env: Mapping[str, str]) -> HostedKycSettings | None:
    """The ``RECLAIM_KYC_HOSTED_*`` variables (the module doc); ``None`` without the URL."""
    url = env.get("RECLAIM_KYC_HOSTED_URL", "").strip().rstrip("/")
    if not url:
        return None
    api_origin = _web_origin(url, "RECLAIM_KYC_HOSTED_URL")
    flow_text = env.get("RECLAIM_KYC_HOSTED_FLOW_ORIGIN", "").strip()
    flow_origin = _web_origin(flow_text, "RECLAIM_KYC_HOSTED_FLOW_ORIGIN") if flow_text else ""
    api_key = env.get("RECLAIM_KYC_HOSTED_API_KEY", "").strip()
    if not api_key or not api_key.isascii() or not api_key.isprintable() or " " in api_key:
        raise SettingsError("RECLAIM_KYC_HOSTED_API_KEY: the provider's API key id is needed")
    secret = _kyc_api_secret(env)
    name = " ".join(env.get("RECLAIM_KYC_HOSTED_NAME", "").split())
    host = urlsplit(url).hostname or api_origin
    return HostedKycSettings(url, name or host, flow_origin or api_origin, api_key, secret)


def _kyc_api_secret(env: Mapping[str, str]) -> bytes:
    """The API secret: the file's bytes (trailing white space dropped), else the variable's."""
    path = env.get("RECLAIM_KYC_HOSTED_API_SECRET_FILE", "").strip()
    if path:
        try:
            secret = Path(path).read_bytes().strip()
        except OSError as exc:
            raise SettingsError(
                f"RECLAIM_KYC_HOSTED_API_SECRET_FILE {path!r}: {exc.strerror or exc}"
            ) from exc
    else:
        secret = env.get("RECLAIM_KYC_HOSTED_API_SECRET", "").strip().encode()
    if len(secret) < KYC_API_SECRET_MIN_BYTES:
        raise SettingsError(
            f"the hosted KYC provider's API secret (RECLAIM_KYC_HOSTED_API_SECRET_FILE or "
            f"RECLAIM_KYC_HOSTED_API_SECRET) has at least {KYC_API_SECRET_MIN_BYTES} bytes"
        )
    return secret


def _web_origin(url: str, variable: str) -> str:
    """The origin (``scheme://host[:port]``) of ``url``: ``https``, or ``http`` on loopback
    (a test provider); anything else would send creditors' data in clear text."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise SettingsError(f"{variable} {url!r} is not a URL") from None
    host = parts.hostname or ""
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK_HOSTS)
    if not host or not secure or parts.username or parts.password:
        raise SettingsError(f"{variable} {url!r}: an https URL (http only on loopback)")
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}" + ("" if port is None else f":{port}")


def _path(text: str | None) -> Path | None:
    return None if text is None else Path(text)


def _cooling_off(text: str) -> int:
    """``RECLAIM_DESTINATION_COOLING_OFF_SECONDS``: whole seconds, 0 … 30 days (the core's
    bound); the default when empty."""
    if not text.strip():
        return destination_cooling_off_default_seconds
    if not text.strip().isascii() or not text.strip().isdigit():
        raise SettingsError(f"destination cooling-off {text!r} is not whole seconds")
    seconds = int(text.strip())
    if seconds > destination_cooling_off_max_seconds:
        raise SettingsError(
            f"destination cooling-off {seconds} s is over "
            f"{destination_cooling_off_max_seconds} s (30 days)"
        )
    return seconds


def _proxies(text: str) -> tuple[str, ...]:
    """The trusted proxies of ``RECLAIM_TRUSTED_PROXIES``: each an IP address or a network."""
    out = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise SettingsError(
                f"trusted proxy {item!r} is not an IP address or network (e.g. 10.0.0.0/8)"
            ) from None
        out.append(str(network))
    return tuple(out)
