"""Routes of the portal that take a larger body than the API's, and their refusal page.

``UPLOAD_ROUTES`` (path → ``UploadRoute``) is what the API's request-limits middleware
(``entrypoints.api.app.RequestLimits``) reads: ``POST /kyc`` may carry
``limits.kyc_upload_body_max_bytes`` (a phone's photo of an identity document); every other
route keeps ``limits.request_body_max_bytes``. A body over the route's bound is refused by
``too_large``: the portal's ``413`` page in the reader's language (the locale from the
request, as every page), never the API's problem+json and never a trace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from reclaim.core.limits import kyc_upload_body_max_bytes
from reclaim.entrypoints.web.pages import error_page, finish, locale_of

KYC_UPLOAD_PATH: Final = "/kyc"
#: The page's status: Content Too Large (RFC 9110 §15.5.14).
TOO_LARGE: Final = 413

Refuse = Callable[[Scope, Receive, Send], Awaitable[None]]


async def too_large(scope: Scope, receive: Receive, send: Send) -> None:
    """The 413 page in the request's language (the body was not handed to any route)."""
    request = Request(scope, receive)
    locale_of(request)
    page = await run_in_threadpool(error_page, request, TOO_LARGE)
    page.headers["Connection"] = "close"
    await finish(request, page)(scope, receive, send)


@dataclass(frozen=True, slots=True)
class UploadRoute:
    body_max_bytes: int
    refuse: Refuse


UPLOAD_ROUTES: Final = {KYC_UPLOAD_PATH: UploadRoute(kyc_upload_body_max_bytes, too_large)}
