"""Ports of the withdrawal service: payout rails, beneficiary commitments, the batch book.

Error tree (httpx style; what the adapters raise or return):

    refusals, returned as values
    └── BeneficiaryProblem(code, detail)   the destination a creditor gave is not acceptable to
                                          the rail: ``iban_invalid``, ``bic_invalid``,
                                          ``not_in_sepa_zone``, ``account_invalid``,
                                          ``address_invalid``, ``address_not_checksummed``,
                                          ``address_not_allowed``, ``beneficiary_field_missing``,
                                          ``beneficiary_field_unknown``
    operating errors, raised
    └── RailError                          a rail adapter failed
        └── RailFileError                 the batch file could not be built or does not
                                          validate against its schema (a bug or bad config)
    └── BatchBookError                     the record of exported withdrawals is unreadable

The in-memory ``MemoryBatchBook`` is the batch book's mock; each rail adapter is pure over its
configuration (no network: files go to the bank or the custody desk by the operator's channel).
"""

from __future__ import annotations

import enum
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar, Final, Protocol

from reclaim.core.kinds import B, F, kind_table


class RailError(Exception):
    """A rail adapter failed (an operating error)."""


class RailFileError(RailError):
    """A batch file could not be built, or does not validate against its schema."""


class BatchBookError(Exception):
    """The record of exported withdrawals could not be read or written."""


class BeneficiaryCode(enum.Enum):
    """Why a rail refuses a destination a creditor gave."""

    beneficiary_field_unknown = 1
    beneficiary_field_missing = 2
    iban_invalid = 3
    not_in_sepa_zone = 4
    bic_invalid = 5
    account_invalid = 6
    address_invalid = 7
    address_not_checksummed = 8
    #: Not on the operator's allow-list of USDC addresses.
    address_not_allowed = 9


#: The kind of every rail refusal (``reclaim.core.kinds``).
BENEFICIARY_KINDS: Final = kind_table(
    (BeneficiaryCode,),
    {code: B for code in BeneficiaryCode if code is not BeneficiaryCode.address_not_allowed}
    | {BeneficiaryCode.address_not_allowed: F},
)


@dataclass(frozen=True, slots=True)
class BeneficiaryProblem:
    """Why a rail refuses a destination: a stable ``code`` and a sentence."""

    code: BeneficiaryCode
    detail: str


@dataclass(frozen=True, slots=True)
class Beneficiary:
    """A destination a rail accepted, normalised.

    ``fields``: what the rail needs to pay (``iban`` and ``bic``; ``account``, ``bic``;
    ``address``), in normal form (compact upper-case IBAN, EIP-55 checksummed address);
    ``canonical``: one text that identifies the destination, whose commitment enters the log;
    ``masked``: what a person may be shown (``FR76 **** 0189``).
    """

    rail: str
    fields: Mapping[str, str] = field(repr=False)
    canonical: str = field(repr=False)
    masked: str = ""


@dataclass(frozen=True, slots=True)
class PayoutInstruction:
    """One payment of a batch: the withdrawal id (the end-to-end reference), what to send, to
    whom (``beneficiary_name``: the creditor's KYC-verified name), and where."""

    withdrawal_id: str
    amount_minor: int
    asset: str
    beneficiary_name: str
    beneficiary: Mapping[str, str] = field(repr=False)


@dataclass(frozen=True, slots=True)
class RailFile:
    """A batch file for the rail: its name, media type, bytes, and what it pays in total."""

    filename: str
    media_type: str
    content: bytes = field(repr=False)
    count: int
    total_minor: int


@dataclass(frozen=True, slots=True)
class PayoutBatch:
    """What one batch file pays (the arguments of ``Rail.batch_file``), checked by it."""

    batch_id: str
    created_at: datetime
    execution_date: date
    instructions: Sequence[PayoutInstruction]


class Rail(ABC):
    """A payout rail: it checks destinations and writes batch files for its payments.

    An abstract base rather than a protocol, so that every rail runs the same checks:
    ``batch_file`` asserts 1 … ``payments_per_file_max`` instructions, each in the rail's
    ``asset`` (anything else is a bug), and hands them, as one ``PayoutBatch``, to the rail's
    ``write_file``.
    """

    #: The rail's name, as jurisdiction policy and the core know it (``sepa``...).
    name: ClassVar[str]
    asset: ClassVar[str]
    payments_per_file_max: ClassVar[int]

    @abstractmethod
    def check_beneficiary(self, fields: Mapping[str, str]) -> Beneficiary | BeneficiaryProblem:
        """The destination in normal form, or why the rail refuses it (a value, not raised)."""

    def batch_file(
        self,
        batch_id: str,
        created_at: datetime,
        execution_date: date,
        instructions: Sequence[PayoutInstruction],
    ) -> RailFile:
        """One file paying every instruction; ``RailFileError`` if it cannot be built."""
        bound = self.payments_per_file_max
        assert 0 < len(instructions) <= bound, f"a batch pays 1 … {bound:,}"
        for ins in instructions:
            assert ins.asset == self.asset, f"{ins.withdrawal_id}: {ins.asset} on {self.name}"
        return self.write_file(PayoutBatch(batch_id, created_at, execution_date, instructions))

    @abstractmethod
    def write_file(self, batch: PayoutBatch) -> RailFile:
        """The file paying ``batch``; ``RailFileError`` if it cannot be built."""


class BeneficiaryCommitments(Protocol):
    """The commitment (HMAC, 64 hex) of a rail's destination: the only form in the log."""

    def beneficiary(self, rail: str, canonical: str) -> str: ...


class BatchBook(Protocol):
    """Which withdrawal went out in which batch file, so none is paid twice.

    Contract: ``record`` adds every id with its batch and refuses (``BatchBookError``) an id
    already recorded; ``batch_of`` answers ``None`` for an id never exported.
    """

    def batch_of(self, withdrawal_id: str) -> str | None: ...

    def record(self, batch_id: str, withdrawal_ids: Iterable[str], now: datetime) -> None: ...


@dataclass(slots=True)
class MemoryBatchBook:
    """The batch book in memory (tests, and the demo)."""

    batches: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def batch_of(self, withdrawal_id: str) -> str | None:
        return self.batches.get(withdrawal_id)

    def record(self, batch_id: str, withdrawal_ids: Iterable[str], now: datetime) -> None:
        ids = list(withdrawal_ids)
        with self._lock:
            again = [i for i in ids if i in self.batches]
            if again:
                raise BatchBookError(f"exported already: {again[:5]}")
            for ident in ids:
                self.batches[ident] = batch_id


def rails_by_name(rails: Iterable[Rail]) -> Mapping[str, Rail]:
    """The rails keyed by name; two rails of one name are a configuration bug."""
    found: dict[str, Rail] = {}
    for rail in rails:
        assert rail.name not in found, f"two rails named {rail.name!r}"
        found[rail.name] = rail
    return found
