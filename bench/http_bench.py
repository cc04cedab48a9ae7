"""HTTP side of ``make bench``: gunicorn as in production, wrk on loopback, side by side.

(a) cache hits of POST /v1/pages, with the same body and with a new body each time (same
page), (b) the floor endpoint (parse the body, one Redis GET of a
page of the same size), (c) uncached builds (POST /v1/pages?explain=1, which skips the cache),
then resident memory per worker. Uses Redis database 14 under its own prefix and deletes only
its own keys.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import gunicorn  # noqa: E402

PREFIX = "personalizer-bench:"
LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[%s]]
"""
# Every request a new body for the same page: the tilt varies within its bucket, so each
# request is validated and featurized afresh before it hits (a re-measured person).
LUA_FRESH = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local template = [[%s]]
request = function()
  local tilt = string.format("%%.6f", 1 + math.random() * 16)
  local body = template:gsub('"pelvic_tilt_deg": [%%d.]+', '"pelvic_tilt_deg": ' .. tilt)
  return wrk.format(nil, nil, nil, body)
end
"""


def wrk(url: str, body: str, seconds: int, connections: int, lua: str = LUA) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua % body)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    os.unlink(script.name)

    def latency(label):
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def worker_rss_mb(master_pid: int) -> list[float]:
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", text, re.M):
            sizes.append(int(re.search(r"^VmRSS:\s+(\d+)", text, re.M).group(1)) / 1024)
    return sizes


def clean(client: redis.Redis) -> None:
    """Delete this benchmark's own keys, and only those."""
    keys = list(client.scan_iter(match=PREFIX + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def hits_only(profile_json: str, seconds: int, env: dict, connections: int = 16) -> dict:
    """Cache hits under another gunicorn configuration (worker model comparison)."""
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    client = redis.Redis.from_url(redis_url)
    try:
        with gunicorn(REDIS_URL=redis_url, PERSONALIZER_CACHE_PREFIX=PREFIX, **env) as server:
            base = f"http://127.0.0.1:{server.port}"
            request = urllib.request.Request(
                base + "/v1/pages", profile_json.encode(), {"Content-Type": "application/json"}
            )
            urllib.request.urlopen(request, timeout=5).read()
            return wrk(base + "/v1/pages", profile_json, seconds, connections)
    finally:
        clean(client)


def run(profile_json: str, seconds: int, connections: int = 16) -> dict:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (make bench does it)")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    client = redis.Redis.from_url(redis_url)
    env = {
        "REDIS_URL": redis_url,
        "PERSONALIZER_CACHE_PREFIX": PREFIX,
        "PERSONALIZER_BENCH_ENDPOINTS": "true",
    }
    try:
        with gunicorn(**env) as server:
            return measure(
                f"http://127.0.0.1:{server.port}",
                server.pid,
                profile_json,
                seconds,
                connections,
                client,
            )
    finally:
        clean(client)


def measure(base, pid, profile_json, seconds, connections, client) -> dict:
    """The four scenarios one after another against one running server."""
    request = urllib.request.Request(
        base + "/v1/pages", profile_json.encode(), {"Content-Type": "application/json"}
    )
    page = urllib.request.urlopen(request, timeout=5).read()
    client.set(PREFIX + "bench-floor", page)
    results = {
        "hit": wrk(base + "/v1/pages", profile_json, seconds, connections),
        "hit, new body each time": wrk(
            base + "/v1/pages", profile_json, seconds, connections, LUA_FRESH
        ),
        "floor": wrk(base + "/bench/floor", profile_json, seconds, connections),
        "uncached build": wrk(base + "/v1/pages?explain=1", profile_json, seconds, connections),
    }
    results["rss_mb"] = worker_rss_mb(pid)
    results["page_bytes"] = len(page)
    return results
