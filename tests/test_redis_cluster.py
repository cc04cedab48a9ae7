"""The cache and the limiter against a real three-node Redis Cluster on loopback."""

import shutil
import subprocess
import time

import pytest
import redis
from redis.cluster import RedisCluster

from personalizer import create_app
from tests.support import EXAMPLE_PROFILE, base_config
from tests.support.redis_tools import RedisServer, free_port


def close(*apps) -> None:
    """Close the apps' cluster connections before the nodes go away (no stray sockets)."""
    for app in apps:
        app.extensions["personalizer"].cache.client.close()
        storage = app.extensions["limiter"]._storage  # None when limits are off
        connection = getattr(storage, "storage", None)
        if connection is not None:
            connection.close()


def cluster_ports(count: int) -> list[int]:
    """Free ports whose cluster-bus ports (port + 10000) exist and are free too."""
    ports = []
    while len(ports) < count:
        port = free_port()
        if port < 55000 and port not in ports:
            ports.append(port)
    return ports


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.fail("redis-cli is not installed (Debian package redis-tools)")
    nodes = []
    try:
        for port in cluster_ports(3):
            workdir = tmp_path_factory.mktemp(f"node{port}")
            extra = ("--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf")
            node = RedisServer(workdir, port, extra)
            node.start()
            nodes.append(node)
        addresses = [f"127.0.0.1:{node.port}" for node in nodes]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        client = redis.Redis(port=nodes[0].port)
        deadline = time.monotonic() + 20
        while client.cluster("info")["cluster_state"] != "ok":
            if time.monotonic() > deadline:
                pytest.fail("the Redis Cluster did not reach state ok")
            time.sleep(0.2)
        client.close()
        yield f"redis+cluster://127.0.0.1:{nodes[0].port}"
    finally:
        for node in nodes:
            node.stop(kill=True)


def test_pages_are_cached_in_a_cluster(cluster):
    config = base_config(REDIS_URL=cluster, CACHE_PREFIX="personalizer-test:", BUILD_WAIT_MS=500)
    apps = create_app(config), create_app(config)
    one, two = apps[0].test_client(), apps[1].test_client()
    profiles = [EXAMPLE_PROFILE, {}, {"red_flags": ["fever"]}, {"symptoms": {"pain_score": 9}}]
    for profile in profiles:
        first = one.post("/v1/pages", json=profile)
        second = two.post("/v1/pages", json=profile)
        assert (first.status_code, first.headers["X-Cache"]) == (200, "miss")
        assert (second.status_code, second.headers["X-Cache"]) == (200, "hit")
        assert second.data == first.data
    client = RedisCluster.from_url(cluster.replace("redis+cluster", "redis"))
    keys = [
        key
        for node in client.get_nodes()
        for key in node.redis_connection.scan_iter(match="personalizer-test:*")
    ]
    assert len(keys) == len(profiles)
    assert not [k for k in keys if b":lock:" in k]
    assert one.get("/readyz").get_json()["checks"]["cache"] == "ok"
    client.disconnect_connection_pools()
    close(*apps)


def test_rate_limits_in_a_cluster(cluster):
    config = base_config(
        REDIS_URL=cluster,
        CACHE_PREFIX="personalizer-test-limits:",
        RATE_LIMIT_ENABLED=True,
        RATE_LIMIT="2 per minute",
    )
    app = create_app(config)
    client = app.test_client()
    codes = [client.post("/v1/pages", json={}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    cluster_client = RedisCluster.from_url(cluster.replace("redis+cluster", "redis"))
    counters = [
        key
        for node in cluster_client.get_nodes()
        for key in node.redis_connection.scan_iter(match="*personalizer-test-limits*")
    ]
    cluster_client.disconnect_connection_pools()
    assert counters, "the limiter counts in the cluster, not in process memory"
    close(app)
