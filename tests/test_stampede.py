"""Many concurrent misses for one page build it once (real Redis, several app instances)."""

import threading
import time

from personalizer import create_app, hookimpl
from personalizer.hookcalls import CallLog
from personalizer.schemas import ProfileSchema
from tests.support import BUILTINS, EXAMPLE_PROFILE, base_config

WORKERS = 8


class SlowCounter:
    """Counts page builds; slow enough that every request arrives during the first build."""

    def __init__(self):
        self.builds = 0
        self.lock = threading.Lock()

    @hookimpl
    def personalizer_candidates(self, features, catalog):
        with self.lock:
            self.builds += 1
        time.sleep(0.3)
        return []


def test_concurrent_misses_build_once(redis_url, redis_prefix, redis_client):
    counter = SlowCounter()
    config = base_config(
        REDIS_URL=redis_url,
        CACHE_PREFIX=redis_prefix,
        EXTRA_PLUGINS=[("slow", counter)],
        LOAD_PLUGINS=BUILTINS + ["slow"],
        BUILD_WAIT_MS=3000,
    )
    clients = [create_app(config).test_client() for _ in range(WORKERS)]
    barrier = threading.Barrier(WORKERS)
    results = [None] * WORKERS

    def ask(n):
        barrier.wait(timeout=10)
        response = clients[n].post("/v1/pages", json=EXAMPLE_PROFILE)
        results[n] = (response.status_code, response.headers["X-Cache"], response.data)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert counter.builds == 1
    assert sorted(r[1] for r in results) == ["hit"] * (WORKERS - 1) + ["miss"]
    assert all(r[0] == 200 and r[2] == results[0][2] for r in results)
    assert not list(redis_client.scan_iter(match=redis_prefix + "lock:*")), "lock released"


def test_a_builder_that_never_finishes_does_not_block_others(redis_url, redis_prefix, redis_client):
    """A lock left by a crashed builder: others wait at most BUILD_WAIT_MS, then build."""
    config = base_config(REDIS_URL=redis_url, CACHE_PREFIX=redis_prefix, BUILD_WAIT_MS=200)
    app = create_app(config)
    client = app.test_client()
    service = app.extensions["personalizer"]
    features = service.engine.features(ProfileSchema().load(EXAMPLE_PROFILE), CallLog())
    key = service.engine.decision_key(features)
    redis_client.set(f"{redis_prefix}lock:{key}:json", b"1", px=60_000)
    started = time.monotonic()
    response = client.post("/v1/pages", json=EXAMPLE_PROFILE)
    assert response.status_code == 200
    assert response.headers["X-Cache"] == "miss"
    assert 0.2 <= time.monotonic() - started < 1
