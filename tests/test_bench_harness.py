"""The benchmark's own parts, without timing anything: the external floor app answers what it
was given from Redis, and the profile breakdown files samples where the docs say."""

from __future__ import annotations

import importlib
import sys

import redis

from personalizer.config import ROOT


def bench_module(name: str):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "bench"))


def test_the_floor_parses_hashes_and_reads_one_value(redis_url, redis_prefix, monkeypatch):
    key = redis_prefix + "floor"
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("FLOOR_KEY", key)
    sys.modules.pop("bench.floor_app", None)
    floor_app = importlib.import_module("bench.floor_app")
    store = redis.Redis.from_url(redis_url)
    store.set(key, b'{"page": 1}')
    client = floor_app.app.test_client()
    response = client.post("/floor", data=b'{"a": 1}', content_type="application/json")
    assert (response.status_code, response.data) == (200, b'{"page": 1}')
    assert client.get("/healthz").status_code == 200
    floor_app.client.close()
    store.close()


def test_profile_samples_go_to_the_innermost_named_part():
    http_bench = bench_module("http_bench")
    raw = "\n".join(
        [
            "run (gunicorn/arbiter.py:1);post (personalizer/api.py:2);get (redis/client.py:3) 6",
            "run (gunicorn/arbiter.py:1);authenticate (personalizer/access.py:9) 3",
            "run (gunicorn/arbiter.py:1) 1",
        ]
    )
    shares = http_bench.categorize(raw)
    assert shares["Redis client and round trip"] == 0.6
    assert shares["rate limits, authentication, CORS (access.py)"] == 0.3
    assert shares["gunicorn: accept, parse, write"] == 0.1


def test_every_path_is_measured_against_the_floor():
    http_bench = bench_module("http_bench")
    paths = http_bench.paths("sk_x")
    assert paths[0].server == "floor"
    production = [p for p in paths if p.server == "on" and "Authorization" in p.headers]
    assert production, "the production path (secret key, limits on) is measured"
    assert {p.server for p in paths} == {"floor", "on", "off"}
