"""The note market pages' units: a price typed in cents on the dollar becomes the market's
ticks (never rounded), is shown in the reader's digits, and a quote's fee is the larger rate's,
rounded up once (the core's rule), added to a buy and taken from a sale."""

from __future__ import annotations

import pytest

from reclaim.app.market import OffGridError
from reclaim.core import market as mk
from reclaim.entrypoints.web.forms import Form
from reclaim.entrypoints.web.market import cents_of, quote_of, ticks_of

CENT_TICKS = mk.Market("FTX5A_USD", "FTX5A", 2, 100)
TENTH_TICKS = mk.Market("FTX5B_USD", "FTX5B", 3, 1000, taker_fee_bps=25, maker_fee_bps=10)


@pytest.mark.parametrize(
    ("market", "text", "ticks"),
    [(CENT_TICKS, "72", 72), (CENT_TICKS, "100", 100), (TENTH_TICKS, "72.5", 725),
     (TENTH_TICKS, "72", 720)],
)  # fmt: skip
def test_cents_on_the_dollar_are_ticks(market: mk.Market, text: str, ticks: int) -> None:
    assert ticks_of(market, text) == ticks


@pytest.mark.parametrize("text", ["72.5", "72.05"])
def test_a_price_finer_than_a_tick_is_refused_not_rounded(text: str) -> None:
    with pytest.raises(OffGridError):
        ticks_of(CENT_TICKS, text)


def test_prices_in_the_readers_digits() -> None:
    assert cents_of(TENTH_TICKS, 725, "fr") == "72,5"
    assert cents_of(TENTH_TICKS, 725, "zh_Hans") == "72.5"
    assert cents_of(CENT_TICKS, 62, "en") == "62"


def test_a_quote_shows_the_cash_and_the_largest_fee_rounded_up_once() -> None:
    form = Form({"price": "72.5", "quantity": "10"})
    # 1 step = $10 of face; 725 ticks x 1 step x 1 cent = $7.25; fee 25 bps of 725 = 1.8125 -> 2
    buy = quote_of(TENTH_TICKS, mk.Side.Bid, 725, 1, 7, form, "en")
    assert (buy.cash_minor, buy.fee_minor, buy.total_minor) == (725, 2, 727)
    assert buy.face_minor == 1000
    sell = quote_of(TENTH_TICKS, mk.Side.Ask, 725, 1, 7, form, "en")
    assert (sell.cash_minor, sell.fee_minor, sell.total_minor) == (725, 2, 723)
    free = quote_of(CENT_TICKS, mk.Side.Bid, 99, 10, 7, form, "en")
    assert (free.cash_minor, free.fee_minor, free.total_minor) == (990, 0, 990)
