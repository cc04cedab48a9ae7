"""One person's page is never served to another: gunicorn workers sharing one Redis.

Each profile's canary is the page it must get, built in-process without any cache. Then
10,000 requests, profiles drawn at random and sent from 8 threads to 3 gunicorn workers
sharing one Redis, must each get exactly their own page back.
"""

import http.client
import json
import random
import threading

from personalizer import create_app
from personalizer.schemas import ProfileSchema
from tests.support import BUILTINS, base_config
from tests.support.servers import gunicorn

REQUESTS = 10_000
THREADS = 8
PROFILES = 300


def random_profile(rng: random.Random) -> dict:
    flags = ["fever", "history_of_cancer", "saddle_numbness", "walking_decline"]
    return {
        "alignment": {
            "pelvic_tilt_deg": round(rng.uniform(-10, 35), 1),
            "lumbar_lordosis_deg": round(rng.uniform(20, 85), 1),
            "pelvic_obliquity_deg": round(rng.uniform(-7, 7), 1),
        },
        "symptoms": {
            "worse_with": rng.sample(["standing", "walking", "arching_back", "lying_down"], 2),
            "eased_by": rng.sample(["sitting", "leaning_forward", "lying_down"], 1),
            "walking_tolerance_min": rng.randint(1, 60),
            "pain_score": rng.randint(0, 10),
            "weakness": rng.random() < 0.3,
        },
        "red_flags": [f for f in flags if rng.random() < 0.1],
        "context": {
            "channel": rng.choice(["web", "email", "clinic"]),
            "minutes_per_day": rng.choice([10, 20, 30]),
        },
    }


def test_no_page_is_ever_served_to_another_profile(redis_url, redis_prefix):
    rng = random.Random(2026)
    profiles = [random_profile(rng) for _ in range(PROFILES)]
    settings = {"LOAD_PLUGINS": BUILTINS, "PLUGIN_BUDGET_MS": 1000}
    reference = create_app(base_config(**settings)).extensions["personalizer"]
    expected = []
    for profile in profiles:
        served = reference.serve(ProfileSchema().load(profile))
        # with what this request's client keeps for next time (added after the cache)
        served = reference.personal(served, "json", json.dumps(profile).encode())
        expected.append(served.body)
    assert len(set(expected)) > 50, "the profiles should lead to many different pages"

    mismatches, statuses, caches = [], {}, {}
    lock = threading.Lock()
    order = [rng.randrange(PROFILES) for _ in range(REQUESTS)]

    def worker(port, chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for index in chunk:
            conn.request(
                "POST",
                "/v1/pages",
                json.dumps(profiles[index]),
                {"Content-Type": "application/json"},
            )
            response = conn.getresponse()
            body = response.read()
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                cache = response.getheader("X-Cache")
                caches[cache] = caches.get(cache, 0) + 1
                if body != expected[index]:
                    mismatches.append(index)
        conn.close()

    server_env = {
        "WEB_CONCURRENCY": "3",
        "REDIS_URL": redis_url,
        "PERSONALIZER_CACHE_PREFIX": redis_prefix,
        "PERSONALIZER_PLUGIN_BUDGET_MS": "1000",
    }
    with gunicorn(**server_env) as server:
        threads = [
            threading.Thread(target=worker, args=(server.port, order[n::THREADS]))
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=240)
        assert not any(thread.is_alive() for thread in threads), "requests did not finish"
    assert statuses == {200: REQUESTS}
    assert mismatches == []
    assert caches.get("hit", 0) > REQUESTS // 2, caches
