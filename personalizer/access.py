"""Who may call, from where, and how often: partner authentication, CORS, rate limits.

Rate limits are per partner (per client address for anonymous calls), kept in Redis when
``REDIS_URL`` is set so all workers share them. When Redis is unreachable the limiter falls
back to per-process memory: requests keep being served, and each worker counts on its own,
so the effective limit is the configured one times the number of workers until Redis returns
(a deliberate choice: availability of health advice over exact counting).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter
from flask_smorest import abort

from personalizer.partners import AuthError, Partner, Registry

KEY_HEADER = "X-Personalizer-Key"


def registry() -> Registry:
    return current_app.extensions["personalizer"].partners


def current_partner() -> Partner | None:
    """The authenticated partner of this request (cached), or the 401/403 error."""
    if "partner" not in g:
        try:
            g.partner = registry().authenticate(
                request.headers.get("Authorization"),
                request.headers.get(KEY_HEADER),
                request.headers.get("Origin"),
            )
        except AuthError as exc:
            abort(exc.code, message=exc.message)
        if g.partner is None and current_app.config["REQUIRE_PARTNER_KEY"]:
            abort(401, message="a partner key is required")
    return g.partner


def rate_key() -> str:
    partner = current_partner()
    return f"partner:{partner.id}" if partner else f"addr:{request.remote_addr}"


def rate_limit() -> str:
    partner = current_partner()
    return (partner and partner.rate_limit) or current_app.config["RATE_LIMIT"]


def _not_pages() -> bool:
    return request.endpoint != "v1.Pages" or request.method != "POST"


def init_app(app: Flask) -> None:
    """One limiter per app (tests build many apps in one process), for POST /v1/pages."""
    cfg = app.config
    url = cfg["REDIS_URL"]
    timeout = cfg["REDIS_TIMEOUT_S"]
    app.extensions["limiter"] = Limiter(
        key_func=rate_key,
        app=app,
        default_limits=[rate_limit],
        default_limits_exempt_when=_not_pages,
        headers_enabled=True,
        strategy="fixed-window",
        storage_uri=url or "memory://",  # the limits library reads the same URL schemes
        storage_options={"socket_timeout": timeout, "socket_connect_timeout": timeout}
        if url
        else {},
        key_prefix=cfg["CACHE_PREFIX"] + "ratelimit",
        enabled=cfg["RATE_LIMIT_ENABLED"],
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )

    @app.after_request
    def cors(response: Response) -> Response:
        """CORS answers only the origins some partner allows."""
        origin = (request.headers.get("Origin") or "").rstrip("/")
        if origin and request.path.startswith("/v1/") and origin in registry().origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Headers"] = f"Content-Type, {KEY_HEADER}"
            response.headers["Access-Control-Allow-Methods"] = "POST, GET"
            response.headers["Access-Control-Expose-Headers"] = (
                "X-Cache, ETag, X-Request-Id, Retry-After"
            )
            response.headers["Access-Control-Max-Age"] = "600"
        if origin and request.path.startswith("/v1/"):
            response.vary.add("Origin")
        return response
