"""The web portal: server-rendered pages in Simplified Chinese, English and French.

``install(app, log, liabilities)`` (called by ``entrypoints.api.app.create_app``, after the API's
installers) adds the portal's routes to the API's app: the public transparency page
(``pages.py``), the creditor pages (``creditor.py``), their withdrawals (``money.py``), the
conversion of a claim into recovery notes (``notes.py``) and the note market (``market.py``) over
the services the API installed (``services.py``; the market's ``app.state.market``):

- ``i18n.py``: the locale of a request, the gettext catalogues (``locale/``), Babel formatting;
- ``security.py``: the security headers, the cookie and CSRF helpers, each with its threat;
- ``forms.py``: forms, the visitor (session, CSRF binding), the POST checks;
- ``pages.py``: rendering, ``WebRoute`` (locale, error pages, headers on every answer), routes;
- ``uploads.py``: the routes with a body bound of their own (the KYC upload) and their 413 page;
- ``charts.py``: server-rendered SVG bar charts; ``labels.py``: words that come from data;
- ``templates/`` (Jinja2, every string marked for translation), ``static/`` (CSS, no script).

The pages read and act through the application's services only (``app.transparency``,
``app.onboarding``, ``app.withdrawals``, ``app.web_accounts``, ``app.web_queries``), never the
database.
"""

from __future__ import annotations

from fastapi import FastAPI

from reclaim.app.liabilities import LiabilitiesService
from reclaim.app.log_service import LogService
from reclaim.app.transparency import TransparencyService
from reclaim.entrypoints.web import (
    creditor,
    market,
    money,
    notes,
    operator,
    operator_files,
    operator_market,
)
from reclaim.entrypoints.web.pages import Portal, install_not_found_page, router
from reclaim.entrypoints.web.services import CreditorServices
from reclaim.entrypoints.web.uploads import UPLOAD_ROUTES as KYC_UPLOAD_ROUTES
from reclaim.entrypoints.web.uploads import UploadRoute

__all__ = ["UPLOAD_ROUTES", "UploadRoute", "install"]
UPLOAD_ROUTES = {**KYC_UPLOAD_ROUTES, **operator_files.UPLOAD_ROUTES}


def install(
    app: FastAPI, log: LogService, liabilities: LiabilitiesService | None,
    csrf_secret: bytes | None = None,
) -> None:  # fmt: skip
    """Serve the portal's pages from ``app`` (after the API's problem handlers are installed);
    ``csrf_secret`` (``OnboardingWiring.csrf_secret``) is needed with onboarding, whose pages
    have forms."""
    service = TransparencyService(  # nothing is read until a page is asked for
        log,
        lambda: log.store.latest_checkpoint(),
        (lambda: None) if liabilities is None else (lambda: liabilities.latest()),
        lambda: log.clock.now().date(),
    )
    app.state.portal = Portal(service, CreditorServices.of(app, log, liabilities), csrf_secret)
    app.include_router(router)
    app.include_router(creditor.router)
    app.include_router(money.router)
    app.include_router(notes.router)
    app.include_router(market.router)
    app.include_router(operator.router)
    app.include_router(operator_market.router)
    app.include_router(operator_files.router)
    install_not_found_page(app)
