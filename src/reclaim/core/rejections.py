"""Rejections: the core's refusals, returned as values, never raised.

Codes are ordered by precedence, as in TigerBeetle's ``CreateTransferStatus``: when a command is
wrong in several ways, the validation ladder returns the first code in this order. Each code reads
as a sentence about the command. Adding a code appends it to its group; codes are never
renumbered, because they are published in API answers and in the verifier's reports.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from reclaim.core.kinds import B, C, F, Kind, kind_table


class Code(enum.Enum):
    """Why the core refused a command or an event, in precedence order."""

    # Who is asking.
    actor_unknown = 1
    actor_key_unknown = 2
    actor_key_revoked = 3
    actor_not_authorised = 4
    # The log itself.
    genesis_missing = 10
    genesis_repeated = 11
    #: The event type is no domain's (``reclaim.core.machine.EVENT_TYPES``).
    event_type_unknown = 12
    event_version_unknown = 13
    event_time_regressed = 14
    payload_malformed = 15
    # Actors and keys.
    actor_exists = 20
    actor_name_invalid = 21
    role_unknown = 22
    key_malformed = 23
    key_exists = 24
    key_last_cannot_be_revoked = 25
    #: The public key is registered to another actor (or is the log's key): one key, one actor.
    key_in_use = 26
    # Documents.
    document_exists = 30
    document_hash_malformed = 31
    # The ledger (the ledger's own ordered codes are in ``detail``; see ``reclaim.core.ledger``).
    ledger_refused = 40
    # Claims, KYC and linking (the claims core's ordered codes are in ``detail``).
    claims_refused = 50
    # Distributions, escrow, FX (the distribution core's ordered codes are in ``detail``).
    distribution_refused = 60
    # Withdrawals (the withdrawals core's ordered codes are in ``detail``).
    withdrawal_refused = 70
    # The note market (the market core's ordered codes are the ``reason``).
    market_refused = 80
    # Recovery notes: series, conversion, pass-through (the notes core's codes are the ``reason``).
    notes_refused = 90


#: The kind of every shell code (``reclaim.core.kinds``). The ``*_refused`` codes stand for a
#: sub-domain's refusal, whose own code (``Rejection.reason``) has its own kind.
KINDS: Final[Mapping[Code, Kind]] = kind_table(
    (Code,),
    {
        Code.actor_unknown: F,
        Code.actor_key_unknown: F,
        Code.actor_key_revoked: F,
        Code.actor_not_authorised: F,
        Code.genesis_missing: C,
        Code.genesis_repeated: C,
        Code.event_type_unknown: B,
        Code.event_version_unknown: B,
        Code.event_time_regressed: C,
        Code.payload_malformed: B,
        Code.actor_exists: C,
        Code.actor_name_invalid: B,
        Code.role_unknown: B,
        Code.key_malformed: B,
        Code.key_exists: C,
        Code.key_last_cannot_be_revoked: C,
        Code.key_in_use: C,
        Code.document_exists: C,
        Code.document_hash_malformed: B,
        Code.ledger_refused: C,
        Code.claims_refused: C,
        Code.distribution_refused: C,
        Code.withdrawal_refused: C,
        Code.market_refused: C,
        Code.notes_refused: C,
    },
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refusal: a code and a sentence a person can read.

    For a sub-domain's refusal (``ledger_refused``, ``claims_refused``, ...), ``reason`` is that
    sub-domain's own ordered code (an enum member, never text), ``position`` the item of a batch
    it concerns and ``reason_detail`` its own sentence; ``specific`` is the most specific code
    either way.
    """

    code: Code
    detail: str
    reason: enum.Enum | None = None
    position: int | None = None
    #: The sub-domain's own sentence (``detail`` is the whole text, its code first).
    reason_detail: str = ""

    @property
    def specific(self) -> enum.Enum:
        """The sub-domain's code if there is one, else the shell's."""
        return self.code if self.reason is None else self.reason

    def __str__(self) -> str:
        return f"{self.code.name}: {self.detail}"
