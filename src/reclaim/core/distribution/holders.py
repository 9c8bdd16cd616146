"""The ladders of holders and what is known of them: assignments of claims, residence,
objections, FX rates and payout elections.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Final

from reclaim.core.claims.model import (
    HEX64_RE,
    REFERENCE_RE,
    is_date,
    is_text,
)
from reclaim.core.distribution.codes import DistributionCode as C
from reclaim.core.distribution.codes import DistributionRejection
from reclaim.core.distribution.commands import HOLDER_ROLES, Context, refuse
from reclaim.core.distribution.payees import (
    PAYOUT_ASSETS,
    USD,
    current_holder,
)
from reclaim.core.distribution.state import (
    DistributionState,
)
from reclaim.core.iso3166 import ALPHA2
from reclaim.core.limits import fx_rate_decimals_max as rate_decimals_max
from reclaim.core.limits import fx_rate_max as rate_max
from reclaim.core.limits import fx_source_length_max_chars as source_length_max_chars
from reclaim.core.money import ASSETS
from reclaim.core.payload_fields import record, text
from reclaim.core.times import is_time
from reclaim.core.types import JsonValue

_RATE_RE: Final = re.compile(rf"(0|[1-9][0-9]{{0,6}})(\.[0-9]{{1,{rate_decimals_max}}})?")


_FD: Final = frozenset


def check_assigned(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"claim_id", "from", "to", "filed_date", "evidence_sha256"}))
    claim = ctx.claims.claims.get(text(p, "claim_id"))
    if claim is None:
        return refuse(C.claim_unknown, repr(p["claim_id"]))
    to, from_holder = text(p, "to"), text(p, "from")
    if ctx.role_of(to) not in HOLDER_ROLES:
        return refuse(C.assignee_unknown, repr(to))
    holder = current_holder(ds, claim)
    if not from_holder or from_holder != holder:
        return refuse(C.assignment_from_not_holder, f"{from_holder!r} != {holder!r}")
    if to == from_holder:
        return refuse(C.assignment_to_self, repr(to))
    filed = text(p, "filed_date")
    history = ds.holders.get(claim.id, ())
    if not is_date(filed) or filed > time[:10] or (history and filed < history[-1].filed_date):
        return refuse(C.assignment_date_invalid, repr(filed))
    if HEX64_RE.fullmatch(text(p, "evidence_sha256")) is None:
        return refuse(C.evidence_malformed, "the SHA-256 of the evidence of transfer")
    return None


def check_residence(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"creditor", "iso", "effective_date"}))
    if ctx.role_of(text(p, "creditor")) not in HOLDER_ROLES:
        return refuse(C.creditor_unknown, repr(p["creditor"]))
    if text(p, "iso") not in ALPHA2:
        return refuse(C.residence_iso_unknown, repr(p["iso"]))
    if not is_date(text(p, "effective_date")):
        return refuse(C.residence_date_invalid, repr(p["effective_date"]))
    return None


def check_objection(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"claim_id", "outcome", "reference"}))
    if text(p, "claim_id") not in ctx.claims.claims:
        return refuse(C.claim_unknown, repr(p["claim_id"]))
    if text(p, "outcome") not in ("upheld", "overruled"):
        return refuse(C.objection_outcome_unknown, repr(p["outcome"]))
    if REFERENCE_RE.fullmatch(text(p, "reference")) is None:
        return refuse(C.reference_malformed, repr(p["reference"]))
    return None


def parse_rate(rate: str) -> Fraction | None:
    """A recorded rate's exact value: decimal text, positive, at most ``rate_decimals_max``
    places and ``rate_max``; ``None`` otherwise (no exponent, sign or padding)."""
    if _RATE_RE.fullmatch(rate) is None:
        return None
    try:
        value = Fraction(Decimal(rate))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None
    return value if 0 < value <= rate_max else None


def minor_ratio(asset: str, rate: Fraction) -> tuple[int, int]:
    """USD cents → ``asset`` minor units: ``rate`` (asset per USD) scaled by the assets'
    decimals, as a reduced (numerator, denominator)."""
    scaled = rate * Fraction(10 ** ASSETS[asset].scale, 10 ** ASSETS[USD].scale)
    return scaled.numerator, scaled.denominator


def check_fx(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"asset", "rate", "source", "observed_at"}))
    asset = text(p, "asset")
    if asset not in PAYOUT_ASSETS or asset == USD:
        return refuse(C.fx_asset_unknown, repr(asset))
    if parse_rate(text(p, "rate")) is None:
        return refuse(C.fx_rate_invalid, repr(p["rate"]))
    if not is_text(text(p, "source"), source_length_max_chars, ascii_only=True):
        return refuse(C.fx_source_invalid, repr(p["source"]))
    observed = text(p, "observed_at")
    latest = ds.latest_rate(asset)
    if not is_time(observed) or observed > time or (latest and observed < latest.observed_at):
        return refuse(C.fx_time_invalid, repr(observed))
    return None


def check_elected(
    ds: DistributionState, ctx: Context, p: Mapping[str, JsonValue], time: str
) -> DistributionRejection | None:
    record(dict(p), _FD({"creditor", "asset"}))
    creditor, asset = text(p, "creditor"), text(p, "asset")
    if ctx.role_of(creditor) not in HOLDER_ROLES:
        return refuse(C.creditor_unknown, repr(creditor))
    if asset not in PAYOUT_ASSETS:
        return refuse(C.payout_asset_unknown, repr(asset))
    if creditor in ds.elections:  # irrevocable, like FTX's choice of a payout partner
        return refuse(
            C.payout_elected_already, f"{creditor!r} elected {ds.elections[creditor].asset}"
        )
    return None
