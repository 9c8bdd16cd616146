"""Event payloads of the ledger, and their strict readers.

Payloads hold only canonical JSON values; integers are written as decimal text (``"100"``),
which is also what ``reclaim.log.canonical.decode`` gives back, so
``decode(encode(payload)) == payload``. The readers accept a Python ``int`` too (a payload built
in-process) but never a ``bool``, a float, or text that is not the canonical form of an integer.

Shapes (version 1):

``ledger.accounts_opened``  ``{"accounts": [ACCOUNT, ...]}``
    ACCOUNT = ``{"id", "owner", "asset", "purpose", "flags": [sorted names]}``
``ledger.transfers_created``  ``{"atomic": bool, "transfers": [TRANSFER, ...]}``
    TRANSFER = ``{"id", "kind", "debit_account_id", "credit_account_id", "asset",
    "amount_minor", "code", "refs": {kind: id}, "pending_id", "timeout_seconds", "expires_at"}``
    with post/void transfers' accounts, asset and (void) amount filled in from the pending one.
``ledger.pending_expired``  ``{"transfers": [id, ...]}``
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from reclaim.core.ledger.model import Account, Transfer, transfer_terms
from reclaim.core.payload_fields import PayloadError as PayloadError
from reclaim.core.payload_fields import integer as _int
from reclaim.core.payload_fields import record as _record
from reclaim.core.payload_fields import text as _text
from reclaim.core.types import JsonValue

ACCOUNTS_OPENED: Final = "ledger.accounts_opened"
TRANSFERS_CREATED: Final = "ledger.transfers_created"
PENDING_EXPIRED: Final = "ledger.pending_expired"
#: Ledger event types and the schema versions this code reads.
LEDGER_EVENT_TYPES: Final = {ACCOUNTS_OPENED: 1, TRANSFERS_CREATED: 1, PENDING_EXPIRED: 1}

_ACCOUNT_FIELDS: Final = frozenset({"id", "owner", "asset", "purpose", "flags"})
_TRANSFER_FIELDS: Final = frozenset(
    {
        "id",
        "kind",
        "debit_account_id",
        "credit_account_id",
        "asset",
        "amount_minor",
        "code",
        "refs",
        "pending_id",
        "timeout_seconds",
        "expires_at",
    }
)


# Writers ----------------------------------------------------------------------------------------


def account_payload(account: Account) -> dict[str, JsonValue]:
    return {
        "id": account.id,
        "owner": account.owner,
        "asset": account.asset,
        "purpose": account.purpose,
        "flags": list(sorted(account.flags)),
    }


def transfer_payload(transfer: Transfer, expires_at: str) -> dict[str, JsonValue]:
    return {"id": transfer.id, **transfer_terms(transfer), "expires_at": expires_at}


# Strict readers (the verifier's) ----------------------------------------------------------------


def account_from_payload(item: JsonValue) -> Account:
    """The account an ``accounts_opened`` item names (balances zero); ``PayloadError`` if none."""
    p = _record(item, _ACCOUNT_FIELDS)
    flags = p["flags"]
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise PayloadError("flags is not a list of text")
    names = [f for f in flags if isinstance(f, str)]
    if names != sorted(set(names)):
        raise PayloadError("flags are not sorted and unique")
    return Account(
        _text(p, "id"), _text(p, "asset"), _text(p, "owner"), _text(p, "purpose"),
        frozenset(names),
    )  # fmt: skip


def transfer_from_payload(item: JsonValue) -> tuple[Transfer, str]:
    """The transfer and ``expires_at`` a ``transfers_created`` item names."""
    p = _record(item, _TRANSFER_FIELDS)
    refs = p["refs"]
    if not isinstance(refs, dict) or not all(isinstance(v, str) for v in refs.values()):
        raise PayloadError("refs is not an object of text")
    if list(refs) != sorted(refs):
        raise PayloadError("refs keys are not sorted")
    transfer = Transfer(
        id=_text(p, "id"),
        debit_account_id=_text(p, "debit_account_id"),
        credit_account_id=_text(p, "credit_account_id"),
        asset=_text(p, "asset"),
        amount_minor=_int(p, "amount_minor"),
        code=_text(p, "code"),
        refs={k: v for k, v in refs.items() if isinstance(v, str)},
        kind=_text(p, "kind"),
        pending_id=_text(p, "pending_id"),
        timeout_seconds=_int(p, "timeout_seconds"),
    )
    return transfer, _text(p, "expires_at")


def items_of(payload: Mapping[str, JsonValue], name: str, extra: frozenset[str]) -> list[JsonValue]:
    """The list ``payload[name]``, checking the payload has exactly ``{name} | extra``."""
    if set(payload) != {name} | extra:
        raise PayloadError(f"fields {sorted(payload)} != {sorted({name} | extra)}")
    items = payload[name]
    if not isinstance(items, list) or not items:
        raise PayloadError(f"{name} is not a non-empty list")
    return items
