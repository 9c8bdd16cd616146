"""The portal's pages: rendering (templates per locale), the routes, the error pages.

Every route of ``router`` goes through ``WebRoute``: the request's locale is chosen
(``i18n.choose``), the handler runs, any failure becomes the error page in that language — a
``404``/``400``/``405`` says what was wrong, anything else is a ``500`` that says only that
something went wrong (the exception goes to the server's log, never to the page) — and the
security headers (``security.security_headers``) are set on whatever is answered. A ``?lang=``
that names a portal locale sets the language cookie.

Pages:

- ``GET /transparency``: the public transparency page (``TransparencyService.view``);
- ``GET /``: ``303`` to ``/transparency`` (the language choice kept);
- ``GET /static/web/<name>``: the portal's own files (a fixed list read at start-up, so no path
  from a request ever reaches the file system).

``install_not_found_page`` makes an unmatched URL asked for by a browser (``Accept: text/html``)
the error page too; every other client keeps the API's problem+json.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from babel.support import Translations
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from reclaim.app.transparency import JurisdictionRow, Transparency, TransparencyService
from reclaim.core.limits import (
    chart_jurisdictions_max,
    chart_rows_max,
    creditor_pages_cached_max,
    lang_cookie_max_age_seconds,
    shared_pages_max,
)
from reclaim.entrypoints.routing import Router
from reclaim.entrypoints.web import charts, forms, i18n, labels, security
from reclaim.entrypoints.web.services import CreditorServices

log = logging.getLogger(__name__)

#: The portal's static files: name -> media type.
STATIC_FILES: Final = {
    "site.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
STATIC_PREFIX: Final = "/static/web/"
#: Static files change only with a release.
CACHE_STATIC: Final = "public, max-age=86400"
CACHE_PAGE: Final = "no-cache"
CACHE_ERROR: Final = "no-store"
#: Error pages with words of their own (anything else is a 500).
ERROR_STATUSES: Final = frozenset({400, 403, 404, 405, 413, 429})

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True, slots=True)
class SwitchLink:
    locale: str
    tag: str
    name: str
    href: str
    current: bool


class SharedPages:
    """Pages that are the same for every visitor without a session (the public transparency
    page), per (locale, base URL), each kept with the view it shows and served while the
    service returns that very view (``TransparencyService.view`` returns its cached object
    until the log, the checkpoint, the statement or the day changes, so ``is`` is the test).

    Threat: a page printing a visitor's CSRF token or menu served to another; only a
    rendering for nobody logged in, that printed no token, is kept (``Portal.render_html``).

    ``Portal.private`` is the same store for pages of one session (``Portal.render`` with
    ``reuse``), keyed by the session too: see there.
    """

    def __init__(self, entries_max: int = shared_pages_max) -> None:
        self._lock = threading.Lock()
        self._pages: dict[tuple[str, ...], tuple[object, str]] = {}
        self._entries_max = entries_max
        #: Renderings stored so far.
        self.renders = 0

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: tuple[str, ...], view: object) -> str | None:
        with self._lock:
            found = self._pages.get(key)
        return found[1] if found is not None and found[0] is view else None

    def put(self, key: tuple[str, ...], view: object, html: str) -> None:
        with self._lock:
            self.renders += 1
            if key not in self._pages and len(self._pages) >= self._entries_max:
                self._pages.clear()
            self._pages[key] = (view, html)


class Portal:
    """What the pages need, built once by ``install``: a Jinja2 environment per locale (each with
    its catalogue and Babel filters), the static files, the transparency service, the CSRF
    tokens under ``csrf_secret`` — the secret every process serving the same data directory
    shares (``web_accounts.csrf_secret``), so a form one process rendered posts to another and
    to this one after a restart. Without creditor services there is no form: a random secret
    of this process then stands in (no token is ever printed or checked)."""

    def __init__(
        self,
        transparency: TransparencyService,
        services: CreditorServices | None = None,
        csrf_secret: bytes | None = None,
    ) -> None:
        assert services is None or csrf_secret is not None, "forms need the shared CSRF secret"
        self.transparency = transparency
        self.services = services
        secret = csrf_secret or secrets.token_bytes(security.csrf_secret_min_bytes)
        self.csrf = security.CsrfTokens(secret)
        self.translations = {loc: i18n.load_translations(loc) for loc in i18n.LOCALES}
        self.environments = {loc: _environment(loc, self.translations[loc]) for loc in i18n.LOCALES}
        package = resources.files("reclaim.entrypoints.web").joinpath("static")
        self.static = {name: package.joinpath(name).read_bytes() for name in STATIC_FILES}
        self.shared = SharedPages()
        self.private = SharedPages(creditor_pages_cached_max)

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any],
        *,
        status: int = 200,
        cache: str = CACHE_PAGE,
        reuse: object | None = None,
    ) -> HTMLResponse:
        """The page. With ``reuse`` — the one object ``context`` was made from, which its
        maker gives again, the very same, while nothing the page shows has changed (as
        ``web_queries.CreditorReads`` does per log position) — the rendering of a logged-in
        visitor is kept (``private``) per (session, template, language, address, path) and
        served again while ``reuse`` is the same object. Threat: a page with one session's
        CSRF token and menu served to another visitor, or after the logout — the key is the
        session, and the caller has checked the session live (``forms.visitor_of``) first."""
        locale = locale_of(request)
        visitor = self.visitor(request)
        key: tuple[str, ...] | None = None
        if reuse is not None and visitor.principal is not None and visitor.session_id:
            key = (visitor.binding, template, locale, str(request.base_url), request.url.path)
        html = None if key is None else self.private.get(key, reuse)
        if html is None:
            html, _ = self.render_html(request, template, context)
            if key is not None:
                self.private.put(key, reuse, html)
        return HTMLResponse(html, status_code=status,
                            headers=_page_headers(locale, cache))  # fmt: skip

    def render_html(
        self, request: Request, template: str, context: Mapping[str, Any]
    ) -> tuple[str, bool]:
        """The page, and whether it is the same for every visitor without a session (nobody
        logged in, no CSRF token printed): then ``SharedPages`` may keep it."""
        locale = locale_of(request)
        visitor = self.visitor(request)
        token = forms.CsrfToken(self.csrf, visitor)
        extra = {
            "visitor": visitor,
            "csrf_token": token,
            "csrf_field": security.CSRF_FIELD,
            "portal_open": self.services is not None,
        }
        html = (
            self.environments[locale]
            .get_template(template)
            .render(**common_context(request, locale), **extra, **context)
        )
        return html, visitor.principal is None and not token.printed

    def visitor(self, request: Request) -> forms.Visitor:
        return forms.visitor_of(request, None if self.services is None else self.services.accounts)


def _environment(locale: str, translations: Translations) -> Environment:
    env = Environment(
        loader=PackageLoader("reclaim.entrypoints.web", "templates"),
        autoescape=select_autoescape(("html",), default_for_string=True, default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    fmt = i18n.Localizer(locale)
    env.filters.update(
        number=fmt.number,
        money=fmt.money,
        date=fmt.date,
        datetime=fmt.datetime,
        territory=fmt.territory,
    )
    env.globals.update(
        share=fmt.share,
        label=labels.label,
        CLAIM_STATUS=labels.CLAIM_STATUS,
        POLICY_STATUS=labels.POLICY_STATUS,
        ESCROW_REASON=labels.ESCROW_REASON,
        ROUND_STATE=labels.ROUND_STATE,
        ESCROW_LIFT=labels.ESCROW_LIFT,
        KYC_STATE=labels.KYC_STATE,
        WITHDRAWAL_STATUS=labels.WITHDRAWAL_STATUS,
        DESTINATION_STATUS=labels.DESTINATION_STATUS,
        RAIL=labels.RAIL,
        NOTICE=labels.NOTICE,
        REFUSAL=labels.REFUSAL,
        REFUSED_OTHER=labels.REFUSED_OTHER,
    )
    return env


def _page_headers(locale: str, cache: str) -> dict[str, str]:
    return {
        "Cache-Control": cache,
        "Content-Language": i18n.LANG_TAGS[locale],
        "Vary": "Accept-Language, Cookie",
    }


def locale_of(request: Request) -> str:
    chosen = getattr(request.state, "locale", None)
    if isinstance(chosen, str):
        return chosen
    locale = i18n.choose(
        request.query_params.get(i18n.LANG_QUERY),
        request.cookies.get(i18n.LANG_COOKIE),
        request.headers.get("accept-language"),
    )
    request.state.locale = locale
    return locale


def common_context(request: Request, locale: str) -> dict[str, Any]:
    path = request.url.path
    switch = [
        SwitchLink(loc, i18n.LANG_TAGS[loc], i18n.NATIVE_NAMES[loc],
                   f"{path}?{i18n.LANG_QUERY}={i18n.LANG_TAGS[loc]}", loc == locale)
        for loc in i18n.LOCALES
    ]  # fmt: skip
    return {"locale": locale, "lang_tag": i18n.LANG_TAGS[locale], "switch": switch,
            "base_url": str(request.base_url).rstrip("/")}  # fmt: skip


def portal_of(request: Request) -> Portal:
    portal = request.app.state.portal
    assert isinstance(portal, Portal), "install stores the Portal in app.state.portal"
    return portal


# Errors -----------------------------------------------------------------------------------


def error_page(request: Request, status: int, retry_after_seconds: int = 0) -> Response:
    """The error page for ``status`` in the request's language (a bare text answer if even the
    template fails: the user still never sees a trace)."""
    status = status if status in ERROR_STATUSES else 500
    minutes = max(1, (retry_after_seconds + 59) // 60)
    try:
        page = portal_of(request).render(
            request, "error.html", {"status": status, "minutes": minutes}, status=status,
            cache=CACHE_ERROR,
        )  # fmt: skip
        if status == 429:
            page.headers["Retry-After"] = str(max(1, retry_after_seconds))
        return page
    except Exception:
        log.exception("the error page failed to render")
        return Response("error", status_code=status, media_type="text/plain")


def error_response(request: Request, exc: Exception) -> Response:
    if isinstance(exc, StarletteHTTPException):
        return error_page(request, exc.status_code)
    if isinstance(exc, forms.LoginNeeded):
        return RedirectResponse(exc.login, status_code=303)
    if isinstance(exc, forms.TooManyAttempts):
        return error_page(request, 429, exc.retry_after_seconds)
    if isinstance(exc, (RequestValidationError, forms.FormRefused)):
        return error_page(request, 400)
    log.exception("portal page %s failed", request.url.path, exc_info=exc)
    return error_page(request, 500)


def finish(request: Request, response: Response) -> Response:
    """Security headers on every answer, and the language cookie after a ``?lang=`` switch."""
    https = security.is_https(request)
    security.apply_headers(response, https=https, form_origins=_form_origins(request))
    visitor = getattr(request.state, "visitor", None)
    if isinstance(visitor, forms.Visitor) and visitor.new_form_id:
        security.set_cookie(response, forms.FORM_COOKIE, visitor.new_form_id, https=https,
                            max_age_seconds=None)  # fmt: skip
    chosen = i18n.parse_lang(request.query_params.get(i18n.LANG_QUERY))
    if chosen is not None:
        response.set_cookie(
            i18n.LANG_COOKIE, chosen, max_age=lang_cookie_max_age_seconds, path="/",
            secure=https, httponly=True, samesite="lax",
        )  # fmt: skip
    return response


def _form_origins(request: Request) -> tuple[str, ...]:
    """The hosted KYC provider's flow origin, when there is one: the "verify with" form's
    answer redirects the creditor there (``security.security_headers``)."""
    portal = getattr(request.app.state, "portal", None)
    services = portal.services if isinstance(portal, Portal) else None
    hosted = None if services is None else services.onboarding.hosted
    return () if hosted is None else (hosted.flow_origin,)


class WebRoute(APIRoute):
    """An ``APIRoute`` whose every answer, error or not, is finished by ``finish``."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            locale_of(request)
            try:
                response = await handler(request)
            except Exception as exc:  # every failure is the error page, never a trace
                response = error_response(request, exc)
            return finish(request, response)

        return guarded


def install_not_found_page(app: FastAPI) -> None:
    """Unmatched URLs asked for by a browser get the error page; other clients keep the
    handler already installed (the API's problem+json)."""
    api_handler = app.exception_handlers[StarletteHTTPException]

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if "text/html" in request.headers.get("accept", "") and exc.status_code in (404, 405):
            return finish(request, error_page(request, exc.status_code))
        answer = api_handler(request, exc)
        return await answer if isinstance(answer, Awaitable) else answer

    app.add_exception_handler(StarletteHTTPException, handle)


# Routes ------------------------------------------------------------------------------------

router = Router(route_class=WebRoute, include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    chosen = i18n.parse_lang(request.query_params.get(i18n.LANG_QUERY))
    query = f"?{i18n.LANG_QUERY}={i18n.LANG_TAGS[chosen]}" if chosen else ""
    return RedirectResponse(f"/transparency{query}", status_code=303)


@router.get("/transparency", response_class=HTMLResponse)
def transparency_page(request: Request) -> Response:
    """The public page: for visitors without a session, rendered once per view, language and
    address (``SharedPages``)."""
    portal = portal_of(request)
    view = portal.transparency.view()
    locale = locale_of(request)
    key = (locale, str(request.base_url))
    anonymous = portal.visitor(request).principal is None
    html = portal.shared.get(key, view) if anonymous else None
    if html is None:
        fmt, gettext = i18n.Localizer(locale), portal.translations[locale].gettext
        context = {
            "view": view,
            "jurisdiction_charts": {
                e.estate_id: jurisdiction_chart(e.jurisdictions, fmt, gettext) for e in view.estates
            },
            "rounds_chart": rounds_chart(view, fmt),
        }
        html, shared = portal.render_html(request, "transparency.html", context)
        if shared:
            portal.shared.put(key, view, html)
    return HTMLResponse(html, headers=_page_headers(locale, CACHE_PAGE))


@router.get(STATIC_PREFIX + "{name}")
def static_file(request: Request, name: str) -> Response:
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise StarletteHTTPException(404)
    body = portal_of(request).static[name]
    return Response(body, media_type=media_type, headers={"Cache-Control": CACHE_STATIC})


# Charts ------------------------------------------------------------------------------------


def jurisdiction_chart(
    rows: Sequence[JurisdictionRow], fmt: i18n.Localizer, _: Callable[[str], str]
) -> charts.Chart:
    """Owed amount by jurisdiction, largest first; beyond ``chart_jurisdictions_max`` summed."""
    shown, rest = rows[:chart_jurisdictions_max], rows[chart_jurisdictions_max:]
    items = [
        charts.Item(fmt.territory(r.iso), fmt.money(r.owed.admitted_minor),
                    (("amount", r.owed.admitted_minor),))
        for r in shown
    ]  # fmt: skip
    if rest:
        other = sum(r.owed.admitted_minor for r in rest)
        items.append(charts.Item(_(labels.OTHERS), fmt.money(other), (("amount", other),)))
    return charts.bar_chart(items)


def rounds_chart(view: Transparency, fmt: i18n.Localizer) -> charts.Chart:
    """Paid and escrowed USD per round (the latest ``chart_rows_max`` rounds): each row's value
    is the round's total; its bar is split into the paid and the escrowed part."""
    items = [
        charts.Item(
            f"{r.round_id} · {fmt.date(r.payment_date)}",
            fmt.money(r.paid_usd_minor + r.escrowed_usd_minor),
            (("paid", r.paid_usd_minor), ("escrowed", r.escrowed_usd_minor)),
        )
        for r in view.rounds[-chart_rows_max:]
    ]
    return charts.bar_chart(items)
