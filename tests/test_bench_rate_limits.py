"""The production path `make bench` measures (a secret key, rate limits on, Redis): a cache
hit costs one Redis round trip, in which the call is counted and the page read, and the
limiter's guarantees hold: fixed windows shared by every worker, 429 with Retry-After, a call
over its limit never builds a page, counters that always expire."""

from __future__ import annotations

import copy

import pytest
import redis
from redis.connection import AbstractConnection

from personalizer import create_app
from tests.support import EXAMPLE_PROFILE, base_config, secret_partner

PROFILE = {**copy.deepcopy(EXAMPLE_PROFILE), "red_flags": []}


@pytest.fixture
def secret(tmp_path):
    return secret_partner(tmp_path, "3 per minute")


def make_app(redis_url, redis_prefix, partners, **extra):
    config = base_config(
        REDIS_URL=redis_url,
        CACHE_PREFIX=redis_prefix,
        RATE_LIMIT_ENABLED=True,
        PARTNERS_FILE=partners,
        **extra,
    )
    return create_app(config)


def close(*apps):
    for app in apps:
        app.extensions["personalizer"].cache.client.connection_pool.disconnect()
        storage = app.extensions["limiter"]._storage
        if storage is not None:
            storage.storage.connection_pool.disconnect()


class RoundTrips:
    """Counts what is sent to Redis: each send of commands (one command, a pipeline, or the
    page read with the counts riding along) is one round trip."""

    def __init__(self, monkeypatch):
        self.trips = 0
        send = AbstractConnection.send_packed_command

        def counted(connection, *args, **kwargs):
            self.trips += 1
            return send(connection, *args, **kwargs)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)


def test_a_hit_with_a_secret_key_is_one_round_trip(redis_url, redis_prefix, secret, monkeypatch):
    partners, headers = secret
    app = make_app(redis_url, redis_prefix, partners, RATE_LIMIT="1000 per minute")
    client = app.test_client()
    assert client.post("/v1/pages", json=PROFILE, headers=headers).headers["X-Cache"] == "miss"
    trips = RoundTrips(monkeypatch)
    for _ in range(2):
        response = client.post("/v1/pages", json=PROFILE, headers=headers)
        assert response.headers["X-Cache"] == "hit"
    assert trips.trips == 2, "one round trip a hit: the count rides with the page read"
    assert response.headers["X-RateLimit-Remaining"] == "0"  # 3 per minute, 3 calls counted
    close(app)


def test_anonymous_hit_is_one_round_trip_too(redis_url, redis_prefix, secret, monkeypatch):
    app = make_app(redis_url, redis_prefix, secret[0], RATE_LIMIT="1000 per minute")
    client = app.test_client()
    client.post("/v1/pages", json=PROFILE)
    trips = RoundTrips(monkeypatch)
    response = client.post("/v1/pages", json=PROFILE)
    assert (response.headers["X-Cache"], trips.trips) == ("hit", 1)
    assert response.headers["X-RateLimit-Remaining"] == "998"
    close(app)


def test_counts_are_shared_by_workers_and_429_has_retry_after(redis_url, redis_prefix, secret):
    partners, headers = secret
    one = make_app(redis_url, redis_prefix, partners)
    two = make_app(redis_url, redis_prefix, partners)
    clients = [one.test_client(), two.test_client()]
    codes = [clients[n % 2].post("/v1/pages", json=PROFILE, headers=headers) for n in range(5)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429, 429]
    for refused in codes[3:]:
        assert 0 < int(refused.headers["Retry-After"]) <= 61
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        assert refused.get_json()["code"] == 429
    assert "Retry-After" not in codes[0].headers
    close(one, two)


def test_over_the_limit_no_page_is_built(redis_url, redis_prefix, secret):
    partners, headers = secret
    app = make_app(redis_url, redis_prefix, partners)
    client = app.test_client()
    for minutes in (10, 20, 30):
        profile = {**PROFILE, "context": {**PROFILE["context"], "minutes_per_day": minutes}}
        assert client.post("/v1/pages", json=profile, headers=headers).status_code == 200
    store = redis.Redis.from_url(redis_url)
    pages = lambda: [k for k in store.scan_iter(match=redis_prefix + "*") if b"ratelimit" not in k]  # noqa: E731
    before = len(pages())
    fresh = {**PROFILE, "context": {**PROFILE["context"], "minutes_per_day": 25}}
    assert client.post("/v1/pages", json=fresh, headers=headers).status_code == 429
    assert client.post("/v1/pages?explain=1", json=fresh, headers=headers).status_code == 429
    assert len(pages()) == before, "a call over its limit stored (so built) a page"
    store.close()
    close(app)


def test_a_call_that_ends_before_any_page_read_is_counted(redis_url, redis_prefix, secret):
    partners, headers = secret
    app = make_app(redis_url, redis_prefix, partners)
    client = app.test_client()
    invalid = {"symptoms": {"pain_score": 99}}
    codes = [client.post("/v1/pages", json=invalid, headers=headers).status_code for _ in range(3)]
    assert codes == [422, 422, 422]
    refused = client.post("/v1/pages", json=invalid, headers=headers)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert client.post("/v1/pages", json=PROFILE, headers=headers).status_code == 429
    close(app)


def test_every_window_expires(redis_url, redis_prefix, secret):
    partners, headers = secret
    app = make_app(redis_url, redis_prefix, partners, RATE_LIMIT="5/second; 100/hour")
    client = app.test_client()
    client.post("/v1/pages", json=PROFILE, headers=headers)
    client.post("/v1/pages", json=PROFILE)
    client.post("/v1/pages", json=PROFILE, headers={"Authorization": "Bearer sk_wrong"})
    store = redis.Redis.from_url(redis_url)
    counters = list(store.scan_iter(match=redis_prefix + "ratelimit*"))
    assert len(counters) == 4  # the partner's, the address's two windows, failed auth
    assert all(0 < store.pttl(key) <= 3_600_000 for key in counters)
    store.close()
    close(app)


def test_a_valid_key_from_an_address_over_its_failure_budget_gets_429(
    redis_url, redis_prefix, secret
):
    partners, headers = secret
    app = make_app(redis_url, redis_prefix, partners, AUTH_FAILURE_LIMIT="2 per minute")
    client = app.test_client()
    wrong = {"Authorization": "Bearer sk_guess"}
    codes = [client.post("/v1/pages", json=PROFILE, headers=wrong).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    right = client.post("/v1/pages", json=PROFILE, headers=headers)
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    assert client.post("/v1/pages", json=PROFILE).status_code == 200  # anonymous unaffected
    close(app)


def test_redis_failing_mid_request_counts_in_memory(redis_url, redis_prefix, secret):
    """The pipeline fails: the page is served uncached and the call counted in memory."""
    partners, headers = secret
    app = make_app(redis_url, redis_prefix, partners)
    client = app.test_client()
    assert client.post("/v1/pages", json=PROFILE, headers=headers).status_code == 200
    cache = app.extensions["personalizer"].cache

    def broken(*args, **kwargs):
        raise redis.ConnectionError("gone")

    cache.client.connection_pool.get_connection = broken
    app.extensions["limiter"]._storage.storage.connection_pool.get_connection = broken
    codes = [client.post("/v1/pages", json=PROFILE, headers=headers) for _ in range(4)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429]  # 3 per minute, here
    assert codes[0].headers["X-Cache"] == "bypass"
    assert app.extensions["limiter"]._storage_dead
    close(app)
