"""The market core's answers: ordered result codes, one enum per validation ladder, each code
with its **kind**.

As in ``reclaim.core.ledger.codes`` and ``reclaim.core.withdrawals.codes``, codes are ordered by
**precedence**: when a command is wrong in several ways, its ladder returns the code that comes
first in its enum. The values are that order; they are published (API answers, verifier
reports), so a new code is inserted with a value between its neighbours' and no value is ever
reused. Each code reads as a sentence about the command (``post_only_would_take``,
``insufficient_funds``).

| enum           | ladder of                                                       |
| -------------- | --------------------------------------------------------------- |
| ``EventCode``  | a whole command or logged event (type, shape, batch size)       |
| ``ListCode``   | ``market.listed`` (a market's terms)                            |
| ``StatusCode`` | ``market.status_set`` (``Open`` / ``CancelOnly`` / ``Closed``)  |
| ``OrderCode``  | each order of ``market.orders_placed`` (one order or a batch)   |
| ``CancelCode`` | ``market.orders_cancelled`` (cancel one, cancel all)            |

Every refusal has exactly one **kind** (``KINDS``, checked exhaustive at import), which is what
an edge maps to a status, once: ``bad_input`` (the request is wrong and always will be: 400),
``forbidden`` (this trader may not: 403), ``not_found`` (no such market or order: 404),
``conflict`` (the state does not allow it now: funds, the book, an id in use: 409),
``unavailable`` (the market does not take this now: ``CancelOnly``, ``Closed``: 503). Answers that
accept a command without an event (``ACCEPTED``: the thing asked for is already so) have no kind.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from reclaim.core.domain import CodedRejection
from reclaim.core.kinds import B, C, F, Kind, N, U, kind_table, refusal_kind


class EventCode(enum.Enum):
    """Why a whole command or a logged event is refused (not one item of it)."""

    ok = 0
    #: The event type is not a market event type.
    event_type_unknown = 1
    #: The payload does not have the shape of its type (missing or extra fields, wrong types,
    #: integers that are not canonical decimal text, an unknown enum value).
    payload_malformed = 2
    #: A batch with no order.
    batch_empty = 3
    #: A batch with more orders than ``limits.market_batch_orders_max``.
    batch_too_large = 4
    #: The ledger refuses a reservation, post or void the event implies (``settlement``): a
    #: logged event whose money does not move as the book says.
    ledger_refused = 5
    #: A plain ledger command or event that opens or moves a market escrow account
    #: (``market:<series>-<quote>/…``): only market events move them.
    escrow_reserved = 6


class ListCode(enum.Enum):
    """The answer to listing a market, in precedence order."""

    ok = 0
    #: Not ``<SERIES>_<QUOTE>`` of 1-24 ``A-Z0-9`` and the quote asset.
    symbol_malformed = 1
    #: The symbol is not the series' name, ``_`` and the quote asset.
    symbol_mismatch = 2
    #: Only USD: prices are fractions of a face value admitted in USD cents.
    quote_asset_unsupported = 3
    #: Not 0 … ``limits.market_price_decimals_max``.
    price_decimals_out_of_range = 4
    #: A quantity step that is not 1 … BIGINT note units.
    step_out_of_range = 5
    #: One tick times one step is not a whole number of cents, so a fill's cash would round.
    lot_cash_not_whole = 6
    #: A minimum quantity that is not 1 … ``limits.market_quantity_steps_max`` steps.
    min_quantity_out_of_range = 7
    #: A maker or taker fee outside 0 … ``limits.market_fee_bps_max`` basis points.
    fee_bps_out_of_range = 8
    #: The fee owner is not an actor name.
    fee_owner_malformed = 9
    #: ``limits.market_markets_max`` markets are listed already.
    markets_exceeded = 10
    #: The symbol is listed with other terms (terms never change: list a new market).
    market_exists_with_different_terms = 11
    #: The same market with the same terms is listed already (nothing to append).
    exists = 12


class StatusCode(enum.Enum):
    """The answer to setting a market's status (an operator's act), in precedence order."""

    ok = 0
    market_not_found = 1
    #: The market has that status already (nothing to append).
    exists = 2


class OrderCode(enum.Enum):
    """The answer for one order, in precedence order."""

    ok = 0
    # The order on its own.
    #: The trader is not an actor name.
    trader_malformed = 1
    #: A client id that is not 0 … 2**32 - 1 (Backpack's uint32).
    client_id_out_of_range = 2
    #: A limit order without a price.
    price_missing = 3
    #: A market order with a price.
    price_not_allowed = 4
    #: A limit order without a quantity, or a market order with neither quantity nor quote
    #: quantity.
    quantity_missing = 5
    #: A market order with both quantity and quote quantity, or a limit order with a quote
    #: quantity.
    quantity_ambiguous = 6
    #: Post-only on a market order, or with ``IOC`` / ``FOK`` (a post-only order only rests).
    post_only_not_allowed = 7
    #: A price of zero or less.
    price_out_of_range = 8
    #: A quantity that is not 1 … ``limits.market_quantity_steps_max`` steps.
    quantity_out_of_range = 9
    #: A quote quantity that is not 1 … BIGINT cents.
    quote_quantity_out_of_range = 10
    #: ``FOK`` on a quote-quantity order: "all" is a quantity, so fill-or-kill needs one.
    fok_needs_quantity = 11
    # The order against the market.
    market_not_found = 20
    #: The market is ``Closed``: no order is placed or cancelled.
    market_closed = 21
    #: The market is ``CancelOnly``: orders are cancelled, none is placed.
    market_cancel_only = 22
    #: A price above ``limits.market_price_face_multiple_max`` times face value.
    price_above_maximum = 23
    #: A quantity below the market's minimum.
    quantity_below_minimum = 24
    #: The order's largest cost (cash and fees, or notes) does not fit a BIGINT.
    order_value_exceeds_bigint = 25
    # The trader (the wiring's rungs: KYC and the jurisdiction policy; then the trader's state).
    #: The trader's KYC is not verified: only verified accounts trade.
    kyc_not_verified = 30
    #: The jurisdiction policy does not let this trader buy notes.
    buyer_not_allowed = 31
    #: The trader has a resting order with this client id in this market.
    client_id_in_use = 32
    #: The trader has ``limits.market_open_orders_per_trader_max`` resting orders here.
    open_orders_exceeded = 33
    #: The trader's available balance does not cover the order's reservation.
    insufficient_funds = 34
    # The order against the book.
    #: A post-only order would match on arrival.
    post_only_would_take = 40


class CancelCode(enum.Enum):
    """The answer to cancelling one order or all of a trader's orders, in precedence order."""

    ok = 0
    trader_malformed = 1
    #: Cancel-one with neither an order id nor a client id.
    order_ref_missing = 2
    #: Cancel-one with both an order id and a client id (Backpack refuses both).
    order_ref_ambiguous = 3
    client_id_out_of_range = 4
    market_not_found = 10
    #: The market is ``Closed`` (its orders were cancelled when it closed).
    market_closed = 11
    #: No resting order of this trader has that id (another trader's order is not found either).
    order_not_found = 12
    #: Cancel-all with no resting order: nothing to cancel, nothing to append.
    none_resting = 13


MarketCode = EventCode | ListCode | StatusCode | OrderCode | CancelCode

#: Answers that accept a command: ``ok``, or already so with nothing to change.
ACCEPTED: Final[frozenset[MarketCode]] = frozenset(
    {
        EventCode.ok,
        ListCode.ok,
        ListCode.exists,
        StatusCode.ok,
        StatusCode.exists,
        OrderCode.ok,
        CancelCode.ok,
        CancelCode.none_resting,
    }
)

#: The kind of every refusal.
KINDS: Final[Mapping[MarketCode, Kind]] = kind_table(
    (EventCode, ListCode, StatusCode, OrderCode, CancelCode),
    {
        EventCode.event_type_unknown: B,
        EventCode.payload_malformed: B,
        EventCode.batch_empty: B,
        EventCode.batch_too_large: B,
        EventCode.ledger_refused: C,
        EventCode.escrow_reserved: F,
        ListCode.symbol_malformed: B,
        ListCode.symbol_mismatch: B,
        ListCode.quote_asset_unsupported: B,
        ListCode.price_decimals_out_of_range: B,
        ListCode.step_out_of_range: B,
        ListCode.lot_cash_not_whole: B,
        ListCode.min_quantity_out_of_range: B,
        ListCode.fee_bps_out_of_range: B,
        ListCode.fee_owner_malformed: B,
        ListCode.markets_exceeded: C,
        ListCode.market_exists_with_different_terms: C,
        StatusCode.market_not_found: N,
        OrderCode.trader_malformed: B,
        OrderCode.client_id_out_of_range: B,
        OrderCode.price_missing: B,
        OrderCode.price_not_allowed: B,
        OrderCode.quantity_missing: B,
        OrderCode.quantity_ambiguous: B,
        OrderCode.post_only_not_allowed: B,
        OrderCode.price_out_of_range: B,
        OrderCode.quantity_out_of_range: B,
        OrderCode.quote_quantity_out_of_range: B,
        OrderCode.fok_needs_quantity: B,
        OrderCode.market_not_found: N,
        OrderCode.market_closed: U,
        OrderCode.market_cancel_only: U,
        OrderCode.price_above_maximum: B,
        OrderCode.quantity_below_minimum: B,
        OrderCode.order_value_exceeds_bigint: B,
        OrderCode.kyc_not_verified: F,
        OrderCode.buyer_not_allowed: F,
        OrderCode.client_id_in_use: C,
        OrderCode.open_orders_exceeded: C,
        OrderCode.insufficient_funds: C,
        OrderCode.post_only_would_take: C,
        CancelCode.trader_malformed: B,
        CancelCode.order_ref_missing: B,
        CancelCode.order_ref_ambiguous: B,
        CancelCode.client_id_out_of_range: B,
        CancelCode.market_not_found: N,
        CancelCode.market_closed: U,
        CancelCode.order_not_found: N,
    },
    ACCEPTED,
)


def kind(code: MarketCode) -> Kind:
    """The kind of a refusal (``AssertionError`` for an accepted answer: a bug)."""
    return refusal_kind(KINDS, code)


class MarketRejection(CodedRejection[MarketCode]):
    """A refused command or logged event: the code, which item (if one), and why."""

    __slots__ = ()

    @property
    def kind(self) -> Kind:
        return kind(self.code)
