"""The words of the note pages that come from data (refusal codes, order states, notices),
marked for extraction (``labels.N_``; ``make catalogues``). A template shows
``_(REFUSAL_NOTES[code])``; a code without a label shows the portal's ``REFUSED_OTHER``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from reclaim.entrypoints.web.labels import N_

#: Refusals of a conversion, an order or a cancel, by the core's (or the page's) code.
REFUSAL: Final[Mapping[str, str]] = {
    # Conversion (core.notes.ConvertCode, app.notes.NotesServiceCode)
    "series_not_found": N_("The programme has no recovery notes for this claim's class."),
    "claim_not_linked": N_("Link the claim to you first."),
    "claim_linked_to_other": N_("This claim is linked to someone else."),
    "kyc_not_verified": N_("Your identity check must be approved first."),
    "claim_disputed": N_("A disputed claim cannot be converted until the dispute is resolved."),
    "claim_expunged": N_("This claim was expunged: there is nothing to convert."),
    "claim_already_assigned": N_("This claim was converted already."),
    "claim_amount_zero": N_("This claim has no admitted amount to convert."),
    # Orders (core.market.OrderCode)
    "market_not_found": N_("There is no such market."),
    "market_closed": N_("This market is closed: no order can be placed or cancelled."),
    "market_cancel_only": N_(
        "This market is halted: you can cancel your orders, but no new order can be placed."
    ),
    "buyer_not_allowed": N_(
        "The rules for your jurisdiction do not allow you to buy notes. You can still sell "
        "the notes you hold."
    ),
    "insufficient_funds": N_("Your balance is not enough for this order."),
    "price_invalid": N_("Write the price in cents on the dollar, for example 72."),
    "price_out_of_range": N_("The price must be more than zero."),
    "price_above_maximum": N_("The price is above what this market accepts."),
    "quantity_invalid": N_("Write the face amount in whole dollars of the market's step."),
    "quantity_out_of_range": N_("The face amount is out of range."),
    "quantity_below_minimum": N_("The face amount is below this market's minimum."),
    "side_invalid": N_("Choose to buy or to sell."),
    "open_orders_exceeded": N_("You have too many open orders in this market. Cancel one first."),
    "client_id_in_use": N_("This order was sent already."),
    "order_value_exceeds_bigint": N_("This order is too large."),
    # Cancels (core.market.CancelCode)
    "order_not_found": N_("You have no open order with this number in this market."),
}
SIDE: Final[Mapping[str, str]] = {"Bid": N_("Buy"), "Ask": N_("Sell")}
ORDER_STATUS: Final[Mapping[str, str]] = {
    "New": N_("Waiting on the book"),
    "PartiallyFilled": N_("Partly filled, the rest waiting"),
    "Filled": N_("Filled"),
    "Cancelled": N_("Cancelled"),
    "Expired": N_("Expired"),
}
MARKET_STATUS: Final[Mapping[str, str]] = {
    "Open": N_("Open"),
    "CancelOnly": N_("Halted: cancels only"),
    "Closed": N_("Closed"),
}
NOTICE: Final[Mapping[str, str]] = {
    "placed": N_("Your order was placed."),
    "cancelled": N_("Your order was cancelled."),
}
