"""Shared fixtures: the app, its client, and a real Redis.

Redis: ``REDIS_URL`` if set, else database 15 of a server on 127.0.0.1:6379. When none
answers, a private ``redis-server`` is started on a free port for the run; when there is no
``redis-server`` either, the Redis tests fail with a message saying so (never skipped).
Every test gets its own key prefix and deletes only its own keys.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid

import pytest
import redis

from personalizer import create_app
from tests.support import base_config


@pytest.fixture
def app():
    return create_app(base_config())


@pytest.fixture
def client(app):
    return app.test_client()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    import os

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    if _answers(url):
        yield url
        return
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail(f"no Redis answers at {url} and redis-server is not installed")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/15"
    for _ in range(50):
        if _answers(url):
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"started redis-server on port {port} but it does not answer")
    yield url
    proc.terminate()
    proc.wait(5)


@pytest.fixture
def redis_prefix(redis_url):
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"personalizer-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    # The rate limiter's counters carry the limits library's own prefix before ours.
    keys = [*client.scan_iter(match=prefix + "*"), *client.scan_iter(match=f"LIMITS:*{prefix}*")]
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def redis_app(redis_url, redis_prefix):
    app = create_app(base_config(REDIS_URL=redis_url, CACHE_PREFIX=redis_prefix))
    yield app
    app.extensions["personalizer"].cache.client.connection_pool.disconnect()
