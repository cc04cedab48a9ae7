"""The safety contract v2 (DESIGN section 4, rules 1-8) with the built-in plugins, on the JSON
page and on the HTML fragment. Rule 9 (plugins that misbehave) is in test_plugin_faults.py
and test_plugin_attacks.py; generated profiles are in test_safety_properties.py.

Each test asserts the facts directly (tests/plugins/oracle.py restates the contract) and
also runs ``personalizer.safety.check``. Where a rule removes something, a control test
shows that the same profile without the trigger does get it, so the rule is what removed it.
"""

from __future__ import annotations

import copy
import itertools
import re

import pytest
import yaml

from personalizer import create_app, hookimpl, safety, vocabulary
from personalizer.partners import new_key
from tests.plugins import oracle
from tests.plugins.oracle import ALERT_ID, ASSESS, EMERGENCY, FLAGS, LEVEL_OF, URGENT
from tests.support import base_config

# Measured alignment (so our commercial programme is offered) and a walking-limited pattern
# (so the page has a full routine). Legs worse only walking and nothing eases them, so no
# veto applies: the rule-5 tests add the triggers.
BASE = {
    "alignment": {
        "pelvic_tilt_deg": 25,
        "lumbar_lordosis_deg": 20,
        "thoracic_kyphosis_deg": 60,
        "pelvic_obliquity_deg": 4,
        "forward_head_cm": 6,
    },
    "symptoms": {
        "legs": "both",
        "worse_with": ["walking"],
        "walking_tolerance_min": 10,
        "numbness": False,
        "weakness": False,
        "pain_score": 5,
    },
    "context": {"channel": "web", "locale": "en", "minutes_per_day": 30},
}
CHANNELS = ("web", "email", "clinic")
COUNTRY_NUMBERS = re.compile(r"\b(911|999|112|111|000)\b")
UP_TO_THREE = [combo for n in (1, 2, 3) for combo in itertools.combinations(sorted(FLAGS), n)]


def profile(flags=(), channel="web", **symptoms) -> dict:
    body = copy.deepcopy(BASE)
    body["red_flags"] = list(flags)
    body["context"]["channel"] = channel
    body["symptoms"].update(symptoms)
    return body


@pytest.fixture(scope="module")
def safety_app():
    return create_app(base_config())


@pytest.fixture
def client(safety_app):
    return safety_app.test_client()


@pytest.fixture(scope="module")
def catalog(safety_app):
    return safety_app.extensions["personalizer"].engine.catalog


def page_for(client, body, headers=None) -> dict:
    response = client.post("/v1/pages", json=body, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def fragment_for(client, body, headers=None) -> str:
    headers = {"Accept": "text/html", **(headers or {})}
    response = client.post("/v1/pages", json=body, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def ids_of(page, kind):
    return [b["id"] for b in page["blocks"] if b["kind"] == kind]


def texts(page) -> str:
    return "\n".join(b["title"] + "\n" + b["html"] for b in page["blocks"])


def visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


# -- controls: without a trigger, the page does hold what the rules remove -------------------


def test_control_page_without_flags_has_exercises_routine_our_offer_and_warning_signs(client):
    page = page_for(client, profile())
    assert page["triage"]["level"] == "none" and page["triage"]["flags"] == []
    assert ids_of(page, "exercise") and page["routine"]["items"]
    assert "posture-therapy-programme" in ids_of(page, "cta")
    assert ids_of(page, "alert") == ["warning-signs"]
    oracle.assert_page(page, profile())


def test_the_contract_table_is_stated_once_and_matches_the_design():
    assert vocabulary.CONTRACT_LEVELS == LEVEL_OF
    assert safety.CONTRACT_LEVELS is vocabulary.CONTRACT_LEVELS
    assert set(vocabulary.FLAG_WORDS) == set(FLAGS)


# -- rules 1-3: one alert for the page's level, first, naming every flag -------------------------


@pytest.mark.parametrize("flag", FLAGS)
def test_each_red_flag_gets_its_level_and_one_alert_first(client, flag):
    body = profile([flag])
    page = page_for(client, body)
    level = LEVEL_OF[flag]
    first = page["blocks"][0]
    assert page["triage"]["level"] == level and page["triage"]["flags"] == [flag]
    assert first["id"] == ALERT_ID[level] and first["level"] == level
    assert first["label"] == vocabulary.ALERT_LABELS[level]
    assert safety.FLAG_WORDS[flag] in first["html"]
    oracle.assert_page(page, body)
    html = fragment_for(client, body)
    oracle.assert_fragment(html, body, page)


@pytest.mark.parametrize("flags", UP_TO_THREE, ids="+".join)
def test_several_flags_make_one_alert_of_the_highest_level_naming_all(client, flags):
    body = profile(flags)
    page = page_for(client, body)
    level_alerts = [b for b in page["blocks"] if b["kind"] == "alert" and b["level"] != "general"]
    assert len(level_alerts) == 1
    assert set(level_alerts[0]["flags"]) == set(flags)
    oracle.assert_page(page, body)


def test_a_history_of_cancer_with_weakness_or_numbness_is_urgent_without_a_routine(client):
    control = page_for(client, profile(["history_of_cancer"]))
    assert control["triage"]["level"] == "assess" and control["routine"]["items"]
    for symptom in ("weakness", "numbness"):
        body = profile(["history_of_cancer"], **{symptom: True})
        page = page_for(client, body)
        assert page["triage"]["level"] == "urgent", symptom
        assert page["blocks"][0]["id"] == "urgent-care"
        assert not ids_of(page, "exercise") and not page["routine"]["items"]
        oracle.assert_page(page, body)


@pytest.mark.parametrize("flag", EMERGENCY)
@pytest.mark.parametrize("channel", CHANNELS)
def test_an_emergency_page_is_the_alert_alone(client, flag, channel):
    body = profile([flag, "fever", "history_of_cancer"], channel=channel)
    page = page_for(client, body)
    assert [b["id"] for b in page["blocks"]] == ["emergency-now"]
    assert page["routine"] == {"minutes": 0, "items": []}
    (alert,) = page["blocks"]
    assert set(alert["flags"]) == {flag, "fever", "history_of_cancer"}
    for words in ("a fever with back pain", "a history of cancer"):
        assert words in alert["html"]
    assert [a["kind"] for a in alert["actions"]] == ["find_care"]  # no dialable number
    oracle.assert_page(page, body)
    oracle.assert_fragment(fragment_for(client, body), body, page)


def test_the_emergency_alert_calls_a_dialable_number_with_a_tel_link():
    client = create_app(base_config(EMERGENCY_NUMBER="999", URGENT_NUMBER="111")).test_client()
    page = page_for(client, profile(["saddle_numbness"]))
    actions = page["blocks"][0]["actions"]
    assert actions[0] == {"kind": "call", "label": "Call 999", "href": "tel:999"}
    assert actions[1]["kind"] == "find_care" and actions[1]["href"].startswith("https://")
    html = fragment_for(client, profile(["saddle_numbness"]))
    assert 'href="tel:999"' in html
    urgent = page_for(client, profile(["fever"]))["blocks"][0]
    assert urgent["actions"][0]["href"] == "tel:111"


@pytest.mark.parametrize("flag", URGENT)
def test_an_urgent_page_holds_no_exercise_routine_or_offer_and_says_to_hold_the_routine(
    client, flag
):
    control = page_for(client, profile())
    assert ids_of(control, "exercise")
    body = profile([flag])
    page = page_for(client, body)
    assert not ids_of(page, "exercise") and page["routine"]["items"] == []
    assert not any(b.get("commercial") for b in page["blocks"])
    assert "routine" in visible(page["blocks"][0]["html"]).lower()
    oracle.assert_page(page, body)


@pytest.mark.parametrize("flag", ASSESS)
def test_an_assess_page_keeps_exercises_but_no_offer_of_ours(client, flag):
    body = profile([flag])
    page = page_for(client, body)
    assert ids_of(page, "exercise") and page["routine"]["items"]
    assert not any(b.get("commercial") for b in page["blocks"])
    assert page["blocks"][0]["actions"], "the assessment alert says where to book"
    oracle.assert_page(page, body)


# -- rule 4: the warning signs on every page but an emergency page --------------------------


@pytest.mark.parametrize("max_sections", [1, 2, 6])
@pytest.mark.parametrize("flags", [(), ("fever",), ("history_of_cancer",)])
def test_the_warning_signs_survive_any_section_limit(max_sections, flags):
    """In their own block, or in the level's alert, which lists them too (so a page says
    them once); with a section limit of 1 as with 6."""
    client = create_app(base_config(MAX_SECTIONS=max_sections)).test_client()
    page = page_for(client, profile(flags))
    assert len(ids_of(page, "section")) <= max_sections
    carrying = [
        b["id"]
        for b in page["blocks"]
        if b["kind"] == "alert" and all(sign in b["html"] for sign in vocabulary.WARNING_SIGNS)
    ]
    assert carrying == (["warning-signs"] if not flags else [page["blocks"][0]["id"]])


# -- rule 5: vetoes, the plugins' and the engine's own -----------------------------------------


ENGINE_VETOES = [
    ("extension", {"worse_with": ["standing"]}),
    ("extension", {"worse_with": ["arching_back"]}),
    ("extension", {"eased_by": ["sitting"]}),
    ("extension", {"eased_by": ["leaning_forward"]}),
    ("walking", {"walking_tolerance_min": 0}),
    ("kneeling", {"weakness": True}),
    ("kneeling", {"pain_score": 8}),
]


@pytest.mark.parametrize(("word", "trigger"), ENGINE_VETOES, ids=lambda v: str(v))
def test_the_engine_vetoes_on_its_own_even_without_the_symptom_plugin(catalog, word, trigger):
    """With the built-in plugin that knows contraindications switched off, the engine's own
    vetoes still keep the work away; a plugin pushing that work changes nothing."""
    client = create_app(
        base_config(LOAD_PLUGINS=["red_flags", "alignment", "education", "routine"])
    ).test_client()
    involved = {i.id for i in catalog.of_kind("exercise") if word in i.involves}
    assert involved
    body = profile(**trigger)
    page = page_for(client, {**body, "alignment": oracle.PRESS_UP_ALIGNMENT}, {})
    shown = set(ids_of(page, "exercise")) | {i["id"] for i in page["routine"]["items"]}
    assert not shown & involved, (word, shown & involved)


def test_the_prone_press_up_never_goes_to_someone_eased_by_sitting():
    """A plugin pushes the press-up with a huge score for everyone: it shows (control) until
    sitting or leaning forward eases the legs, whatever the other plugins say."""

    class PushPressUp:
        @hookimpl
        def personalizer_candidates(self, features, catalog):
            return [{"id": "prone-press-up", "score": 1e9, "reason": "it suits everyone"}]

    client = create_app(
        base_config(
            LOAD_PLUGINS=["red_flags", "education", "calls_to_action", "push"],
            EXTRA_PLUGINS=[("push", PushPressUp())],
        )
    ).test_client()
    control = profile(worse_with=["lying_down"])
    assert "prone-press-up" in ids_of(page_for(client, control), "exercise"), "control"
    for eased in (["sitting"], ["leaning_forward"]):
        body = {**control, "symptoms": {**control["symptoms"], "eased_by": eased}}
        page = page_for(client, body)
        assert "prone-press-up" not in ids_of(page, "exercise")
        assert "prone-press-up" not in {i["id"] for i in page["routine"]["items"]}


def test_every_contraindication_keeps_its_exercises_off_the_page(client, catalog):
    for trigger in (
        {"worse_with": ["standing"]},
        {"worse_with": ["bending_forward"]},
        {"worse_with": ["lying_down"]},
        {"pain_score": 9},
        {"weakness": True},
    ):
        body = profile(**trigger)
        page = page_for(client, body)
        oracle.assert_page(page, body, vetoed=oracle.vetoed_ids(body, catalog))


# -- rule 6: clinics -----------------------------------------------------------------------------


@pytest.mark.parametrize("flags", [(), ("history_of_cancer",), ("fever",)])
def test_clinic_page_without_partner_has_no_commercial_offer(client, flags):
    web = page_for(client, profile(flags))
    body = profile(flags, channel="clinic")
    page = page_for(client, body)
    if not flags:
        assert any(b.get("commercial") for b in web["blocks"]), "control: web shows it"
    assert not any(b.get("commercial") for b in page["blocks"])
    oracle.assert_page(page, body)


def test_commercial_ctas_can_be_switched_off_for_a_deployment():
    client = create_app(base_config(COMMERCIAL_CTAS=False)).test_client()
    page = page_for(client, profile())
    assert not any(b.get("commercial") for b in page["blocks"])


# -- rule 7: every exercise carries its cautions and ease-off rule, visibly ---------------------


def test_every_exercise_carries_cautions_and_ease_off_in_json_and_html(client, catalog):
    body = profile()
    page = page_for(client, body)
    html = fragment_for(client, body)
    exercises = [b for b in page["blocks"] if b["kind"] == "exercise"]
    assert exercises
    for block in exercises:
        item = catalog[block["id"]]
        assert block["ease_off"] == item.step_down and block["cautions"] == list(item.cautions)
    oracle.assert_fragment(html, body, page)  # which finds each one in the visible text


# -- rule 8: every block says why, in words for the person; the plugin is a separate field -----


@pytest.mark.parametrize("flags", [(), ("fever",), ("history_of_cancer",), ("saddle_numbness",)])
def test_every_block_says_why_and_no_plugin_name_is_visible(client, flags):
    body = profile(flags)
    page = page_for(client, body)
    html = visible(fragment_for(client, body))
    plugins = {w["plugin"] for b in page["blocks"] for w in b["why"]}
    for block in page["blocks"]:
        assert block["why"]
    for name in plugins:
        assert f"({name})" not in html, name
        if "_" in name:
            assert name not in html, name


# -- alert wording: numbers and services come from configuration --------------------------------


def test_alerts_use_the_configured_numbers_and_services():
    client = create_app(
        base_config(
            EMERGENCY_NUMBER="000",
            EMERGENCY_SERVICE="the hospital",
            URGENT_NUMBER="13 HEALTH",
            URGENT_SERVICE="a walk-in clinic",
        )
    ).test_client()
    emergency = page_for(client, profile(["saddle_numbness", "fever"]))["blocks"][0]
    assert "000" in emergency["title"] and "the hospital" in emergency["title"]
    urgent = page_for(client, profile(["fever"]))["blocks"][0]
    assert "13 HEALTH" in urgent["title"] and "a walk-in clinic" in urgent["html"]
    assert "{{" not in texts({"blocks": [emergency, urgent]})
    html = fragment_for(client, profile(["bladder_or_bowel_change"], channel="clinic"))
    assert "000" in visible(html) and "the hospital" in visible(html)


def test_configured_numbers_are_escaped_in_html():
    client = create_app(base_config(EMERGENCY_NUMBER="<b>000</b>")).test_client()
    page = page_for(client, profile(["saddle_numbness"]))
    assert "<b>" not in page["blocks"][0]["html"]
    assert "&lt;b&gt;000&lt;/b&gt;" in page["blocks"][0]["html"]
    assert "<b>000</b>" not in fragment_for(client, profile(["saddle_numbness"]))


@pytest.mark.parametrize("flags", [(f,) for f in FLAGS] + [()])
def test_default_config_prints_no_country_specific_number(client, flags):
    body = profile(flags)
    page = page_for(client, body)
    assert not COUNTRY_NUMBERS.search(texts(page)), COUNTRY_NUMBERS.findall(texts(page))
    assert "your local emergency number" in texts({"blocks": ids_and_alerts(page)})
    assert not COUNTRY_NUMBERS.search(visible(fragment_for(client, body)))


def ids_and_alerts(page):
    return [b for b in page["blocks"] if b["kind"] == "alert"]


@pytest.mark.parametrize("flags", [(), ("fever",), ("saddle_numbness",)])
def test_no_block_prints_an_unfilled_token(flags):
    client = create_app(base_config(EMERGENCY_NUMBER="000")).test_client()
    body = profile(flags)
    page = page_for(client, body)
    assert [b["id"] for b in page["blocks"] if "{{" in b["title"] + b["html"]] == []
    assert "{{" not in fragment_for(client, body)


# -- the whole matrix: flags x symptoms x channels x partners ------------------------------------


@pytest.fixture(scope="module")
def partnered(tmp_path_factory):
    """An app with two partners: one that allows our offers, one that does not."""
    keys = {name: new_key("sk") for name in ("open", "closed")}
    partners = [
        {
            "id": name,
            "name": name.title(),
            "secret_key_sha256": keys[name][1],
            "publishable_key_sha256": new_key("pk")[1],
            "allowed_origins": [f"https://{name}.example"],
            "policy": {
                "commercial_ctas": name == "open",
                "emergency_number": "112",
                "cta": {"title": "Book with us", "href": f"https://{name}.example/book"},
            },
        }
        for name in keys
    ]
    path = tmp_path_factory.mktemp("partners") / "partners.yaml"
    path.write_text(yaml.safe_dump({"partners": partners}))
    app = create_app(base_config(PARTNERS_FILE=str(path)))
    return app, {name: key for name, (key, _digest) in keys.items()}


@pytest.mark.parametrize("deficit", [False, True], ids=["no-deficit", "deficit"])
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("partner", [None, "open", "closed"])
def test_the_contract_holds_for_every_combination_of_up_to_three_flags(
    partnered, catalog, deficit, channel, partner
):
    app, keys = partnered
    client = app.test_client()
    headers = {"Authorization": f"Bearer {keys[partner]}"} if partner else {}
    for flags in [(), *UP_TO_THREE]:
        body = profile(flags, channel=channel, weakness=deficit, numbness=deficit)
        page = page_for(client, body, headers)
        allowed = partner == "open" or (partner is None and channel != "clinic")
        oracle.assert_page(
            page,
            body,
            vetoed=oracle.vetoed_ids(body, catalog),
            commercial_allowed=allowed,
            dialable=partner is not None,
        )
        oracle.assert_fragment(fragment_for(client, body, headers), body, page)


# -- enforcement on hand-built pages: every branch that removes or adds something -------------


def _block(kind, bid, **extra):
    block = {"kind": kind, "id": bid, "why": [{"plugin": "p", "reason": "r"}]}
    if kind == "exercise":
        block.update(cautions=[], ease_off="stop if it hurts")
    return {**block, **extra}


SIGNS_HTML = "<ul>" + "".join(f"<li>{sign}.</li>" for sign in vocabulary.WARNING_SIGNS) + "</ul>"
WARNING = _block("alert", "warning-signs", level="general", html=SIGNS_HTML)


@pytest.mark.parametrize(
    ("level", "blocks", "kept"),
    [
        (
            "emergency",
            [_block("section", "s"), _block("alert", "emergency-now", level="emergency")],
            ["emergency-now"],
        ),
        (
            "emergency",
            [
                _block("alert", "emergency-now", level="emergency"),
                _block("alert", "urgent-care", level="urgent"),
                _block("exercise", "e"),
                _block("cta", "c", commercial=False),
                WARNING,
            ],
            ["emergency-now"],
        ),
        (
            "urgent",
            [_block("exercise", "e"), _block("alert", "urgent-care", level="urgent"), WARNING],
            ["urgent-care", "warning-signs"],
        ),
        (
            "urgent",
            [_block("alert", "urgent-care", level="urgent"), _block("cta", "c", commercial=True)],
            ["urgent-care", "warning-signs"],
        ),
        (
            "assess",
            [_block("alert", "get-assessed", level="assess"), _block("exercise", "e"), WARNING],
            ["get-assessed", "e", "warning-signs"],
        ),
        ("none", [_block("exercise", "vetoed"), WARNING], ["warning-signs"]),
        ("none", [_block("exercise", "e", ease_off=""), WARNING], ["warning-signs"]),
        ("none", [_block("section", "s", why=[]), WARNING], ["warning-signs"]),
        ("none", [_block("section", "s"), _block("section", "s"), WARNING], ["s", "warning-signs"]),
        ("none", [_block("section", "s")], ["s", "warning-signs"]),
    ],
)
def test_enforce_removes_what_the_rules_refuse_and_restores_the_warning_signs(level, blocks, kept):
    rules = safety.allowed(level, False, commercial_policy=True, clinic_unpartnered=False)
    result, changes = safety.enforce(blocks, rules, {"vetoed"}, WARNING)
    assert [b["id"] for b in result] == kept
    if [b["id"] for b in blocks] != kept:
        assert changes, "every change is reported"


def test_enforce_refuses_commercial_offers_where_the_policy_does():
    rules = safety.allowed("none", False, commercial_policy=False, clinic_unpartnered=False)
    result, _ = safety.enforce([_block("cta", "c", commercial=True), WARNING], rules, set())
    assert [b["id"] for b in result] == ["warning-signs"]
    failsafe = safety.allowed("none", True, commercial_policy=True, clinic_unpartnered=False)
    assert not failsafe.exercises and not failsafe.commercial and failsafe.warning_signs
