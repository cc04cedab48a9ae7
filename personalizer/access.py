"""Who may call, from where, and how often: partner authentication, CORS, rate limits, and the
operations token.

Authentication runs in its own ``before_request``, registered before the rate limiter's, so
the limiter's key functions only read what it decided and never raise. A request with a key
that is not valid is answered 401/403 before any limit is counted, and counted instead against
the client address's budget of failed authentications (``AUTH_FAILURE_LIMIT``); an address
over that budget gets 429 for anything that carries a key.

Rate limits on ``POST /v1/pages`` (flask-limiter, fixed windows):

- secret-key traffic: one bucket per partner (its ``rate_limit``, else ``RATE_LIMIT``);
- publishable-key traffic: another bucket per partner (its ``browser_rate_limit``, else its
  ``rate_limit``), and one per partner and end-user address (``BROWSER_RATE_LIMIT``), so one
  address forging an Origin can neither use up the partner's server bucket nor its browsers';
- anonymous traffic: per client address (``RATE_LIMIT``).

They are kept in Redis when ``REDIS_URL`` is set so all workers share them. When Redis is
unreachable the limiter falls back to per-process memory: requests keep being served, and
each worker counts on its own, so the effective limit is the configured one times the number
of workers until Redis returns (a deliberate choice: availability of health advice over exact
counting). Each limiter call to Redis is one try within ``REDIS_TIMEOUT_S``, no retry.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limit, Limiter
from flask_smorest import abort
from limits import parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry
from werkzeug.middleware.proxy_fix import ProxyFix

from personalizer.partners import AuthError, Partner, Registry

log = logging.getLogger(__name__)

KEY_HEADER = "X-Personalizer-Key"
PARTNER_REALM = 'Bearer realm="personalizer"'
OPS_REALM = 'Bearer realm="personalizer-operations"'
# Endpoints that tell how the service runs (versions, errors, quarantine, its whole API):
# behind PERSONALIZER_OPS_TOKEN when it is set. /healthz and /readyz stay open for probes.
OPS_PATHS = ("/metrics", "/v1/plugins", "/docs", "/openapi.json")
OPS_PREFIXES = ("/v1/experiments/",)
# Query parameters that look like a key: refused (400), since URLs end up in logs.
KEY_PARAMS = frozenset(
    {"api_key", "apikey", "key", "token", "access_token", "secret", "secret_key", "sk", "pk"}
)
KEY_PREFIXES = ("sk_", "pk_")


def registry() -> Registry:
    return current_app.extensions["personalizer"].partners


def _is_pages() -> bool:
    return request.endpoint == "v1.Pages" and request.method == "POST"


def _client() -> str:
    return request.remote_addr or "unknown"


def current_partner() -> Partner | None:
    """The authenticated partner of this request, or None when anonymous. The checks ran in
    ``authenticate`` before the view; this authenticates again only outside that path (a view
    called some other way), and never stores anything before an error."""
    if "partner" not in g:
        _authenticate()
    return g.partner


def key_kind() -> str | None:
    """How this request authenticated: "secret", "publishable", or None (anonymous)."""
    return g.get("key_kind")


def _authenticate() -> None:
    headers = request.headers
    authorization, publishable = headers.get("Authorization"), headers.get(KEY_HEADER)
    try:
        partner = registry().authenticate(authorization, publishable, headers.get("Origin"))
    except AuthError as exc:
        _count_failure()
        extra = {"WWW-Authenticate": PARTNER_REALM} if exc.code == 401 else {}
        abort(exc.code, message=exc.message, headers=extra)
    if partner is None and current_app.config["REQUIRE_PARTNER_KEY"]:
        abort(401, message="a partner key is required", headers={"WWW-Authenticate": PARTNER_REALM})
    g.key_kind = None if partner is None else ("secret" if authorization else "publishable")
    g.partner = partner


class Counter:
    """A fixed-window count of our own, kept in the limiter's storage (Redis when set) and in
    this process's memory when that storage fails: failed authentications per client address,
    and publishable-key calls per partner and end-user address. Checked before the limiter
    runs, so a call refused here never counts against the partner's shared bucket."""

    def __init__(self, limiter: Limiter, limit: str, prefix: str, name: str):
        self.limiter = limiter
        self.item = parse(limit)
        self.prefix = prefix
        self.name = name
        self.memory = FixedWindowRateLimiter(MemoryStorage())

    def _call(self, method: str, *keys: str):
        try:
            return getattr(self.limiter.limiter, method)(self.item, self.prefix, self.name, *keys)
        except Exception as exc:  # storage down or hung: count here instead
            log.warning("rate counter %s unavailable: %s", self.name, type(exc).__name__)
            return getattr(self.memory, method)(self.item, self.prefix, self.name, *keys)

    def test(self, *keys: str) -> bool:
        return self._call("test", *keys)

    def hit(self, *keys: str) -> bool:
        return self._call("hit", *keys)

    def window(self, *keys: str) -> tuple[float, int]:
        """When the window ends (epoch seconds) and how many calls it has left."""
        try:
            return self._call("get_window_stats", *keys)
        except Exception:
            return time.time() + self.item.get_expiry(), 0

    def refuse(self, message: str, *keys: str):
        reset, _ = self.window(*keys)
        abort(429, message=message, headers={"Retry-After": str(_seconds_until(reset))})


def _seconds_until(reset: float) -> int:
    return max(1, int(reset - time.time()) + 1)


def _counter(name: str) -> Counter | None:
    return current_app.extensions.get("personalizer_counters", {}).get(name)


def _count_failure() -> None:
    failures = _counter("authfail")
    if failures is not None:
        failures.hit(_client())


def _refuse_keys_in_query() -> None:
    for name, value in request.args.items(multi=True):
        if name.lower() in KEY_PARAMS or value.startswith(KEY_PREFIXES):
            abort(400, message="send keys in a header, never in the URL (URLs are logged)")


def _check_ops_token() -> None:
    token = current_app.config.get("OPS_TOKEN")
    path = request.path
    if not token or not (path in OPS_PATHS or path.startswith(OPS_PREFIXES)):
        return
    scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), str(token).encode()
    ):
        abort(
            401,
            message="this operations endpoint needs the operations token",
            headers={"WWW-Authenticate": OPS_REALM},
        )


def authenticate() -> None:
    """before_request: operations token, keys in the URL, then (POST /v1/pages) the partner."""
    _check_ops_token()
    if request.path.startswith("/v1/"):
        _refuse_keys_in_query()
    if not _is_pages():
        return
    headers = request.headers
    address = _client()
    failures = _counter("authfail")
    keyed = headers.get("Authorization") or headers.get(KEY_HEADER)
    if failures and keyed and not failures.test(address):
        failures.refuse("too many failed authentications from this address", address)
    _authenticate()
    browsers = _counter("browser")
    if browsers and key_kind() == "publishable":
        keys = (g.partner.id, address)
        allowed = browsers.hit(*keys)
        reset, remaining = browsers.window(*keys)
        g.own_limit = (remaining, reset, browsers.item.amount, not allowed)
        if not allowed:
            browsers.refuse("too many requests from this address for this partner", *keys)


# -- the limits on POST /v1/pages ----------------------------------------------------------


def _partner() -> Partner | None:
    return g.get("partner")


def _partner_id() -> str:
    partner = _partner()
    return partner.id if partner else "-"


# The limiter reads every limit's value before it asks whether the limit applies, so these
# answer for any request; the exemptions below decide which ones count.


def _server_key() -> str:
    return f"partner:{_partner_id()}:server"


def _server_limit() -> str:
    partner = _partner()
    return (partner and partner.rate_limit) or current_app.config["RATE_LIMIT"]


def _browser_key() -> str:
    return f"partner:{_partner_id()}:browser"


def _browser_limit() -> str:
    partner = _partner()
    own = partner and (partner.browser_rate_limit or partner.rate_limit)
    return own or current_app.config["RATE_LIMIT"]


def _anonymous_key() -> str:
    return f"addr:{_client()}"


def _anonymous_limit() -> str:
    return current_app.config["RATE_LIMIT"]


def _exempt_unless(kind: str | None):
    return lambda: not _is_pages() or "partner" not in g or key_kind() != kind


def rate_key() -> str:
    """The key of the limiter's own default (unused: every limit below names its key)."""
    return _anonymous_key()


LIMITS = (
    (_server_limit, _server_key, "secret"),
    (_browser_limit, _browser_key, "publishable"),
    (_anonymous_limit, _anonymous_key, None),
)


class BreakerStorage(Storage):
    """The limiter's Redis storage behind a circuit breaker. One error opens it; while open,
    every call fails at once (flask-limiter then counts in this process's memory) and the
    health check answers from the breaker, never from Redis. A background thread pings Redis
    every ``PROBE_EVERY`` seconds and closes the breaker when it answers. So a hung Redis
    costs the limiter one timeout per outage and worker, never a request's time again.
    Used through the URL scheme ``breaker+<scheme>://...``."""

    STORAGE_SCHEME = [f"breaker+{scheme}" for scheme in ("redis", "rediss", "unix")] + [
        "breaker+redis+cluster",
        "breaker+redis+sentinel",
    ]
    PROBE_EVERY = 1.0
    PROBES = 60  # a probing thread gives up after this many; the next failure starts another

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        self.inner = storage_from_string(uri.removeprefix("breaker+"), **options)
        self.is_open = False
        self._probing = threading.Lock()
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def base_exceptions(self):
        return Exception

    @property
    def storage(self):
        """The Redis client underneath (as on the limits library's own storages)."""
        return getattr(self.inner, "storage", None)

    def _open(self) -> None:
        self.is_open = True
        if self._probing.acquire(blocking=False):
            threading.Thread(target=self._probe, name="ratelimit-probe", daemon=True).start()

    def _probe(self) -> None:
        try:
            for _ in range(self.PROBES):
                time.sleep(self.PROBE_EVERY)
                try:
                    if self.inner.check():
                        self.is_open = False
                        return
                except Exception:
                    pass
        finally:
            self._probing.release()

    def _call(self, method: str, *args, **kwargs):
        if self.is_open:
            self._open()  # a probe runs while the breaker is open (restarted if it gave up)
            raise ConnectionError("rate-limit storage unavailable (breaker open)")
        try:
            return getattr(self.inner, method)(*args, **kwargs)
        except Exception:
            self._open()
            raise

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._call("incr", key, expiry, amount=amount)

    def get(self, key: str) -> int:
        return self._call("get", key)

    def get_expiry(self, key: str) -> float:
        return self._call("get_expiry", key)

    def check(self) -> bool:
        if self.is_open:
            self._open()
            return False
        return True

    def reset(self):
        return self._call("reset")

    def clear(self, key: str) -> None:
        return self._call("clear", key)


def _storage(url: str | None, timeout: float) -> tuple[str, dict]:
    """The limiter's storage URI and options: the configured Redis behind a breaker, one try
    per call within the timeout (redis-py's default retries three times with backoff, which
    made a hung Redis cost the first request about a second); memory without Redis."""
    if not url:
        return "memory://", {}
    options = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
    }
    return "breaker+" + url, options


def init_app(app: Flask) -> None:
    """One limiter per app (tests build many apps in one process), for POST /v1/pages."""
    cfg = app.config
    hops = int(cfg.get("PROXY_HOPS") or 0)
    if hops:  # X-Forwarded-For/-Proto from this many trusted proxies in front (nginx: 1)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    # Registered before the limiter's own before_request, so it runs first.
    app.before_request(authenticate)
    storage_uri, storage_options = _storage(cfg["REDIS_URL"], cfg["REDIS_TIMEOUT_S"])
    limiter = Limiter(
        key_func=rate_key,
        app=app,
        default_limits=[
            Limit(limit, key_function=key, exempt_when=_exempt_unless(kind))
            for limit, key, kind in LIMITS
        ],
        headers_enabled=False,  # set below from the limit that binds, Retry-After only on 429
        strategy="fixed-window",
        storage_uri=storage_uri,  # the limits library reads the same URL schemes as the cache
        storage_options=storage_options,
        key_prefix=cfg["CACHE_PREFIX"] + "ratelimit",
        enabled=cfg["RATE_LIMIT_ENABLED"],
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    app.extensions["limiter"] = limiter
    if cfg["RATE_LIMIT_ENABLED"]:
        prefix = cfg["CACHE_PREFIX"] + "ratelimit"
        app.extensions["personalizer_counters"] = {
            "authfail": Counter(limiter, cfg["AUTH_FAILURE_LIMIT"], prefix, "authfail"),
            "browser": Counter(limiter, cfg["BROWSER_RATE_LIMIT"], prefix, "browser-address"),
        }

    @app.after_request
    def rate_headers(response: Response) -> Response:
        """X-RateLimit-* of the limit closest to running out; Retry-After only on a 429."""
        if response.status_code != 429:
            response.headers.pop("Retry-After", None)
        limits = limiter.current_limits if limiter.enabled else []
        try:  # (remaining, reset, amount, breached) of every limit that counted this request
            stats = [(x.remaining, x.reset_at, x.limit.amount, x.breached) for x in limits]
        except Exception:  # storage failed while reading the windows: no headers
            return response
        if "own_limit" in g:
            stats.append(g.own_limit)
        if not stats:
            return response
        breached = [s for s in stats if s[3]]
        remaining, reset, amount, _ = min(breached or stats, key=lambda s: (s[0], -s[1]))
        response.headers["X-RateLimit-Limit"] = str(amount)
        response.headers["X-RateLimit-Remaining"] = str(max(0, remaining))
        response.headers["X-RateLimit-Reset"] = str(int(reset))
        if response.status_code == 429:
            response.headers["Retry-After"] = str(_seconds_until(reset))
        return response

    @app.after_request
    def cors(response: Response) -> Response:
        """CORS answers only the origins some partner allows. X-Cache is not exposed: it would
        tell a page whether someone else recently asked for a page with the same features."""
        origin = (request.headers.get("Origin") or "").rstrip("/")
        if origin and request.path.startswith("/v1/") and origin in registry().origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Headers"] = f"Content-Type, {KEY_HEADER}"
            response.headers["Access-Control-Allow-Methods"] = "POST, GET"
            response.headers["Access-Control-Expose-Headers"] = (
                "ETag, X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
                "X-RateLimit-Reset"
            )
            response.headers["Access-Control-Max-Age"] = "600"
        if origin and request.path.startswith("/v1/"):
            response.vary.add("Origin")
        return response
