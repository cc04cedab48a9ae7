"""Rule 7: whatever a plugin does, the page is served and rules 1-6 and 8 still hold.

Each adversarial plugin of tests/plugins is installed beside the built-ins and a matrix of
profiles is run through it (JSON and HTML); the explain trace must show the plugin's
failures; a page built while a plugin failed is not cached; a plugin failing again and again
is quarantined; without a working triage the page fails safe. An entry-point installed
plugin (tests/fixtures/entrypoint_plugin) is loaded the way a pip-installed one is.
"""

from __future__ import annotations

import copy
import importlib
import sys
import time
from pathlib import Path

import pytest

from personalizer import create_app, hookimpl
from personalizer_plugins import red_flags
from tests.plugins import (
    alerts_last,
    commercial_push,
    content_raiser,
    flaky,
    garbage,
    liar,
    mutator,
    oracle,
    raiser,
    shadow_features,
    sleeper,
    unencodable,
    vetoed_pick,
)
from tests.plugins.oracle import ALERT_ID, EMERGENCY, FLAGS, LEVEL_OF
from tests.support import BUILTINS, base_config

FIXTURES = Path(__file__).parent / "fixtures" / "entrypoint_plugin"
PAGE_HOOKS = raiser.HOOKS
NO_QUARANTINE = {"QUARANTINE_AFTER": 10**9}

SYMPTOMS = {
    "legs": "both",
    "worse_with": ["standing", "walking"],
    "eased_by": ["sitting", "leaning_forward"],
    "walking_tolerance_min": 10,
    "numbness": True,
    "weakness": False,
    "pain_score": 5,
}


def body(flags=(), channel="web", **symptoms) -> dict:
    return {
        "alignment": {**oracle.PRESS_UP_ALIGNMENT, "pelvic_tilt_deg": 25},
        "symptoms": {**SYMPTOMS, **symptoms},
        "red_flags": list(flags),
        "context": {"channel": channel, "minutes_per_day": 30},
    }


MATRIX = (
    [(f"{flag}-web", body([flag])) for flag in FLAGS]
    + [
        ("saddle+fever", body(["saddle_numbness", "fever"])),
        ("fever+weight_loss", body(["fever", "unexplained_weight_loss"])),
        (
            "cancer+fall+bladder",
            body(["history_of_cancer", "after_fall", "bladder_or_bowel_change"]),
        ),
        ("walking_decline+spreading", body(["walking_decline", "spreading_numbness"])),
        ("weight_loss+cancer", body(["unexplained_weight_loss", "history_of_cancer"])),
    ]
    + [(f"{flag}-clinic", body([flag], channel="clinic")) for flag in EMERGENCY]
    + [
        ("fever-clinic", body(["fever"], channel="clinic")),
        ("none-web", body()),
        ("none-email", body(channel="email")),
        ("none-clinic", body(channel="clinic")),
        ("none-walking-only", body(worse_with=["walking"])),
        ("empty", {}),
        (
            "every-contraindication",
            body(
                ["history_of_cancer"],
                worse_with=["standing", "sitting", "lying_down", "bending_forward"],
                pain_score=9,
                weakness=True,
            ),
        ),
    ]
)
SHORT_MATRIX = [
    (name, b)
    for name, b in MATRIX
    if name
    in ("saddle_numbness-clinic", "fever-web", "cancer+fall+bladder", "none-clinic", "none-web")
]


def make_app(extra, **config):
    names = [name for name, _ in extra]
    return create_app(
        base_config(EXTRA_PLUGINS=list(extra), LOAD_PLUGINS=BUILTINS + names, **config)
    )


def catalog_of(app):
    return app.extensions["personalizer"].engine.catalog


def post(client, profile, **kwargs):
    return client.post("/v1/pages", json=copy.deepcopy(profile), **kwargs)


def explain(client, profile) -> dict:
    response = client.post("/v1/pages?explain=1", json=copy.deepcopy(profile))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()


def failures(trace) -> set[tuple[str, str]]:
    return {(f["plugin"], f["hook"]) for f in trace["explain"]["failures"]}


def run_matrix(app, matrix=MATRIX, html=True, failsafe=False) -> None:
    """Every profile of the matrix: 200, rules 1-6 and 8 on JSON (and HTML)."""
    client = app.test_client()
    catalog = catalog_of(app)
    for name, profile in matrix:
        vetoed = oracle.vetoed_ids(profile, catalog)
        response = post(client, profile)
        assert response.status_code == 200, (name, response.get_data(as_text=True)[:300])
        try:
            page = response.get_json()
            oracle.assert_page(page, profile, vetoed=vetoed, failsafe=failsafe)
            if html:
                response = post(client, profile, headers={"Accept": "text/html"})
                assert response.status_code == 200
                oracle.assert_fragment(response.get_data(as_text=True), profile, page)
        except AssertionError as exc:
            raise AssertionError(f"profile {name}: {exc}") from exc


# -- the adversarial plugins, one by one, over the matrix ----------------------------------------

SETUPS = {
    "commercial_push": (
        [
            ("commercial_push", commercial_push.plugin),
            ("alert_scorer", commercial_push.alert_scorer),
        ],
        {("alert_scorer", "personalizer_candidates")},
    ),
    "vetoed_pick": ([("vetoed_pick", vetoed_pick)], set()),
    "alerts_last": ([("alerts_last", alerts_last)], set()),
    "raiser": ([("raiser", raiser)], {("raiser", h) for h in PAGE_HOOKS}),
    "liar": ([("liar", liar)], set()),
    **{
        f"garbage-{kind}": (
            [(f"garbage_{kind}", plugin)],
            {(f"garbage_{kind}", h) for h in PAGE_HOOKS},
        )
        for kind, plugin in garbage.VARIANTS.items()
    },
    "all_at_once": (
        [
            ("commercial_push", commercial_push.plugin),
            ("alert_scorer", commercial_push.alert_scorer),
            ("vetoed_pick", vetoed_pick),
            ("alerts_last", alerts_last),
            ("raiser", raiser),
            ("liar", liar),
            ("garbage_nan", garbage.VARIANTS["nan"]),
        ],
        {("raiser", h) for h in PAGE_HOOKS}
        | {("garbage_nan", h) for h in PAGE_HOOKS}
        | {("alert_scorer", "personalizer_candidates")},
    ),
}


@pytest.mark.parametrize("setup", SETUPS)
def test_contract_holds_with_a_faulty_plugin_installed(setup):
    extra, expected_failures = SETUPS[setup]
    app = make_app(extra, **NO_QUARANTINE)
    listing = {p["name"]: p for p in app.test_client().get("/v1/plugins").get_json()}
    for name, _ in extra:
        assert listing[name]["enabled"] and listing[name]["source"] == "config"
    run_matrix(app)
    client = app.test_client()
    for name, profile in SHORT_MATRIX:
        trace = explain(client, profile)
        assert failures(trace) == expected_failures, name
        oracle.assert_page(trace, profile, vetoed=oracle.vetoed_ids(profile, catalog_of(app)))
        for name_, _ in extra:
            assert name_ in trace["explain"]["plugin_ms"]


@pytest.mark.parametrize("kind", garbage.VARIANTS)
def test_garbage_is_reported_as_malformed(kind):
    app = make_app([("garbage", garbage.VARIANTS[kind])], **NO_QUARANTINE)
    trace = explain(app.test_client(), body(["fever"], channel="clinic"))
    errors = {f["hook"]: f["error"] for f in trace["explain"]["failures"]}
    assert set(errors) == set(PAGE_HOOKS)
    assert all(e.startswith("malformed result") for e in errors.values()), errors
    # Without every plugin's features and vetoes, only exercises with no
    # contraindication at all may show.
    assert trace["explain"]["cautious"] is True
    catalog = catalog_of(app)
    for block in trace["blocks"]:
        if block["kind"] == "exercise":
            assert not catalog[block["id"]].contraindications, block["id"]


def test_commercial_push_is_stopped_by_the_engine_not_by_accident():
    app = make_app([("commercial_push", commercial_push.plugin)], **NO_QUARANTINE)
    client = app.test_client()
    web = post(client, body()).get_json()
    ours = {"posture-assessment", "posture-therapy-programme"}
    assert {b["id"] for b in web["blocks"][:2]} == ours, "control: the push works on the web"
    for profile in (body(channel="clinic"), body(["sudden_leg_weakness"])):
        trace = explain(client, profile)
        assert not [b for b in trace["blocks"] if b.get("commercial")]
        changes = " ".join(trace["explain"]["safety_changes"])
        assert "removed call to action posture-assessment" in changes
        assert "partner-booking" not in [b["id"] for b in trace["blocks"]]


def test_alert_scorer_result_is_left_out_whole():
    app = make_app([("alert_scorer", commercial_push.alert_scorer)], **NO_QUARANTINE)
    trace = explain(app.test_client(), body(["history_of_cancer"], numbness=False))
    (failure,) = trace["explain"]["failures"]
    assert failure["hook"] == "personalizer_candidates"
    assert "alerts are chosen by triage" in failure["error"]
    assert trace["blocks"][0]["id"] == "get-assessed"
    assert not [c for c in trace["explain"]["candidates"] if c["plugin"] == "alert_scorer"]


def test_vetoed_pick_works_where_allowed_and_never_where_vetoed():
    app = make_app([("vetoed_pick", vetoed_pick)], **NO_QUARANTINE)
    client = app.test_client()
    free = post(client, body(worse_with=["walking"], eased_by=[])).get_json()
    assert "prone-press-up" in [b["id"] for b in free["blocks"]], "control: the pick works"
    trace = explain(client, body())
    assert "prone-press-up" in {v["id"] for v in trace["explain"]["vetoes"]}
    shown = {b["id"] for b in trace["blocks"]} | {i["id"] for i in trace["routine"]["items"]}
    assert "prone-press-up" not in shown


def test_alerts_last_arrangement_is_undone():
    app = make_app([("alerts_last", alerts_last)], **NO_QUARANTINE)
    trace = explain(app.test_client(), body(["fever", "history_of_cancer"]))
    arranged = trace["explain"]["arrange"][0]["order"]
    assert arranged[-1] == "urgent-care", "control: the plugin did act"
    assert [b["id"] for b in trace["blocks"]][0] == "urgent-care"
    changes = trace["explain"]["safety_changes"]
    assert any("moved the alert for the page's level to the top" in c for c in changes)


def test_liar_cannot_lower_a_contract_level():
    app = make_app([("liar", liar)], **NO_QUARANTINE)
    client = app.test_client()
    for flag in FLAGS:
        page = post(client, body([flag], numbness=False)).get_json()
        assert page["triage"]["level"] == LEVEL_OF[flag]
        assert page["blocks"][0]["id"] == ALERT_ID[LEVEL_OF[flag]]
    page = post(client, body(["saddle_numbness", "fever"])).get_json()
    assert [b["id"] for b in page["blocks"]] == ["emergency-now"]
    assert "all_clear" not in page["triage"]["flags"]


def test_overridden_triage_claim_is_not_given_as_a_reason():
    """Rule 8: an alert says why it is there. When the contract overrides a plugin's level,
    that plugin did not put the alert there, and its reason ("nothing to worry about") must
    not be shown as the emergency alert's why; the overridden claim is kept for the explain
    trace only."""
    app = make_app([("liar", liar)], **NO_QUARANTINE)
    trace = explain(app.test_client(), body(["saddle_numbness", "fever"]))
    (alert,) = trace["blocks"]
    assert {w["plugin"] for w in alert["why"]} == {"red_flags"}, alert["why"]
    assert {o["plugin"] for o in trace["explain"]["triage_overridden"]} == {"liar"}


# -- the slow plugin: budgets --------------------------------------------------------------------


def test_slow_plugin_is_cut_off_at_its_budget():
    app = make_app([("sleeper", sleeper)], PLUGIN_BUDGET_MS=30, **NO_QUARANTINE)
    client = app.test_client()
    catalog = catalog_of(app)
    for name, profile in SHORT_MATRIX:
        started = time.perf_counter()
        response = post(client, profile)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        assert elapsed < 0.5, f"{name}: served in {elapsed:.2f} s with a 0.5 s sleeper"
        page = response.get_json()
        vetoed = oracle.vetoed_ids(profile, catalog)
        oracle.assert_page(page, profile, vetoed=vetoed)
    started = time.perf_counter()
    trace = explain(client, body(["saddle_numbness"], channel="clinic"))
    assert time.perf_counter() - started < 0.5
    slow = [f for f in trace["explain"]["failures"] if f["plugin"] == "sleeper"]
    assert {f["hook"] for f in slow} == set(PAGE_HOOKS)
    assert not [c for c in trace["explain"]["candidates"] if c["plugin"] == "sleeper"]
    assert all(f["error"] == "over its time budget of 30 ms" for f in slow)
    assert 25 <= trace["explain"]["plugin_ms"]["sleeper"] < 450


def test_slow_plugin_matrix():
    app = make_app([("sleeper", sleeper)], PLUGIN_BUDGET_MS=30, **NO_QUARANTINE)
    run_matrix(app, MATRIX[::3], html=False, failsafe=None)


# -- pages built during a failure are not cached -------------------------------------------------


def test_page_built_while_a_plugin_failed_is_not_cached():
    control = make_app([]).test_client()
    assert post(control, body(["fever"])).headers["X-Cache"] == "miss"
    assert post(control, body(["fever"])).headers["X-Cache"] == "hit"

    client = make_app([("raiser", raiser)], **NO_QUARANTINE).test_client()
    for _ in range(3):
        assert post(client, body(["fever"])).headers["X-Cache"] == "miss"


@pytest.mark.parametrize("hook", ["candidates", "arrange"])
def test_a_passing_fault_does_not_outlive_its_request(hook, redis_url, redis_prefix):
    """Features succeed, so the cache is consulted; the page built while the plugin failed
    is served but not stored; the next (good) one is stored and then hit. On Redis."""
    plugin = flaky.make("x", hook_fails_in=hook)
    app = make_app([("flaky", plugin)], REDIS_URL=redis_url, CACHE_PREFIX=redis_prefix)
    client = app.test_client()
    profile = body(["history_of_cancer"])
    first = post(client, profile)
    assert first.status_code == 200 and first.headers["X-Cache"] == "miss"
    assert plugin.calls == 1
    second = post(client, profile)
    assert second.headers["X-Cache"] == "miss", "the degraded page was stored"
    third = post(client, profile)
    assert third.headers["X-Cache"] == "hit"
    assert third.data == second.data
    assert plugin.calls == 2
    oracle.assert_page(first.get_json(), profile)


# -- quarantine ----------------------------------------------------------------------------------


def test_plugin_failing_five_times_in_a_row_is_quarantined():
    plugin = flaky.make("x" * 100)
    app = make_app([("flaky", plugin)], QUARANTINE_AFTER=5, QUARANTINE_SECONDS=60)
    client = app.test_client()
    profile = body(["fever"])
    for n in range(1, 6):
        trace = explain(client, profile)
        (failure,) = trace["explain"]["failures"]
        assert failure["error"] == "raised RuntimeError"
        assert plugin.calls == n
    for _ in range(3):
        trace = explain(client, profile)
        assert trace["explain"]["failures"] == []
        (skipped,) = trace["explain"]["skipped"]
        assert (skipped["plugin"], skipped["error"]) == ("flaky", "quarantined")
        assert plugin.calls == 5, "a quarantined plugin is not called"
        assert trace["explain"]["features"]["quarantined"] == ["flaky"]
        oracle.assert_page(trace, profile)
    # a quarantined plugin's absence is no failure of the page: it is cached, under a key
    # that names the quarantine, so it is served only while the quarantine lasts
    assert post(client, profile).headers["X-Cache"] == "miss"
    assert post(client, profile).headers["X-Cache"] == "hit"
    listed = {p["name"]: p for p in client.get("/v1/plugins").get_json()}
    assert 0 < listed["flaky"]["quarantined_s"] <= 60
    assert listed["red_flags"]["quarantined_s"] is None


def test_quarantine_ends_after_its_time():
    plugin = flaky.make("x" * 5)
    app = make_app([("flaky", plugin)], QUARANTINE_AFTER=5, QUARANTINE_SECONDS=30)
    now = [1000.0]
    app.extensions["personalizer"].engine.runner.quarantine.clock = lambda: now[0]
    client = app.test_client()
    for _ in range(5):
        explain(client, body())
    skipped = explain(client, body())["explain"]["skipped"]
    assert {(s["plugin"], s["hook"]) for s in skipped} == {("flaky", "personalizer_candidates")}
    assert plugin.calls == 5
    now[0] += 29.9
    assert explain(client, body())["explain"]["skipped"] and plugin.calls == 5
    now[0] += 0.2
    trace = explain(client, body())
    assert trace["explain"]["failures"] == [] and trace["explain"]["skipped"] == []
    assert plugin.calls == 6


def test_only_failures_in_a_row_count():
    plugin = flaky.make("xxxx.xxxx.xxxx")
    app = make_app([("flaky", plugin)], QUARANTINE_AFTER=5, QUARANTINE_SECONDS=60)
    client = app.test_client()
    for n in range(1, 16):
        explain(client, body())
        assert plugin.calls == n


def test_plugin_failing_in_every_hook_is_quarantined_after_one_page():
    app = make_app([("raiser", raiser)], QUARANTINE_AFTER=5, QUARANTINE_SECONDS=60)
    client = app.test_client()
    first = explain(client, body(["walking_decline"]))
    assert {f["error"] for f in first["explain"]["failures"]} == {"raised Boom"}
    second = explain(client, body(["walking_decline"]))
    assert second["explain"]["failures"] == []
    skipped = second["explain"]["skipped"]
    assert {(f["plugin"], f["error"]) for f in skipped} == {("raiser", "quarantined")}
    assert len(skipped) == len(PAGE_HOOKS)
    oracle.assert_page(second, body(["walking_decline"]))


# -- triage cannot run: the fail-safe page --------------------------------------------------------


@hookimpl
def broken_triage(features):
    raise RuntimeError("red_flags is broken")


def assert_failsafe(page, profile):
    ids = [b["id"] for b in page["blocks"]]
    want = oracle.expected_level(oracle.reported(profile), profile)
    if want == "emergency":  # the emergency page is its alert alone, fail-safe or not
        assert ids == [ALERT_ID["emergency"]]
        oracle.assert_page(page, profile, failsafe=True)
        return
    assert not [b for b in page["blocks"] if b["kind"] == "exercise"]
    assert page["routine"] == {"minutes": 0, "items": []}
    assert not [b for b in page["blocks"] if b.get("commercial")]
    assert page["triage"]["level"] == want
    # The warning signs come before any section or offer: in the level's alert, first, or
    # in their own block, which says the check could not run.
    carrier = next(b for b in page["blocks"] if oracle.carries_signs(b["html"]))
    assert ids.index(carrier["id"]) < next(
        (i for i, b in enumerate(page["blocks"]) if b["kind"] in ("section", "cta")), len(ids)
    )
    if want != "none":
        assert ids[0] == ALERT_ID[want] == carrier["id"]
    else:
        assert carrier["id"] == oracle.FAILSAFE_ALERT
        assert "could not check your answers" in carrier["why"][0]["reason"]
    oracle.assert_page(page, profile, failsafe=True)


FAILSAFE_PROFILES = [
    body(),
    body(channel="clinic"),
    body(["saddle_numbness"], channel="clinic"),
    body(["fever", "history_of_cancer"]),
    body(["unexplained_weight_loss"]),
    body(["bladder_or_bowel_change", "after_fall", "history_of_cancer"], channel="email"),
]


def check_failsafe(app, expect_cached: bool):
    client = app.test_client()
    for profile in FAILSAFE_PROFILES:
        response = post(client, profile)
        assert response.status_code == 200
        page = response.get_json()
        assert_failsafe(page, profile)
        html = post(client, profile, headers={"Accept": "text/html"}).get_data(as_text=True)
        if page["triage"]["level"] == "none":
            assert f'data-block-id="{oracle.FAILSAFE_ALERT}"' in html
        oracle.assert_fragment(html, profile, page)
        again = post(client, profile)
        assert again.headers["X-Cache"] == ("hit" if expect_cached else "miss")
        assert_failsafe(explain(client, profile), profile)


def test_failsafe_when_no_triage_plugin_is_loaded():
    without = [name for name in BUILTINS if name != "red_flags"]
    app = create_app(base_config(LOAD_PLUGINS=without))
    # Nothing failed: the page is deterministic for this plugin set, so it may be cached.
    check_failsafe(app, expect_cached=True)


def test_failsafe_when_red_flags_raises(monkeypatch):
    monkeypatch.setattr(red_flags, "personalizer_triage", broken_triage)
    app = make_app([], **NO_QUARANTINE)
    check_failsafe(app, expect_cached=False)
    trace = explain(app.test_client(), body(["fever"]))
    assert ("red_flags", "personalizer_triage") in failures(trace)
    assert trace["explain"]["failsafe"] is True


def test_failsafe_when_the_only_triage_plugin_raises():
    without = [name for name in BUILTINS if name != "red_flags"]
    app = create_app(
        base_config(
            EXTRA_PLUGINS=[("raiser", raiser)], LOAD_PLUGINS=without + ["raiser"], **NO_QUARANTINE
        )
    )
    check_failsafe(app, expect_cached=False)


def test_failsafe_when_a_slow_triage_plugin_uses_up_the_deadline():
    app = make_app(
        [("sleeper", sleeper)], PLUGIN_BUDGET_MS=50, REQUEST_DEADLINE_MS=50, **NO_QUARANTINE
    )
    client = app.test_client()
    for profile in FAILSAFE_PROFILES[2:4]:
        trace = explain(client, profile)
        assert ("red_flags", "personalizer_triage") in failures(trace)
        errors = {f["error"] for f in trace["explain"]["failures"] if f["plugin"] == "red_flags"}
        assert errors == {"request deadline passed"}
        assert_failsafe(trace, profile)


def test_a_liar_alone_still_gets_contract_levels_and_is_not_failsafe():
    """Triage ran (the liar's), so no fail-safe page; the contract's levels still apply."""
    without = [name for name in BUILTINS if name != "red_flags"]
    app = create_app(base_config(EXTRA_PLUGINS=[("liar", liar)], LOAD_PLUGINS=without + ["liar"]))
    run_matrix(app, failsafe=False)


# -- an entry-point installed plugin ---------------------------------------------------------------


@pytest.fixture
def entrypoint_plugin(monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURES))
    importlib.invalidate_caches()
    yield "misbehaving"
    sys.modules.pop("misbehaving_plugin", None)
    importlib.invalidate_caches()


def test_entry_point_plugin_is_listed_as_a_package(entrypoint_plugin):
    app = create_app(base_config(LOAD_PLUGINS=BUILTINS + [entrypoint_plugin], **NO_QUARANTINE))
    listing = {p["name"]: p for p in app.test_client().get("/v1/plugins").get_json()}
    info = listing["misbehaving"]
    assert (info["source"], info["version"], info["package"]) == (
        "package",
        "1.0",
        "misbehaving-plugin",
    )
    assert info["enabled"] is True and info["error"] is None
    assert set(info["hooks"]) == set(PAGE_HOOKS)
    assert all(listing[name]["source"] == "built-in" for name in BUILTINS)


def test_entry_point_plugin_cannot_break_the_contract(entrypoint_plugin):
    app = create_app(base_config(LOAD_PLUGINS=BUILTINS + [entrypoint_plugin], **NO_QUARANTINE))
    run_matrix(app)
    client = app.test_client()
    trace = explain(client, body(["saddle_numbness"], channel="clinic"))
    assert failures(trace) == {
        ("misbehaving", "personalizer_features"),
        ("misbehaving", "personalizer_exclusions"),
    }
    assert "misbehaving" in trace["explain"]["plugin_ms"]
    assert any(c["plugin"] == "misbehaving" for c in trace["explain"]["candidates"])


def test_entry_point_plugin_not_allowed_is_not_loaded(entrypoint_plugin):
    app = create_app(base_config())
    listing = {p["name"]: p for p in app.test_client().get("/v1/plugins").get_json()}
    assert listing["misbehaving"]["enabled"] is False
    assert "misbehaving_plugin" not in sys.modules


def test_entry_point_plugin_does_not_leak_into_other_tests():
    from importlib.metadata import entry_points

    assert str(FIXTURES) not in sys.path
    assert "misbehaving_plugin" not in sys.modules
    assert "misbehaving" not in {ep.name for ep in entry_points(group="personalizer")}


# -- start-up hook --------------------------------------------------------------------------------


def test_plugin_raising_in_content_hook_does_not_stop_the_service():
    """personalizer_content runs once at start-up through the same runner as every hook: a
    plugin that raises there is disabled, listed with its error, and the service starts."""
    app = make_app([("content_raiser", content_raiser)])
    listing = {p["name"]: p for p in app.test_client().get("/v1/plugins").get_json()}
    assert not listing["content_raiser"]["enabled"]
    assert "raised RuntimeError" in listing["content_raiser"]["error"]
    run_matrix(app, SHORT_MATRIX)


# -- misbehaviour that is neither an exception nor a malformed result ----------------------------


@pytest.mark.parametrize("plugin", ["features_mutator", "profile_mutator"])
def test_a_plugin_that_changes_its_arguments_cannot_hide_red_flags(plugin):
    """Rules 1 and 6: a hook that tries to empty ``features["red_flags"]`` (or the profile's)
    and set the channel to web must not turn an emergency clinic page into a web page with
    exercises and our offers. Every call gets its own frozen copy, and the engine reads its
    own copy."""
    app = make_app([(plugin, getattr(mutator, plugin))], **NO_QUARANTINE)
    run_matrix(app, SHORT_MATRIX)


def test_a_plugin_cannot_shadow_builtin_features_to_lift_a_veto():
    """Rule 5, the contract's own example: a person whose legs get worse standing never gets
    prone-press-up. A third-party features hook runs before the built-ins (pluggy calls the
    last registered first) and the first plugin to name a feature keeps it, so naming
    ``extension_provoked: False`` switches the built-in veto off."""
    app = make_app([("shadow", shadow_features), ("vetoed_pick", vetoed_pick)], **NO_QUARANTINE)
    run_matrix(app)


@pytest.mark.parametrize("variant", unencodable.VARIANTS)
def test_unencodable_results_are_left_out(variant):
    """Rule 7: a result that passes the hook checks but cannot be encoded (an int beyond
    64 bits, a lone surrogate) is left out, not answered with a 500."""
    app = make_app([("unencodable", unencodable.VARIANTS[variant])], **NO_QUARANTINE)
    client = app.test_client()
    profile = body(["fever"])
    assert post(client, profile).status_code == 200
    assert post(client, profile, headers={"Accept": "text/html"}).status_code == 200
    assert client.post("/v1/pages?explain=1", json=profile).status_code == 200
