"""Who may call, from where, and how often: partner authentication, CORS, rate limits, and the
operations token.

Authentication runs first, in ``authenticate`` (a ``before_request``): a request with a key
that is not valid is answered 401/403 before any limit is counted, and counted instead against
the client address's budget of failed authentications (``AUTH_FAILURE_LIMIT``); an address
over that budget gets 429 for anything that carries a key, valid or not (so a guess never
learns whether it was right). A valid key is recognised by its SHA-256 hash once per worker,
then from a bounded map of the keys seen valid. A plain call for a cached page is admitted by
the hit path (hitpath.py) with the same functions (``page_batch``, ``start_count``); any call
with a key that is not valid goes on to ``authenticate``.

Rate limits on ``POST /v1/pages`` are fixed windows (a window starts with its first call and
lasts the limit's period; every call in it counts, refused ones too):

- secret-key traffic: one bucket per partner (its ``rate_limit``, else ``RATE_LIMIT``);
- publishable-key traffic: another bucket per partner (its ``browser_rate_limit``, else its
  ``rate_limit``), and one per partner and end-user address (``BROWSER_RATE_LIMIT``), checked
  first, so one address forging an Origin can neither use up the partner's server bucket nor
  its browsers';
- anonymous traffic: per client address (``RATE_LIMIT``).

The counts are kept in Redis when ``REDIS_URL`` is set, so every worker and every instance
shares them: each window is one Redis key counted with ``INCR``, which is atomic and answers
the count, so the decision is exact, never an estimate. The call that starts a window (the
count 1) gives the key its expiry, the window's length (one more round trip, once per
window); a worker learns a window's end once (it started it, or asks ``PTTL`` the first time
it meets it) for ``X-RateLimit-Reset``. Should setting the expiry fail, the next worker that
asks finds the key without one and sets it: every counter expires, at worst one window
lasting up to twice its length.

To cost no round trip of its own, the count of a call rides in the same pipeline as
the call's first page-cache read (``cache.RIDER``): the page is read and the call counted in
one round trip, and a call over its limit is answered 429 before its page is used or built.
A call that reads no page first (``?explain=1``, a cache already known down) is counted on
its own before its page is built; one that ends before any page read (a 4xx) is counted as it
ends. So over its limit a call is refused at the latest after its body is validated, never
after a page is built.

When Redis is unreachable the counts fall back to per-process memory: requests keep being
served, and each worker counts on its own, so the effective limit is the configured one times
the number of workers until Redis returns (a deliberate choice: availability of health advice
over exact counting). The limiter's own Redis calls go through ``BreakerStorage``: one try
within ``REDIS_TIMEOUT_S``, no retry, and a breaker that keeps them away from a Redis known
down. Each answer carries ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` of the limit
closest to running out, and a 429 ``Retry-After`` (seconds until its window ends).
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request
from flask_smorest import abort
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from personalizer import cache as page_cache
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
# Where the hit path (hitpath.py) leaves a call it has counted, when it hands the call on: a
# WSGI environ key, which no client header can set (those are all HTTP_*).
COUNTED = "personalizer.counted"


def registry() -> Registry:
    return current_app.extensions["personalizer"].partners


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
        limiter = _limiter()
        if limiter is not None:  # 429 when the address is over its budget, else count it
            limiter.failed_authentication(_client())
        extra = {"WWW-Authenticate": PARTNER_REALM} if exc.code == 401 else {}
        abort(exc.code, message=exc.message, headers=extra)
    if partner is None and current_app.config["REQUIRE_PARTNER_KEY"]:
        abort(401, message="a partner key is required", headers={"WWW-Authenticate": PARTNER_REALM})
    g.key_kind = None if partner is None else ("secret" if authorization else "publishable")
    g.partner = partner


def _seconds_until(reset: float) -> int:
    return max(1, int(reset - time.time()) + 1)


def _refuse(message: str, reset: float):
    abort(429, message=message, headers={"Retry-After": str(_seconds_until(reset))})


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
    """before_request: operations token, keys in the URL, then (POST /v1/pages) the partner
    and the rate limits."""
    page_cache.RIDER.set(None)  # never one left from another request
    _check_ops_token()
    req = request._get_current_object()
    if req.query_string and req.path.startswith("/v1/"):
        _refuse_keys_in_query()
    if req.endpoint != "v1.Pages" or req.method != "POST":
        return
    _authenticate()
    counted = req.environ.get(COUNTED)
    if counted is not None:  # the hit path (hitpath.py) counted this call already
        g.rate_batch = counted
        if counted.refusal:
            _refuse(*counted.refusal)
        return
    limiter = _limiter()
    if limiter is None:
        return
    address, partner, kind = _client(), g.partner, key_kind()
    config = current_app.config
    if kind == "publishable":
        # The per-address count comes first, on its own: a call it refuses never counts in the
        # partner's browser bucket.
        own = limiter.buckets(config["BROWSER_RATE_LIMIT"], "browser-address", partner.id, address)
        first = Batch(limiter, own, [_failed_auth_bucket(limiter, config, address)])
        refusal = first.resolve()
        if first.stats:
            g.own_limit = min(first.stats, key=lambda s: (s[0], -s[1]))
        if refusal:
            _refuse(*refusal)
        own_limit = partner.browser_rate_limit or partner.rate_limit or config["RATE_LIMIT"]
        batch = Batch(limiter, limiter.buckets(own_limit, "partner", partner.id, "browser"), [])
    else:
        batch = page_batch(limiter, config, partner, address)
    g.rate_batch = batch
    # Counted with the page read, in one round trip, when one comes first: not with a query
    # (?explain=1 builds without reading).
    refusal = start_count(limiter, batch, ride=not req.query_string)
    if refusal:
        _refuse(*refusal)


def page_batch(limiter: PageLimiter, config, partner: Partner | None, address: str) -> Batch:
    """The counts of a call with a secret key (its partner's bucket, and a look at the
    address's failed authentications: over that budget, a valid key is refused too) or of an
    anonymous call (its address's bucket)."""
    if partner is None:
        return Batch(limiter, limiter.buckets(config["RATE_LIMIT"], "addr", address), [])
    own_limit = partner.rate_limit or config["RATE_LIMIT"]
    hits = limiter.buckets(own_limit, "partner", partner.id, "server")
    return Batch(limiter, hits, [_failed_auth_bucket(limiter, config, address)])


def start_count(limiter: PageLimiter, batch: Batch, ride: bool) -> tuple[str, float] | None:
    """Let the counts ride with the call's first page read when one comes (and the cache is
    not known down); else count now, before any page is built: the refusal, or None."""
    if ride and limiter.rides is not None and limiter.rides.available():
        page_cache.RIDER.set(batch)
        return None
    return batch.resolve()


def _failed_auth_bucket(limiter: PageLimiter, config, address: str) -> Bucket:
    return limiter.bucket(config["AUTH_FAILURE_LIMIT"], "authfail", address)


# -- the limits on POST /v1/pages ----------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _items(limit: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limit))


@dataclass(frozen=True)
class Bucket:
    """One fixed window: a limit item and the storage key of its count."""

    item: RateLimitItem
    key: str

    @property
    def window_ms(self) -> int:
        return int(self.item.get_expiry() * 1000)


class Batch:
    """The counts one call makes (``hits``) and reads (``peeks``), resolved once: in the same
    pipeline as the call's first page read (it is the cache's ``RIDER``), or on its own.
    ``stats`` are (remaining, reset, amount, breached) of every hit, for the headers.

    Commands are plain ones (a Lua script costs Redis several times more): ``INCR`` of each
    window counted, ``GET`` of each read. The window's end, for ``X-RateLimit-Reset``, is
    known to this worker once it has seen the window (it started it, or asked ``PTTL`` once):
    a window has one end, set when it starts, so that needs no asking again."""

    def __init__(self, limiter: PageLimiter, hits: list[Bucket], peeks: list[Bucket]):
        self.limiter, self.hits, self.peeks = limiter, hits, peeks
        self.now = time.time()
        self.ask = [limiter.window_end(b.key, self.now) is None for b in hits]
        self.resolved = False
        self.stats: list[tuple] = []
        self.refusal: tuple[str, float] | None = None

    # -- the cache's rider protocol (personalizer/cache.py) --

    def commands(self) -> list[tuple]:
        commands = []
        for bucket, ask in zip(self.hits, self.ask, strict=True):
            commands.append(("INCR", bucket.key))
            if ask:
                commands.append(("PTTL", bucket.key))
        commands += [("GET", bucket.key) for bucket in self.peeks]
        return commands

    def done(self, results: list) -> None:
        refusal = self._decide(self.answers(results))
        if refusal:
            _refuse(*refusal)

    def failed(self, exc: Exception) -> None:
        self.limiter.storage_failed(exc)
        refusal = self._decide(self.limiter.in_memory(self))
        if refusal:
            _refuse(*refusal)

    # -- on its own --

    def resolve(self) -> tuple[str, float] | None:
        """Count now, if not counted yet: the refusal (message, window end), or None."""
        if not self.resolved:
            self._decide(self.limiter.count(self))
        return self.refusal

    def answers(self, results: list) -> list[tuple[int, float | None]]:
        """(count, window end) of every hit, then (count, None) of every read, from Redis's
        answers. A count of 1 is a window this call started: it gets its expiry now (one more
        round trip, once per window). A window found without an expiry (that round trip
        failed) gets one from the call that finds it."""
        answers, fresh = [], []
        at = 0
        for bucket, ask in zip(self.hits, self.ask, strict=True):
            n = int(results[at])
            left = int(results[at + 1]) if ask else None
            at += 2 if ask else 1
            period = bucket.item.get_expiry()
            if n == 1 or (left is not None and left < 0):
                fresh.append(bucket)
                end = self.now + period
            elif left is not None:
                end = self.now + left / 1000
            else:
                end = self.limiter.window_end(bucket.key, self.now) or self.now + period
            self.limiter.remember(bucket.key, end)
            answers.append((n, end))
        answers += [(int(value or 0), None) for value in results[at:]]
        if fresh:
            self.limiter.start_windows(fresh)
        return answers

    def _decide(self, answers: list) -> tuple[str, float] | None:
        self.resolved = True
        counted, read = answers[: len(self.hits)], answers[len(self.hits) :]
        for bucket, (n, end) in zip(self.peeks, read, strict=True):
            if n >= bucket.item.amount:
                end = end or self.limiter.read_end(bucket, self.now)
                self.refusal = ("too many failed authentications from this address", end)
                return self.refusal  # no rate headers: the partner's count is not the reason
        self.stats = [
            (bucket.item.amount - n, end, bucket.item.amount, n > bucket.item.amount)
            for bucket, (n, end) in zip(self.hits, counted, strict=True)
        ]
        breached = [
            (bucket, end)
            for bucket, (n, end) in zip(self.hits, counted, strict=True)
            if n > bucket.item.amount
        ]
        if breached:
            bucket, end = max(breached, key=lambda b: b[1])
            self.refusal = (f"too many requests: the limit is {bucket.item}", end)
        return self.refusal


class PageLimiter:
    """Fixed-window counts for POST /v1/pages: in Redis through ``BreakerStorage`` (shared by
    every worker), in this process's memory without Redis or while it is down. Its
    ``enabled``, ``_storage`` and ``_storage_dead`` are what the tests and tools read."""

    enabled = True
    KNOWN_WINDOWS = 10_000  # window ends this worker remembers (then it starts again)

    def __init__(self, storage: BreakerStorage | None, prefix: str, rides=None):
        self._storage = storage
        self.prefix = prefix
        # The page cache the counts ride with (cache.RedisCache), or None: they go on their own.
        self.rides = rides if storage is not None else None
        self.memory = MemoryStorage()
        self._ends: dict[str, float] = {}

    @property
    def _storage_dead(self) -> bool:
        """True while the counts are kept in memory because Redis failed."""
        return self._storage is not None and self._storage.is_open

    def bucket(self, limit: str, *parts: str) -> Bucket:
        return self.buckets(limit, *parts)[0]

    def buckets(self, limit: str, *parts: str) -> list[Bucket]:
        """One bucket per item of the limit ("10/second; 500/hour" is two windows); the key
        names the limit, so a changed limit starts a new window."""
        return _buckets(self.prefix, limit, parts)

    def window_end(self, key: str, now: float) -> float | None:
        end = self._ends.get(key)
        return end if end is not None and end > now else None

    def remember(self, key: str, end: float) -> None:
        if len(self._ends) >= self.KNOWN_WINDOWS:
            self._ends.clear()
        self._ends[key] = end

    def count(self, batch: Batch) -> list:
        """Count a batch on its own: one pipeline to Redis, or memory."""
        storage = self._storage
        if storage is not None and not storage.is_open:
            try:
                return batch.answers(storage.run(lambda client: _run(client, batch)))
            except Exception as exc:
                log.warning("rate counts unavailable (%s); counting in memory", type(exc).__name__)
        return self.in_memory(batch)

    def start_windows(self, buckets: list[Bucket]) -> None:
        """Give new windows their expiry. A window whose call failed here is left without one
        until the next call that asks finds it so."""
        if self._storage is None:
            return

        def expire(client):
            for bucket in buckets:
                client.pexpire(bucket.key, bucket.window_ms)

        try:
            self._storage.run(expire)
        except Exception as exc:
            log.warning("rate window expiry not set (%s)", type(exc).__name__)
            for bucket in buckets:
                self._ends.pop(bucket.key, None)  # ask again next time

    def read_end(self, bucket: Bucket, now: float) -> float:
        """When a window that is only read ends (for Retry-After): asked only on a refusal."""
        storage = self._storage
        if storage is not None and not storage.is_open:
            try:
                left = storage.run(lambda client: client.pttl(bucket.key))
                if left > 0:
                    return now + left / 1000
            except Exception:
                pass
        if self.memory.get(bucket.key):
            return self.memory.get_expiry(bucket.key)
        return now + bucket.item.get_expiry()

    def storage_failed(self, exc: Exception) -> None:
        log.warning("rate counts unavailable (%s); counting in memory", type(exc).__name__)
        if self._storage is not None:
            self._storage._open()

    def in_memory(self, batch: Batch) -> list:
        results = []
        for bucket in batch.hits:
            n = self.memory.incr(bucket.key, bucket.item.get_expiry())
            results.append((int(n), self.memory.get_expiry(bucket.key)))
        for bucket in batch.peeks:
            n = self.memory.get(bucket.key)
            results.append((int(n), self.memory.get_expiry(bucket.key) if n else None))
        return results

    def failed_authentication(self, address: str) -> None:
        """A key that is not valid: 429 when the address is over its budget, else counted."""
        bucket = _failed_auth_bucket(self, current_app.config, address)
        refusal = Batch(self, [], [bucket]).resolve()
        if refusal:
            _refuse(*refusal)
        Batch(self, [bucket], []).resolve()


@functools.lru_cache(maxsize=4096)
def _buckets(prefix: str, limit: str, parts: tuple[str, ...]) -> list[Bucket]:
    name = "/".join((prefix, *parts))
    return [
        Bucket(item, f"{name}/{item.amount}/{item.multiples}/{item.GRANULARITY.name}")
        for item in _items(limit)
    ]


def _run(client, batch: Batch) -> list:
    if isinstance(client, RedisCluster):  # keys on different nodes: one call each
        results = []
        for bucket, ask in zip(batch.hits, batch.ask, strict=True):
            results.append(client.incr(bucket.key))
            if ask:
                results.append(client.pttl(bucket.key))
        return results + [client.get(bucket.key) for bucket in batch.peeks]
    pipe = client.pipeline(transaction=False)
    for command in batch.commands():
        pipe.execute_command(*command)
    return pipe.execute()


class _Off:
    """``app.extensions["limiter"]`` when rate limits are off."""

    enabled = False
    _storage = None
    _storage_dead = False


def _limiter() -> PageLimiter | None:
    return current_app.extensions.get("personalizer_limiter")


class BreakerStorage(Storage):
    """The limiter's Redis storage behind a circuit breaker. One error opens it; while open,
    every call fails at once (the limiter then counts in this process's memory) and the
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

    def run(self, work):
        """``work(client)`` on the Redis client underneath, through the breaker."""
        if self.is_open:
            self._open()
            raise ConnectionError("rate-limit storage unavailable (breaker open)")
        try:
            return work(self.storage)
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
    """The access checks and, when on, the rate limits of POST /v1/pages (one per app: tests
    build many apps in one process)."""
    cfg = app.config
    app.before_request(authenticate)
    limiter = None
    if cfg["RATE_LIMIT_ENABLED"]:
        storage = None
        if cfg["REDIS_URL"]:
            uri, options = _storage(cfg["REDIS_URL"], cfg["REDIS_TIMEOUT_S"])
            storage = BreakerStorage(uri, **options)
        cache = app.extensions["personalizer"].cache
        rides = cache if isinstance(cache, page_cache.RedisCache) and cache.rides else None
        limiter = PageLimiter(storage, cfg["CACHE_PREFIX"] + "ratelimit", rides)
        app.extensions["personalizer_limiter"] = limiter
    # What tools read: the limiter, or an object saying limits are off.
    app.extensions["limiter"] = limiter or _Off()

    @app.after_request
    def finish(response: Response) -> Response:
        """One after_request for all of access (each one Flask calls costs): count a call
        whose count did not ride with a page read, then CORS, then the rate-limit headers."""
        req = request._get_current_object()
        response = _count_unread(response)
        _cors(req, response)
        return _rate_headers(response)


def _count_unread(response: Response) -> Response:
    """A call whose count did not ride with a page read (it ended before one, or the cache
    was down) is counted as it ends; over its limit, the answer becomes a 429."""
    page_cache.RIDER.set(None)
    batch = g.get("rate_batch")
    if batch is None or batch.resolved:
        return response
    refusal = batch.resolve()
    if not refusal:
        return response
    message, reset = refusal
    body = {"code": 429, "status": "Too Many Requests", "message": message}
    refused = current_app.response_class(json.dumps(body), status=429, mimetype="application/json")
    refused.headers["Retry-After"] = str(_seconds_until(reset))
    return refused


def _cors(req, response: Response) -> None:
    """CORS answers only the origins some partner allows. X-Cache is not exposed: it would
    tell a page whether someone else recently asked for a page with the same features."""
    origin = req.headers.get("Origin")
    if not origin or not req.path.startswith("/v1/"):
        return
    origin = origin.rstrip("/")
    if origin and origin in registry().origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = f"Content-Type, {KEY_HEADER}"
        response.headers["Access-Control-Allow-Methods"] = "POST, GET"
        response.headers["Access-Control-Expose-Headers"] = (
            "ETag, X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
            "X-RateLimit-Reset"
        )
        response.headers["Access-Control-Max-Age"] = "600"
    if origin:
        response.vary.add("Origin")


def _rate_headers(response: Response) -> Response:
    headers = response.headers
    if response.status_code != 429 and "Retry-After" in headers:
        del headers["Retry-After"]
    batch = g.get("rate_batch")
    stats = batch.stats if batch is not None else []
    own = g.get("own_limit")
    if own is not None:
        stats = [*stats, own]
    for name, value in rate_limit_headers(stats, response.status_code):
        headers[name] = value
    return response


def rate_limit_headers(stats: list[tuple], status: int) -> list[tuple[str, str]]:
    """X-RateLimit-* of the limit closest to running out (``Batch.stats``); Retry-After only
    on a 429."""
    if not stats:
        return []
    breached = [s for s in stats if s[3]]
    remaining, reset, amount, _ = min(breached or stats, key=lambda s: (s[0], -s[1]))
    headers = [
        ("X-RateLimit-Limit", str(amount)),
        ("X-RateLimit-Remaining", str(max(0, remaining))),
        ("X-RateLimit-Reset", str(int(reset))),
    ]
    if status == 429:
        headers.append(("Retry-After", str(_seconds_until(reset))))
    return headers
