"""In-process benchmark: miss cost as catalog and plugins grow, and the cache's reach.

Run with ``make bench``. Bounded: a few seconds per table. Prints tables and writes
docs/performance.md. Timings are medians measured side by side in one run; they are for
comparison on the same machine, not targets asserted by tests.
"""

from __future__ import annotations

import copy
import random
import statistics
import sys
import time
from pathlib import Path

import orjson

from personalizer import create_app
from personalizer.content import Catalog
from personalizer.hookcalls import CallLog, PerPlugin
from personalizer.plugins import DEFAULT_PLUGINS
from personalizer.schemas import ProfileSchema

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import BUILTINS, grown_catalog  # noqa: E402

SCHEMA = ProfileSchema()
QUICK = "--quick" in sys.argv


def make_app(**config):
    settings = {"LOAD_PLUGINS": BUILTINS, "REDIS_URL": None, "PLUGIN_BUDGET_MS": 1000}
    settings.update(config)
    return create_app(settings)


def population(rng: random.Random, n: int) -> list[dict]:
    """Synthetic profiles: the distribution is documented in docs/performance.md."""
    profiles = []
    for _ in range(n):
        profile = {
            "alignment": {
                "pelvic_tilt_deg": round(rng.gauss(13, 6), 1),
                "lumbar_lordosis_deg": round(min(100, max(0, rng.gauss(50, 11))), 1),
                "pelvic_obliquity_deg": round(max(-20, min(20, rng.gauss(0, 1.5))), 1),
                "thoracic_kyphosis_deg": round(min(100, max(0, rng.gauss(38, 9))), 1),
                "forward_head_cm": round(min(20, max(0, rng.gauss(3, 1.5))), 1),
            },
            "symptoms": {
                "legs": rng.choice(["both", "both", "left", "right", "none"]),
                "worse_with": rng.choice(
                    [["standing", "walking"], ["walking"], ["standing", "walking", "arching_back"]]
                ),
                "eased_by": rng.choice([["sitting", "leaning_forward"], ["sitting"], []]),
                "walking_tolerance_min": int(min(600, rng.expovariate(1 / 20))),
                "numbness": rng.random() < 0.4,
                "weakness": rng.random() < 0.15,
                "pain_score": min(10, max(0, round(rng.gauss(5, 2)))),
            },
            "red_flags": [
                f for f in ("walking_decline", "history_of_cancer") if rng.random() < 0.02
            ],
            "context": {"channel": "web", "minutes_per_day": rng.choice([10, 15, 15, 20, 30])},
        }
        profiles.append(profile)
    return profiles


def remeasure(rng: random.Random, profile: dict) -> dict:
    """The same person measured again: +-0.5 noise, lists reordered and duplicated."""
    again = copy.deepcopy(profile)
    limits = {
        name: (f.validate.min, f.validate.max)
        for name, f in SCHEMA.fields["alignment"].schema.fields.items()
    }
    for key, value in again["alignment"].items():
        low, high = limits[key]
        again["alignment"][key] = min(high, max(low, round(value + rng.uniform(-0.5, 0.5), 1)))
    for key in ("worse_with", "eased_by"):
        items = again["symptoms"][key] * 2
        rng.shuffle(items)
        again["symptoms"][key] = items
    return again


def median_us(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def miss_cost(app, profile) -> tuple[float, float]:
    """Median microseconds to build and serialize a page, and of that, the median time in the
    plugins' hook calls (the rest is the engine: merging and checking picks, the routine,
    the safety contract, the trace)."""
    engine = app.extensions["personalizer"].engine
    features = engine.features(SCHEMA.load(profile), CallLog())
    key = engine.decision_key(features)
    in_plugins = []

    def build():
        built = engine.build(features, key)
        in_plugins.append(sum(call.ms for call in built.calls.calls) * 1000)
        orjson.dumps(built.page)

    total = median_us(build, 30 if QUICK else 200)
    return total, statistics.median(in_plugins)


def use_catalog(engine, catalog: Catalog) -> None:
    """The engine and its plugins on another catalog (each plugin gets its own copy)."""
    engine.catalog = catalog
    engine.plugin_catalog = PerPlugin(catalog.copy)


def clone_plugins(n_copies: int) -> list:
    import importlib

    extra = []
    for n in range(n_copies):
        for module_name in DEFAULT_PLUGINS:
            module = importlib.import_module(module_name)
            name = f"{module_name.rpartition('.')[2]}_{n}"
            hooks = {
                k: staticmethod(getattr(module, k))
                for k in dir(module)
                if k.startswith("personalizer_")
            }
            extra.append((name, type(name, (), hooks)()))
    return extra


FLOOR = "floor (bare Flask: parse, hash, one Redis GET)"
PRODUCTION = "hit, secret key, rate limits on (production)"
TARGETS = {PRODUCTION: 0.85, "hit, anonymous, rate limits on": 0.9}


def http_table(example_json: str) -> tuple[list[str], dict]:
    """Every path against the external floor, rounds interleaved, medians kept. The ratio of a
    path is the median of its per-round ratios to the floor of the same round."""
    import http_bench

    seconds, rounds = (1, 1) if QUICK else (5, 5)
    run = http_bench.run(example_json, seconds, rounds)
    floor = run["paths"][FLOOR]
    lines = [
        "| path | requests/s | of floor | CPU us/request | floor CPU / CPU | p50 ms | p99 ms"
        " | non-2xx |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ratios = {}
    for name, rows in run["paths"].items():
        m = {k: statistics.median(row[k] for row in rows) for k in ("rps", "p50", "p99", "cpu_us")}
        ratio = statistics.median(r["rps"] / f["rps"] for r, f in zip(rows, floor, strict=True))
        cpu = statistics.median(f["cpu_us"] / r["cpu_us"] for r, f in zip(rows, floor, strict=True))
        ratios[name] = ratio
        errors = sum(row["errors"] for row in rows)
        lines.append(
            f"| {name} | {m['rps']:,.0f} | **{ratio:.2f}** | {m['cpu_us']:,.0f} | {cpu:.2f}"
            f" | {m['p50']:.2f} | {m['p99']:.2f} | {errors} |"
        )
    rss = run["rss_mb"] or [0]
    met = [
        f"{name.split(',')[1].strip()}: {ratios[name]:.2f} (target {target})"
        for name, target in TARGETS.items()
    ]
    lines += [
        "",
        f"Against the floor: {'; '.join(met)}. Page size {run['page_bytes']:,} bytes."
        f" Resident memory per worker after the run: {min(rss):.0f}-{max(rss):.0f} MB."
        f" {rounds} rounds of {seconds} s per path.",
    ]
    return lines, ratios


WORKER_MODELS = {
    "2 sync workers (chosen)": {"WEB_CONCURRENCY": "2"},
    "4 sync workers": {"WEB_CONCURRENCY": "4"},
    "2 gthread workers x 4 threads": {
        "WEB_CONCURRENCY": "2",
        "GUNICORN_WORKER_CLASS": "gthread",
        "GUNICORN_THREADS": "4",
    },
}


def worker_model_table(example_json: str) -> list[str]:
    """Production-path hits under each gunicorn worker model, rounds interleaved, medians."""
    import http_bench

    rounds = 1 if QUICK else 3
    seconds = 1 if QUICK else 4
    env = {"PERSONALIZER_RATE_LIMIT": http_bench.BENCH_LIMIT}
    samples = {name: [] for name in WORKER_MODELS}
    for _ in range(rounds):
        for name, model in WORKER_MODELS.items():
            samples[name].append(http_bench.hits_only(example_json, seconds, {**env, **model}))
    lines = ["| gunicorn | hits/s | p50 ms | p99 ms |", "|---|---|---|---|"]
    for name, rows in samples.items():
        m = {k: statistics.median(r[k] for r in rows) for k in ("rps", "p50", "p99")}
        lines.append(f"| {name} | {m['rps']:,.0f} | {m['p50']:.2f} | {m['p99']:.2f} |")
    return lines


def app_cpu_table(example_json: str) -> list[str]:
    """CPU time per request of the WSGI apps alone, in this process (no gunicorn, no sockets
    but Redis's): the floor app against the service on each path. Single-threaded process
    time, so what else the machine runs hardly moves it."""
    import io
    import os
    import tempfile

    import http_bench
    import redis

    from personalizer.partners import new_key

    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    body = example_json.encode()
    store = redis.Redis.from_url(redis_url)
    n = 300 if QUICK else 5000
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        key, digest = new_key("sk")
        partners = Path(workdir) / "partners.yaml"
        partners.write_text(
            f"partners:\n  - id: bench-clinic\n    name: B\n    secret_key_sha256: {digest}\n"
            f"    rate_limit: {http_bench.BENCH_LIMIT}\n"
        )
        os.environ["FLOOR_KEY"] = http_bench.FLOOR_KEY
        os.environ["REDIS_URL"] = redis_url
        try:
            from floor_app import app as floor_app
        finally:
            os.environ.pop("REDIS_URL")

        def service(limits: bool):
            return make_app(
                REDIS_URL=redis_url,
                CACHE_PREFIX=http_bench.PREFIX,
                PARTNERS_FILE=str(partners),
                RATE_LIMIT=http_bench.BENCH_LIMIT,
                RATE_LIMIT_ENABLED=limits,
                PLUGIN_BUDGET_MS=50,
            )

        on, off = service(True), service(False)
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        cases = [
            ("floor app", floor_app, "/floor", {}),
            ("service, secret key, rate limits on (production)", on, "/v1/pages", bearer),
            ("service, anonymous, rate limits on", on, "/v1/pages", {}),
            ("service, secret key, rate limits off", off, "/v1/pages", bearer),
        ]

        def call(app, path, extra):
            environ = {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": path,
                "QUERY_STRING": "",
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "8000",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REMOTE_ADDR": "127.0.0.1",
                "HTTP_HOST": "127.0.0.1:8000",
                "CONTENT_TYPE": "application/json",
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": io.BytesIO(body),
                "wsgi.url_scheme": "http",
                "wsgi.errors": io.StringIO(),
                "wsgi.multithread": False,
                "wsgi.multiprocess": True,
                "wsgi.run_once": False,
                "wsgi.version": (1, 0),
                **extra,
            }
            out = app(environ, lambda status, headers, exc_info=None: None)
            b"".join(out)
            getattr(out, "close", lambda: None)()

        for _label, app, path, extra in cases[1:]:
            call(app, path, extra)  # the page is built and stored once
        store.set(http_bench.FLOOR_KEY, b"x" * 37_000)
        for label, app, path, extra in cases:
            for _ in range(n // 10):
                call(app, path, extra)
            started = time.process_time()
            for _ in range(n):
                call(app, path, extra)
            rows.append((label, (time.process_time() - started) / n * 1e6))
        http_bench.clean(store)
    store.close()
    floor_us = rows[0][1]
    lines = ["| WSGI app, in-process | CPU us/request | over the floor |", "|---|---|---|"]
    lines += [f"| {label} | {us:,.0f} | {us - floor_us:+,.0f} |" for label, us in rows]
    return lines


def profile_table(example_json: str) -> list[str]:
    """Where a request's time goes (py-spy, one worker, samples while wrk runs)."""
    import http_bench

    shares = None if QUICK else http_bench.profile(example_json)
    if not shares:
        return ["(py-spy not installed, or a quick run: no profile this time.)"]
    names = [c for c, _ in http_bench.CATEGORIES] + ["other"]
    lines = ["| where | floor | production path |", "|---|---|---|"]
    for name in names:
        row = [shares[k].get(name, 0.0) for k in ("floor", "production")]
        if any(row):
            lines.append(f"| {name} | {row[0]:.1%} | {row[1]:.1%} |")
    return lines


def redis_bytes_per_page(people: list[dict]) -> float:
    """Store pages of a sample in Redis (db 14, own prefix) and measure the memory they take."""
    import os

    import redis

    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    prefix = "personalizer-bench-pages:"
    app = make_app(REDIS_URL=url, CACHE_PREFIX=prefix)
    client = redis.Redis.from_url(url)
    before = client.info("memory")["used_memory"]
    service = app.extensions["personalizer"]
    for person in people:
        service.serve(SCHEMA.load(person))
    keys = list(client.scan_iter(match=prefix + "*"))
    used = client.info("memory")["used_memory"] - before
    client.delete(*keys)
    return used / max(1, len(keys))


# The production path before the limiter counted in the page read's round trip (flask-limiter
# on the same Redis, commit d012458), profiled the same way on this machine; kept here because
# `make bench` can no longer measure that code.
BEFORE = [
    "Before (flask-limiter, 5 Redis round trips a hit; 0.38-0.45 of the floor): Redis"
    " 69% of a worker's samples, of which the failed-authentication check of a keyed call"
    " (`GET`) 29%, the rate-limit headers' window read (`GET` and `TTL`) 14%, the limiter's"
    " count (`EVALSHA`) 13%, the page read 12%; gunicorn 21%; Flask and werkzeug 6%; the"
    " limiter's own Python 2%. Now a hit is one round trip: the counts of the call's windows"
    " (`INCR`), the failed-authentication read of a keyed call (`GET`) and the page read,"
    " sent together on one connection. Plain commands, as a Lua script costs Redis some 7 us"
    " a call; no redis-py pipeline object, which cost the worker some 15 us of CPU a hit; a"
    " window's end is learnt once per worker, not asked each call. Besides: a valid partner"
    " key is hashed once per worker, access has one after_request, the metric children are"
    " looked up once, and gunicorn preloads the app (a worker recycled by `max_requests` no"
    " longer loads content and plugins again, some 0.5 CPU s each).",
    "",
    "The limiter's guarantees (personalizer/access.py, tests/test_bench_rate_limits.py,"
    " tests/test_security*.py): fixed windows, one Redis key each, counted with `INCR`"
    " (atomic, it answers the count), so counts are exact and shared by every worker and"
    " instance; the call that starts a window sets its expiry (one more round trip once per"
    " window; a window left without one gets it from the next worker that asks `PTTL`);"
    " a call over its limit gets 429 with"
    " `Retry-After` (seconds until its window ends) before its page is used or built (at"
    " the latest after its body is validated: a call that reads no page first, such as"
    " `?explain=1`, is counted before it builds); every counter expires; with Redis down"
    " the counts fall back to each worker's memory (the limit times the workers, until"
    " Redis answers again).",
]


LEFT = [
    "The hit path (personalizer/hitpath.py) is why the service's plain hit costs less than the"
    " floor, which is a Flask endpoint: a JSON call with a secret key or none, no query, no"
    " Origin and no If-None-Match, for a body seen before whose page is cached, is answered"
    " in front of Flask, with the same functions the Flask path uses (authentication, the"
    " counts riding with the page read, `PageService.serve_body`, the headers and metrics),"
    " so it skips Flask's request context, routing, before and after functions and response"
    " objects, which the floor pays. Every other call goes to Flask; one the hit path has"
    " counted goes with its count. The row *through Flask* is the same hit on the Flask"
    " path (an If-None-Match that does not match sends it there): what a plain hit cost"
    " before, and what a browser's call with an Origin still costs. Besides, hiredis (C)"
    " parses Redis's replies: a hit's page read with the counts riding along is three"
    " replies, each parsed in Python before.",
]


MISS_NOTES = [
    "A miss at x100 grew with the catalog because every plugin answered one pick per matching"
    " item (some 4,800 at x100), each built, checked (personalizer/results.py) and merged"
    " with its reasons (engine.py), and because every candidate was ranked. Now the built-in"
    " plugins answer one pick for each group of items that score alike"
    ' (`{"ids": [...], "score", "reason"}`: all the exercises of a goal for the'
    " routine plugin, all those with the same addresses for the alignment plugin), found"
    " through the catalog's indexes; the engine adds a group's score in one loop and works out"
    " the reasons only for the items the page shows; the routine ranks its candidates only as"
    " far as its search reads (by score, each score's items sorted when reached) and the"
    " sections take the best few without ranking the rest; an item's front-matter fields are"
    " plain attributes; the plugin budget's SIGALRM handler is set once a hook, not once a"
    " plugin call (some 7 us each); checks use type tuples, not `A | B` unions built on each"
    " call. The pages of 108 profiles (the example, the 47 archetypes, 60 random people) at"
    " x1, x10 and x100, with their explain traces, are the same as before the change. Before"
    " it, this benchmark on the same machine an hour earlier gave x1 848 us, x10 3,090 us and"
    " x100 30,278 us.",
    "",
    "Tried and not kept: the engine keeping each plugin's best 40 picks of each kind. A miss"
    " at x100 took 6.3 ms and the bundled catalog's pages stayed as they were, but only 35 of"
    " 107 pages of the x100 catalog did: a hundred copies tied at one plugin's top score fill"
    " its 40 places and push out the items other plugins' scores need.",
]


def machine() -> str:
    import os
    import platform
    import subprocess

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass

    def version(*command: str) -> str:
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=10)
        except OSError:
            return "?"
        text = (out.stdout or out.stderr).strip()
        return text.splitlines()[0] if text else "?"

    redis_version = version("redis-server", "--version").split(" sha=")[0]
    wrk_version = version("wrk", "-v").split(" [")[0]
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()},"
        f" Python {platform.python_version()}, {redis_version}, {wrk_version}"
    )


def main() -> None:
    rng = random.Random(7)
    example = orjson.loads((ROOT / "bench" / "example-profile.json").read_bytes())
    rows = []
    base = make_app()
    engine = base.extensions["personalizer"].engine
    bundled = engine.catalog
    for factor in (1, 10, 100):
        use_catalog(engine, grown_catalog(bundled, factor))
        rows.append(
            (
                f"catalog x{factor} ({len(engine.catalog)} items), {len(BUILTINS)} plugins",
                miss_cost(base, example),
            )
        )
    use_catalog(engine, bundled)
    for copies, label in ((2, 20), (7, 50)):
        extra = clone_plugins(copies)[: label - 6]
        app = make_app(EXTRA_PLUGINS=extra, LOAD_PLUGINS=BUILTINS + [n for n, _ in extra])
        rows.append((f"bundled catalog, {label} plugins", miss_cost(app, example)))

    # The cache's reach: re-measured people, then a population at steady state.
    app = make_app(LOCAL_CACHE_SIZE=1_000_000)
    service = app.extensions["personalizer"]
    n = 2_000 if QUICK else 100_000
    people = population(rng, n)
    same = 0
    per_page = redis_bytes_per_page(people[:500] if QUICK else people[:3000])
    for person in people[:2000]:
        first = service.serve(SCHEMA.load(person))
        again = service.serve(SCHEMA.load(remeasure(rng, person)))
        same += first.body == again.body
    remeasured = same / min(2000, n)
    service.cache = type(service.cache)(1_000_000)
    hits, sizes = 0, []
    started = time.perf_counter()
    for person in people:
        served = service.serve(SCHEMA.load(person))
        hits += served.cache == "hit"
        if served.cache == "miss":
            sizes.append(len(served.body))
    elapsed = time.perf_counter() - started
    fresh = population(rng, n // 5)
    steady = sum(service.serve(SCHEMA.load(p)).cache == "hit" for p in fresh) / len(fresh)

    example_json = orjson.dumps(example).decode()
    http, _ = http_table(example_json)
    models = worker_model_table(example_json)
    profiled = profile_table(example_json)
    app_cpu = app_cpu_table(example_json)
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (bench/bench.py); `make bench-smoke` is the same in seconds,"
        " for CI, and writes nothing. Medians of interleaved rounds, in one run.",
        "",
        f"Machine: {machine()}. **A shared 2-core machine**: other people's test runs were"
        " going on during this run, so absolute figures move from run to run; the ratios"
        " compare paths measured side by side in the same rounds, and the CPU time per"
        " request is the least sensitive to what else runs.",
        "",
        "## HTTP: the production path against an external floor",
        "",
        "Commands: `make bench` (bench/bench.py, bench/http_bench.py). Three servers run at"
        " once, each under gunicorn.conf.py as shipped (2 sync workers), all on one Redis on"
        " loopback: the **floor**, a bare Flask app outside the service (bench/floor_app.py:"
        " parse the JSON body, hash it, return one page-size value read from Redis); the"
        " service as production runs it (a partners file with a secret key, rate limits on,"
        " Redis); the same service with rate limits off. `wrk -t2 -c16` (Debian's wrk), the"
        " DESIGN example profile, every path once per round, rounds interleaved. The limits"
        " are set high (`100000000 per minute`) so nothing is refused: every call is still"
        " counted in Redis. *New body each time* varies the tilt within its bucket (validation"
        " and features run, then the same page); *no red flag* is the example without its"
        " red flag, which experiments may enrol; *a new visitor* adds a random `visitor_id`"
        " each request, assigned through the GrowthBook SDK to the two experiments of"
        " examples/experiments.json (its variations part of the key; issue 19 measures its"
        " cost against the row above); the uncached build is `?explain=1`.",
        "",
        *http,
        "",
        "*of floor*: median over the rounds of the path's requests/s divided by the floor's in"
        " the same round. *floor CPU / CPU*: the workers' CPU time per request of the floor"
        " divided by the path's (1.00 = as cheap as the floor).",
        "",
        "### Where a request's time goes",
        "",
        "py-spy (from PyPI) sampling one worker at 200 Hz while wrk runs, samples filed under"
        " the innermost frame that names a part of the stack (so Redis called by the limiter"
        " counts as Redis). Waiting on a socket counts where it waits.",
        "",
        *profiled,
        "",
        "The apps alone, without gunicorn: the service's CPU over the floor's is where the"
        " remaining gap lies, and how much of it the rate limits take.",
        "",
        *app_cpu,
        "",
        *LEFT,
        "",
        *BEFORE,
        "",
        "### Worker model",
        "",
        "Production-path hits under three gunicorn configurations. Sync workers"
        " also keep the plugin time budget (SIGALRM needs the main thread).",
        "",
        *models,
        "",
        "## Miss: building a page in-process (median per page)",
        "",
        "Built in-process from the features (no HTTP, no cache), the DESIGN example profile."
        " The large catalogs are the bundled one with every section and exercise copied"
        " (synthetic, as the plugins see them: each plugin gets a copy with its indexes).",
        "",
        "| case | us per page | of which in plugins |",
        "|---|---|---|",
        *[f"| {label} | {us:,.0f} | {plug:,.0f} |" for label, (us, plug) in rows],
        "",
        *MISS_NOTES,
        "",
        "## The cache's reach",
        "",
        f"- Re-measured people (+-0.5 noise on every measurement, lists shuffled and doubled):"
        f" same page {remeasured:.1%} of the time (2,000 people).",
        f"- Population of {n:,} synthetic profiles, each asked once: {hits / n:.1%} hits;"
        f" then {len(fresh):,} new profiles from the same population against the warm cache"
        f" (steady state): **{steady:.1%}** hits;"
        f" {len(sizes):,} distinct pages, median {statistics.median(sizes):,.0f} bytes each"
        f" ({per_page:,.0f} bytes of Redis memory per stored page);"
        f" {n / elapsed:,.0f} requests/s in-process (validation + features + cache).",
        "",
        "Population: tilt N(13, 6) deg, lordosis N(50, 11), obliquity N(0, 1.5), kyphosis"
        " N(38, 9), forward head N(3, 1.5) cm; walking tolerance exponential (mean 20 min);"
        " three common symptom mixes; numbness 40 %, weakness 15 %; each of two red flags 2 %;"
        " budgets 10-30 min.",
        "",
        "In-process numbers are measured before the HTTP rounds start; the HTTP rounds run one"
        " after another, interleaved, and the medians of the rounds are shown.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if not QUICK:
        (ROOT / "docs" / "performance.md").write_text(report)


if __name__ == "__main__":
    main()
