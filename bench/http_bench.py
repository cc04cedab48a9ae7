"""HTTP side of ``make bench``: gunicorn as in production, wrk on loopback, side by side.

Three servers run at once, each under gunicorn.conf.py (2 sync workers), all on one Redis:

- the floor: a bare Flask app outside the service (bench/floor_app.py) that parses the body,
  hashes it and returns one page-size value read from Redis;
- the service as production runs it: a partners file with a secret key, rate limits on;
- the same service with rate limits off.

Each round measures every path once, one after another (interleaved), so a drift of the
machine touches them all alike; the caller keeps the medians of the rounds. Uses Redis
database 14 under its own prefix and deletes only its own keys.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from personalizer.partners import new_key  # noqa: E402
from tests.support.servers import gunicorn  # noqa: E402

PREFIX = "personalizer-bench:"
FLOOR_KEY = PREFIX + "floor"
# Limits high enough that the benchmark is never refused: the limiter still counts every
# request in Redis, as in production; only the amount differs.
BENCH_LIMIT = "100000000 per minute"
LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%s
wrk.body = [[%s]]
"""
# Every request a new body for the same page: the tilt varies within its bucket, so each
# request is validated and featurized afresh before it hits (a re-measured person).
LUA_FRESH = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%s
local template = [[%s]]
request = function()
  local tilt = string.format("%%.6f", 1 + math.random() * 16)
  local body = template:gsub('"pelvic_tilt_deg":%%s*[%%d.]+', '"pelvic_tilt_deg": ' .. tilt)
  return wrk.format(nil, nil, nil, body)
end
"""


# The same, and each request from another visitor (a random visitor id): the visitor is
# assigned to the example payload's experiments through the GrowthBook SDK on every request,
# and the variations are part of the page's key (docs/experiments.md).
LUA_FRESH_VISITOR = LUA_FRESH.replace(
    "  return wrk.format",
    """  local visitor = string.format('"visitor_id": "v%%d"', math.random(1, 1000000))
  body = body:gsub('"channel":%%s*"web"', '"channel": "web", ' .. visitor)
  return wrk.format""",
)
EXPERIMENTS = ROOT / "examples" / "experiments.json"


@dataclass(frozen=True)
class Path_:
    """One measured path: which server, which URL, which headers, which body script."""

    name: str
    server: str  # "floor", "on" or "off"
    url: str
    headers: dict
    lua: str = LUA
    no_red_flag: bool = False  # the example profile without its red flag (enrolled pages)


def wrk(url: str, lua: str, seconds: int, connections: int = 16) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name]
            + [url],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)

    def latency(label):
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def _workers(master_pid: int) -> list[int]:
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", text, re.M):
            pids.append(int(status.parent.name))
    return pids


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return []


def cpu_seconds(master_pid: int) -> float:
    """User and system CPU time the server's workers have used so far: the live ones, plus
    those gunicorn has recycled (``max_requests``) and reaped, which the master's
    children's times hold."""
    master = _stat(master_pid)
    ticks = int(master[13]) + int(master[14]) if master else 0  # cutime, cstime
    for pid in _workers(master_pid):
        fields = _stat(pid)
        if fields:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(server, url: str, lua: str, seconds: int) -> dict:
    """wrk against one server, plus the workers' CPU time per request (microseconds): what a
    request costs the service, less sensitive than requests/s to what else the machine runs."""
    before = cpu_seconds(server.pid)
    result = wrk(server.base + url, lua, seconds)
    used = cpu_seconds(server.pid) - before
    result["cpu_us"] = used / max(1, result["requests"]) * 1e6
    return result


def worker_rss_mb(master_pid: int) -> list[float]:
    sizes = []
    for pid in _workers(master_pid):
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        sizes.append(int(re.search(r"^VmRSS:\s+(\d+)", text, re.M).group(1)) / 1024)
    return sizes


def clean(client: redis.Redis) -> None:
    """Delete this benchmark's own keys, and only those."""
    keys = list(client.scan_iter(match=PREFIX + "*"))
    if keys:
        client.delete(*keys)


def partners_file(directory: Path) -> tuple[Path, str]:
    """A partners file with one partner and a fresh secret key (limits set for the bench)."""
    key, digest = new_key("sk")
    path = directory / "partners.yaml"
    path.write_text(
        "partners:\n"
        "  - id: bench-clinic\n"
        "    name: Benchmark Clinic\n"
        f"    secret_key_sha256: {digest}\n"
        f"    rate_limit: {BENCH_LIMIT}\n"
    )
    return path, key


def _headers_lua(headers: dict) -> str:
    return "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())


def paths(secret: str) -> list[Path_]:
    bearer = {"Authorization": f"Bearer {secret}"}
    return [
        Path_("floor (bare Flask: parse, hash, one Redis GET)", "floor", "/floor", {}),
        Path_("hit, secret key, rate limits on (production)", "on", "/v1/pages", bearer),
        Path_("hit, anonymous, rate limits on", "on", "/v1/pages", {}),
        Path_("hit, secret key, rate limits off", "off", "/v1/pages", bearer),
        Path_("hit, anonymous, rate limits off", "off", "/v1/pages", {}),
        Path_(
            "hit, secret key, limits on, through Flask (If-None-Match not matching)",
            "on",
            "/v1/pages",
            {**bearer, "If-None-Match": '\\"stale\\"'},
        ),
        Path_(
            "hit, secret key, limits on, new body each time",
            "on",
            "/v1/pages",
            bearer,
            LUA_FRESH,
        ),
        Path_(
            "hit, secret key, limits on, new body each time, no red flag",
            "on",
            "/v1/pages",
            bearer,
            LUA_FRESH,
            no_red_flag=True,
        ),
        Path_(
            "the same, each request a new visitor in two experiments",
            "on",
            "/v1/pages",
            bearer,
            LUA_FRESH_VISITOR,
            no_red_flag=True,
        ),
        Path_(
            "uncached build (?explain=1), secret key, limits on",
            "on",
            "/v1/pages?explain=1",
            bearer,
        ),
    ]


@contextmanager
def servers(redis_url: str, workdir: Path, extra_env: dict | None = None):
    """The three servers, all up at once; yields ({name: Server}, secret key)."""
    partners, secret = partners_file(workdir)
    common = {
        "REDIS_URL": redis_url,
        "PERSONALIZER_CACHE_PREFIX": PREFIX,
        "PERSONALIZER_PARTNERS_FILE": str(partners),
        "PERSONALIZER_RATE_LIMIT": BENCH_LIMIT,
        "PERSONALIZER_EXPERIMENTS_FILE": str(EXPERIMENTS),
        **(extra_env or {}),
    }
    with ExitStack() as stack:
        running = {
            "floor": stack.enter_context(
                gunicorn(app="bench.floor_app:app", REDIS_URL=redis_url, FLOOR_KEY=FLOOR_KEY)
            ),
            "on": stack.enter_context(gunicorn(**common, PERSONALIZER_RATE_LIMIT_ENABLED="true")),
            "off": stack.enter_context(gunicorn(**common, PERSONALIZER_RATE_LIMIT_ENABLED="false")),
        }
        yield running, secret


def warm(running: dict, secret: str, profile_json: str, client: redis.Redis) -> bytes:
    """Store the page (both servers share the cache), and the floor's value of its size."""
    page = b""
    for name in ("on", "off"):
        for headers in ({}, {"Authorization": f"Bearer {secret}"}):
            request = urllib.request.Request(
                running[name].base + "/v1/pages",
                profile_json.encode(),
                {"Content-Type": "application/json", **headers},
            )
            page = urllib.request.urlopen(request, timeout=10).read()
    client.set(FLOOR_KEY, page)
    return page


def run(profile_json: str, seconds: int, rounds: int, extra_env: dict | None = None) -> dict:
    """Every path, ``rounds`` times, interleaved. {path name: [result per round]}, plus the
    page size and the workers' resident memory."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (make bench does it)")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    client = redis.Redis.from_url(redis_url)
    try:
        with (
            tempfile.TemporaryDirectory() as workdir,
            servers(redis_url, Path(workdir), extra_env) as (running, secret),
        ):
            page = warm(running, secret, profile_json, client)
            measured = paths(secret)
            results = {p.name: [] for p in measured}
            unflagged = orjson.dumps({**orjson.loads(profile_json), "red_flags": []}).decode()
            for _ in range(rounds):
                for p in measured:
                    body = unflagged if p.no_red_flag else profile_json
                    lua = p.lua % (_headers_lua(p.headers), body)
                    results[p.name].append(measure(running[p.server], p.url, lua, seconds))
            rss = worker_rss_mb(running["on"].pid)
            return {"paths": results, "page_bytes": len(page), "rss_mb": rss}
    finally:
        clean(client)
        client.close()


def hits_only(profile_json: str, seconds: int, env: dict, connections: int = 16) -> dict:
    """Cache hits on the production path under another gunicorn configuration."""
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    client = redis.Redis.from_url(redis_url)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            partners, secret = partners_file(Path(workdir))
            settings = {
                "REDIS_URL": redis_url,
                "PERSONALIZER_CACHE_PREFIX": PREFIX,
                "PERSONALIZER_PARTNERS_FILE": str(partners),
                "PERSONALIZER_RATE_LIMIT_ENABLED": "true",  # the production path
                **env,
            }
            with gunicorn(**settings) as server:
                headers = {"Authorization": f"Bearer {secret}"}
                request = urllib.request.Request(
                    server.base + "/v1/pages",
                    profile_json.encode(),
                    {"Content-Type": "application/json", **headers},
                )
                urllib.request.urlopen(request, timeout=10).read()
                lua = LUA % (_headers_lua(headers), profile_json)
                return wrk(server.base + "/v1/pages", lua, seconds, connections)
    finally:
        clean(client)
        client.close()


# -- where a request's time goes: py-spy on one worker under load ---------------------------

# (category, substrings of a frame's file): each sample goes to the first category that one of
# its frames matches, from the innermost frame out, so Redis called by the limiter is Redis.
CATEGORIES = (
    ("Redis client and round trip", ("redis/",)),
    ("gunicorn access log", ("gunicorn/glogging.py", "logging/__init__.py")),
    ("partner keys", ("personalizer/partners.py",)),
    ("rate limits, authentication, CORS (access.py)", ("personalizer/access.py", "limits/")),
    (
        "request id, metrics, security headers (observability.py)",
        ("personalizer/observability.py", "prometheus_client/"),
    ),
    ("page service: body hash, seen bodies, cache", ("personalizer/pages.py", "cache.py")),
    ("the hit path (hitpath.py)", ("personalizer/hitpath.py",)),
    ("the view: body checks, negotiation, ETag (api.py)", ("personalizer/api.py",)),
    ("the floor's own view (floor_app.py)", ("bench/floor_app.py",)),
    ("Flask, flask-smorest, werkzeug", ("flask/", "flask_smorest/", "werkzeug/")),
    ("gunicorn: accept, parse, write", ("gunicorn/",)),
)


def categorize(raw: str) -> dict[str, float]:
    """Share of samples per category, from py-spy's raw (collapsed) output."""
    counts: dict[str, int] = {}
    total = 0
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        total += int(n)
        frames = stack.split(";")[::-1]
        name = next(
            (
                category
                for frame in frames
                for category, parts in CATEGORIES
                if any(part in frame for part in parts)
            ),
            "other",
        )
        counts[name] = counts.get(name, 0) + int(n)
    return {name: n / max(1, total) for name, n in counts.items()}


def profile(profile_json: str, seconds: int = 6) -> dict | None:
    """py-spy on one worker of the floor and of the production path, each under wrk; None
    when py-spy is not installed (``make bench`` installs it from PyPI)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return None
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    client = redis.Redis.from_url(redis_url)
    shares = {}
    try:
        with (
            tempfile.TemporaryDirectory() as workdir,
            servers(redis_url, Path(workdir)) as (
                running,
                secret,
            ),
        ):
            warm(running, secret, profile_json, client)
            for name, server, url, headers in (
                ("floor", "floor", "/floor", {}),
                ("production", "on", "/v1/pages", {"Authorization": f"Bearer {secret}"}),
            ):
                out = Path(workdir) / f"{name}.txt"
                lua = LUA % (_headers_lua(headers), profile_json)
                worker = _workers(running[server].pid)[0]
                spy_run = subprocess.Popen(
                    [spy, "record", "-p", str(worker), "-d", str(seconds), "-r", "200"]
                    + ["-f", "raw", "-o", str(out), "--nonblocking"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                wrk(running[server].base + url, lua, seconds + 2)
                spy_run.wait(30)
                shares[name] = categorize(out.read_text()) if out.exists() else {}
    finally:
        clean(client)
        client.close()
    return shares
