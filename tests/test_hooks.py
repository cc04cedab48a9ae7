"""One test per hook, named for it: a small plugin implementing the hook visibly changes the
page, as docs/plugins.md says it does (the meta-tests in test_plugin_host.py insist on it)."""

from __future__ import annotations

from personalizer import create_app, hookimpl
from tests.support import BUILTINS, base_config

PROFILE = {
    "symptoms": {"worse_with": ["walking"], "walking_tolerance_min": 10, "pain_score": 4},
    "context": {"minutes_per_day": 15},
}


def app_with(plugin, name="under_test", **config):
    return create_app(
        base_config(EXTRA_PLUGINS=[(name, plugin)], LOAD_PLUGINS=BUILTINS + [name], **config)
    )


def explain(app, profile=PROFILE) -> dict:
    response = app.test_client().post("/v1/pages?explain=1", json=profile)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_features_hook_adds_a_feature_the_later_hooks_see():
    seen = []

    class Plugin:
        READS_FEATURES = ("poles",)

        @hookimpl
        def personalizer_features(self, profile):
            assert "alignment" not in profile, "a missing section is absent, not empty"
            return {"poles": "walking" in profile["symptoms"]["worse_with"]}

        @hookimpl
        def personalizer_exclusions(self, features, catalog):
            seen.append(features["poles"])
            return []

    page = explain(app_with(Plugin()))
    assert page["explain"]["features"]["poles"] is True and seen == [True]


def test_triage_hook_raises_a_level_for_its_own_flag_but_never_lowers_the_contract():
    class Plugin:
        @hookimpl
        def personalizer_triage(self, features):
            return [
                {"flag": "poles_help", "level": "assess", "reason": "walking poles help you"},
                {"flag": "fever", "level": "none", "reason": "it is only a cold"},
            ]

    app = app_with(Plugin())
    page = explain(app)
    assert page["triage"]["level"] == "assess" and page["triage"]["flags"] == ["poles_help"]
    fever = explain(app, {**PROFILE, "red_flags": ["fever"]})
    assert fever["triage"]["level"] == "urgent"
    assert fever["explain"]["triage_overridden"][0]["flag"] == "fever"


def test_candidates_hook_gets_the_level_and_its_reason_reaches_the_page():
    levels = []

    class Plugin:
        @hookimpl
        def personalizer_candidates(self, features, catalog, level):
            levels.append(level)
            return [{"id": "faq-surgery-only-way", "score": 100, "reason": "you asked about it"}]

    app = app_with(Plugin())
    page = explain(app)
    (block,) = [b for b in page["blocks"] if b["id"] == "faq-surgery-only-way"]
    assert {"plugin": "under_test", "reason": "you asked about it"} in block["why"]
    explain(app, {**PROFILE, "red_flags": ["fever"]})
    assert levels == ["none", "urgent"]


def test_candidates_hook_written_against_fewer_arguments_still_works():
    """The compatibility promise: hooks only gain optional arguments."""

    class Plugin:
        @hookimpl
        def personalizer_candidates(self, features, catalog):
            return [{"id": "faq-surgery-only-way", "score": 100, "reason": "you asked about it"}]

    page = explain(app_with(Plugin()))
    assert "faq-surgery-only-way" in [b["id"] for b in page["blocks"]]


def test_candidates_hook_may_score_a_group_as_it_scores_each_item():
    """One pick with ``ids`` gives the page that a pick for each of them gives."""
    wanted = ["faq-surgery-only-way", "faq-worse-over-time", "knee-to-chest"]
    reason = "you asked about these"

    class Group:
        @hookimpl
        def personalizer_candidates(self, features, catalog):
            return [{"ids": [*wanted, wanted[0]], "score": 40, "reason": reason}]

    class Each:
        @hookimpl
        def personalizer_candidates(self, features, catalog):
            return [{"id": item_id, "score": 40, "reason": reason} for item_id in wanted]

    pages = [explain(app_with(plugin)) for plugin in (Group(), Each())]
    for page in pages:
        page.pop("explain")
    assert pages[0] == pages[1]
    shown = {b["id"]: b for b in pages[0]["blocks"]}
    assert set(wanted) <= set(shown), "each id of the group scored (once)"
    assert {"plugin": "under_test", "reason": reason} in shown["knee-to-chest"]["why"]


def test_exclusions_hook_vetoes_an_exercise_from_blocks_and_routine():
    control = explain(create_app(base_config()))
    chosen = [b["id"] for b in control["blocks"] if b["kind"] == "exercise"]
    assert chosen

    class Plugin:
        @hookimpl
        def personalizer_exclusions(self, features, catalog):
            return [{"id": chosen[0], "reason": "your clinic prefers other work"}]

    page = explain(app_with(Plugin()))
    assert chosen[0] not in [b["id"] for b in page["blocks"]]
    assert chosen[0] not in [i["id"] for i in page["routine"]["items"]]


def test_arrange_hook_chains_and_gets_the_level():
    levels, second_saw = [], []

    class First:
        @hookimpl
        def personalizer_arrange(self, blocks, features, level):
            levels.append(level)
            return [b["id"] for b in blocks if b["kind"] == "cta"]

    class Second:
        @hookimpl
        def personalizer_arrange(self, blocks, features):
            second_saw.append(blocks[0]["kind"])  # the order the first one left
            return None

    app = create_app(
        base_config(
            # pluggy calls the last registered first
            EXTRA_PLUGINS=[("second", Second()), ("first", First())],
            LOAD_PLUGINS=BUILTINS + ["second", "first"],
        )
    )
    page = explain(app)
    assert page["blocks"][0]["kind"] == "cta" and levels == ["none"]
    assert second_saw == ["cta"]
    assert [t["plugin"] for t in page["explain"]["arrange"]] == ["first"]
