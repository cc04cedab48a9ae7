"""The daily routine over every time budget (5..60) and a matrix of profiles, via POST /v1/pages.

What must hold for every page: the routine fits the budget's bucket (the engine floors
minutes_per_day to a multiple of 5), its minutes are the sum of its doses (the formula of
content.Item.minutes and routine.Entry.daily_minutes, recomputed here on its own), no item
carries a contraindication or involves work that applies to the person, the routine is the
page's exercise blocks in the same order, ordered warm-up < mobility < strength <
conditioning, at most one aerobic activity with the minutes the budget gives it, at most 4
other exercises up to 30 minutes (6 above). And the routine answers to the person: opposite
alignments get different work, flexion relief gets flexion or conditioning work, uneven hips
get work for uneven hips. The exercise texts agree with their doses.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import pytest
import yaml

from personalizer import create_app, routine, safety
from personalizer.vocabulary import PHASES
from tests.plugins import oracle
from tests.support import EXAMPLE_PROFILE, base_config

REPO_ROOT = Path(__file__).resolve().parent.parent
BUDGETS = range(5, 61)
BUCKETS = range(5, 61, 5)

# The dose formula, written out again (docs/content.md): do not import it from the code.
SECONDS_PER_REP, REST_BETWEEN_SETS_S, MIN_TIMED = 4, 30, 3


def aerobic_share(bucket: int) -> int:
    """Aerobic minutes a day (docs/content.md): none under 10, 40 % at 10 rising to 60 % at
    30, at most 30 a day (x 5 days = 150 a week)."""
    if bucket < 10:
        return 0
    share = 0.4 + 0.2 * min(1.0, (bucket - 10) / 20)
    return min(30, math.floor(bucket * share + 0.5))


def dose_minutes(dose: dict) -> int:
    if "minutes" in dose:
        return dose["minutes"] * dose.get("per_day", 1)
    sides = 2 if dose.get("each_side") else 1
    seconds = dose["sets"] * dose["reps"] * (dose.get("hold_s", 0) + SECONDS_PER_REP) * sides
    seconds += (dose["sets"] - 1) * REST_BETWEEN_SETS_S
    return max(1, math.ceil(seconds / 60)) * dose.get("per_day", 1)


def active_contraindications(profile: dict) -> set[str]:
    """Which contraindication words apply, from the raw profile (not from the plugins)."""
    symptoms = profile.get("symptoms", {})
    worse = set(symptoms.get("worse_with", []))
    active = set()
    if worse & {"standing", "arching_back"}:
        active.add("extension_provoked")
    if worse & {"bending_forward", "sitting"}:
        active.add("flexion_provoked")
    if "lying_down" in worse:
        active.add("lying_provoked")
    if symptoms.get("pain_score", 0) >= 7:
        active.add("high_pain")
    if symptoms.get("weakness"):
        active.add("weakness")
    return active


def avoided_involvement(profile: dict) -> set[str]:
    """What the person must not be given: contract rule 5 (the oracle's restatement), and the
    built-in plugins' stricter kneeling rule (pain from 7)."""
    avoid = oracle.engine_avoids(profile)
    if profile.get("symptoms", {}).get("pain_score", 0) >= 7:
        avoid.add("kneeling")
    return avoid


def symptoms(**kwargs) -> dict:
    return kwargs


EXAMPLE_NO_FLAGS = {**copy.deepcopy(EXAMPLE_PROFILE), "red_flags": []}

PROFILES = {
    "nothing-measured": {},
    "design-example": copy.deepcopy(EXAMPLE_PROFILE),
    "design-example-no-flags": EXAMPLE_NO_FLAGS,
    "anterior-standing": {
        "alignment": {"pelvic_tilt_deg": 28, "lumbar_lordosis_deg": 75},
        "symptoms": symptoms(worse_with=["standing", "walking"], walking_tolerance_min=20),
    },
    "posterior-flexion-provoked": {
        "alignment": {"pelvic_tilt_deg": -8, "lumbar_lordosis_deg": 25},
        "symptoms": symptoms(worse_with=["bending_forward", "sitting"], legs="left"),
    },
    "oblique-arching": {
        "alignment": {"pelvic_obliquity_deg": 5, "lumbar_lordosis_deg": 66},
        "symptoms": symptoms(worse_with=["arching_back"], eased_by=["leaning_forward"]),
    },
    "lying-provoked-kyphosis": {
        "alignment": {"thoracic_kyphosis_deg": 62, "forward_head_cm": 7},
        "symptoms": symptoms(worse_with=["lying_down"], eased_by=["sitting"]),
    },
    "high-pain-weakness": {
        "alignment": {"pelvic_tilt_deg": 20, "lumbar_lordosis_deg": 45},
        "symptoms": symptoms(pain_score=8, weakness=True, numbness=True, legs="right"),
    },
    "flexion-relief-short-walk": {
        "symptoms": symptoms(
            legs="both",
            worse_with=["walking"],
            eased_by=["sitting", "leaning_forward"],
            walking_tolerance_min=3,
        ),
    },
    "everything-provokes": {
        "alignment": {"pelvic_tilt_deg": 30, "pelvic_obliquity_deg": -6},
        "symptoms": symptoms(
            worse_with=[
                "standing",
                "walking",
                "arching_back",
                "bending_forward",
                "sitting",
                "lying_down",
            ],
            pain_score=9,
            weakness=True,
        ),
    },
    "mild-everything-eased-lying": {
        "alignment": {
            "pelvic_tilt_deg": 19,
            "lumbar_lordosis_deg": 35,
            "pelvic_obliquity_deg": -2,
            "thoracic_kyphosis_deg": 45,
            "forward_head_cm": 3,
        },
        "symptoms": symptoms(eased_by=["lying_down"], pain_score=3, walking_tolerance_min=60),
    },
    "urgent-flag-holds-the-routine": {
        "alignment": {"pelvic_tilt_deg": 12},
        "symptoms": symptoms(worse_with=["standing"], pain_score=7),
        "red_flags": ["walking_decline"],
    },
}


@pytest.fixture(scope="module")
def routine_app():
    return create_app(base_config())


@pytest.fixture(scope="module")
def routine_client(routine_app):
    return routine_app.test_client()


@pytest.fixture(scope="module")
def catalog(routine_app):
    return routine_app.extensions["personalizer"].engine.catalog


def with_budget(profile: dict, minutes: int) -> dict:
    body = copy.deepcopy(profile)
    body.setdefault("context", {})["minutes_per_day"] = minutes
    return body


def page_for(client, profile: dict, minutes: int) -> dict:
    response = client.post("/v1/pages", json=with_budget(profile, minutes))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def exercise_blocks(page: dict) -> list[dict]:
    return [b for b in page["blocks"] if b["kind"] == "exercise"]


def routine_problems(page: dict, profile: dict, budget: int, catalog) -> list[str]:
    """Every way this page's routine breaks the rules, as readable lines."""
    problems = []
    bucket = budget // 5 * 5
    routine = page["routine"]
    blocks = exercise_blocks(page)
    items = routine["items"]
    ids = [item["id"] for item in items]

    if routine["minutes"] > bucket:
        problems.append(f"{routine['minutes']} minutes over the {bucket}-minute bucket")
    if [b["id"] for b in blocks] != ids:
        problems.append(f"routine {ids} is not the exercise blocks {[b['id'] for b in blocks]}")
    total = 0
    for block, item in zip(blocks, items, strict=False):
        dose = {k: v for k, v in block["dose"].items() if k != "text"}
        for key in ("sets", "reps", "hold_s", "minutes", "per_day", "days_per_week"):
            if key in dose and item.get(key) != dose[key]:
                problems.append(f"routine item {item} differs from the block's dose {dose}")
        for key in ("id", "title", "text", "days_per_week", "each_side"):
            if key not in item:
                problems.append(f"routine item {item['id']} has no {key}")
        catalog_dose = catalog[block["id"]].dose
        if "minutes" in dose:
            wanted = aerobic_share(bucket)
            if dose["minutes"] != wanted or dose.get("days_per_week") != 5:
                problems.append(f"{block['id']}: {dose} is not {wanted} minutes on 5 days")
        elif dose != {k: v for k, v in catalog_dose.items()}:
            problems.append(f"{block['id']}: dose {dose} is not the catalog's {catalog_dose}")
        total += dose_minutes(dose)
    if routine["minutes"] != total:
        problems.append(f"routine says {routine['minutes']} minutes, its doses add up to {total}")
    aerobic = [i for i in ids if "minutes" in catalog[i].dose]
    others = [i for i in ids if "minutes" not in catalog[i].dose]
    if len(aerobic) > 1:
        problems.append(f"more than one aerobic activity: {aerobic}")
    if len(others) > (4 if bucket <= 30 else 6):
        problems.append(f"{len(others)} exercises besides aerobic work: {others}")
    avoid = avoided_involvement(profile)
    for item_id in ids:
        clash = set(catalog[item_id].involves) & avoid
        if clash:
            problems.append(f"{item_id} involves what this person avoids: {sorted(clash)}")
    active = active_contraindications(profile)
    for item_id in ids:
        clash = set(catalog[item_id].contraindications) & active
        if clash:
            problems.append(f"{item_id} is contraindicated here: {sorted(clash)}")
    phases = [PHASES.index(catalog[i].phase) for i in ids]
    if phases != sorted(phases):
        problems.append(f"phases out of order: {[catalog[i].phase for i in ids]}")
    if len(set(ids)) != len(ids):
        problems.append(f"an exercise twice: {ids}")
    if page["triage"]["level"] in ("none", "assess") and not ids:
        problems.append("no routine at all")
    if page["triage"]["level"] in ("urgent", "emergency") and ids:
        problems.append(f"a routine on an {page['triage']['level']} page")
    if any(not b["why"] for b in blocks):
        problems.append("an exercise without a reason")
    problems += safety.check(page)
    return problems


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_routine_rules_hold_for_every_budget(routine_client, catalog, name):
    profile = PROFILES[name]
    failures = {}
    for budget in BUDGETS:
        page = page_for(routine_client, profile, budget)
        problems = routine_problems(page, profile, budget, catalog)
        if problems:
            failures[budget] = problems
    assert not failures, failures


def test_the_checks_can_fail(catalog):
    """routine_problems catches a page that breaks each rule (guards the guard)."""
    profile = {"symptoms": {"worse_with": ["lying_down"], "walking_tolerance_min": 0}}
    bridge = catalog["bridge"].dose
    page = {
        "triage": {"level": "none", "flags": []},
        "blocks": [
            {"kind": "exercise", "id": "paced-walking", "why": [{"plugin": "p", "reason": "r"}],
             "dose": {"minutes": 2, "per_day": 1}},
            {"kind": "exercise", "id": "bridge", "why": [{"plugin": "p", "reason": "r"}],
             "dose": bridge},
        ],
        "routine": {
            "minutes": 12,
            "items": [{"id": "paced-walking", "minutes": 3, "per_day": 1}, {"id": "bridge"}],
        },
    }  # fmt: skip
    problems = "\n".join(routine_problems(page, profile, 10, catalog))
    assert "over the 10-minute bucket" in problems
    assert "differs from the block's dose" in problems
    assert "has no title" in problems
    assert "is not 4 minutes on 5 days" in problems
    assert "its doses add up to 3" in problems
    assert "bridge is contraindicated here: ['lying_provoked']" in problems
    assert "paced-walking involves what this person avoids: ['walking']" in problems
    assert "phases out of order" in problems


def test_minutes_of_a_dose():
    # 2 sets x 8 reps x (2 s hold + 4 s) x 2 sides = 192 s, + 1 rest of 30 s = 222 s -> 4 min
    assert dose_minutes({"sets": 2, "reps": 8, "hold_s": 2, "each_side": True}) == 4
    assert dose_minutes({"sets": 1, "reps": 8, "hold_s": 0, "per_day": 2}) == 2  # 32 s -> 1 x 2
    assert dose_minutes({"minutes": 5, "per_day": 1}) == 5


def test_catalog_minutes_agree_with_the_formula(catalog):
    # Item.minutes (what the engine uses) matches the written formula for every exercise.
    for item in catalog.of_kind("exercise"):
        expected = dose_minutes({**item.dose, "per_day": 1})
        assert item.minutes == expected, item.id


def test_aerobic_share_grows_with_the_budget():
    assert [aerobic_share(b) for b in (5, 10, 15, 20, 30, 45, 60)] == [0, 4, 7, 10, 18, 27, 30]
    for small, large in zip(BUCKETS, list(BUCKETS)[1:], strict=False):
        assert aerobic_share(large) >= aerobic_share(small)
    assert routine.aerobic_minutes(60) * routine.AEROBIC_DAYS == 150  # the weekly guidance
    for bucket in BUCKETS:
        assert routine.aerobic_minutes(bucket) == aerobic_share(bucket), bucket


# -- budgets: 5, 15, 30 and 60 minutes each use their budget sensibly ------------------------

BUDGET_CASES = [
    "design-example-no-flags",
    "anterior-standing",
    "flexion-relief-short-walk",
    "mild-everything-eased-lying",
    "nothing-measured",
]


@pytest.mark.parametrize("name", BUDGET_CASES)
def test_budgets_are_used_sensibly(routine_client, catalog, name):
    profile = PROFILES[name]
    routines = {m: page_for(routine_client, profile, m)["routine"] for m in (5, 15, 30, 60)}

    def aerobic(r):
        return [i for i in r["items"] if "minutes" in i]

    def others(r):
        return [i for i in r["items"] if "minutes" not in i]

    assert not aerobic(routines[5]) and 2 <= len(others(routines[5])) <= 4, routines[5]
    assert routines[5]["minutes"] >= 3
    for m in (15, 30):
        assert 3 <= len(others(routines[m])) <= 4, (m, routines[m])
        assert len(aerobic(routines[m])) == 1, (m, routines[m])
        assert routines[m]["minutes"] >= 0.75 * m, (m, routines[m])
    assert len(aerobic(routines[60])) == 1
    assert aerobic(routines[60])[0]["minutes"] == 30
    assert aerobic(routines[30])[0]["minutes"] > aerobic(routines[15])[0]["minutes"]
    assert routines[60]["minutes"] >= 1.5 * routines[30]["minutes"], routines
    # Aerobic work is the bigger share of the larger budgets.
    for m in (30, 60):
        share = aerobic(routines[m])[0]["minutes"] / routines[m]["minutes"]
        assert share >= 0.5, (m, routines[m])


def test_strength_work_is_on_its_own_days(routine_client, catalog):
    page = page_for(routine_client, PROFILES["anterior-standing"], 30)
    entries = page["routine"]["items"]
    strength = [i for i in entries if catalog[i["id"]].phase == "strength"]
    assert any(i["days_per_week"] in (2, 3) for i in strength), entries
    for item in entries:
        if catalog[item["id"]].goal == "glutes":
            assert item["days_per_week"] in (2, 3), item


def test_week_plan(catalog):
    ranked = [(catalog[i], 1.0) for i in ("knee-to-chest", "bridge", "paced-walking")]
    entries = routine.fill(ranked, 30)
    week = routine.week(entries)
    assert [d["day"] for d in week][:2] == ["Monday", "Tuesday"] and len(week) == 7
    days_of = {e.item.id: sum(e.item.id in d["items"] for d in week) for e in entries}
    assert days_of == {"knee-to-chest": 7, "bridge": 3, "paced-walking": 5}
    strength_days = [d["day"] for d in week if "bridge" in d["items"]]
    assert strength_days == ["Monday", "Wednesday", "Friday"]
    for day in week:  # items keep routine order
        assert day["items"] == [e.item.id for e in entries if e.item.id in day["items"]]


def test_left_out_says_what_pushed_each_exercise_out(catalog):
    names = ["knee-to-chest", "pelvic-tilt", "bridge", "sit-to-stand", "abdominal-draw-in",
             "knee-rolls", "balance-stand", "paced-walking", "stationary-bike"]  # fmt: skip
    ranked = [(catalog[n], 10.0 - i) for i, n in enumerate(names)]
    chosen = {e.item.id for e in routine.fill(ranked, 15)}
    cut = {row["id"]: row["reason"] for row in routine.left_out(ranked, 15)}
    assert chosen.isdisjoint(cut) and chosen | set(cut) == set(names)
    assert "one aerobic activity" in cut["stationary-bike"]
    assert cut["pelvic-tilt"] == "the routine already holds 4 exercises"
    small = [(catalog[n], 3.0 - i) for i, n in enumerate(
        ["knee-to-chest", "half-kneeling-hip-flexor-stretch", "four-point-reach"])]  # fmt: skip
    tight = {row["id"]: row["reason"] for row in routine.left_out(small, 5)}
    assert tight == {"four-point-reach": "4 minutes: more than the time left"}
    assert any("already holds 4" in r for r in cut.values()), cut
    five = {row["id"]: row["reason"] for row in routine.left_out(ranked, 5)}
    assert "no aerobic work in a 5-minute routine" in five["paced-walking"]


# -- ties -----------------------------------------------------------------------------------


def test_ties_are_broken_by_preference_not_by_name(catalog):
    a, b = catalog["knee-to-chest"], catalog["bottom-to-heels"]  # same goal
    assert a.preference != b.preference
    high, low = (a, b) if a.preference > b.preference else (b, a)
    chosen = routine.fill([(low, 2.0), (high, 2.0)], 5)
    assert chosen[0].item.id == high.id
    assert routine.cut_line_ties([(low, 2.0), (high, 2.0)], chosen) == []


def test_a_tie_without_a_preference_is_caught(catalog):
    a = catalog["knee-to-chest"]
    twin = type(a)("zz-twin", a.kind, a.title, a.html, a.path, {**a.meta, "id": "zz-twin"})
    ranked = [(a, 2.0), (twin, 2.0)]
    chosen = [e for e in routine.fill(ranked, 5) if e.item.id == a.id]
    assert routine.cut_line_ties(ranked, chosen) == [("knee-to-chest", "zz-twin")]


def test_every_exercise_declares_a_distinct_preference(catalog):
    prefs = {i.id: i.meta.get("preference") for i in catalog.of_kind("exercise")}
    assert len(set(prefs.values())) == len(prefs), prefs


# -- the exercise texts ----------------------------------------------------------------------

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
}  # fmt: skip
QUANTITY = re.compile(
    r"\b(\d+|"
    + "|".join(NUMBER_WORDS)
    + r")\s+(seconds?|minutes?|times|lifts|reaches|days a week)\b"
    r"|\b(once|twice)\b|\bdo (\d+|" + "|".join(NUMBER_WORDS) + r")\b(?! days)",
    re.IGNORECASE,
)


def quantities(text: str) -> list[tuple[str, int]]:
    """("seconds" | "minutes" | "count", n) for every amount the text states."""
    found = []
    for m in QUANTITY.finditer(text):
        if m.group(3):
            found.append(("count", 1 if m.group(3).lower() == "once" else 2))
            continue
        word = (m.group(1) or m.group(4)).lower()
        n = int(word) if word.isdigit() else NUMBER_WORDS[word]
        unit = (m.group(2) or "count").lower()
        kinds = {"second": "seconds", "minute": "minutes", "days a": "days"}
        kind = next((k for prefix, k in kinds.items() if unit.startswith(prefix)), "count")
        found.append((kind, n))
    return found


def text_problems(item) -> list[str]:
    """Amounts in an exercise's steps and body that disagree with its dose."""
    dose = item.dose
    problems = []
    for kind, n in quantities(item.meta["body"]):
        if kind == "seconds" and n != dose.get("hold_s"):
            problems.append(f"{n} seconds, but the hold is {dose.get('hold_s')} s")
        elif kind == "minutes" and "minutes" in dose:
            problems.append(f"{n} minutes: the routine sets an activity's minutes")
        elif kind == "minutes" and n != item.minutes:
            problems.append(f"{n} minutes, but the dose takes {item.minutes}")
        elif kind == "days" and n != dose.get("days_per_week", 7):
            problems.append(f"{n} days a week, but the dose says {dose.get('days_per_week', 7)}")
        elif kind == "count" and n not in (
            dose.get("reps"),
            dose.get("reps", 0) * dose.get("sets", 0),
        ):
            problems.append(f"{n} times, but the dose is {dose.get('sets')} x {dose.get('reps')}")
    return problems


def test_exercise_texts_agree_with_their_doses(catalog):
    problems = {i.id: text_problems(i) for i in catalog.of_kind("exercise")}
    assert not {k: v for k, v in problems.items() if v}, problems
    assert all(i.steps for i in catalog.of_kind("exercise"))


def test_the_text_check_can_fail(catalog):
    item = catalog["bottom-to-heels"]

    def with_body(body):
        return type(item)(item.id, item.kind, item.title, item.html, item.path,
                          {**item.meta, "body": body})  # fmt: skip

    assert text_problems(with_body("1. Hold for 10 seconds."))
    assert text_problems(with_body("1. Do 12 of these."))
    assert text_problems(with_body("1. Do this twice."))
    assert text_problems(with_body("1. Stretch.\n\nDo this on 2 days a week."))
    walking = catalog["paced-walking"]
    assert text_problems(
        type(walking)(walking.id, walking.kind, walking.title, walking.html, walking.path,
                      {**walking.meta, "body": "1. Walk for about 10 minutes in all."})
    )  # fmt: skip


def front_matter(item_id: str) -> dict:
    text = (REPO_ROOT / "content" / "exercises" / f"{item_id}.md").read_text()
    return yaml.safe_load(text.split("---")[1])


def test_every_exercise_declares_what_it_involves(catalog):
    for item in catalog.of_kind("exercise"):
        meta = front_matter(item.id)
        assert "involves" in meta and "preference" in meta, item.id
        words = " ".join([item.title, item.meta["body"]]).lower()
        involves = set(item.involves)
        if "kneel" in words or "all fours" in words:
            assert "kneeling" in involves, item.id
        if "face down" in words or "back-arching" in item.summary.lower():
            assert "extension" in involves, item.id
        if item.goal == "conditioning" and "walk" in item.title.lower():
            assert "walking" in involves, item.id
        if words.startswith(item.title.lower()) and "1. stand" in words:
            assert "standing" in involves, item.id


def reasons(block: dict) -> str:
    return " | ".join(w["reason"] for w in block["why"])


ANTERIOR = {"alignment": {"pelvic_tilt_deg": 28, "lumbar_lordosis_deg": 75}}
POSTERIOR = {"alignment": {"pelvic_tilt_deg": -8, "lumbar_lordosis_deg": 25}}


@pytest.mark.parametrize("bucket", BUCKETS)
def test_opposite_alignments_get_different_routines(routine_client, catalog, bucket):
    anterior = exercise_blocks(page_for(routine_client, ANTERIOR, bucket))
    posterior = exercise_blocks(page_for(routine_client, POSTERIOR, bucket))
    assert {b["id"] for b in anterior} != {b["id"] for b in posterior}
    assert any(
        catalog[b["id"]].goal in ("hip_flexor", "flexion")
        and any(
            w["plugin"] == "alignment"
            and ("pelvis tips forward" in w["reason"] or "curves in" in w["reason"])
            for w in b["why"]
        )
        for b in anterior
    ), [(b["id"], reasons(b)) for b in anterior]
    posterior_reasons = [w["reason"] for b in posterior for w in b["why"]]
    assert any("tips backward" in r or "flatter than most" in r for r in posterior_reasons), (
        posterior_reasons
    )
    # Work that eases the back forward, justified by an arch, never goes to a flat back.
    assert not any("tips forward" in r or "curves in" in r for r in posterior_reasons)


@pytest.mark.parametrize("bucket", BUCKETS)
def test_flexion_relief_gets_flexion_or_conditioning_work(routine_client, catalog, bucket):
    profile = {"symptoms": {"eased_by": ["sitting", "leaning_forward"]}}
    blocks = exercise_blocks(page_for(routine_client, profile, bucket))
    fitting = [
        b
        for b in blocks
        if catalog[b["id"]].goal in ("flexion", "conditioning")
        and any(w["plugin"] == "symptom_pattern" for w in b["why"])
    ]
    assert fitting, [(b["id"], reasons(b)) for b in blocks]


OBLIQUE = {
    "right-high": {"alignment": {"pelvic_obliquity_deg": 5}},
    "left-high": {"alignment": {"pelvic_obliquity_deg": -5}},
    "with-anterior-tilt": {
        "alignment": {"pelvic_obliquity_deg": 6, "pelvic_tilt_deg": 28, "lumbar_lordosis_deg": 75}
    },
    "design-example-symptoms": {
        **EXAMPLE_NO_FLAGS,
        "alignment": {**EXAMPLE_NO_FLAGS["alignment"], "pelvic_obliquity_deg": 5},
    },
}


def obliquity_work(blocks, catalog) -> list[dict]:
    """Exercises addressing uneven hips whose alignment reason says so."""
    return [
        b
        for b in blocks
        if "obliquity" in catalog[b["id"]].addresses
        and any(
            w["plugin"] == "alignment" and "one hip sits higher" in w["reason"] for w in b["why"]
        )
    ]


@pytest.mark.parametrize("name", sorted(OBLIQUE))
def test_marked_obliquity_brings_work_for_uneven_hips(routine_client, catalog, name):
    profile = OBLIQUE[name]
    missing = {}
    for bucket in BUCKETS:
        blocks = exercise_blocks(page_for(routine_client, profile, bucket))
        if bucket >= 15 and not obliquity_work(blocks, catalog):
            missing[bucket] = [b["id"] for b in blocks]
    assert not missing, missing


SIDE_AWARE_CASES = [
    "right-high",
    "left-high",
    "with-anterior-tilt",
    "design-example-symptoms",
]


@pytest.mark.parametrize("name", SIDE_AWARE_CASES)
def test_marked_obliquity_brings_side_aware_work(routine_client, catalog, name):
    """Uneven hips get work done one side at a time (each_side), e.g. side-leg-raise."""
    profile = OBLIQUE[name]
    missing = {}
    for bucket in (b for b in BUCKETS if b >= 15):
        blocks = exercise_blocks(page_for(routine_client, profile, bucket))
        sided = [b for b in obliquity_work(blocks, catalog) if b["dose"].get("each_side")]
        if not sided:
            missing[bucket] = [b["id"] for b in blocks]
    assert not missing, missing


def test_budget_changes_the_routine_only_by_bucket(routine_client):
    profile = PROFILES["design-example-no-flags"]
    for bucket in BUCKETS:
        pages = [page_for(routine_client, profile, m) for m in range(bucket, min(bucket + 5, 61))]
        assert all(p["routine"] == pages[0]["routine"] for p in pages), bucket
    small = page_for(routine_client, profile, 5)["routine"]
    large = page_for(routine_client, profile, 60)["routine"]
    assert len(large["items"]) > len(small["items"])
    assert large["minutes"] > small["minutes"]
