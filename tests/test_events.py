"""POST /v1/events and GET /v1/experiments/KEY on a real Redis: storage (bounded, keyed
hashes only), strict validation against a hostile corpus, Redis faults (503, never another
5xx), rate limits, the operations token, and a simulated experiment read back through the
report."""

from __future__ import annotations

import json
import random
import time
import uuid
from urllib.parse import urlparse

import pytest

from personalizer import cli, create_app
from personalizer.events import MemoryEventStore, parse_entry, tally, visitor_hash
from tests.support import base_config
from tests.support.redis_tools import Proxy

SECRET = "events-test-secret-0123456789"


def _payload(key="sim", weights=(0.5, 0.5)):
    return {
        "features": {
            "sim-feature": {
                "defaultValue": {},
                "rules": [
                    {
                        "key": key,
                        "seed": key,
                        "hashVersion": 2,
                        "weights": list(weights),
                        "coverage": 1,
                        "variations": [{}, {"weights": {"calls_to_action": 1.2}}],
                    }
                ],
            }
        }
    }


@pytest.fixture
def experiments_file(tmp_path):
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps(_payload()))
    return str(path)


def _app(experiments_file, **overrides):
    return create_app(
        base_config(EXPERIMENTS_FILE=experiments_file, EVENTS_KEY_SECRET=SECRET, **overrides)
    )


@pytest.fixture
def app(redis_url, redis_prefix, experiments_file):
    app = _app(experiments_file, REDIS_URL=redis_url, CACHE_PREFIX=redis_prefix)
    yield app
    app.extensions["personalizer_experiments"]["store"].client.connection_pool.disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


def event(**fields):
    return {
        "page_id": "3f1c0a9b7d2e4c6f8a1b3c5d",
        "visitor_id": "visitor-1",
        "event": "view",
        **fields,
    }


def post(client, *events, **kwargs):
    return client.post("/v1/events", json={"events": list(events)}, **kwargs)


def _everything_stored(redis_client, prefix) -> list[bytes]:
    found = []
    for key in redis_client.scan_iter(match=prefix + "*"):
        found.append(key)
        if redis_client.type(key) == b"stream":
            for _id, fields in redis_client.xrange(key):
                found.extend(fields.keys())
                found.extend(fields.values())
    return found


# -- storing --------------------------------------------------------------------------------


def test_a_batch_is_stored_with_the_visitor_only_as_a_keyed_hash(
    client, redis_client, redis_prefix, caplog
):
    visitor = "visitor-" + uuid.uuid4().hex
    response = post(
        client,
        event(visitor_id=visitor, experiment="sim", variation=1),
        event(
            visitor_id=visitor,
            event="cta_click",
            block_id="posture-assessment",
            experiment="sim",
            variation=1,
        ),
        event(visitor_id=visitor, event="check_in"),
    )
    assert response.status_code == 202, response.json
    assert response.json == {"accepted": 3}
    stream = redis_prefix + "events:exp:sim"
    entries = redis_client.xrange(stream)
    assert len(entries) == 2
    fields = parse_entry(entries[1][1][b"e"].decode())
    assert fields == {
        "visitor": visitor_hash(SECRET.encode(), visitor),
        "event": "cta_click",
        "variation": "1",
        "page_id": "3f1c0a9b7d2e4c6f8a1b3c5d",
        "block_id": "posture-assessment",
    }
    assert redis_client.xlen(redis_prefix + "events:none") == 1
    assert 0 < redis_client.ttl(stream) <= 90 * 86400
    stored = b" ".join(_everything_stored(redis_client, redis_prefix))
    assert visitor.encode() not in stored
    assert visitor not in caplog.text


def test_at_is_kept_as_given_in_epoch_milliseconds(client, redis_client, redis_prefix):
    at = int(time.time() * 1000) - 60_000
    assert post(client, event(at=at)).status_code == 202
    ((_id, fields),) = redis_client.xrange(redis_prefix + "events:none")
    assert int(parse_entry(fields[b"e"].decode())["at"]) == at


@pytest.mark.parametrize(
    "fields, path",
    [
        ({"experiment": "nosuch", "variation": 0}, "events.1.experiment"),
        ({"experiment": "sim", "variation": 2}, "events.1.variation"),
    ],
)
def test_events_of_experiments_not_running_are_409(
    client, fields, path, redis_client, redis_prefix
):
    """Well-formed, but not an experiment (or variation) loaded now: nothing of the batch is
    stored, and the error names the field."""
    response = post(client, event(), event(**fields))
    assert response.status_code == 409
    assert response.json["code"] == 409 and list(response.json["errors"]) == [path]
    assert not list(redis_client.scan_iter(match=redis_prefix + "events:*"))


def test_streams_are_bounded(redis_url, redis_prefix, experiments_file, redis_client):
    app = _app(experiments_file, REDIS_URL=redis_url, CACHE_PREFIX=redis_prefix, EVENTS_MAXLEN=1000)
    client = app.test_client()
    for batch in range(30):
        events = [event(visitor_id=f"v{batch}-{i}") for i in range(100)]
        assert post(client, *events).status_code == 202
    # MAXLEN ~ trims whole nodes of the stream (100 entries by default), never below the bound
    assert 1000 <= redis_client.xlen(redis_prefix + "events:none") < 1200


# -- the hostile corpus -------------------------------------------------------------------

HOSTILE = [
    ({"events": [event(page_id=12345)]}, "events.0.page_id"),
    ({"events": [event(visitor_id=["a"])]}, "events.0.visitor_id"),
    ({"events": [event(visitor_id="")]}, "events.0.visitor_id"),
    ({"events": [event(visitor_id="x" * 65)]}, "events.0.visitor_id"),
    ({"events": [event(visitor_id="visitor\u00e9")]}, "events.0.visitor_id"),
    ({"events": [event(visitor_id="v\u200b1")]}, "events.0.visitor_id"),
    ({"events": [event(visitor_id="v1\n")]}, "events.0.visitor_id"),
    ({"events": [event(event="purchase")]}, "events.0.event"),
    ({"events": [event(event=None)]}, "events.0.event"),
    ({"events": [event(block_id="<script>")]}, "events.0.block_id"),
    ({"events": [event(block_id="\U0001f600")]}, "events.0.block_id"),
    ({"events": [event(experiment="sim", variation="1")]}, "events.0.variation"),
    ({"events": [event(experiment="sim", variation=True)]}, "events.0.variation"),
    ({"events": [event(experiment="sim", variation=1.5)]}, "events.0.variation"),
    ({"events": [event(experiment="sim", variation=-1)]}, "events.0.variation"),
    ({"events": [event(experiment="sim")]}, "events.0.variation"),
    ({"events": [event(variation=0)]}, "events.0.experiment"),
    ({"events": [event(at="yesterday")]}, "events.0.at"),
    ({"events": [event(at=1764583200)]}, "events.0.at"),
    ({"events": [event(at="2026-12-01T10:00:00")]}, "events.0.at"),  # no offset
    ({"events": [event(at="2026-12-01T10:00:00+00:00")]}, "events.0.at"),
    ({"events": [event(at=4_102_444_800_001)]}, "events.0.at"),
    ({"events": [event(at=1.5e12)]}, "events.0.at"),
    # profile values smuggled in, anywhere
    ({"events": [event(pelvic_tilt_deg=17.5)]}, "events.0.pelvic_tilt_deg"),
    ({"events": [event(red_flags=["fever"])]}, "events.0.red_flags"),
    ({"events": [event(symptoms={"legs": "both"})]}, "events.0.symptoms"),
    ({"events": [event(profile={"alignment": {}})]}, "events.0.profile"),
    ({"events": [event()], "alignment": {"pelvic_tilt_deg": 17.5}}, "alignment"),
    ({"events": [event()], "context": {"visitor_id": "v1"}}, "context"),
    ({"events": [event(), event(page_id=None)]}, "events.1.page_id"),
    ({"events": [event(), "view"]}, "events.1"),
    ({"events": [event()] * 101}, "events"),
    ({"events": []}, "events"),
    ({"events": {"0": event()}}, "events"),
    ({"events": None}, "events"),
    ({}, "events"),
    ({"events": [{}]}, "events.0.page_id"),
]


@pytest.mark.parametrize("body, path", HOSTILE, ids=lambda x: str(x)[:50])
def test_hostile_events_are_refused_naming_the_field(
    client, body, path, redis_client, redis_prefix
):
    response = client.post("/v1/events", json=body)
    assert response.status_code == 422, response.json
    assert response.json["code"] == 422 and response.json["message"]
    assert path in response.json["errors"], response.json["errors"]
    assert not list(redis_client.scan_iter(match=redis_prefix + "events:*"))


def test_errors_never_echo_a_value(client):
    secret = "visitor\u00e9-not-echoed"
    response = post(client, event(visitor_id=secret, page_id=secret))
    assert response.status_code == 422
    assert secret not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "data, content_type, status",
    [
        (b"{not json", "application/json", 400),
        (b"", "application/json", 400),
        (b'{"events": [1, 2', "application/json", 400),
        (b'{"events": [], "events": []}', "application/json", 400),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 413),
        (b"[" * 20_000 + b"]" * 20_000, "application/json", 400),
        (
            json.dumps({"events": [event(visitor_id="x" * 70_000)]}).encode(),
            "application/json",
            413,
        ),
        (b"events=1", "application/x-www-form-urlencoded", 415),
        (b'"just a string"', "application/json", 422),
        (b"[]", "application/json", 422),
        (b"\xff\xfe", "application/json", 400),
        (json.dumps({"events": [event(page_id="\ud800")]}).encode(), "application/json", 422),
    ],
)
def test_malformed_bodies_get_a_4xx(client, data, content_type, status):
    response = client.post("/v1/events", data=data, content_type=content_type)
    assert response.status_code == status, response.get_data(as_text=True)[:200]
    assert response.json["code"] == status


def test_100_events_with_long_but_valid_fields_are_accepted(client):
    events = [event(visitor_id="v" * 64, page_id="p" * 64, block_id="a" * 60) for _ in range(100)]
    assert post(client, *events).status_code == 202


# -- Redis faults -------------------------------------------------------------------------


@pytest.fixture
def proxied(redis_url, redis_prefix, experiments_file):
    parsed = urlparse(redis_url)
    proxy = Proxy(parsed.port or 6379).start()
    db = int((parsed.path or "/0").lstrip("/") or 0)
    app = _app(
        experiments_file,
        REDIS_URL=proxy.url(db),
        CACHE_PREFIX=redis_prefix,
        REDIS_TIMEOUT_S=0.2,
        OPS_TOKEN=None,
    )
    yield app, proxy
    app.extensions["personalizer_experiments"]["store"].client.connection_pool.disconnect()
    proxy.close()


def test_hung_redis_refuses_events_with_503_and_recovers(proxied, caplog):
    app, proxy = proxied
    client = app.test_client()
    assert post(client, event()).status_code == 202
    proxy.blackhole = True
    started = time.monotonic()
    for _ in range(5):
        response = post(client, event(visitor_id="hung-visitor"))
        assert response.status_code == 503
        assert response.json["code"] == 503 and "try again" in response.json["message"]
    assert time.monotonic() - started < 3  # one timeout, then the breaker answers at once
    report = client.get("/v1/experiments/sim")
    assert report.status_code == 503 and report.json["code"] == 503
    store = app.extensions["personalizer_experiments"]["store"]
    assert store.refused == 5
    proxy.blackhole = False
    deadline = time.monotonic() + 10
    while post(client, event()).status_code != 202:
        assert time.monotonic() < deadline, "events did not recover after Redis came back"
        time.sleep(0.2)
    assert "hung-visitor" not in caplog.text


def test_redis_not_listening_gives_503_never_500(redis_prefix, experiments_file):
    app = _app(experiments_file, REDIS_URL="redis://127.0.0.1:9/0", CACHE_PREFIX=redis_prefix)
    client = app.test_client()
    for body in ({"events": [event()]}, {"events": [event(experiment="sim", variation=0)]}):
        response = client.post("/v1/events", json=body)
        assert response.status_code == 503, response.json
    assert client.get("/v1/experiments/sim").status_code == 503
    # validation still answers first
    assert post(client, event(event="purchase")).status_code == 422


def test_without_redis_events_are_kept_in_memory(experiments_file):
    app = _app(experiments_file)
    client = app.test_client()
    assert isinstance(app.extensions["personalizer_experiments"]["store"], MemoryEventStore)
    assert post(client, event(experiment="sim", variation=0)).status_code == 202
    assert client.get("/v1/experiments/sim").json["variations"][0]["visitors"] == 1


# -- access -------------------------------------------------------------------------------------


def test_events_are_rate_limited_like_pages(redis_url, redis_prefix, experiments_file):
    app = _app(
        experiments_file,
        REDIS_URL=redis_url,
        CACHE_PREFIX=redis_prefix,
        RATE_LIMIT_ENABLED=True,
        RATE_LIMIT="3 per minute",
    )
    client = app.test_client()
    statuses = [post(client, event()).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    refused = post(client, event())
    assert int(refused.headers["Retry-After"]) >= 1 and refused.json["code"] == 429
    # the page budget is its own
    assert client.post("/v1/pages", json={}).status_code == 200


def test_event_limits_count_in_memory_while_redis_is_down(redis_prefix, experiments_file):
    app = _app(
        experiments_file,
        REDIS_URL="redis://127.0.0.1:9/0",
        CACHE_PREFIX=redis_prefix,
        RATE_LIMIT_ENABLED=True,
        RATE_LIMIT="2 per minute; 100 per hour",
    )
    client = app.test_client()
    statuses = [post(client, event()).status_code for _ in range(3)]
    assert statuses == [503, 503, 429]  # counted although nothing could be stored


def test_every_part_of_a_limit_counts(redis_url, redis_prefix, experiments_file, redis_client):
    app = _app(
        experiments_file,
        REDIS_URL=redis_url,
        CACHE_PREFIX=redis_prefix,
        RATE_LIMIT_ENABLED=True,
        RATE_LIMIT="100 per minute; 2 per hour",
    )
    client = app.test_client()
    first = post(client, event())
    assert first.status_code == 202
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert [post(client, event()).status_code for _ in range(2)] == [202, 429]
    keys = list(redis_client.scan_iter(match=redis_prefix + "ratelimit:events:*"))
    assert len(keys) == 2 and all(redis_client.pttl(k) > 0 for k in keys)


def test_a_wrong_partner_key_is_refused_like_pages(client):
    response = post(client, event(), headers={"Authorization": "Bearer sk_nosuchkey"})
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers


def test_the_report_needs_the_operations_token_when_set(redis_url, redis_prefix, experiments_file):
    token = "ops-token-0123456789abcdef"
    app = _app(experiments_file, REDIS_URL=redis_url, CACHE_PREFIX=redis_prefix, OPS_TOKEN=token)
    client = app.test_client()
    assert client.get("/v1/experiments/sim").status_code == 401
    ok = client.get("/v1/experiments/sim", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert (
        client.get(
            "/v1/experiments/nosuch", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 404
    )
    # events themselves are not an operations endpoint
    assert post(client, event()).status_code == 202


def test_a_broken_experiments_file_stops_startup(tmp_path):
    path = tmp_path / "broken.json"
    bad = _payload()
    bad["features"]["sim-feature"]["rules"][0]["variations"][1] = {"disable_plugins": ["red_flags"]}
    path.write_text(json.dumps(bad))
    with pytest.raises(RuntimeError, match="broken.json.*red_flags"):
        create_app(base_config(EXPERIMENTS_FILE=str(path)))


# -- reading an experiment back -----------------------------------------------------------


def _send(client, events):
    for start in range(0, len(events), 100):
        response = post(client, *events[start : start + 100])
        assert response.status_code == 202, response.json


def test_simulated_experiment_finds_the_difference(client, app, caplog):
    """20,000 visitors assigned by the SDK; control converts 10 %, treatment 12 % (+20 %
    relative). The report must pick the treatment, with an interval covering +20 %."""
    experiments = app.extensions["personalizer_experiments"]["experiments"]
    rng = random.Random(20261201)
    rates = (0.10, 0.12)
    events, assigned = [], [0, 0]
    for i in range(20_000):
        visitor = f"sim-{i}-{rng.getrandbits(40):x}"
        (assignment,) = experiments.assign(visitor, {"channel": "web"})
        variation = assignment.variation
        assigned[variation] += 1
        common = {"visitor_id": visitor, "experiment": "sim", "variation": variation}
        events.append(event(**common))
        if rng.random() < rates[variation]:
            events.append(event(event="cta_click", block_id="posture-assessment", **common))
    _send(client, events)
    report = client.get("/v1/experiments/sim").json
    control, treatment = report["variations"]
    assert [control["visitors"], treatment["visitors"]] == assigned
    assert report["srm_p"] > 0.001 and not report["srm_warning"]
    uplift = treatment["uplift"]["cta_click"]
    assert uplift["ci"][0] < 0.20 < uplift["ci"][1], uplift
    assert uplift["ci"][0] > 0, uplift  # the difference is found
    assert treatment["chance_to_win"]["cta_click"] > 0.95
    assert abs(control["rate"]["cta_click"] - 0.10) < 0.01
    print(
        "simulated experiment:",
        json.dumps(
            {
                "srm_p": report["srm_p"],
                **uplift,
                "chance_to_win": treatment["chance_to_win"]["cta_click"],
                "visitors": assigned,
            }
        ),
    )
    assert "sim-1-" not in caplog.text


def test_an_unbalanced_split_is_flagged(client):
    """A 50/50 experiment whose events arrive 60/40 (a broken client, a redirect that loses
    one arm): the sample-ratio check flags it."""
    events = [
        event(visitor_id=f"srm-{i}", experiment="sim", variation=0 if i < 6000 else 1)
        for i in range(10_000)
    ]
    _send(client, events)
    report = client.get("/v1/experiments/sim").json
    assert [v["visitors"] for v in report["variations"]] == [6000, 4000]
    assert report["srm_p"] < 1e-10 and report["srm_warning"]
    print("60/40 SRM p-value:", report["srm_p"])


def test_a_visitor_in_two_variations_is_left_out():
    h = "a" * 32
    counts, several = tally(
        [
            {"visitor": h, "event": "view", "variation": "0"},
            {"visitor": h, "event": "view", "variation": "1"},
            {"visitor": "b" * 32, "event": "view", "variation": "1"},
            {"visitor": "b" * 32, "event": "cta_click", "variation": "1"},
            {"visitor": "c" * 32, "event": "view", "variation": "7"},
        ],
        2,
    )
    assert several == 1
    assert counts == [
        {"visitors": 0, "conversions": {}},
        {"visitors": 1, "conversions": {"view": 1, "cta_click": 1}},
    ]


def test_cli_report_prints_the_same(
    client, app, redis_url, redis_prefix, experiments_file, monkeypatch, capsys
):
    _send(
        client, [event(visitor_id=f"cli-{i}", experiment="sim", variation=i % 2) for i in range(40)]
    )
    expected = client.get("/v1/experiments/sim").json
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("PERSONALIZER_CACHE_PREFIX", redis_prefix)
    monkeypatch.setenv("PERSONALIZER_EXPERIMENTS_FILE", experiments_file)
    monkeypatch.setenv("PERSONALIZER_EVENTS_KEY_SECRET", SECRET)
    assert cli.main(["experiments", "report", "sim"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == expected
    assert cli.main(["experiments", "report", "nosuch"]) == 1


def test_visitor_ids_stay_out_of_redis_after_everything(client, redis_client, redis_prefix):
    visitors = [f"private-{uuid.uuid4().hex[:12]}" for _ in range(20)]
    _send(client, [event(visitor_id=v, experiment="sim", variation=0) for v in visitors])
    client.get("/v1/experiments/sim")
    stored = b" ".join(_everything_stored(redis_client, redis_prefix))
    assert stored and not any(v.encode() in stored for v in visitors)


def test_events_older_than_the_retention_are_not_counted(
    redis_url, redis_prefix, experiments_file, redis_client
):
    app = _app(
        experiments_file, REDIS_URL=redis_url, CACHE_PREFIX=redis_prefix, EVENTS_RETENTION_DAYS=1
    )
    client = app.test_client()
    stream = redis_prefix + "events:exp:sim"
    old = int((time.time() - 2 * 86400) * 1000)
    for i in range(300):  # two days old: beyond the one-day window
        redis_client.xadd(stream, {"e": f"{'f' * 31}{i % 10}|view|0|p||"}, id=f"{old}-{i}")
    assert post(client, event(experiment="sim", variation=1)).status_code == 202
    report = client.get("/v1/experiments/sim").json
    assert [v["visitors"] for v in report["variations"]] == [0, 1]
    assert 0 < redis_client.ttl(stream) <= 86400
    # trimmed by the first write (MINID ~ drops whole nodes, so most of them)
    assert redis_client.xlen(stream) < 300
