"""The hit path: the call production sends most, answered without Flask's request machinery.

The marketing site's backend asks for pages with its secret key, as JSON, and mostly for
bodies the service has seen before, whose pages are cached. For that call, Flask's request
context, routing, hooks and response objects cost more than the work the service itself does
(docs/performance.md). ``HitPath`` sits in front of the Flask app and answers it with the
service's own functions: the partner's authentication (``partners.Registry``), the rate-limit
counts riding with the page read (``access.page_batch``, ``access.start_count``), the page
(``PageService.serve_body``), the same headers (``api.page_headers``,
``observability.security_headers``, ``access.rate_limit_headers``) and the same metrics.

Every other call goes to Flask unchanged: another method, path or a query string; a
publishable key, a key that is not valid, or no key where one is required; an ``Accept`` other
than JSON; a body that is not plain JSON with a ``Content-Length`` within the limit, or is
blank; ``If-None-Match``; an ``Origin`` (CORS); a body not seen before; a page not in the
cache; a call over its limit. A call found not to be a plain hit after it was counted is
handed on with its count (``access.COUNTED``), so Flask never counts it twice, and with its
body, already read.
"""

from __future__ import annotations

import io
import time

from flask import Flask

from personalizer import access, api, observability
from personalizer import cache as page_cache
from personalizer.partners import AuthError

ROUTE = "/v1/pages"
JSON = "application/json"
# Accept values that mean JSON here; anything else is negotiated by Flask (api.wants_html).
JSON_ACCEPTS = frozenset({"", "*/*", JSON})
# Request headers that need the full path.
FULL_PATH_HEADERS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_ORIGIN",
    "HTTP_CONTENT_ENCODING",
    "HTTP_" + access.KEY_HEADER.upper().replace("-", "_"),
)


class NotPlain(Exception):
    """The body must be validated: it is not one whose page this worker knows."""


def _not_plain():
    raise NotPlain


class HitPath:
    """WSGI middleware in front of the Flask app (``next``)."""

    def __init__(self, app: Flask, next_app):
        self.next = next_app
        # What the app holds is read on each call, so the hit path never keeps a service, a
        # limiter or settings the app has replaced.
        self.extensions, self.config = app.extensions, app.config

    def __call__(self, environ, start_response):
        size = self._plain_size(environ)
        if not size:
            return self.next(environ, start_response)
        started = time.perf_counter()
        service = self.extensions["personalizer"]
        limiter = self.extensions.get("personalizer_limiter")
        try:
            partner = service.partners.authenticate(environ.get("HTTP_AUTHORIZATION"), None, None)
        except AuthError:
            return self.next(environ, start_response)  # answered and counted there
        if partner is None and self.config["REQUIRE_PARTNER_KEY"]:
            return self.next(environ, start_response)
        raw = environ["wsgi.input"].read(size)
        if len(raw) != size or not raw.strip():
            return self._hand_on(environ, start_response, raw, None)
        batch = None
        if limiter is not None:
            address = environ.get("REMOTE_ADDR") or "unknown"
            batch = access.page_batch(limiter, self.config, partner, address)
            if access.start_count(limiter, batch, ride=True):
                return self._hand_on(environ, start_response, raw, batch)  # refused there
        try:
            served = service.serve_body(raw, "json", partner, _not_plain)
        except Exception:  # not seen, not cached, over the limit: Flask answers (a 429, ...)
            return self._hand_on(environ, start_response, raw, batch)
        finally:
            page_cache.RIDER.set(None)
        body = served.body
        headers = [
            ("Content-Type", JSON),
            ("Content-Length", str(len(body))),
            *api.page_headers(served),
            ("X-Request-Id", observability.request_id(environ.get("HTTP_X_REQUEST_ID"))),
            *observability.security_headers(JSON),
            *access.rate_limit_headers(batch.stats if batch is not None else [], 200),
        ]
        start_response("200 OK", headers)
        self.extensions["metrics"].request_done(
            ROUTE, "POST", 200, time.perf_counter() - started, served.cache
        )
        return [body]

    def _plain_size(self, environ) -> int:
        """The body's size when this call may be a plain hit, else 0."""
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or environ.get("PATH_INFO") != ROUTE
            or environ.get("QUERY_STRING")
            or environ.get("HTTP_ACCEPT", "") not in JSON_ACCEPTS
            or environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
            not in api.JSON_TYPES
            or any(name in environ for name in FULL_PATH_HEADERS)
        ):
            return 0
        length = environ.get("CONTENT_LENGTH", "")
        size = int(length) if length.isdigit() else 0
        return size if size <= self.config["MAX_CONTENT_LENGTH"] else 0

    def _hand_on(self, environ, start_response, raw: bytes, batch):
        """Flask takes the call as it came, with its body and, when counted, its count."""
        environ["wsgi.input"] = io.BytesIO(raw)
        if batch is not None and batch.resolved:
            environ[access.COUNTED] = batch
        return self.next(environ, start_response)
