"""The arithmetic of fills, fees and reservations: integers only, one rounding rule.

Cash
----
``cash_minor = price_ticks × quantity_steps × lot_cash_minor``: exact, because a market's terms
make one tick on one step a whole number of cents (``Market.lot_cash_minor``). Notes delivered
are ``quantity_steps × step_notes``. Cash and notes are therefore conserved with no rounding.

Fees: rounded up once per order
-------------------------------
An order accumulates a **fee basis**, ``Σ cash_i × bps_i`` over its fills (``bps_i`` the taker
rate for fills it took, the maker rate for fills it made), in cent-basis-points. Its fees so far
are ``⌈basis / 10,000⌉`` (``fee_total_minor``): rounded **up**, in the venue's favour, but once
per order, not once per fill — so a thousand one-cent fills do not cost a thousand cents. Each
fill's fee is the increase of that total (``fee_increment_minor``): never negative, never more
than ``⌈cash × bps / 10,000⌉ ≤ cash`` (as ``bps ≤ 10,000``), so a seller's proceeds are never
negative.

A resting Bid's reservation
---------------------------
A resting Bid keeps exactly what its remainder can still cost (``bid_need_minor``): the cash of
the remainder at its limit price plus the fee total that cash could bring, less the fees already
charged, at rate ``R`` (the maker rate once resting). A fill at the limit price or better, at a
rate ≤ ``R``, lowers this need by at least what it consumes (cash and fee):
``need − consumed − need' = q × lot × (p − p') + ⌈X⌉ − ⌈X'⌉ ≥ 0`` as ``X − X' = q × lot ×
(p × R − p' × r) ≥ 0``. The surplus is released at the fill: after a price-improving fill no
cent stays reserved that the order can no longer spend.
"""

from __future__ import annotations

from reclaim.core.market.model import BPS


def cash_minor(price_ticks: int, quantity_steps: int, lot_cash_minor: int) -> int:
    """The cents of ``quantity_steps`` at ``price_ticks`` (exact)."""
    return price_ticks * quantity_steps * lot_cash_minor


def fee_total_minor(fee_basis: int) -> int:
    """An order's fees so far: its basis (cent-basis-points) in cents, rounded up."""
    assert fee_basis >= 0, fee_basis
    return -(-fee_basis // BPS)


def fee_increment_minor(fee_basis: int, cash: int, bps: int) -> int:
    """The fee of a fill of ``cash`` at ``bps`` for an order whose basis was ``fee_basis``."""
    return fee_total_minor(fee_basis + cash * bps) - fee_total_minor(fee_basis)


def bid_need_minor(
    remaining_steps: int,
    price_ticks: int,
    lot_cash_minor: int,
    fee_basis: int,
    fee_charged_minor: int,
    rate_bps: int,
) -> int:
    """What a Bid's remainder can still cost at its limit: cash plus the fees it could add."""
    cash = cash_minor(price_ticks, remaining_steps, lot_cash_minor)
    return cash + fee_total_minor(fee_basis + cash * rate_bps) - fee_charged_minor


def cash_cap_for_budget(budget_minor: int, taker_bps: int) -> int:
    """The most cash a market Bid with ``budget_minor`` (fees included) may buy.

    ``c + ⌈c × t / 10,000⌉ ≤ Q ⟺ c × t / 10,000 ≤ Q − c ⟺ c ≤ Q × 10,000 / (10,000 + t)``, so
    the cap is ``⌊Q × 10,000 / (10,000 + t)⌋`` and spending stays within the budget exactly.
    """
    return budget_minor * BPS // (BPS + taker_bps)
