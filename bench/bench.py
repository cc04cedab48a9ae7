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
from personalizer.content import Catalog, Item
from personalizer.hookcalls import CallLog
from personalizer.plugins import DEFAULT_PLUGINS
from personalizer.schemas import ProfileSchema

ROOT = Path(__file__).resolve().parent.parent
BUILTINS = [name.rpartition(".")[2] for name in DEFAULT_PLUGINS]
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


def miss_cost(app, profile) -> float:
    engine = app.extensions["personalizer"].engine
    features = engine.features(SCHEMA.load(profile), CallLog())
    key = engine.decision_key(features)
    return median_us(lambda: orjson.dumps(engine.build(features, key).page), 30 if QUICK else 200)


def grown_catalog(catalog: Catalog, factor: int) -> Catalog:
    items = list(catalog.items.values())
    for n in range(1, factor):
        for item in catalog.items.values():
            if item.kind in ("section", "exercise"):
                copy_id = f"{item.id}-copy{n}"
                items.append(Item(copy_id, item.kind, item.title, item.html, item.path, item.meta))
    return Catalog(items, f"{catalog.version}x{factor}")


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


def http_table(example_json: str) -> list[str]:
    """Hits, floor and uncached builds side by side, rounds interleaved, medians kept."""
    import http_bench

    rounds = [http_bench.run(example_json, 2 if QUICK else 5) for _ in range(1 if QUICK else 3)]
    lines = ["| endpoint | requests/s | p50 ms | p99 ms | non-2xx |", "|---|---|---|---|---|"]
    medians = {}
    for name in ("hit", "hit, new body each time", "floor", "uncached build"):
        rows = [r[name] for r in rounds]
        medians[name] = {k: statistics.median(row[k] for row in rows) for k in rows[0]}
        m = medians[name]
        lines.append(
            f"| {name} | {m['rps']:,.0f} | {m['p50']:.2f} | {m['p99']:.2f} | {m['errors']:.0f} |"
        )
    ratio = medians["hit"]["rps"] / medians["floor"]["rps"]
    fresh = medians["hit, new body each time"]["rps"] / medians["floor"]["rps"]
    rss = [mb for r in rounds for mb in r["rss_mb"]]
    lines += [
        "",
        f"Hit/floor throughput: **{ratio:.2f}** with a repeated body, **{fresh:.2f}** with a"
        f" new body each time (validation and features run)."
        f" Page size {rounds[0]['page_bytes']:,} bytes."
        f" Resident memory per worker after the run: {min(rss):.0f}-{max(rss):.0f} MB.",
    ]
    return lines


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
    """Cache hits under each gunicorn worker model, rounds interleaved, medians kept."""
    import http_bench

    rounds = 1 if QUICK else 3
    seconds = 2 if QUICK else 5
    samples = {name: [] for name in WORKER_MODELS}
    for _ in range(rounds):
        for name, env in WORKER_MODELS.items():
            samples[name].append(http_bench.hits_only(example_json, seconds, env))
    lines = ["| gunicorn | hits/s | p50 ms | p99 ms |", "|---|---|---|---|"]
    for name, rows in samples.items():
        m = {k: statistics.median(r[k] for r in rows) for k in ("rps", "p50", "p99")}
        lines.append(f"| {name} | {m['rps']:,.0f} | {m['p50']:.2f} | {m['p99']:.2f} |")
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


def main() -> None:
    rng = random.Random(7)
    example = orjson.loads((ROOT / "bench" / "example-profile.json").read_bytes())
    rows = []
    base = make_app()
    engine = base.extensions["personalizer"].engine
    bundled = engine.catalog
    for factor in (1, 10, 100):
        engine.catalog = grown_catalog(bundled, factor)
        rows.append(
            (
                f"catalog x{factor} ({len(engine.catalog)} items), 6 plugins",
                miss_cost(base, example),
            )
        )
    engine.catalog = bundled
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

    http = http_table(orjson.dumps(example).decode())
    models = worker_model_table(orjson.dumps(example).decode())
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (bench/bench.py). Medians on this machine, in one run.",
        "",
        "## HTTP: gunicorn as in production (2 sync workers), wrk -t2 -c16, loopback",
        "",
        "The DESIGN example profile. The floor endpoint parses the body and returns one page-size"
        " value from Redis. The uncached build is `?explain=1`, which skips the cache and adds the"
        " trace.",
        "",
        *http,
        "",
        "### Worker model",
        "",
        "Cache hits of the same profile under three gunicorn configurations. Sync workers"
        " also keep the plugin time budget (SIGALRM needs the main thread).",
        "",
        *models,
        "",
        "## Miss: building a page in-process (median per page)",
        "",
        "| case | us per page |",
        "|---|---|",
        *[f"| {label} | {us:,.0f} |" for label, us in rows],
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
        "In-process numbers share the machine with nothing else of this run; the HTTP rounds"
        " run one after another, interleaved, and the medians of the rounds are shown.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if not QUICK:
        (ROOT / "docs" / "performance.md").write_text(report)


if __name__ == "__main__":
    main()
