"""The safety contract v2 (DESIGN section 4) as assertions on finished pages.

The levels, alert ids and contraindication words are restated here, not imported from the
engine, so a change to ``personalizer/safety.py`` cannot quietly change what the tests expect.
``personalizer.safety.check`` is run as well, but every key fact is asserted directly.
"""

from __future__ import annotations

import re
from html import escape, unescape

from personalizer import safety, vocabulary

LEVEL_OF = {
    "saddle_numbness": "emergency",
    "bladder_or_bowel_change": "emergency",
    "sudden_leg_weakness": "emergency",
    "worsening_weakness": "urgent",
    "spreading_numbness": "urgent",
    "walking_decline": "urgent",
    "fever": "urgent",
    "after_fall": "urgent",
    "unexplained_weight_loss": "assess",
    "history_of_cancer": "assess",
}
FLAGS = tuple(LEVEL_OF)
EMERGENCY = tuple(f for f, level in LEVEL_OF.items() if level == "emergency")
URGENT = tuple(f for f, level in LEVEL_OF.items() if level == "urgent")
ASSESS = tuple(f for f, level in LEVEL_OF.items() if level == "assess")
RANK = {"none": 0, "assess": 1, "urgent": 2, "emergency": 3}
ALERT_ID = {"emergency": "emergency-now", "urgent": "urgent-care", "assess": "get-assessed"}
WARNING_SIGNS = "warning-signs"
FAILSAFE_ALERT = WARNING_SIGNS  # the fail-safe page shows the warning signs and no exercise
# The signs' one wording is data (content), not a rule: taken from its home.
SIGNS = vocabulary.WARNING_SIGNS
ACTIONS = ("exercise", "cta")

# A person whose legs get worse standing: the contract's own example of rule 5.
EXTENSION_PROVOKED = {"symptoms": {"legs": "both", "worse_with": ["standing", "walking"]}}
# Alignment that makes the built-ins push prone-press-up (flat lower back, rounded upper back).
PRESS_UP_ALIGNMENT = {"lumbar_lordosis_deg": 20, "thoracic_kyphosis_deg": 60}


def cancer_with_deficit(profile: dict) -> bool:
    s = profile.get("symptoms", {})
    return "history_of_cancer" in reported(profile) and bool(s.get("weakness") or s.get("numbness"))


def level_of(flag: str, profile: dict) -> str:
    if flag == "history_of_cancer" and cancer_with_deficit(profile):
        return "urgent"
    return LEVEL_OF[flag]


def expected_level(flags, profile: dict | None = None) -> str:
    profile = profile if profile is not None else {"red_flags": list(flags)}
    return max((level_of(f, profile) for f in flags), key=RANK.__getitem__, default="none")


def contraindications(profile: dict) -> set[str]:
    """The contraindication words that apply to this person (the catalog's vocabulary)."""
    s = profile.get("symptoms", {})
    worse = set(s.get("worse_with", []))
    words = set()
    if worse & {"standing", "arching_back"}:
        words.add("extension_provoked")
    if worse & {"bending_forward", "sitting"}:
        words.add("flexion_provoked")
    if "lying_down" in worse:
        words.add("lying_provoked")
    if s.get("pain_score", 0) >= 7:
        words.add("high_pain")
    if s.get("weakness"):
        words.add("weakness")
    return words


def engine_avoids(profile: dict) -> set[str]:
    """Rule 5's own vetoes, restated: what kinds of work never show for this person."""
    s = profile.get("symptoms", {})
    worse, eased = set(s.get("worse_with", [])), set(s.get("eased_by", []))
    words = set()
    if worse & {"standing", "arching_back"} or eased & {"sitting", "leaning_forward"}:
        words.add("extension")
    if s.get("walking_tolerance_min") == 0:
        words.add("walking")
    if s.get("weakness") or s.get("pain_score", 0) >= 8:
        words.add("kneeling")
    return words


def vetoed_ids(profile: dict, catalog) -> set[str]:
    """Exercises that must never show for this person: their contraindications apply, or
    they involve work the contract itself rules out."""
    words = contraindications(profile)
    avoid = engine_avoids(profile)
    return {
        item.id
        for item in catalog.of_kind("exercise")
        if words & set(item.meta.get("contraindications", []))
        or avoid & set(item.meta.get("involves", []))
    }


def carries_signs(html: str) -> bool:
    return all(escape(sign, quote=False) in html for sign in SIGNS)


def channel_of(profile: dict) -> str:
    return profile.get("context", {}).get("channel", "web")


def reported(profile: dict) -> set[str]:
    return set(profile.get("red_flags", []))


def assert_page(
    page: dict,
    profile: dict,
    vetoed=frozenset(),
    exact: bool = True,
    failsafe: bool = False,
    commercial_allowed: bool | None = None,
    dialable: bool = False,
) -> None:
    """Rules 1-8 on a JSON page built for ``profile``.

    ``exact``: the level must equal the contract's (a faulty plugin may add its own,
    non-contract flags, which can only raise it). ``failsafe``: True when triage could not
    run (no exercise, no routine, no offer of ours). ``commercial_allowed``: whether
    our offers may show at all on this deployment and partner (default: not on clinic
    pages). ``dialable``: the configured emergency number is one a phone can dial.
    """
    blocks = page["blocks"]
    ids = [b["id"] for b in blocks]
    flags = reported(profile)
    want = expected_level(flags, profile)
    level = page["triage"]["level"]
    channel = channel_of(profile)
    alerts = [b for b in blocks if b["kind"] == "alert"]
    level_alerts = [a for a in alerts if a["id"] != WARNING_SIGNS]
    exercises = [b["id"] for b in blocks if b["kind"] == "exercise"]
    routine_ids = [item["id"] for item in page["routine"]["items"]]
    if commercial_allowed is None:
        commercial_allowed = channel != "clinic"

    if exact:
        assert level == want, (level, want, flags)
    else:
        assert RANK[level] >= RANK[want], (level, want, flags)
    assert flags <= set(page["triage"]["flags"])
    assert page["triage"]["label"]

    # Rules 1-3: one alert for the page's level, first, naming every reported flag.
    if level == "none":
        assert level_alerts == [], ids
    else:
        assert len(level_alerts) == 1, ids
        (alert,) = level_alerts
        assert blocks[0] is alert, ids
        assert alert["level"] == level and alert["label"]
        if level in ALERT_ID:
            assert alert["id"] == ALERT_ID[level], ids
        for flag in flags:
            assert flag in alert["flags"], (flag, alert["flags"])
            assert escape(safety.FLAG_WORDS[flag]) in alert["html"], flag
    # Rule 1: the emergency page is its alert, with its actions, and nothing else.
    if level == "emergency":
        assert ids == [ALERT_ID["emergency"]], ids
        assert routine_ids == [] and page["routine"]["minutes"] == 0
        actions = {a["kind"]: a for a in blocks[0]["actions"]}
        assert "find_care" in actions, actions
        if dialable:
            assert actions["call"]["href"].startswith("tel:"), actions
    else:
        # Rule 4: every other page carries the warning signs (in the level's alert or their
        # own block), once.
        carrying = [b["id"] for b in alerts if carries_signs(b["html"])]
        assert len(carrying) == 1, (ids, carrying)
    # Rules 2 and 9: no exercise and no routine on urgent or fail-safe pages.
    if level == "urgent" or failsafe:
        assert exercises == [] and routine_ids == [], (level, exercises)
    # Rules 1-3 and 6: our offers only on pages without a level, where allowed.
    commercial = [b["id"] for b in blocks if b["kind"] == "cta" and b.get("commercial")]
    if level != "none" or not commercial_allowed or failsafe:
        assert commercial == [], (level, channel, commercial)
    for block in blocks:
        if block["kind"] == "cta":
            assert block["href"].startswith(("https://", "http://")), block["href"]
    # Rule 5: vetoed exercises never in the blocks nor in the routine.
    assert not set(exercises) & set(vetoed), set(exercises) & set(vetoed)
    assert not set(routine_ids) & set(vetoed), set(routine_ids) & set(vetoed)
    assert set(routine_ids) <= set(exercises)
    # Rule 7: every exercise carries its cautions and its ease-off rule.
    for block in blocks:
        if block["kind"] == "exercise":
            assert isinstance(block["cautions"], list) and block["ease_off"].strip(), block["id"]
    # Rule 8: every block says why it is there; the plugin is a separate field.
    for block in blocks:
        assert block["why"], f"{block['kind']} {block['id']} has no why"
        for why in block["why"]:
            assert why["plugin"].strip() and why["reason"].strip(), block["id"]
            assert f"({why['plugin']})" not in why["reason"]

    problems = safety.check(page, vetoed=set(vetoed), commercial_allowed=commercial_allowed)
    assert problems == [], problems


# -- the HTML fragment ---------------------------------------------------------------------

BLOCK_ID = re.compile(r'data-block-id="([^"]+)"')
ROUTINE_ID = re.compile(r'data-routine-id="([^"]+)"')
TAGS = re.compile(r"<[^>]+>")


def visible_text(html: str) -> str:
    return " ".join(unescape(TAGS.sub(" ", html)).split())


def assert_fragment(html: str, profile: dict, page: dict) -> None:
    """Rules 1-8 on the HTML fragment of ``page``, the JSON page built for ``profile``: the
    same blocks, the level's alert first and labelled in text, nothing actionable on an
    emergency page, no exercise or routine where none may show, no script anywhere."""
    assert "<html" not in html and "<script" not in html.lower()
    assert "javascript:" not in html.lower()
    ids = [i for i in BLOCK_ID.findall(html) if i != "routine"]  # the plan is not a block
    routine_ids = ROUTINE_ID.findall(html)
    json_ids = [b["id"] for b in page["blocks"]]
    assert sorted(set(ids)) == sorted(set(json_ids)), (ids, json_ids)
    level = page["triage"]["level"]
    text = visible_text(html)
    if level != "none":
        assert ids[0] == ALERT_ID[level], ids
        assert page["blocks"][0]["label"] in text, "the level is said in words, not only CSS"
    if level == "emergency":
        assert set(ids) == {ALERT_ID["emergency"]} and routine_ids == [], ids
    else:
        assert all(sign in text for sign in SIGNS), "the warning signs are visible"
    exercises = {b["id"] for b in page["blocks"] if b["kind"] == "exercise"}
    if level in ("emergency", "urgent"):
        assert not exercises and routine_ids == []
    assert set(routine_ids) <= exercises
    for block in page["blocks"]:
        if block["kind"] == "exercise":
            # Rule 7, visibly: the ease-off rule (the fragment may word its opening
            # itself, "Ease off or stop if ...") and every caution.
            assert " ".join(block["ease_off"].split())[-40:] in text, block["id"]
            for caution in block["cautions"]:
                assert " ".join(caution.split()) in text, (block["id"], caution)
