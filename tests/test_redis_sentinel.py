"""The cache and the limiter through Redis Sentinel, on loopback: a master and one sentinel."""

import subprocess
import time

import pytest
import redis

from personalizer import create_app
from tests.support import base_config
from tests.support.redis_tools import RedisServer, free_port, redis_server_binary


@pytest.fixture(scope="module")
def sentinel_url(tmp_path_factory):
    master = RedisServer(tmp_path_factory.mktemp("master"))
    master.start()
    workdir = tmp_path_factory.mktemp("sentinel")
    port = free_port()
    conf = workdir / "sentinel.conf"
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {workdir}\n"
        f"sentinel monitor mymaster 127.0.0.1 {master.port} 1\n"
    )
    process = subprocess.Popen(
        [redis_server_binary(), str(conf), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 20
        while True:
            try:
                if client.sentinel_get_master_addr_by_name("mymaster"):
                    break
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the sentinel did not start monitoring the master")
            time.sleep(0.1)
        client.close()
        yield f"redis+sentinel://127.0.0.1:{port}/mymaster", master
    finally:
        process.kill()
        process.wait(10)
        master.stop(kill=True)


def test_pages_and_rate_limits_through_sentinel(sentinel_url):
    url, master = sentinel_url
    config = base_config(
        REDIS_URL=url,
        CACHE_PREFIX="personalizer-test-sentinel:",
        RATE_LIMIT_ENABLED=True,
        RATE_LIMIT="3 per minute",
    )
    app = create_app(config)
    client = app.test_client()
    first = client.post("/v1/pages", json={"red_flags": ["fever"]})
    second = client.post("/v1/pages", json={"red_flags": ["fever"]})
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert client.post("/v1/pages", json={}).status_code == 200
    assert client.post("/v1/pages", json={}).status_code == 429
    direct = redis.Redis(port=master.port)
    pages = list(direct.scan_iter(match="*personalizer-test-sentinel:*"))
    assert any(b"ratelimit" in key for key in pages), "the limiter counts in the master"
    assert len([key for key in pages if b"ratelimit" not in key]) == 2  # two pages
    direct.close()
    app.extensions["personalizer"].cache.client.close()
