"""The page cache: Redis when ``REDIS_URL`` is set, an in-process LRU otherwise.

Values are the finished response bytes, so a hit does no work beyond the lookup. On a miss
one request claims the right to build a page (a short Redis lock); others asking for the same
page meanwhile wait a bounded time for it instead of building it again. Redis is
optional at run time: every Redis call goes through ``RedisCache``, which uses short
timeouts, one immediate retry (redis-py retries timeouts too, so a hung server costs two
timeouts) and a circuit breaker, and answers ``BYPASS`` instead of raising when
Redis is down or slow. The service then serves uncached and recovers by itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from contextvars import ContextVar

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel

log = logging.getLogger(__name__)

BYPASS = object()

# Work that may ride in the same Redis round trip as the next page read of this request: the
# rate limiter's counts (personalizer/access.py). An object with ``commands()`` (the commands
# to send, as tuples), ``done(results)`` (their answers; may raise, e.g. a 429) and
# ``failed(exc)`` (Redis did not answer: count elsewhere). Taken by the first
# ``RedisCache.get`` of the request, so it rides at most once.
RIDER: ContextVar = ContextVar("personalizer_cache_rider", default=None)


class LocalCache:
    """A bounded, thread-safe LRU of bytes, for a laptop or a single process."""

    name = "local"

    def __init__(self, max_entries: int = 2048, ttl: float = 3600.0, clock=time.monotonic):
        self.max_entries, self.ttl, self.clock = max_entries, ttl, clock
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires < self.clock():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        with self._lock:
            self._data[key] = (self.clock() + self.ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def claim(self, key: str, ttl_ms: int) -> bool:
        """One process: nothing to coordinate, the caller builds."""
        return True

    def release(self, key: str) -> None:
        pass

    def state(self) -> str:
        return "ok"


class RedisCache:
    """Redis with a circuit breaker: after ``trip_after`` errors in a row, skip Redis for
    ``cooldown`` seconds, then try again (one request probes; success closes the circuit)."""

    name = "redis"

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        ttl: int,
        trip_after: int = 2,
        cooldown: float = 2.0,
        clock=time.monotonic,
    ):
        self.client, self.prefix, self.ttl = client, prefix, ttl
        self.trip_after, self.cooldown, self.clock = trip_after, cooldown, clock
        self._errors = 0
        self._open_until = 0.0
        # A rider needs one pipeline to one server: not on a cluster, whose keys live apart.
        self.rides = not isinstance(client, RedisCluster)

    @classmethod
    def from_url(cls, url: str, prefix: str, ttl: int, timeout: float = 0.25) -> RedisCache:
        """A client for the URL's kind of deployment, with the same schemes the rate limiter
        understands: ``redis://`` (one server), ``redis+cluster://host:port`` (a Redis
        Cluster, found from one of its nodes) or ``redis+sentinel://host:port[,host:port]/name``
        (the master Sentinel names). Every call here touches one key, so any slot layout works.
        """
        settings = dict(
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            # redis-py's default retries with backoff would hold a request for seconds.
            retry=Retry(NoBackoff(), 1),
            retry_on_timeout=False,
            health_check_interval=30,
        )
        scheme, _, rest = url.partition("://")
        if scheme == "redis+cluster":
            client = RedisCluster.from_url("redis://" + rest, **settings)
        elif scheme == "redis+sentinel":
            hosts, _, service = rest.partition("/")
            sentinels = [(h, int(p)) for h, _, p in (a.rpartition(":") for a in hosts.split(","))]
            sentinel = Sentinel(sentinels, socket_timeout=timeout, socket_connect_timeout=timeout)
            client = sentinel.master_for(service, **settings)
        else:
            client = redis.Redis.from_url(url, **settings)
        return cls(client, prefix, ttl)

    def _available(self) -> bool:
        return self._open_until <= self.clock()

    def available(self) -> bool:
        """False while the breaker is open (calls skip Redis)."""
        return self._open_until <= self.clock()

    def _failed(self, exc: Exception) -> None:
        self._errors += 1
        if self._errors >= self.trip_after:
            self._open_until = self.clock() + self.cooldown
        log.warning("redis unavailable (%s); serving uncached", type(exc).__name__)

    def _ok(self) -> None:
        self._errors = 0
        self._open_until = 0.0

    def get(self, key: str):
        if not self._available():
            return BYPASS
        rider = RIDER.get() if self.rides else None
        if rider is not None:
            return self._get_with(rider, key)
        try:
            value = self.client.get(self.prefix + key)
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            return BYPASS
        self._ok()
        return value

    def _get_with(self, rider, key: str):
        """The page read and the rider's commands sent together on one connection, their
        answers read in order: one round trip (redis-py's pipeline costs some 15 us more of
        the worker's CPU). Tried once: a retry could count a call twice."""
        RIDER.set(None)
        commands = [*rider.commands(), ("GET", self.prefix + key)]
        pool = self.client.connection_pool
        try:
            connection = pool.get_connection()
            try:
                connection.send_packed_command(connection.pack_commands(commands))
                results = [connection.read_response() for _ in commands]
            except BaseException:
                connection.disconnect()  # answers may be left unread on it
                raise
            finally:
                pool.release(connection)
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            rider.failed(exc)
            return BYPASS
        self._ok()
        rider.done(results[:-1])  # may raise (a 429): after the cache's own bookkeeping
        return results[-1]

    def set(self, key: str, value: bytes) -> None:
        if not self._available():
            return
        try:
            self.client.set(self.prefix + key, value, ex=self.ttl)
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
        else:
            self._ok()

    def claim(self, key: str, ttl_ms: int) -> bool:
        """Take the right to build ``key`` (a lock with a time limit, so a crashed builder
        never blocks others for long). When Redis cannot answer, the caller builds."""
        if not self._available():
            return True
        try:
            return bool(self.client.set(self.prefix + "lock:" + key, b"1", nx=True, px=ttl_ms))
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            return True

    def release(self, key: str) -> None:
        if not self._available():
            return
        try:
            self.client.delete(self.prefix + "lock:" + key)
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)

    def state(self) -> str:
        try:
            self.client.ping()
        except (redis.RedisError, OSError):
            return "degraded"
        self._ok()
        return "ok"
