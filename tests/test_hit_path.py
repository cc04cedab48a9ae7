"""The hit path (personalizer/hitpath.py): a plain call for a cached page is answered without
Flask, with the same answer Flask gives; every other call reaches Flask, and a call it has
counted is counted once."""

from __future__ import annotations

import copy
import json

import pytest
import redis

from personalizer import create_app
from tests.support import EXAMPLE_PROFILE, base_config, secret_partner

PROFILE = {**copy.deepcopy(EXAMPLE_PROFILE), "red_flags": []}
# Differ between two calls by design: a fresh id each call, one count less left.
PER_CALL = {"X-Request-Id", "X-RateLimit-Remaining"}


@pytest.fixture
def secret(tmp_path):
    return secret_partner(
        tmp_path, "50 per minute", "    allowed_origins: ['https://clinic.example']\n"
    )


class FlaskCalls:
    """How many calls reached Flask's dispatch."""

    def __init__(self, app):
        self.count = 0
        dispatch = app.full_dispatch_request

        def counted():
            self.count += 1
            return dispatch()

        app.full_dispatch_request = counted


def make_app(redis_url, redis_prefix, partners, **extra):
    settings = dict(RATE_LIMIT_ENABLED=True, PARTNERS_FILE=partners, RATE_LIMIT="50 per minute")
    if redis_url:
        settings.update(REDIS_URL=redis_url, CACHE_PREFIX=redis_prefix)
    return create_app(base_config(**{**settings, **extra}))


def close(app):
    cache = app.extensions["personalizer"].cache
    if hasattr(cache, "client"):
        cache.client.connection_pool.disconnect()
    storage = app.extensions["limiter"]._storage
    if storage is not None:
        storage.storage.connection_pool.disconnect()


def comparable(response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k not in PER_CALL}
    return response.status_code, headers, response.get_json()


@pytest.mark.parametrize(
    "case",
    ["secret key, Redis", "anonymous, Redis", "limits off, Redis", "secret key, no Redis"],
)
def test_a_hit_skips_flask_and_answers_as_flask_does(case, redis_url, redis_prefix, secret):
    partners, key = secret
    headers = key if case.startswith("secret") else {}
    app = make_app(
        None if case.endswith("no Redis") else redis_url,
        redis_prefix,
        partners,
        RATE_LIMIT_ENABLED=not case.startswith("limits off"),
    )
    client = app.test_client()
    assert client.post("/v1/pages", json=PROFILE, headers=headers).headers["X-Cache"] == "miss"
    flask = FlaskCalls(app)
    fast = client.post("/v1/pages", json=PROFILE, headers=headers)
    assert (fast.status_code, fast.headers["X-Cache"], flask.count) == (200, "hit", 0)

    hit_path, app.wsgi_app = app.wsgi_app, app.wsgi_app.next  # Flask alone, for reference
    full = client.post("/v1/pages", json=PROFILE, headers=headers)
    app.wsgi_app = hit_path
    assert flask.count == 1
    assert comparable(fast) == comparable(full)
    if case != "limits off, Redis":
        remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in (fast, full)]
        assert remaining == [48, 47]  # 50 a minute: each call (the miss too) counted once
    else:
        assert "X-RateLimit-Remaining" not in fast.headers
    close(app)


def test_the_hit_path_keeps_the_request_id_rules(redis_url, redis_prefix, secret):
    app = make_app(redis_url, redis_prefix, secret[0])
    client = app.test_client()
    client.post("/v1/pages", json=PROFILE)
    kept = client.post("/v1/pages", json=PROFILE, headers={"X-Request-Id": "abc-123"})
    replaced = client.post("/v1/pages", json=PROFILE, headers={"X-Request-Id": "<bad id>"})
    assert kept.headers["X-Cache"] == replaced.headers["X-Cache"] == "hit"
    assert kept.headers["X-Request-Id"] == "abc-123"
    assert (
        len(replaced.headers["X-Request-Id"]) == 32 and "<" not in replaced.headers["X-Request-Id"]
    )
    close(app)


OTHER_CALLS = {
    "If-None-Match": ({"If-None-Match": "*"}, {}, 200),
    "HTML": ({"Accept": "text/html"}, {}, 200),
    "an Origin": ({"Origin": "https://clinic.example"}, {}, 200),
    "a query": ({}, {"query_string": "explain=1"}, 200),
    "a content coding": ({"Content-Encoding": "gzip"}, {}, 415),
    "a key that is not valid": ({"Authorization": "Bearer sk_guess"}, {}, 401),
    "a publishable key": ({"X-Personalizer-Key": "pk_guess"}, {}, 401),
    "text/plain": ({"Content-Type": "text/plain"}, {}, 415),
}


@pytest.mark.parametrize("name", OTHER_CALLS)
def test_every_other_call_reaches_flask(name, redis_url, redis_prefix, secret):
    headers, extra, status = OTHER_CALLS[name]
    app = make_app(redis_url, redis_prefix, secret[0])
    client = app.test_client()
    client.post("/v1/pages", json=PROFILE)  # the page is cached and its body seen
    flask = FlaskCalls(app)
    body = json.dumps(PROFILE)
    response = client.post(
        "/v1/pages",
        data=body,
        headers={"Content-Type": "application/json", **headers},
        **extra,
    )
    assert (response.status_code, flask.count) == (status, 1)
    close(app)


def test_a_body_not_seen_and_a_blank_body_reach_flask(redis_url, redis_prefix, secret):
    app = make_app(redis_url, redis_prefix, secret[0])
    client = app.test_client()
    flask = FlaskCalls(app)
    assert client.post("/v1/pages", json=PROFILE).headers["X-Cache"] == "miss"
    blank = client.post("/v1/pages", data=b"   ", content_type="application/json")
    assert (blank.status_code, flask.count) == (400, 2)
    close(app)


def test_a_seen_body_whose_page_is_gone_is_counted_once(redis_url, redis_prefix, secret):
    """The hit path counts the call with its page read; the page is not there, so Flask
    builds it, with the count the hit path made (not a second one)."""
    partners, headers = secret
    app = make_app(redis_url, redis_prefix, partners)
    client = app.test_client()
    first = client.post("/v1/pages", json=PROFILE, headers=headers)
    store = redis.Redis.from_url(redis_url)
    pages = [k for k in store.scan_iter(match=redis_prefix + "*") if b"ratelimit" not in k]
    store.delete(*pages)
    store.close()
    flask = FlaskCalls(app)
    again = client.post("/v1/pages", json=PROFILE, headers=headers)
    assert (again.status_code, again.headers["X-Cache"], flask.count) == (200, "miss", 1)
    counts = [int(r.headers["X-RateLimit-Remaining"]) for r in (first, again)]
    assert counts == [49, 48]
    close(app)


@pytest.mark.parametrize("redis_on", [True, False], ids=["Redis", "no Redis"])
def test_a_hit_over_the_limit_gets_flasks_429(redis_on, redis_url, redis_prefix, secret):
    partners, headers = secret
    app = make_app(redis_url if redis_on else None, redis_prefix, partners, RATE_LIMIT="2/minute")
    client = app.test_client()
    codes = [client.post("/v1/pages", json=PROFILE).status_code for _ in range(2)]
    flask = FlaskCalls(app)
    refused = client.post("/v1/pages", json=PROFILE)
    assert codes == [200, 200]
    assert (refused.status_code, flask.count) == (429, 1)
    assert refused.get_json() == {
        "code": 429,
        "status": "Too Many Requests",
        "message": "too many requests: the limit is 2 per 1 minute",
    }
    assert 0 < int(refused.headers["Retry-After"]) <= 61
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["Content-Security-Policy"]
    if redis_on:
        store = redis.Redis.from_url(redis_url)
        (counter,) = store.scan_iter(match=redis_prefix + "ratelimit*")
        assert int(store.get(counter)) == 3, "the refused call was counted once"
        store.close()
    close(app)


def test_hits_are_in_the_metrics(redis_url, redis_prefix, secret):
    app = make_app(redis_url, redis_prefix, secret[0])
    client = app.test_client()
    for _ in range(3):
        client.post("/v1/pages", json=PROFILE)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'personalizer_requests_total{method="POST",route="/v1/pages",status="200"} 3.0' in text
    assert 'personalizer_cache_total{result="hit"} 2.0' in text
    assert 'personalizer_request_seconds_count{route="/v1/pages"} 3.0' in text
    close(app)


def test_behind_a_proxy_each_forwarded_address_has_its_own_count(redis_url, redis_prefix, secret):
    app = make_app(redis_url, redis_prefix, secret[0], PROXY_HOPS=1, RATE_LIMIT="2/minute")
    client = app.test_client()
    client.post("/v1/pages", json=PROFILE, headers={"X-Forwarded-For": "203.0.113.1"})
    codes = [
        client.post("/v1/pages", json=PROFILE, headers={"X-Forwarded-For": f"203.0.113.{n}"})
        for n in (1, 1, 2)
    ]
    assert [(r.status_code, r.headers.get("X-Cache")) for r in codes] == [
        (200, "hit"),
        (429, None),
        (200, "hit"),
    ]
    close(app)
