"""A hung Redis with rate limits on (the production default), under gunicorn as shipped: the
limiter's Redis calls are bounded like the cache's (one try within the timeout, no retry), so
no request, also with several clients at once, goes over the budget of docs/operations.md."""

from __future__ import annotations

import copy
import http.client
import json
import threading
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support import EXAMPLE_PROFILE
from tests.support.redis_tools import Proxy, RedisServer
from tests.support.servers import gunicorn

BUDGET_S = 1.5  # any request, whatever Redis does (docs/operations.md)
TIMEOUT_S = 0.25  # PERSONALIZER_REDIS_TIMEOUT_S


@pytest.fixture
def hung_redis(tmp_path):
    try:
        server = RedisServer(tmp_path)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    server.start()
    proxy = Proxy(server.port).start()
    try:
        yield proxy
    finally:
        proxy.close()
        server.stop(kill=True)


def body(i: int) -> bytes:
    profile = copy.deepcopy(EXAMPLE_PROFILE)
    profile["symptoms"]["pain_score"] = i % 11
    profile["context"]["minutes_per_day"] = 5 + i % 56
    return json.dumps(profile).encode()


def timed_post(port: int, i: int) -> tuple[int, str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    started = time.perf_counter()
    try:
        conn.request("POST", "/v1/pages", body(i), {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status, response.headers.get("X-Cache", ""), time.perf_counter() - started
    finally:
        conn.close()


def test_hung_redis_with_rate_limits_and_concurrent_clients(hung_redis):
    with gunicorn(
        WEB_CONCURRENCY="2",
        REDIS_URL=hung_redis.url(15),
        PERSONALIZER_RATE_LIMIT_ENABLED="true",
        PERSONALIZER_RATE_LIMIT="10000 per minute",
        PERSONALIZER_CACHE_PREFIX="personalizer-test-hung:",
    ) as server:
        for i in range(6):  # both workers connected to Redis (limiter and cache)
            assert timed_post(server.port, i)[0] == 200
        hung_redis.blackhole = True
        results: list[tuple[int, str, float]] = []

        def client(n: int) -> None:
            for j in range(3):
                results.append(timed_post(server.port, 100 + n * 10 + j))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        print(
            "\n[hung redis, 4 clients, 2 workers] "
            + ", ".join(f"{t * 1000:.0f}" for *_, t in results)
            + " ms"
        )
        assert len(results) == 12
        assert all(status == 200 and cache == "bypass" for status, cache, _ in results)
        slowest = max(t for *_, t in results)
        assert slowest < BUDGET_S, slowest


def test_limiter_storage_pays_one_timeout_per_outage(hung_redis):
    from personalizer.access import BreakerStorage

    storage = BreakerStorage(
        "breaker+" + hung_redis.url(15),
        socket_timeout=TIMEOUT_S,
        socket_connect_timeout=TIMEOUT_S,
        retry=Retry(NoBackoff(), 0),
    )
    storage.PROBE_EVERY = 0.2
    assert storage.incr("personalizer-test-breaker", 60) >= 1 and storage.check()
    hung_redis.blackhole = True
    started = time.perf_counter()
    with pytest.raises(redis.RedisError):
        storage.incr("personalizer-test-breaker", 60)
    first = time.perf_counter() - started
    assert TIMEOUT_S * 0.8 < first < TIMEOUT_S * 2  # one try, no retry with backoff
    started = time.perf_counter()
    for _ in range(20):
        with pytest.raises(ConnectionError):
            storage.incr("personalizer-test-breaker", 60)
        assert storage.check() is False
    assert time.perf_counter() - started < 0.1  # never waits on Redis while open
    hung_redis.blackhole = False
    deadline = time.monotonic() + 5
    while not storage.check():
        assert time.monotonic() < deadline, "the breaker did not close after Redis came back"
        time.sleep(0.05)
    assert storage.incr("personalizer-test-breaker", 60) >= 2
    storage.inner.clear("personalizer-test-breaker")
