"""Signed API requests, Backpack Exchange's ED25519 scheme: the client's and the server's half.

Backpack (https://docs.backpack.exchange, "Signing requests"): a request carries four headers,

- ``X-API-Key``: the base64 of the client's 32-byte Ed25519 public (verifying) key;
- ``X-Timestamp``: Unix time in milliseconds when the request was sent;
- ``X-Window``: milliseconds the request stays valid, default 5000, at most 60000;
- ``X-Signature``: the base64 of the Ed25519 signature of the *signing string*

    ``instruction=<name>&<k1>=<v1>&...&<kn>=<vn>&timestamp=<ts>&window=<w>``

with the request's parameters ordered alphabetically by key; the default window is written
even when the header is absent. ``instruction`` names the operation (``balanceQuery``,
``orderExecute``...; reclaim adds its own, e.g. ``ledgerAccountQuery``). A request without
parameters signs ``instruction=balanceQuery&timestamp=1614550000000&window=5000``.

Parameters are text as sent: booleans ``true`` / ``false``, integers in decimal. reclaim signs
a route's path parameters as well as its query (so a signature names the resource it was made
for); see ``reclaim.entrypoints.api.auth``.

**Encoding** (issue 9, finding 7). Backpack writes keys and values raw, so its string is not
injective: one value ``a=1&b=2`` and two values ``a=1``, ``b=2`` sign the same bytes, and a
signature made for one request verifies for another. For Backpack's own instructions
(``BACKPACK_INSTRUCTIONS``: those its documentation names, which reclaim serves with Backpack's
meaning, e.g. ``withdraw``, ``balanceQuery``) the string stays exactly Backpack's, so Backpack's
clients keep working. For reclaim's own instructions (every other name: ``payoutElect``,
``kycDecide``, ``ledgerHistoryQuery``...) each key and value is percent-encoded as UTF-8,
leaving only RFC 3986's unreserved characters (``A-Z a-z 0-9 - . _ ~``) as they are — ccxt's
rendering. Then no key or value holds ``&`` or ``=``; the instruction is alphanumeric, the last
two fields are always ``timestamp`` and ``window``, and keys are sorted and unique, so the string
can be read back into exactly one request: it is injective. For plain values (letters, digits,
``.``, ``_``, ``-``) both renderings are the same bytes.

Pure: no clock, no I/O. Clients and tests build headers with ``sign_request``; the server
rebuilds the signing string with ``signing_string`` and checks it with ``verify_signature``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Final
from urllib.parse import quote

from reclaim.core import limits
from reclaim.log.keys import SignerKey, VerifierKey

API_KEY_HEADER: Final = "X-API-Key"
SIGNATURE_HEADER: Final = "X-Signature"
TIMESTAMP_HEADER: Final = "X-Timestamp"
WINDOW_HEADER: Final = "X-Window"

Param = str | int | bool


def param_text(value: Param) -> str:
    """A parameter as it is signed: ``true``/``false``, decimal integers, text as is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: Backpack's instructions (its documentation's "Instruction:" lines, ``/work/shared/api``
#: BACKPACK.md section 1.5): signed with Backpack's raw rendering. Every other instruction is
#: reclaim's own and signed percent-encoded (module doc).
BACKPACK_INSTRUCTIONS: Final = frozenset({
    "accountQuery", "accountUpdate", "balanceQuery", "borrowHistoryQueryAll",
    "borrowLendExecute", "borrowLendPositionQuery", "borrowPositionHistoryQueryAll",
    "collateralQuery", "convertDust", "depositAddressQuery", "depositQueryAll",
    "dustHistoryQueryAll", "fillHistoryQueryAll", "fundingHistoryQueryAll",
    "interestHistoryQueryAll", "maxBorrowQuantity", "maxOrderQuantity", "maxWithdrawalQuantity",
    "orderCancel", "orderCancelAll", "orderExecute", "orderHistoryQueryAll", "orderQuery",
    "orderQueryAll", "positionHistoryQueryAll", "positionQuery", "quoteAccept", "quoteSubmit",
    "rfqCancel", "rfqRefresh", "rfqSubmit", "settlementHistoryQueryAll", "strategyCancel",
    "strategyCancelAll", "strategyCreate", "strategyHistoryQueryAll", "strategyQuery",
    "strategyQueryAll", "subscribe", "withdraw", "withdrawalQueryAll",
})  # fmt: skip


def signing_string(
    instruction: str, params: Mapping[str, Param], timestamp_ms: int, window_ms: int
) -> bytes:
    """The bytes an ``X-Signature`` signs (UTF-8): Backpack's raw string for its instructions,
    keys and values percent-encoded for reclaim's own (module doc: injective)."""
    if instruction in BACKPACK_INSTRUCTIONS:
        pairs = [f"{key}={param_text(params[key])}" for key in sorted(params)]
    else:  # stops one signed value from being read as several parameters (finding 7)
        pairs = [f"{_encoded(key)}={_encoded(param_text(params[key]))}" for key in sorted(params)]
    parts = [f"instruction={instruction}", *pairs]
    parts += [f"timestamp={timestamp_ms}", f"window={window_ms}"]
    # A lone surrogate (a JSON body may escape one) is not UTF-8: surrogatepass, not a 500.
    return "&".join(parts).encode("utf-8", "surrogatepass")


def _encoded(text: str) -> str:
    """``text`` as UTF-8, percent-encoded but for RFC 3986's unreserved characters (a lone
    surrogate is encoded as ``surrogatepass`` does rather than raise: still injective)."""
    return quote(text, safe="", encoding="utf-8", errors="surrogatepass")


def sign_request(
    signer_key: SignerKey,
    instruction: str,
    params: Mapping[str, Param],
    timestamp_ms: int,
    window_ms: int = limits.request_window_default_ms,
) -> dict[str, str]:
    """The four headers of a request signed with ``signer_key``."""
    message = signing_string(instruction, params, timestamp_ms, window_ms)
    return {
        API_KEY_HEADER: base64.b64encode(signer_key.verifier.public_key).decode(),
        SIGNATURE_HEADER: base64.b64encode(signer_key.sign(message)).decode(),
        TIMESTAMP_HEADER: str(timestamp_ms),
        WINDOW_HEADER: str(window_ms),
    }


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature of ``message``."""
    try:
        key = VerifierKey.from_public_bytes("api", public_key)
    except ValueError:  # KeyFormatError, or bytes that are no Ed25519 point
        return False
    return len(signature) == 64 and key.verify(signature, message)
