"""A bounded soak: 60 s at a fixed rate against gunicorn with Redis, Redis killed at 20 s and
restarted at 35 s. Prints the figures and writes docs/soak.md. Run with ``make soak``.

Everything runs on 127.0.0.1: a redis-server of its own on a free port, gunicorn as in
production (2 sync workers), and a paced client of 8 threads.
"""

from __future__ import annotations

import http.client
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench import population  # noqa: E402
from tests.support.redis_tools import RedisServer  # noqa: E402
from tests.support.servers import gunicorn  # noqa: E402

RATE = 50  # requests per second
SECONDS = 60
KILL_AT, RESTART_AT = 20, 35
THREADS = 8


def main() -> None:
    quick = "--quick" in sys.argv
    seconds, kill_at, restart_at = (12, 4, 7) if quick else (SECONDS, KILL_AT, RESTART_AT)
    rng = random.Random(11)
    bodies = [json.dumps(p) for p in population(rng, 200)]
    with tempfile.TemporaryDirectory() as workdir:
        redis_server = RedisServer(Path(workdir))
        redis_server.start()
        env = {"REDIS_URL": redis_server.url(0)}
        try:
            with gunicorn(**env) as server:
                results = run(server.port, bodies, seconds, redis_server, kill_at, restart_at)
        finally:
            redis_server.stop()
    report(results, seconds, kill_at, restart_at, write=not quick)


def run(port, bodies, seconds, redis_server, kill_at, restart_at) -> list[tuple]:
    """(sent at, status, X-Cache, latency ms) for every request, paced at RATE per second."""
    total = seconds * RATE
    results, lock = [], threading.Lock()
    start = time.monotonic() + 0.5
    next_index = iter(range(total))

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for index in next_index:
            due = start + index / RATE
            time.sleep(max(0.0, due - time.monotonic()))
            began = time.monotonic()
            try:
                conn.request(
                    "POST",
                    "/v1/pages",
                    bodies[index % len(bodies)],
                    {"Content-Type": "application/json"},
                )
                response = conn.getresponse()
                response.read()
                row = (due - start, response.status, response.getheader("X-Cache"))
            except OSError as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                row = (due - start, type(exc).__name__, None)
            with lock:
                results.append((*row, (time.monotonic() - began) * 1000))
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, start + kill_at - time.monotonic()))
    redis_server.stop(kill=True)
    time.sleep(max(0.0, start + restart_at - time.monotonic()))
    redis_server.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    return sorted(results)


def report(results, seconds, kill_at, restart_at, write: bool) -> None:
    statuses = {}
    for _, status, _, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = sorted(r[3] for r in results)
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    rows = [
        "| seconds | requests | hit | miss | bypass | p50 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for begin in range(0, seconds, 5):
        window = [r for r in results if begin <= r[0] < begin + 5]
        count = lambda kind, w=window: sum(1 for r in w if r[2] == kind)  # noqa: E731
        lat = [r[3] for r in window] or [0]
        rows.append(
            f"| {begin}-{begin + 5} | {len(window)} | {count('hit')} | {count('miss')} |"
            f" {count('bypass')} | {statistics.median(lat):.1f} | {max(lat):.0f} |"
        )
    back = [r[0] for r in results if r[0] >= restart_at and r[2] in ("hit", "miss")]
    recovery = f"{back[0] - restart_at:.1f} s" if back else "not within the run"
    five_xx = sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500)
    lines = [
        "# Soak: Redis killed and restarted under load",
        "",
        f"`make soak` (bench/soak.py): {seconds} s at {RATE} requests/s from {THREADS} client"
        f" threads against gunicorn (2 sync workers) with its own redis-server; Redis killed"
        f" at {kill_at} s and restarted at {restart_at} s. Profiles: 200 drawn from the"
        " benchmark population, requested in turn.",
        "",
        f"- Requests: {len(results):,}; statuses: {dict(sorted(statuses.items(), key=str))};"
        f" **5xx: {five_xx}**.",
        f"- Latency over the whole run: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms,"
        f" max {latencies[-1]:.0f} ms.",
        f"- Caching back after the restart (first hit or miss rather than bypass): {recovery}.",
        "",
        *rows,
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if write:
        (ROOT / "docs" / "soak.md").write_text(text)
    if five_xx:
        sys.exit(1)


if __name__ == "__main__":
    main()
