"""Contract rule 9: what an attack run with hostile plugin packages tried, one test each.

(a) reaching through the read-only features or profile with reflection; (b) changing the
catalog a plugin is handed; (c) plugin content with an unsafe link; (d) one plugin's broken
or clashing content; (e) a plugin object pluggy cannot hold, or a wrapper; (f) a plugin that
carries one request's answers into another's page. Each test has a control: the same page
without the attacker, which the attacked page must equal.
"""

from __future__ import annotations

import copy
import textwrap

import pytest

from personalizer import create_app, hookimpl
from personalizer.testing import assert_conformance, memory_problems
from tests.plugins import attacks, oracle
from tests.support import BUILTINS, base_config

EMERGENCY = {
    "symptoms": {"worse_with": ["standing"], "eased_by": ["sitting"], "pain_score": 9},
    "red_flags": ["saddle_numbness", "fever"],
    "context": {"channel": "clinic"},
}
ORDINARY = {
    "alignment": {"pelvic_tilt_deg": 25, "lumbar_lordosis_deg": 20},
    "symptoms": {"worse_with": ["standing", "walking"], "walking_tolerance_min": 0},
    "context": {"channel": "web", "minutes_per_day": 30},
}


def app_with(*plugins, **config):
    names = [name for name, _ in plugins]
    return create_app(
        base_config(EXTRA_PLUGINS=list(plugins), LOAD_PLUGINS=BUILTINS + names, **config)
    )


def page(app, body, html=False):
    headers = {"Accept": "text/html"} if html else {}
    response = app.test_client().post("/v1/pages", json=copy.deepcopy(body), headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True) if html else response.get_json()


def listing(app) -> dict:
    return {p["name"]: p for p in app.test_client().get("/v1/plugins").get_json()}


def without_ids(page_json: dict) -> list:
    """The blocks as a reader gets them (the page id names the plugin set, so it differs)."""
    return [
        {k: v for k, v in b.items() if k != "why"}
        | {"why": [w["reason"] for w in b["why"] if not w["plugin"].endswith("reflector")]}
        for b in page_json["blocks"]
    ]


@pytest.fixture(scope="module")
def control():
    return create_app(base_config())


# -- (a) reflection through the features and the profile ---------------------------------------


@pytest.mark.parametrize("attacker", ["features_reflector", "profile_reflector"])
@pytest.mark.parametrize("body", [EMERGENCY, ORDINARY], ids=["emergency", "ordinary"])
def test_reflection_through_read_only_arguments_changes_nothing(control, attacker, body):
    plugin = dict(attacks.ALL)[attacker]
    app = app_with((attacker, plugin))
    attacked, clean = page(app, body), page(control, body)
    assert attacked["triage"] == clean["triage"]
    assert without_ids(attacked) == without_ids(clean)
    assert attacked["routine"] == clean["routine"]
    # the page that was cached is the same page: ask again and get it from the cache
    response = app.test_client().post("/v1/pages", json=body)
    assert response.headers["X-Cache"] == "hit"
    assert without_ids(response.get_json()) == without_ids(clean)
    oracle.assert_page(attacked, body, vetoed=oracle.vetoed_ids(body, control_catalog(control)))


def control_catalog(app):
    return app.extensions["personalizer"].engine.catalog


# -- (b) changing the catalog it is handed ------------------------------------------------------


def test_changing_its_catalog_copy_reaches_no_other_plugin_nor_the_engine(control):
    app = app_with(("catalog_reflector", attacks.catalog_reflector))
    catalog = control_catalog(control)
    for body in (ORDINARY, EMERGENCY, {**ORDINARY, "red_flags": ["history_of_cancer"]}):
        for _ in range(2):  # the second request runs after the first one's damage
            attacked, clean = page(app, body), page(control, body)
            assert attacked["triage"] == clean["triage"]
            assert without_ids(attacked) == without_ids(clean)
            oracle.assert_page(attacked, body, vetoed=oracle.vetoed_ids(body, catalog))
            html = page(app, body, html=True)
            assert "<script" not in html and "javascript:" not in html
    own = control_catalog(app)
    assert own["emergency-now"].kind == "alert" and "<script" not in own["emergency-now"].html
    assert own["prone-press-up"].contraindications, "the engine's catalog is untouched"
    picture = own["knee-to-chest"].picture
    if picture is not None:
        served = app.test_client().get(f"/media/{picture.filename}")
        assert served.data == picture.data


# -- (c), (d) plugin content: unsafe links, broken files and clashes disable that plugin alone --


CTA = """\
---
id: {id}
kind: cta
title: Our partner's offer
summary: An offer that a plugin ships.
tags: [offer]
sources: [1]
last_reviewed: 2026-11-15
next_review: 2027-11-15
href: "{href}"
commercial: {commercial}
owner: ours
addresses: [always]
---
A plugin's own call to action.
"""
SOURCES = """\
1:
  title: A source
  publisher: A publisher
  url: https://example.org/source
  year: 2024
"""


def content_plugin(tmp_path, name, files: dict[str, str]):
    directory = tmp_path / name
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    (directory / "sources.yaml").write_text(SOURCES)

    class ShipsContent:
        @hookimpl
        def personalizer_content(self):
            return [str(directory)]

        @hookimpl
        def personalizer_candidates(self, features, catalog):
            ids = [i.id for i in catalog if i.origin == name]
            return [{"id": i, "score": 100, "reason": "our partner suggests it"} for i in ids]

    return name, ShipsContent()


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://plain.example/offer",
        "//evil.example/x",
        "/\\\\evil.example/phish",
    ],
)
def test_plugin_content_with_an_unsafe_link_disables_that_plugin_alone(tmp_path, href):
    bad = content_plugin(
        tmp_path,
        "bad",
        {"ctas/bad-offer.md": CTA.format(id="bad-offer", href=href, commercial="false")},
    )
    good = content_plugin(
        tmp_path,
        "good",
        {
            "ctas/good-offer.md": CTA.format(
                id="good-offer", href="https://good.example", commercial="false"
            )
        },
    )
    app = app_with(bad, good)
    plugins = listing(app)
    assert not plugins["bad"]["enabled"] and "bad" in plugins["bad"]["error"]
    assert "href" in plugins["bad"]["error"]
    assert plugins["good"]["enabled"]
    body = page(app, ORDINARY)
    hrefs = [b.get("href", "") for b in body["blocks"]]
    assert not any("evil" in h or h.lower().startswith(("javascript", "data")) for h in hrefs)


@pytest.mark.parametrize(
    "files",
    [
        {"sections/what-is-stenosis.md": "---\nid: what-is-stenosis\n---\nclash\n"},
        {
            "ctas/typo.md": CTA.format(id="typo", href="/x", commercial="false").replace(
                "kind:", "knid:"
            )
        },
        {"ctas/wrong-name.md": CTA.format(id="other", href="/x", commercial="false")},
    ],
    ids=["clash", "typo", "id-not-file-name"],
)
def test_one_plugins_broken_content_disables_it_and_not_the_service(tmp_path, files):
    app = app_with(content_plugin(tmp_path, "broken", files))
    plugins = listing(app)
    assert not plugins["broken"]["enabled"]
    assert "plugin broken" in plugins["broken"]["error"]
    assert all(plugins[name]["enabled"] for name in BUILTINS)
    assert page(app, ORDINARY)["blocks"]


@pytest.mark.parametrize("returned", ["content", "/", ["/no/such/directory"], [42]])
def test_a_content_hook_returning_something_odd_disables_that_plugin(returned):
    class Odd:
        @hookimpl
        def personalizer_content(self):
            return returned

    app = app_with(("odd", Odd()))
    assert not listing(app)["odd"]["enabled"]
    assert page(app, ORDINARY)["blocks"]


def test_a_plugins_offer_is_never_ours_and_shows_only_where_offers_may(tmp_path):
    plugin = content_plugin(
        tmp_path,
        "offers",
        {
            "ctas/free-lunch.md": CTA.format(
                id="free-lunch", href="https://offers.example", commercial="false"
            )
        },
    )
    app = app_with(plugin, MAX_CTAS=5)
    web = page(app, ORDINARY)
    (offer,) = [b for b in web["blocks"] if b["id"] == "free-lunch"]
    assert offer["owner"] == "plugin" and offer["commercial"] is True
    for body in (
        {**ORDINARY, "context": {"channel": "clinic"}},
        {**ORDINARY, "red_flags": ["unexplained_weight_loss"]},
    ):
        assert "free-lunch" not in [b["id"] for b in page(app, body)["blocks"]]


# -- (e) plugin objects pluggy cannot hold ------------------------------------------------------


class Unhashable:
    __hash__ = None

    @hookimpl
    def personalizer_triage(self, features):
        return []


class Wrapper:
    @hookimpl(wrapper=True)
    def personalizer_triage(self, features):
        return (yield)


@pytest.mark.parametrize(
    ("plugin", "message"),
    [(Unhashable(), "not hashable"), (Wrapper(), "wrapper hookimpls are not supported")],
)
def test_a_plugin_pluggy_cannot_hold_is_reported_and_skipped(plugin, message):
    app = app_with(("odd", plugin))
    entry = listing(app)["odd"]
    assert not entry["enabled"] and message in entry["error"]
    assert page(app, EMERGENCY)["triage"]["level"] == "emergency"


# -- (f) memory across requests ------------------------------------------------------------------


def test_the_plugin_kit_catches_a_plugin_that_remembers_earlier_requests():
    with pytest.raises(AssertionError, match="changed with the requests made before it"):
        assert_conformance(attacks.remembers, "remembers")
    app = app_with(("remembers", attacks.remembers))
    assert memory_problems(app)
    assert memory_problems(create_app(base_config())) == []


@pytest.mark.parametrize(
    "reason",
    [
        "<script>alert(1)</script>",
        "see https://evil.example",
        "visit www.evil.example",
        "x" * 201,
        "{{emergency_number}}",
        "line\nbreak",
    ],
)
def test_reasons_are_short_plain_text_or_the_whole_result_is_left_out(reason):
    class Says:
        @hookimpl
        def personalizer_candidates(self, features, catalog):
            return [{"id": "what-is-stenosis", "score": 1000, "reason": reason}]

    app = app_with(("says", Says()))
    shown = page(app, ORDINARY)
    reasons = [w["reason"] for b in shown["blocks"] for w in b["why"]]
    assert reason not in reasons


@pytest.mark.parametrize(
    "pick",
    [
        {"ids": ["emergency-now"], "score": 1000, "reason": "an alert in a group"},
        {"ids": ["what-is-stenosis", "no-such-item"], "score": 1000, "reason": "unknown"},
        {"ids": "what-is-stenosis", "score": 1000, "reason": "a string, not a list"},
        {"ids": [1, 2], "score": 1000, "reason": "not ids"},
        {"ids": ["what-is-stenosis"], "score": "high", "reason": "not a score"},
    ],
    ids=["an alert", "an unknown id", "a string", "numbers", "no score"],
)
def test_a_group_pick_that_does_not_fit_leaves_the_whole_result_out(pick):
    class Groups:
        @hookimpl
        def personalizer_candidates(self, features, catalog):
            return [{"id": "faq-surgery-only-way", "score": 1000, "reason": "a fine pick"}, pick]

    app = app_with(("groups", Groups()))
    response = app.test_client().post("/v1/pages?explain=1", json=ORDINARY)
    trace = response.get_json()
    (failure,) = trace["explain"]["failures"]
    assert (failure["plugin"], failure["hook"]) == ("groups", "personalizer_candidates")
    reasons = [w["reason"] for b in trace["blocks"] for w in b["why"]]
    assert "a fine pick" not in reasons and pick["reason"] not in reasons
