"""The creditor's conversion of a claim into recovery notes, and its Form 2100A.

| route | what |
| --- | --- |
| ``GET /claims/{id}/convert`` | what the assignment means, in plain words, and the button |
| ``POST /claims/{id}/convert`` | convert (``NotesService.convert``, as ``reclaim notes convert``) |
| ``GET /notes/{id}`` | the conversion done: notes received, the evidence of transfer |
| ``GET /notes/{id}/form2100a.pdf`` | the evidence as Form 2100A (PDF), with the log's signatures |

The conversion goes through the same application service as the CLI: the gateway signs
``notes.claim_converted`` for the logged-in creditor (the session is logged by ``post``), then
the admin records ``claim.assigned``. Threats: a creditor converting a claim they do not hold
gets ``404`` before anything is submitted (and the core would refuse ``claim_linked_to_other``
anyway); the evidence pages answer ``404`` for a conversion of another creditor; every POST
passes the origin and CSRF checks of ``creditor.post``.
"""

from __future__ import annotations

from typing import Final

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from reclaim.adapters.files import form2100a
from reclaim.app.notes import SIGNATURE_CAPACITIES, Converted, NotesService
from reclaim.app.refusals import Refused
from reclaim.app.web_notes import conversion_of, series_of
from reclaim.app.web_queries import ClaimView, my_claims
from reclaim.core.limits import claim_id_length_max_chars
from reclaim.core.notes import notes_for_admitted
from reclaim.entrypoints.routing import Router
from reclaim.entrypoints.web import forms, note_labels
from reclaim.entrypoints.web.creditor import (
    attachment,
    code_name,
    creditor_of,
    form_post,
    page,
    see_other,
)
from reclaim.entrypoints.web.pages import WebRoute
from reclaim.entrypoints.web.services import CreditorServices

router = Router(route_class=WebRoute, include_in_schema=False)
#: The case caption of each estate's Form 2100A (as ``reclaim notes convert`` prints it).
CAPTIONS: Final = {
    "ftx": form2100a.Caption("United States Bankruptcy Court for the District of Delaware",
                             "FTX Trading Ltd., et al.", "22-11068 (JTD)"),
}  # fmt: skip


def _claim(services: CreditorServices, creditor: str, claim_id: str) -> ClaimView:
    """The creditor's own claim, else ``404`` (another's claim and none look the same)."""
    today = services.log.clock.now().date().isoformat()
    mine = services.log.read(lambda s: my_claims(s, creditor, today))
    found = [c for c in mine.claims if c.claim_id == claim_id[:claim_id_length_max_chars]]
    if not found:
        raise StarletteHTTPException(404)
    return found[0]


def _confirm(request: Request, claim_id: str, error: str, status: int) -> Response:
    services, creditor = creditor_of(request)
    claim = _claim(services, creditor, claim_id)
    series_name = services.log.read(lambda s: series_of(s, claim.claim_id))
    series = None
    if series_name is not None:
        series = services.log.read(lambda s: s.notes.series[series_name])
    kyc = services.log.read(lambda s: s.claims.kyc_state(creditor))
    context = {
        "claim": claim,
        "series": series,
        "notes": notes_for_admitted(claim.admitted_minor),
        "kyc_state": kyc,
        "error": error,
        "REFUSAL_NOTES": note_labels.REFUSAL,
    }
    return page(request, "convert_confirm.html", context, status)


@router.get("/claims/{claim_id}/convert")
def convert_page(request: Request, claim_id: str) -> Response:
    return _confirm(request, claim_id, "", 200)


@form_post(router, "/claims/{claim_id}/convert")
def _convert(request: Request, form: forms.Form) -> Response:
    claim_id = str(request.path_params["claim_id"])
    services, creditor = creditor_of(request)
    claim = _claim(services, creditor, claim_id)
    series = services.log.read(lambda s: series_of(s, claim.claim_id))
    if series is None:
        return _confirm(request, claim_id, "series_not_found", 409)
    today = services.log.clock.now().date().isoformat()
    answer = NotesService(services.log).convert(series, claim.claim_id, creditor, today)
    if isinstance(answer, Refused):
        return _confirm(request, claim_id, code_name(answer.code), 409)
    return see_other(f"/notes/{claim.claim_id}")


def _conversion(request: Request, claim_id: str) -> tuple[CreditorServices, Converted]:
    """The creditor's own conversion of ``claim_id``, else ``404`` (another's looks like none)."""
    services, creditor = creditor_of(request)
    done = conversion_of(services.log, creditor, claim_id[:claim_id_length_max_chars])
    if done is None:
        raise StarletteHTTPException(404)
    return services, done


@router.get("/notes/{claim_id}")
def converted_page(request: Request, claim_id: str) -> Response:
    services, done = _conversion(request, claim_id)
    series = services.log.read(lambda s: s.notes.conversions[done.evidence.claim_id].series)
    context = {"done": done, "series": series, "symbol": f"{series}_USD"}
    return page(request, "converted.html", context)


@router.get("/notes/{claim_id}/form2100a.pdf")
def form_pdf(request: Request, claim_id: str) -> Response:
    _, done = _conversion(request, claim_id)
    e = done.evidence
    caption = CAPTIONS.get(e.estate, form2100a.Caption("United States Bankruptcy Court",
                                                        e.estate, ""))  # fmt: skip
    signatures = [form2100a.signature_of(s, c) for s, c in
                  zip(done.signatures, SIGNATURE_CAPACITIES, strict=True)]  # fmt: skip
    body = form2100a.render(e, caption, signatures)
    return attachment(body, "application/pdf", f"form2100a-{e.claim_id}.pdf")
