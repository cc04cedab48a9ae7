"""The safety contract (DESIGN section 4, rules 1-6 and 8) with the built-in plugins, rule
by rule, on the JSON page and on the HTML fragment. Rule 7 (faulty plugins) is in
test_plugin_faults.py; generated profiles are in test_safety_properties.py.

Each test asserts the facts directly (which block comes first, which ids are absent) and
also runs ``personalizer.safety.check``. Where a rule removes something, a control test
shows that the same profile without the trigger does get it, so the rule is what removed it.
"""

from __future__ import annotations

import copy
import itertools
import re

import pytest

from personalizer import create_app, safety
from tests.conftest import base_config
from tests.plugins import oracle
from tests.plugins.oracle import ALERT_ID, ASSESS, EMERGENCY, FLAGS, LEVEL_OF, RANK, URGENT

# Measured alignment (so our commercial programme is offered) and a walking-limited,
# flexion-relieved pattern (so the page has a full routine). Legs worse only walking, so
# nothing is vetoed: the rule-5 tests add "standing" to bring the veto on.
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
        "eased_by": ["sitting", "leaning_forward"],
        "walking_tolerance_min": 10,
        "numbness": True,
        "weakness": False,
        "pain_score": 5,
    },
    "context": {"channel": "web", "locale": "en", "minutes_per_day": 30},
}
CHANNELS = ("web", "email", "clinic")
COUNTRY_NUMBERS = re.compile(r"\b(911|999|112|111|000)\b")


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


def page_for(client, body) -> dict:
    response = client.post("/v1/pages", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def fragment_for(client, body) -> str:
    response = client.post("/v1/pages", json=body, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def kinds(page):
    return [b["kind"] for b in page["blocks"]]


def ids_of(page, kind):
    return [b["id"] for b in page["blocks"] if b["kind"] == kind]


def alerts(page):
    return [b for b in page["blocks"] if b["kind"] == "alert"]


def first_action(page) -> int:
    return next((i for i, k in enumerate(kinds(page)) if k in ("exercise", "cta")), 10**6)


# -- controls: without a trigger, the page does hold what the rules remove -------------------


def test_control_page_without_flags_has_exercises_routine_and_our_offer(client):
    page = page_for(client, profile())
    assert page["triage"] == {"level": "none", "flags": []}
    assert alerts(page) == []
    assert len(ids_of(page, "exercise")) >= 3
    assert page["routine"]["items"] and page["routine"]["minutes"] > 0
    assert "prone-press-up" in ids_of(page, "exercise")
    assert any(b.get("commercial") for b in page["blocks"] if b["kind"] == "cta")
    oracle.assert_page(page, profile())


# -- rules 1-3: each red flag, its level, its alert first -------------------------------------


def test_the_contract_table_is_complete():
    assert set(FLAGS) == set(safety.CONTRACT_LEVELS)
    assert EMERGENCY == ("saddle_numbness", "bladder_or_bowel_change", "sudden_leg_weakness")
    assert URGENT == (
        "worsening_weakness",
        "spreading_numbness",
        "walking_decline",
        "fever",
        "after_fall",
    )
    assert ASSESS == ("unexplained_weight_loss", "history_of_cancer")


@pytest.mark.parametrize("flag", FLAGS)
def test_each_red_flag_gets_its_level_and_its_alert_first(client, flag):
    """Rules 1-3: the flag's contract level; that level's alert is the first block and
    comes before any exercise or call to action; the alert names the flag."""
    level = LEVEL_OF[flag]
    body = profile([flag])
    page = page_for(client, body)
    assert page["triage"] == {"level": level, "flags": [flag]}
    first = page["blocks"][0]
    assert (first["kind"], first["id"], first["level"]) == ("alert", ALERT_ID[level], level)
    assert first["flags"] == [flag]
    assert safety.FLAG_WORDS[flag] in first["html"]
    assert first_action(page) > 0
    assert [a["id"] for a in alerts(page)] == [ALERT_ID[level]]
    assert all(w["plugin"] == "red_flags" for w in first["why"])
    oracle.assert_page(page, body)


@pytest.mark.parametrize("flag", FLAGS)
def test_each_red_flag_alert_comes_first_in_the_fragment(client, flag):
    """Rules 1-3 on the HTML fragment: the role="alert" section of the flag's level comes
    before any exercise or call-to-action section."""
    html = fragment_for(client, profile([flag]))
    level = LEVEL_OF[flag]
    blocks = re.findall(r'<(section|aside) class="pz-block ([^"]*)"([^>]*)>', html)
    assert blocks, html[:200]
    tag, classes, attrs = blocks[0]
    assert (tag, classes.split()[0]) == ("section", "pz-alert")
    assert f"pz-level-{level}" in classes
    assert 'role="alert"' in attrs and f'data-block-id="{ALERT_ID[level]}"' in attrs
    alert_at = html.index('role="alert"')
    actions = [m.start() for m in re.finditer(r'class="pz-block pz-(exercise|cta)', html)]
    assert actions and all(alert_at < at for at in actions)
    assert safety.FLAG_WORDS[flag] in html
    oracle.assert_fragment(html, profile([flag]))


# -- rule 4: several flags --------------------------------------------------------------------

PAIRS = list(itertools.combinations(FLAGS, 2))
TRIPLES = list(itertools.product(EMERGENCY, URGENT, ASSESS))


@pytest.mark.parametrize("flags", PAIRS + TRIPLES + [FLAGS], ids=lambda f: "+".join(f))
def test_several_flags_highest_level_first_every_flag_named(client, flags):
    """Rule 4: alerts in level order, highest first; every reported flag is named, in the
    alert of its own level."""
    body = profile(flags)
    page = page_for(client, body)
    levels = sorted({LEVEL_OF[f] for f in flags}, key=RANK.__getitem__, reverse=True)
    assert page["triage"]["level"] == levels[0]
    assert page["triage"]["flags"] == sorted(flags)
    assert [a["id"] for a in alerts(page)] == [ALERT_ID[lv] for lv in levels]
    assert kinds(page)[: len(levels)] == ["alert"] * len(levels)
    for alert in alerts(page):
        assert alert["flags"] == sorted(f for f in flags if LEVEL_OF[f] == alert["level"])
        for flag in alert["flags"]:
            assert safety.FLAG_WORDS[flag] in alert["html"]
    named = {f for a in alerts(page) for f in a["flags"]}
    assert named == set(flags)
    oracle.assert_page(page, body)


def test_duplicate_flags_are_named_once(client):
    page = page_for(client, profile(["fever", "fever", "after_fall", "fever"]))
    assert page["triage"]["flags"] == ["after_fall", "fever"]
    (alert,) = alerts(page)
    assert alert["flags"] == ["after_fall", "fever"]
    assert alert["html"].count(safety.FLAG_WORDS["fever"]) == 1


# -- rule 1: emergency pages, on every channel ------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("flag", EMERGENCY)
def test_emergency_page_holds_no_exercise_routine_or_commercial_cta(client, flag, channel):
    body = profile([flag, "fever", "history_of_cancer"], channel=channel)
    page = page_for(client, body)
    assert page["triage"]["level"] == "emergency"
    assert page["blocks"][0]["id"] == "emergency-now"
    assert "exercise" not in kinds(page)
    assert page["routine"] == {"minutes": 0, "items": []}
    assert not [b for b in page["blocks"] if b["kind"] == "cta" and b.get("commercial")]
    oracle.assert_page(page, body)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("flag", EMERGENCY)
def test_emergency_fragment_has_no_exercise_routine_or_commercial_section(client, flag, channel):
    body = profile([flag], channel=channel)
    html = fragment_for(client, body)
    assert 'data-triage="emergency"' in html
    assert html.index('data-block-id="emergency-now"') < html.index("pz-block pz-section")
    assert "pz-exercise" not in html
    assert "pz-routine" not in html and "data-routine-id" not in html
    assert "pz-commercial" not in html and "(our own service)" not in html
    oracle.assert_fragment(html, body)


# -- rule 6: clinic embeds without a partner policy --------------------------------------------


@pytest.mark.parametrize("flags", [(), ("history_of_cancer",), ("fever",)])
def test_clinic_page_without_partner_has_no_commercial_cta(client, flags):
    web = page_for(client, profile(flags, channel="web"))
    assert [b["id"] for b in web["blocks"] if b.get("commercial")], "control: web offers it"
    body = profile(flags, channel="clinic")
    page = page_for(client, body)
    ctas = [b for b in page["blocks"] if b["kind"] == "cta"]
    assert ctas, "a clinic page still gets its non-commercial next step"
    assert all(b["commercial"] is False for b in ctas)
    assert "posture-therapy-programme" not in [b["id"] for b in ctas]
    assert "partner-booking" not in [b["id"] for b in ctas]  # no booking link configured
    oracle.assert_page(page, body)
    html = fragment_for(client, body)
    assert "pz-commercial" not in html and "(our own service)" not in html
    oracle.assert_fragment(html, body)


def test_commercial_ctas_can_be_switched_off_for_a_deployment():
    client = create_app(base_config(COMMERCIAL_CTAS=False)).test_client()
    page = page_for(client, profile())
    assert page["blocks"] and not [b for b in page["blocks"] if b.get("commercial")]


# -- rule 5: vetoed exercises -------------------------------------------------------------------


def test_back_arching_is_vetoed_when_standing_provokes_the_legs(client, catalog):
    """The contract's own example: prone-press-up is on the page of a person whose legs get
    worse only walking, and is neither in the blocks nor the routine once standing does."""
    assert "prone-press-up" in ids_of(page_for(client, profile()), "exercise")
    for worse in (["standing", "walking"], ["arching_back"], ["standing"]):
        body = profile(worse_with=worse)
        page = page_for(client, body)
        assert "prone-press-up" not in ids_of(page, "exercise")
        assert "prone-press-up" not in [i["id"] for i in page["routine"]["items"]]
        html = fragment_for(client, body)
        assert 'data-block-id="prone-press-up"' not in html
        assert 'data-routine-id="prone-press-up"' not in html
        oracle.assert_page(page, body, vetoed={"prone-press-up"})


VETO_CASES = {
    "extension_provoked": {"worse_with": ["standing", "arching_back"]},
    "flexion_provoked": {"worse_with": ["bending_forward", "sitting"]},
    "lying_provoked": {"worse_with": ["lying_down"]},
    "high_pain": {"pain_score": 8},
    "weakness": {"weakness": True},
}


@pytest.mark.parametrize("word", VETO_CASES)
def test_every_contraindication_keeps_its_exercises_off_the_page(client, catalog, word):
    body = profile(**VETO_CASES[word])
    vetoed = {i.id for i in catalog.of_kind("exercise") if word in i.contraindications}
    assert vetoed, f"the catalog has no exercise contraindicated by {word}"
    assert vetoed <= oracle.vetoed_ids(body, catalog)
    page = page_for(client, body)
    shown = set(ids_of(page, "exercise")) | {i["id"] for i in page["routine"]["items"]}
    assert not shown & vetoed
    explained = client.post("/v1/pages?explain=1", json=body).get_json()["explain"]
    assert vetoed <= {v["id"] for v in explained["vetoes"]}
    oracle.assert_page(page, body, vetoed=vetoed)
    oracle.assert_fragment(fragment_for(client, body), body, vetoed=vetoed)


# -- rule 8: every block says why ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        profile(),
        profile(["saddle_numbness"], channel="clinic"),
        profile(["fever", "unexplained_weight_loss"], channel="email"),
        {"context": {"channel": "clinic"}},
        {"symptoms": {"worse_with": ["sitting"], "pain_score": 9, "weakness": True}},
    ],
)
def test_every_block_says_why_it_is_there(client, body):
    page = page_for(client, body)
    assert page["blocks"]
    for block in page["blocks"]:
        assert isinstance(block["why"], list) and block["why"], block["id"]
        for why in block["why"]:
            assert set(why) == {"plugin", "reason"}
            assert why["plugin"].strip() and why["reason"].strip()
    html = fragment_for(client, body)
    frag = oracle.Fragment(html)
    assert [b["id"] for b in frag.blocks] == [b["id"] for b in page["blocks"]]
    assert all(
        b["why_items"] == len(p["why"]) for b, p in zip(frag.blocks, page["blocks"], strict=True)
    )
    oracle.assert_page(page, body)


# -- alert wording: numbers and services come from configuration --------------------------------


def texts(page) -> str:
    return "\n".join(b["title"] + "\n" + b["html"] for b in page["blocks"])


def visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_alerts_use_the_configured_numbers_and_services():
    client = create_app(
        base_config(
            EMERGENCY_NUMBER="000",
            EMERGENCY_SERVICE="the hospital",
            URGENT_NUMBER="13 HEALTH",
            URGENT_SERVICE="a walk-in clinic",
        )
    ).test_client()
    page = page_for(client, profile(["saddle_numbness", "fever", "history_of_cancer"]))
    emergency, urgent, assess = alerts(page)
    assert emergency["id"] == "emergency-now"
    assert "000" in emergency["title"] and "the hospital" in emergency["title"]
    assert "000" in emergency["html"] and "the hospital" in emergency["html"]
    assert "13 HEALTH" in urgent["title"] and "a walk-in clinic" in urgent["html"]
    assert "000" in urgent["html"] and "000" in assess["html"]
    assert "{{" not in texts({"blocks": [emergency, urgent, assess]})
    html = fragment_for(client, profile(["bladder_or_bowel_change"], channel="clinic"))
    heading = re.search(r'<h2 id="pz-emergency-now">([^<]*)</h2>', html).group(1)
    assert "000" in heading and "the hospital" in heading


def test_configured_numbers_are_escaped_in_html():
    client = create_app(base_config(EMERGENCY_NUMBER="<b>000</b>")).test_client()
    page = page_for(client, profile(["saddle_numbness"]))
    assert "<b>" not in page["blocks"][0]["html"]
    assert "&lt;b&gt;000&lt;/b&gt;" in page["blocks"][0]["html"]
    html = fragment_for(client, profile(["saddle_numbness"]))
    assert "<b>000</b>" not in html


@pytest.mark.parametrize("flags", [(f,) for f in FLAGS] + [()])
def test_default_config_prints_no_country_specific_number(client, flags):
    body = profile(flags)
    page = page_for(client, body)
    assert not COUNTRY_NUMBERS.search(texts(page)), COUNTRY_NUMBERS.findall(texts(page))
    if flags:
        assert "your local emergency number" in texts({"blocks": alerts(page)})
    html = fragment_for(client, body)
    assert not COUNTRY_NUMBERS.search(visible(html))


def test_fail_safe_warning_signs_use_configured_numbers_only():
    client = create_app(
        base_config(LOAD_PLUGINS=["symptom_pattern", "alignment", "education", "routine"])
    ).test_client()
    page = page_for(client, profile())
    (alert,) = alerts(page)
    assert alert["id"] == "warning-signs"
    assert "your local emergency number" in alert["html"]
    assert not COUNTRY_NUMBERS.search(texts(page))
    assert "{{" not in texts({"blocks": [alert]})


@pytest.mark.parametrize("flags", [(), ("fever",), ("saddle_numbness",)])
def test_no_block_prints_an_unfilled_number_token(flags):
    """Every block, not only the alerts, names the configured services. The section
    when-to-see-doctor (on most pages, always when a red flag is reported) says "Call
    {{emergency_number}}", and the engine fills the tokens in alerts only
    (personalizer/engine.py, Engine._block does not call Policy.fill)."""
    client = create_app(base_config(EMERGENCY_NUMBER="000")).test_client()
    body = profile(flags)
    page = page_for(client, body)
    unfilled = [b["id"] for b in page["blocks"] if "{{" in b["title"] + b["html"]]
    assert unfilled == []
    assert "{{" not in fragment_for(client, body)
