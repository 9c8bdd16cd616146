"""Distribution plans and rounds: the values the distribution core decides over.

A **plan** says, per claim class of an estate, the most a claim may ever receive (``cap_bps`` of
its admitted amount, optionally grown by post-petition interest at the estate's consensus rate),
which register statuses are paid, which are reserved (paid into escrow until resolved), and the
KYC deadlines. A **round** says, per class, how much is due cumulatively at its payment date:

| target    | cumulative entitlement of a claim (exact, before rounding)                       |
| --------- | -------------------------------------------------------------------------------- |
| ``percent`` | ``admitted × cumulative_bps / 10,000``, at most the cap                         |
| ``cap``     | the cap itself: ``admitted × cap_bps / 10,000 × interest factor(interest_to)``  |
| ``pool``    | the class's cumulative pool split pro rata by admitted amount, at most the cap  |

The interest factor is ``1`` for a class without interest; otherwise it runs from the estate's
petition date to ``interest_to`` (the round's payment date when empty — a plan that paid a class
in full once names that payment date in later rounds, so interest stops where it was paid). The
class's cumulative total is the floor of the sum of the exact entitlements (pools: the pool, at
most the floor of the summed caps); it is split over the class's claims by largest remainder
over the exact entitlements (Hamilton's method): each claim first gets the floor of its exact
entitlement, and the cents left over (the total minus the floors, fewer than the claims with a
fractional entitlement) go one each to the largest fractional parts, ties by claim id (byte
order). So the parts sum to the total to the cent and each is the floor or the ceiling of its
exact entitlement — within one cent of it, and never above the ceiling of its exact cap. (When the
exact entitlements sum to a whole number — a pool below its cap — this is exactly
``money.allocate_pro_rata(total, admitted)``. Otherwise splitting the floored total pro rata by
admitted amount would not do: it can leave a claim up to two cents below its exact entitlement.)

A round pays each claim ``max(0, entitlement − received)``: rounds are cumulative, so re-running
one pays nothing more and a corrected round pays only the difference. Rounding is per round, so a
claim rounded up in one round may be rounded down in the next when its exact entitlement rose by
less than a cent (a claim of a few cents): it then gets nothing and keeps the cent, and what its
class has received exceeds the class total by such cents — each claim still within the ceiling
of its exact entitlement.

All amounts are integer minor units of USD (the register's currency); percentages are integer
basis points; dates are ``YYYY-MM-DD``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, NamedTuple

# Bounds -----------------------------------------------------------------------------------------


# Vocabularies -----------------------------------------------------------------------------------

PERCENT: Final = "percent"
CAP: Final = "cap"
POOL: Final = "pool"
TARGETS: Final = (PERCENT, CAP, POOL)
#: What a plan orders for a claim whose creditor missed the KYC deadline. ``escrow``: its
#: distributions wait in the claim's escrow; ``forfeit_on_order``: they wait in escrow too, and the
#: operator may forfeit them by an explicit ``escrow.forfeited`` event citing the order — never as
#: a side effect of a round.
KYC_MISSED: Final = ("escrow", "forfeit_on_order")


class ClassTerms(NamedTuple):
    """A class's terms in a plan: the most a claim may receive, in basis points of its admitted
    amount (10,000 = 100%), and whether post-petition interest grows that cap."""

    class_code: str
    cap_bps: int
    interest: bool


@dataclass(frozen=True, slots=True)
class Plan:
    """An estate's distribution plan. ``paid_statuses`` are paid (to the holder, or into escrow
    when the holder cannot be paid yet); ``reserved_statuses`` (e.g. ``disputed``) are computed
    like paid ones and always go to escrow; other statuses get nothing. ``kyc_finish_by`` is the
    date by which a holder must have passed KYC (``""``: no deadline): past it at a payment date,
    an unlinked or unverified claim's amount is escrowed as ``kyc_deadline_missed``, which
    ``kyc_missed`` says may be forfeited on an order. ``kyc_start_by`` is published and reported,
    not enforced (a claim links only once KYC has passed, so only the finish date decides)."""

    estate_id: str
    classes: Mapping[str, ClassTerms]
    paid_statuses: tuple[str, ...]
    reserved_statuses: tuple[str, ...]
    kyc_start_by: str
    kyc_finish_by: str
    kyc_missed: str
    set_at: str = ""


class ClassRound(NamedTuple):
    """What a round makes due for one class. ``cumulative_bps`` is used by ``percent``,
    ``pool_minor`` (the cash this round adds to the class's pool) by ``pool``, ``interest_to``
    (``""``: the payment date) by every target of a class with interest."""

    class_code: str
    target: str
    cumulative_bps: int = 0
    pool_minor: int = 0
    interest_to: str = ""


@dataclass(frozen=True, slots=True)
class Round:
    """A distribution round of an estate. Holders of record are taken at ``record_date``;
    interest (by default) and FX run to ``payment_date``. ``funding_minor`` is the cash the estate
    pool receives for the round (USD cents). Classes a round does not name get nothing more."""

    round_id: str
    estate_id: str
    record_date: str
    payment_date: str
    classes: tuple[ClassRound, ...]
    funding_minor: int
    declared_at: str = ""


class InterestTerms(NamedTuple):
    """An estate's post-petition interest: ``rate_bps`` a year from ``petition_date``,
    ``method`` simple or compound, ``day_count`` ACT/365 or ACT/360 (from ``claims.Estate``)."""

    rate_bps: int
    method: str
    day_count: str
    petition_date: str
