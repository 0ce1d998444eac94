"""Request checks of the review application, in front of every route.

Why each one:

- **Token** when bound beyond loopback (and whenever one is configured): anyone who can
  reach the port could otherwise read the batch and write decisions. ``?token=...`` once
  sets an HttpOnly, SameSite=Strict cookie and redirects to the same URL without it (so the
  token does not stay in the address bar or the history); API clients may send
  ``Authorization: Bearer ...``.
- **Host** on loopback: a page on another site could point its own host name at 127.0.0.1
  (DNS rebinding) and read the app as same-origin; only loopback names are answered.
- **CSRF**: every state-changing request carries the per-process token that only pages of
  this app contain, as a header a cross-site form cannot set, with a JSON body; a request
  whose Origin is another site is refused outright.
- **No uploads**: bodies are small JSON documents; multipart and large bodies are refused
  before they are read.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

TOKEN_COOKIE = "scanscribe_review_token"
TOKEN_PARAM = "token"
CSRF_HEADER = "x-csrf-token"
HEALTH_PATH = "/healthz"
"""Answered without the token (container health checks); it says "ok" and nothing else."""

MAX_BODY_BYTES: int = 16 * 1024
"""A decision is a few hundred bytes; a whole corrected word well under 2 KB."""

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
SAFE_METHODS = frozenset({"GET", "HEAD"})

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self'; script-src 'self'; "
    "style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
}


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_NAMES or host.startswith("127.")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _host_name(host_header: str) -> str:
    return (urlsplit(f"//{host_header}").hostname or "").lower()


class SecurityMiddleware:
    """Pure ASGI, so it costs one check per request and never buffers a response."""

    def __init__(self, app: Any, token: str, csrf: str, loopback: bool) -> None:
        self.app = app
        self.token = token
        self.csrf = csrf
        self.loopback = loopback

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refused = self.check(request)
        if refused is not None:
            await _with_headers(refused)(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if headers.get("content-type", "").startswith("text/html"):
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def check(self, request: Request) -> Response | None:
        """None when the request may proceed, else the refusal."""
        host = request.headers.get("host", "")
        if self.loopback and not is_loopback(_host_name(host)):
            return PlainTextResponse(f"host {host!r} is not served here", status_code=421)
        if request.url.path == HEALTH_PATH and request.method in SAFE_METHODS:
            return None
        if self.token:
            refused = self._check_token(request)
            if refused is not None:
                return refused
        if request.method in SAFE_METHODS:
            return None
        if request.method != "POST":
            return PlainTextResponse("method not allowed", status_code=405)
        return self._check_post(request, host)

    def _check_token(self, request: Request) -> Response | None:
        offered = request.query_params.get(TOKEN_PARAM)
        if offered is not None and request.method in SAFE_METHODS:
            if not _same(offered, self.token):
                return PlainTextResponse("wrong token", status_code=401)
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != TOKEN_PARAM]
            url = request.url.path + ("?" + urlencode(rest) if rest else "")
            response = RedirectResponse(url, status_code=303)
            response.set_cookie(
                TOKEN_COOKIE, self.token, httponly=True, samesite="strict", path="/"
            )
            return response
        cookie = request.cookies.get(TOKEN_COOKIE, "")
        auth = request.headers.get("authorization", "")
        bearer = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
        if (cookie and _same(cookie, self.token)) or (bearer and _same(bearer, self.token)):
            return None
        return PlainTextResponse(
            "this review server needs its token: open the URL it printed (…/?token=...) or "
            "send Authorization: Bearer <SCANSCRIBE_REVIEW_TOKEN>",
            status_code=401,
        )

    def _check_post(self, request: Request, host: str) -> Response | None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/") or "x-www-form-urlencoded" in content_type:
            return PlainTextResponse("uploads and forms are not accepted", status_code=415)
        if not content_type.startswith("application/json"):
            return PlainTextResponse("JSON bodies only", status_code=415)
        length = request.headers.get("content-length")
        if length is None or not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return PlainTextResponse(
                f"a body of at most {MAX_BODY_BYTES} bytes, with Content-Length",
                status_code=413,
            )
        origin = request.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != host:
            return PlainTextResponse("cross-origin request refused", status_code=403)
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return PlainTextResponse("cross-site request refused", status_code=403)
        if not _same(request.headers.get(CSRF_HEADER, ""), self.csrf):
            return PlainTextResponse("missing or wrong CSRF token", status_code=403)
        return None


def _with_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
