"""Experiments: the payload check, assignment against GrowthBook's published SDK cases, the
optional API host, and the analysis with gbstats (SRM and uplift)."""

from __future__ import annotations

import copy
import http.server
import json
import random
import threading
from pathlib import Path

import pytest
from growthbook.core import chooseVariation, gbhash, getBucketRanges, inNamespace

from personalizer import config
from personalizer.experiments import (
    Assignment,
    Definition,
    Experiments,
    ExperimentsError,
    analyse,
    check_payload,
)

CASES = json.loads((Path(__file__).parent / "data" / "growthbook_cases.json").read_text())
EXAMPLE = config.ROOT / "examples" / "experiments.json"


def payload(*rules, feature="page-test", default=None):
    return {"features": {feature: {"defaultValue": default or {}, "rules": list(rules)}}}


def rule(**fields):
    return {
        "key": "cta-wording",
        "seed": "cta-wording",
        "hashVersion": 2,
        "variations": [{}, {"weights": {"calls_to_action": 1.5}}],
        "weights": [0.5, 0.5],
        "coverage": 1,
        **fields,
    }


# -- GrowthBook's published cases ----------------------------------------------------------


@pytest.mark.parametrize("seed, value, version, expected", CASES["hash"])
def test_hash_cases(seed, value, version, expected):
    assert gbhash(seed, value, version) == expected


@pytest.mark.parametrize("name, args, expected", CASES["getBucketRange"], ids=lambda x: str(x))
def test_bucket_range_cases(name, args, expected):
    ranges = getBucketRanges(*args)
    assert [[round(a, 6), round(b, 6)] for a, b in ranges] == expected, name


@pytest.mark.parametrize("name, n, ranges, expected", CASES["chooseVariation"])
def test_choose_variation_cases(name, n, ranges, expected):
    assert chooseVariation(n, [tuple(r) for r in ranges]) == expected, name


@pytest.mark.parametrize("name, visitor, namespace, expected", CASES["inNamespace"])
def test_namespace_cases(name, visitor, namespace, expected):
    assert inNamespace(visitor, tuple(namespace)) == expected, name


def _through_service(context: dict, experiment: dict) -> list[Assignment]:
    """A published ``run`` case as this service runs it: the experiment as a feature rule of
    a payload, the case's ``id`` attribute as the visitor id and the others as attributes.
    Built without the start-up check, which also refuses hash version 1 (most run cases)."""
    experiment = copy.deepcopy(experiment)
    experiments = Experiments({"features": {"f": {"defaultValue": None, "rules": [experiment]}}})
    attributes = dict(context.get("attributes", {}))
    visitor = attributes.pop("id", None)
    return experiments.assign(visitor, attributes)


@pytest.mark.parametrize("case", CASES["run"], ids=lambda c: c[0])
def test_run_cases_through_assign(case):
    name, context, experiment, value, in_experiment, _hash_used = case
    found = _through_service(context, experiment)
    if not in_experiment:
        assert found == [], name
        return
    assert len(found) == 1, name
    assert found[0].key == experiment["key"]
    assert found[0].variation == experiment["variations"].index(value)
    assert found[0].value == value


@pytest.mark.parametrize("case", CASES["feature"], ids=lambda c: c[0])
def test_feature_cases_through_assign(case):
    name, context, feature_key, expected = case
    experiments = Experiments({"features": context["features"]})
    found = experiments.assign(context["attributes"]["id"])
    assert [(a.key, a.variation, a.value) for a in found] == [
        (
            expected["experiment"]["key"],
            expected["experimentResult"]["variationId"],
            expected["value"],
        )
    ], name


def test_the_hash_version_2_cases_pass_the_startup_check_too():
    """The cases that hash as this service requires (version 2) run through load() as well."""
    v2 = [c for c in CASES["run"] if c[2].get("hashVersion") == 2]
    assert len(v2) == 3
    for name, context, experiment, value, _in, _used in v2:
        variations = [{} for _ in experiment["variations"]]
        experiments = Experiments.load(
            {"features": {"f": {"rules": [{**experiment, "variations": variations}]}}}, "case"
        )
        found = experiments.assign(context["attributes"]["id"])
        assert [a.variation for a in found] == [experiment["variations"].index(value)], name


# -- assignment --------------------------------------------------------------------------


def test_assignment_is_stable_and_splits_by_the_weights():
    experiments = Experiments.load(payload(rule(weights=[0.2, 0.8])), "test")
    rng = random.Random(7)
    counts = [0, 0]
    for _ in range(20_000):
        visitor = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=20))
        first = experiments.assign(visitor)
        assert first == experiments.assign(visitor)
        counts[first[0].variation] += 1
    assert 0.19 < counts[0] / 20_000 < 0.21


def test_no_visitor_id_no_experiments():
    experiments = Experiments.load(payload(rule()), "test")
    for visitor in (None, "", "has space", "x" * 65, "é", 123):
        assert experiments.assign(visitor) == []


def test_values_are_copies():
    experiments = Experiments.load(payload(rule(coverage=1, weights=[0, 1])), "test")
    (found,) = experiments.assign("visitor-1")
    found.value["weights"]["calls_to_action"] = 99
    assert experiments.assign("visitor-1")[0].value == {"weights": {"calls_to_action": 1.5}}


def test_conditions_read_the_attributes_given():
    experiments = Experiments.load(payload(rule(condition={"channel": "web"})), "test")
    assert experiments.assign("v1", {"channel": "web"})
    assert experiments.assign("v1", {"channel": "clinic"}) == []


def test_the_visitor_id_is_the_id_whatever_the_attributes_say():
    experiments = Experiments.load(payload(rule()), "test")
    assert experiments.assign("v1", {"id": "someone-else"}) == experiments.assign("v1")


def test_query_string_or_forced_variations_cannot_reach_assignment():
    """The SDK's URL override (?cta-wording=1) has no URL to read here."""
    experiments = Experiments.load(payload(rule()), "test")
    chosen = {experiments.assign(f"visitor{i}")[0].variation for i in range(50)}
    assert chosen == {0, 1}


def test_the_example_payload_loads():
    experiments = Experiments.from_file(EXAMPLE)
    assert set(experiments.definitions) >= {"cta-wording"}


# -- the start-up check ---------------------------------------------------------------------

REFUSED = [
    (rule(hashVersion=1), "hashVersion: must be 2"),
    ({k: v for k, v in rule().items() if k != "hashVersion"}, "hashVersion: must be 2"),
    (rule(hashAttribute="deviceId"), "hashAttribute"),
    (rule(force={}), "force"),
    (rule(weights=[0.5, 0.6]), "weights"),
    (rule(weights=[0.5]), "weights"),
    (rule(coverage=1.5), "coverage"),
    (rule(coverage=10**400), "coverage"),
    (rule(weights=[10**400, 0]), "weights"),
    (rule(variations=[{}]), "variations"),
    (rule(variations=[{}, "blue"]), "variations[1]: must be an object"),
    (rule(variations=[{}, {"colour": "blue"}]), "variations[1].colour: unknown"),
    (rule(variations=[{}, {"disable_plugins": ["red_flags"]}]), "never part of an experiment"),
    (rule(variations=[{}, {"weights": {"red_flags": 0}}]), "never part of an experiment"),
    (rule(variations=[{}, {"weights": {"education": 11}}]), "from 0 to 10"),
    (rule(variations=[{}, {"weights": {"education": True}}]), "from 0 to 10"),
    (rule(variations=[{}, {"disable_plugins": ["a", "a"]}]), "listed twice"),
    (rule(variations=[{}, {"disable_plugins": ["a"], "enable_plugins": ["a"]}]), "both"),
    (rule(variations=[{}, {"offer": {"replace": "a"}}]), "offer"),
    (rule(variations=[{}, {"offer": {"replace": "a", "with": "a"}}]), "itself"),
    (rule(key="has space"), "key"),
    (rule(namespace=["ns", 0.5, 0.2]), "namespace"),
    (rule(ranges=[[0, 0.5]]), "ranges"),
    (rule(sticky=True), "sticky: not understood"),
]


@pytest.mark.parametrize("bad, message", REFUSED, ids=lambda x: str(x)[:40])
def test_a_rule_that_cannot_work_is_refused_naming_the_field(bad, message):
    problems = check_payload(payload(bad))
    assert problems and any(message in p for p in problems), problems
    assert all(p.startswith("features.page-test") for p in problems), problems


def test_known_plugins_and_content_are_checked_when_given():
    value = {
        "disable_plugins": ["nosuch"],
        "offer": {"replace": "posture-assessment", "with": "knee-to-chest"},
    }
    problems = check_payload(
        payload(rule(variations=[{}, value])),
        known_plugins={"education", "red_flags"},
        catalog={"posture-assessment": "cta", "knee-to-chest": "exercise"},
    )
    assert any("no plugin named 'nosuch'" in p for p in problems)
    assert any("not the same kind of block" in p for p in problems)


def test_one_experiment_key_per_rule():
    twice = {"features": {"a": {"rules": [rule()]}, "b": {"rules": [rule()]}}}
    assert any("also run by" in p for p in check_payload(twice))


def test_payload_shapes_refused():
    assert check_payload([]) == ["the payload must be a JSON object with a features object"]
    assert check_payload({"features": []})
    assert check_payload({"features": {}, "encryptedFeatures": "x"})
    assert check_payload({"features": {}, "experiments": [{"key": "x"}]})
    assert check_payload({"features": {}}) == []


def test_a_broken_file_stops_startup_naming_the_file(tmp_path):
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps(payload(rule(hashVersion=1))))
    with pytest.raises(ExperimentsError) as caught:
        Experiments.from_settings({"EXPERIMENTS_FILE": str(path)})
    assert str(path) in str(caught.value) and "hashVersion" in str(caught.value)
    path.write_text("{not json")
    with pytest.raises(ExperimentsError, match="is not valid JSON"):
        Experiments.from_file(path)
    with pytest.raises(ExperimentsError, match="cannot be read"):
        Experiments.from_file(tmp_path / "missing.json")


def test_no_setting_no_experiments():
    experiments = Experiments.from_settings({})
    assert not experiments and experiments.assign("v1") == []


# -- the API host (a local HTTP server stands in for GrowthBook) ----------------------------


class _Host(http.server.BaseHTTPRequestHandler):
    body = b"{}"
    status = 200
    paths: list = []

    def do_GET(self):  # noqa: N802
        type(self).paths.append(self.path)
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def api_host():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Host)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Host.paths = []
    yield server, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _settings(host, path=None):
    return {
        "EXPERIMENTS_API_HOST": host,
        "EXPERIMENTS_CLIENT_KEY": "sdk-abc123",
        "EXPERIMENTS_API_TIMEOUT_S": 1.0,
        "EXPERIMENTS_FILE": path,
    }


def test_api_host_payload_is_used(api_host):
    _server, host = api_host
    _Host.status, _Host.body = 200, json.dumps(payload(rule(key="from-api"))).encode()
    experiments = Experiments.from_settings(_settings(host))
    assert set(experiments.definitions) == {"from-api"}
    assert _Host.paths == ["/api/features/sdk-abc123"]


def test_api_host_down_or_broken_falls_back_to_the_file(api_host, tmp_path, caplog):
    _server, host = api_host
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps(payload(rule(key="from-file"))))
    _Host.status, _Host.body = 500, b"{}"
    assert set(Experiments.from_settings(_settings(host, str(path))).definitions) == {"from-file"}
    _Host.status, _Host.body = 200, json.dumps(payload(rule(hashVersion=1))).encode()
    assert set(Experiments.from_settings(_settings(host, str(path))).definitions) == {"from-file"}
    # nothing listens here
    closed = "http://127.0.0.1:9"
    assert set(Experiments.from_settings(_settings(closed, str(path))).definitions) == {"from-file"}
    assert "unusable" in caplog.text


# -- analysis ---------------------------------------------------------------------------------


def test_srm_flags_a_60_40_split_of_a_50_50_experiment():
    definition = Definition("x", "f", 2, (0.5, 0.5))
    unbalanced = [
        {"visitors": 6000, "conversions": {"view": 6000}},
        {"visitors": 4000, "conversions": {"view": 4000}},
    ]
    report = analyse(definition, unbalanced)
    assert report["srm_p"] < 1e-50 and report["srm_warning"]
    balanced = [
        {"visitors": 5030, "conversions": {"view": 5030}},
        {"visitors": 4970, "conversions": {"view": 4970}},
    ]
    report = analyse(definition, balanced)
    assert report["srm_p"] > 0.5 and not report["srm_warning"]


def test_srm_uses_the_configured_weights():
    definition = Definition("x", "f", 2, (0.6, 0.4))
    counts = [{"visitors": 6000, "conversions": {}}, {"visitors": 4000, "conversions": {}}]
    assert analyse(definition, counts)["srm_p"] > 0.9


def test_uplift_interval_and_chance_to_win():
    definition = Definition("x", "f", 2, (0.5, 0.5))
    counts = [
        {"visitors": 10_000, "conversions": {"cta_click": 1000}},
        {"visitors": 10_000, "conversions": {"cta_click": 1200}},
    ]
    report = analyse(definition, counts)
    control, treatment = report["variations"]
    assert control["uplift"] == {} and control["rate"]["cta_click"] == 0.1
    uplift = treatment["uplift"]["cta_click"]
    assert uplift["value"] == pytest.approx(0.2)
    assert uplift["ci"][0] < 0.2 < uplift["ci"][1] and uplift["ci"][0] > 0
    assert treatment["chance_to_win"]["cta_click"] > 0.99


def test_no_conversions_in_control_gives_no_uplift_rather_than_an_error():
    definition = Definition("x", "f", 2, (0.5, 0.5))
    counts = [
        {"visitors": 10, "conversions": {"cta_click": 0}},
        {"visitors": 0, "conversions": {}},
    ]
    report = analyse(definition, counts)
    assert report["variations"][1]["uplift"]["cta_click"]["value"] is None


def test_the_visitor_id_reaches_no_log_line_and_no_assignment(caplog):
    """Even with every logger at DEBUG (the SDK logs each step of an evaluation)."""
    import logging

    experiments = Experiments.load(
        payload(rule(coverage=0.5, condition={"channel": "web"})), "test"
    )
    visitors = [f"private-visitor-{i}" for i in range(200)]
    with caplog.at_level(logging.DEBUG):
        found = [experiments.assign(v, {"channel": "web"}) for v in visitors]
        experiments.assign("private-visitor-x", {"channel": "clinic"})
    assert any(found) and not all(found)  # some in, some out of the 50 % coverage
    text = caplog.text + repr(found)
    assert "private-visitor" not in text


PLAIN_SHAPES = [
    rule(),
    rule(weights=[0.1, 0.9], coverage=0.4),
    rule(seed=None, coverage=0),
    rule(ranges=[[0.99, 1.0], [0.0, 0.99]], coverage=0.01, weights=[0.99, 0.01]),
    rule(ranges=[[0, 0.1], [0.9, 1.0]]),
    rule(variations=[{}, {}, {}], weights=[0.2, 0.3, 0.5], coverage=0.2),
    rule(hashVersion=1),
    rule(hashVersion=99),
    rule(key=None, meta=[{"key": "0"}, {"key": "1"}]),
    {"variations": [{}, {}]},
]


@pytest.mark.parametrize("shape", PLAIN_SHAPES, ids=lambda s: str(s)[:60])
def test_the_plain_path_assigns_as_the_sdk_evaluation_does(shape):
    """Plain splits skip the SDK's evaluation machinery and call its hash and bucket functions
    directly; for 5,000 visitors each, both give the same assignments."""
    shape = {k: v for k, v in shape.items() if v is not None}
    body = payload(shape)
    fast, full = Experiments(body), Experiments(body, fast=False)
    assert fast._plain and not full._plain
    rng = random.Random(11)
    for _ in range(5000):
        visitor = "".join(rng.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_-", k=22))
        assert fast.assign(visitor) == full.assign(visitor), visitor


def test_rules_with_conditions_or_namespaces_take_the_full_evaluation():
    for shape in (
        rule(condition={"channel": "web"}),
        rule(namespace=["ns", 0, 0.5]),
        rule(filters=[{"seed": "s", "ranges": [[0, 0.5]]}]),
        rule(meta=[{}, {"passthrough": True}]),
    ):
        assert not Experiments(payload(shape))._plain


# -- helpers for the engine ---------------------------------------------------------------


def test_without_visitor_leaves_the_profile_untouched():
    from personalizer.experiments import without_visitor

    profile = {"context": {"channel": "web", "visitor_id": "v-1"}, "red_flags": []}
    stripped, visitor = without_visitor(profile)
    assert visitor == "v-1" and stripped == {"context": {"channel": "web"}, "red_flags": []}
    assert profile["context"]["visitor_id"] == "v-1"
    assert without_visitor({"red_flags": []}) == ({"red_flags": []}, None)


def test_decision_part_and_page_entries_hold_no_visitor():
    from personalizer.experiments import decision_part, page_entries

    found = [Assignment("b", 1, {"weights": {"education": 2}}), Assignment("a", 0, {})]
    assert decision_part(found) == [["a", 0], ["b", 1]]
    assert page_entries(found) == [
        {"key": "a", "variation": 0, "value": {}},
        {"key": "b", "variation": 1, "value": {"weights": {"education": 2}}},
    ]


def test_overlapping_effects_resolve_cautiously():
    from personalizer.experiments import merge_effects

    merged = merge_effects(
        [
            Assignment("b", 1, {"enable_plugins": ["hello", "education"], "weights": {"x": 2}}),
            Assignment("a", 1, {"disable_plugins": ["education"], "weights": {"x": 1.5}}),
            Assignment("c", 1, {"offer": {"replace": "p", "with": "q"}}),
            Assignment("d", 1, {"offer": {"replace": "p", "with": "r"}}),
        ]
    )
    assert merged == {
        "disable_plugins": {"education"},
        "enable_plugins": {"hello"},
        "weights": {"x": 3.0},
        "offers": {"p": "q"},
    }
    assert merge_effects([]) == {
        "disable_plugins": set(),
        "enable_plugins": set(),
        "weights": {},
        "offers": {},
    }


def test_the_example_payload_passes_the_service_checks_of_plugins_and_content():
    from personalizer import create_app
    from tests.support import base_config

    app = create_app(base_config(EXPERIMENTS_FILE=str(EXAMPLE)))
    experiments = app.extensions["personalizer_experiments"]["experiments"]
    assert set(experiments.definitions) == {"cta-wording", "more-education"}
