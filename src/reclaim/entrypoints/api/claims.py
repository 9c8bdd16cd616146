"""The public claims API: estates, the register report, and the jurisdiction policy.

``install(app)`` (called by ``create_app``) includes ``router``. Every route is a public ``GET``
that answers aggregates only — terms, counts and sums; never a claim, an e-mail or a name — so
the same answers can feed the public transparency page. Answers are read from the log's state
under the writer lock (``LogService.read``) and built by ``reclaim.app.claims_queries``; the
routes parse and render.

- ``GET /estates/{estate_id}``: the estate's terms, register versions and admitted total;
- ``GET /estates/{estate_id}/report?on=``: claims and admitted amounts by jurisdiction and
  status under the policy in force ``on``; the restricted total and each restricted
  jurisdiction's share of it (e.g. mainland China's);
- ``GET /jurisdictions?on=``: the policy entry in force ``on`` of every listed jurisdiction;
- ``GET /jurisdictions/{iso}?on=``: one jurisdiction: its status ``on`` (``unlisted`` without
  an entry), the entry in force, and its dated history.

``on`` is ``YYYY-MM-DD`` (a calendar day), today (UTC, the log's clock) when left out. Integers
are decimal strings, amounts in USD cents (``admitted_minor``) and as decimals (``admitted``),
shares in basis points (``null``: nothing to share). Problems (problem+json): ``not_found`` 404
(no such estate), ``invalid_parameter`` 400 (a malformed ``on``, estate id or ISO code, or a
code that is not ISO 3166-1 alpha-2). Answers change as the log grows: ``no-cache``.

A report walks the whole register (O(claims)); answers are cached per (estate, date, log size),
so repeated requests between two appends cost a dictionary lookup.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Final

from fastapi import FastAPI, Path, Query, Request, Response
from fastapi.types import DecoratedCallable
from pydantic import BaseModel, Field

from reclaim.app.claims_queries import (
    estate_document,
    jurisdiction_document,
    policy_document,
    report_document,
)
from reclaim.app.log_service import LogService
from reclaim.core.claims.model import is_date
from reclaim.core.iso3166 import ALPHA2
from reclaim.core.limits import claims_report_cache_entries_max
from reclaim.core.machine import State
from reclaim.core.types import JsonValue
from reclaim.entrypoints.api.deps import NO_CACHE, LogDep, json_answer
from reclaim.entrypoints.api.problems import InvalidParameterError, NotFoundError
from reclaim.entrypoints.api.schemas import DecimalString, Public, problem_answers
from reclaim.entrypoints.routing import Router

router = Router(tags=["claims"])

ESTATE_ID_PATTERN: Final = "^[a-z0-9][a-z0-9._-]{0,62}$"
ISO_PATTERN: Final = "^[A-Z]{2}$"
DATE_PATTERN: Final = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

Bps = Annotated[
    str | None, Field(description="basis points as decimal text (8200 = 82.00%); null: no base")
]


# Public shapes (the OpenAPI document; answers are validated against them) ----------------------


class ClassPublic(Public):
    code: str
    name: str
    priority: DecimalString = Field(description="lower is paid first; equal is pari passu")


class EstatePublic(Public):
    """An estate's terms and register."""

    estate_id: str
    name: str
    petition_date: str
    classes: list[ClassPublic]
    convenience_class: str = Field(description='"" if the plan has none')
    convenience_threshold_minor: DecimalString = Field(description="USD cents")
    consensus_rate_bps: DecimalString
    interest: str = Field(examples=["simple"])
    day_count: str = Field(examples=["ACT/365"])
    created_at: str
    registers: list[str] = Field(description="ids (SHA-256) of the register versions imported")
    currency: str = Field(examples=["USD"])
    admitted_minor: DecimalString = Field(description="the register's admitted total, in cents")
    admitted: str = Field(description="the same, as a decimal", examples=["1234.56"])


class TallyPublic(Public):
    claims: DecimalString
    admitted_minor: DecimalString
    admitted: str


class CellPublic(TallyPublic):
    jurisdiction: str
    status: str = Field(description="the claims' status: scheduled, filed, allowed, ...")
    policy_status: str = Field(description="open, restricted, sanctioned or unlisted on `on`")


class PolicyTallyPublic(TallyPublic):
    policy_status: str
    share_of_owed_bps: Bps


class RestrictedPublic(TallyPublic):
    share_of_owed_bps: Bps


class RestrictedSharePublic(TallyPublic):
    jurisdiction: str
    share_of_restricted_bps: Bps


class ReportPublic(Public):
    """The register by jurisdiction and status on a date (owed = every claim not expunged)."""

    estate_id: str
    on: str
    currency: str
    total: TallyPublic
    owed: TallyPublic
    by_policy_status: list[PolicyTallyPublic]
    by_jurisdiction_status: list[CellPublic]
    restricted: RestrictedPublic
    sanctioned_share_of_owed_bps: Bps
    restricted_by_jurisdiction: list[RestrictedSharePublic] = Field(
        description="largest first, e.g. mainland China's share of the restricted amount"
    )


class EntryPublic(Public):
    """A jurisdiction's treatment from ``effective_date`` on."""

    iso: str
    status: str = Field(examples=["restricted"])
    reason: str
    source: str
    effective_date: str
    rails: list[str] = Field(description="payout rails that may serve it; [] for none")
    notes_buyers: str | None = Field(
        None, description="whether its residents may buy recovery notes: allowed or excluded"
    )
    notes_buyers_source: str | None = Field(None, description="the source of notes_buyers")


class HistoryEntryPublic(EntryPublic):
    set_at: str = Field(description="when the entry was set (its event's time)")


class PolicyPublic(Public):
    on: str
    jurisdictions: list[EntryPublic]


class JurisdictionPublic(Public):
    iso: str
    on: str
    status: str = Field(description="open, restricted, sanctioned, or unlisted (no entry)")
    in_force: EntryPublic | None
    history: list[HistoryEntryPublic]


# Dependencies and routes ----------------------------------------------------------------------


def install(app: FastAPI) -> None:
    """Serve the claims routes from ``app`` (whose ``state.log`` is set)."""
    app.state.claims_reports = OrderedDict()
    app.include_router(router)


def _on(log: LogService, on: str | None) -> str:
    if on is None:
        return log.clock.now().date().isoformat()
    if not is_date(on):
        raise InvalidParameterError(f"on: {on!r} is not a calendar day (YYYY-MM-DD)")
    return on


def _answer(model: type[BaseModel], document: dict[str, JsonValue]) -> Response:
    return json_answer(model.model_validate(document).model_dump_json(), NO_CACHE)


_PROBLEMS: Final = problem_answers(
    {
        400: "a malformed parameter (`invalid_parameter`)",
        404: "no such estate (`not_found`)",
    }
)


def _public(path: str, model: type[BaseModel]) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """A route of this router: a public ``GET`` answering ``model`` or a problem."""
    return router.get(path, response_model=model, responses=_PROBLEMS)


EstateId = Annotated[str, Path(pattern=ESTATE_ID_PATTERN, description="the estate's id")]
OnQuery = Annotated[
    str | None,
    Query(pattern=DATE_PATTERN, description="the date (YYYY-MM-DD); today when left out"),
]


@_public("/estates/{estate_id}", EstatePublic)
def get_estate(log: LogDep, estate_id: EstateId) -> Response:
    """An estate's terms (classes, convenience class, interest), its register versions and the
    register's admitted total."""
    document = log.read(lambda state: estate_document(state, estate_id))
    if document is None:
        raise NotFoundError(f"no estate {estate_id!r}")
    return _answer(EstatePublic, document)


@_public("/estates/{estate_id}/report", ReportPublic)
def get_report(log: LogDep, request: Request, estate_id: EstateId, on: OnQuery = None) -> Response:
    """Claims and admitted amounts by jurisdiction and status under the policy in force on
    ``on``: how much sits in restricted jurisdictions, and each one's share of it."""
    on_date = _on(log, on)
    cache: OrderedDict[tuple[str, str, int], dict[str, JsonValue] | None]
    cache = request.app.state.claims_reports

    def read(state: State) -> dict[str, JsonValue] | None:
        key = (estate_id, on_date, state.events)
        if key not in cache:
            cache[key] = report_document(state, estate_id, on_date)
            while len(cache) > claims_report_cache_entries_max:
                cache.popitem(last=False)
        return cache[key]

    document = log.read(read)  # the cache is used under the writer lock, like the state
    if document is None:
        raise NotFoundError(f"no estate {estate_id!r}")
    return _answer(ReportPublic, document)


@_public("/jurisdictions", PolicyPublic)
def get_jurisdictions(log: LogDep, on: OnQuery = None) -> Response:
    """The jurisdiction policy in force on ``on``: the entry of every listed jurisdiction."""
    on_date = _on(log, on)
    return _answer(PolicyPublic, log.read(lambda state: policy_document(state, on_date)))


@_public("/jurisdictions/{iso}", JurisdictionPublic)
def get_jurisdiction(
    log: LogDep,
    iso: Annotated[str, Path(pattern=ISO_PATTERN, description="ISO 3166-1 alpha-2, e.g. CN")],
    on: OnQuery = None,
) -> Response:
    """One jurisdiction on ``on``: its status, the entry in force and its dated history."""
    if iso not in ALPHA2:
        raise InvalidParameterError(f"iso: {iso!r} is not an ISO 3166-1 alpha-2 country code")
    on_date = _on(log, on)
    document = log.read(lambda state: jurisdiction_document(state, iso, on_date))
    return _answer(JurisdictionPublic, document)
