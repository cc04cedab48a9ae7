"""The daily routine over every time budget (5..60) and a matrix of profiles, via POST /v1/pages.

What must hold for every page: the routine fits the budget's bucket (the engine floors
minutes_per_day to a multiple of 5), its minutes are the sum of its doses (the formula of
content.Item.minutes and routine.Entry.daily_minutes, recomputed here on its own), no item
carries a contraindication that applies to the person, the routine is the page's exercise
blocks in the same order, ordered warm-up < mobility < strength < conditioning. And the
routine answers to the person: opposite alignments get different work, flexion relief gets
flexion or conditioning work, uneven hips get work for uneven hips.
"""

from __future__ import annotations

import copy
import math

import pytest

from personalizer import create_app, safety
from personalizer.vocabulary import PHASES
from tests.conftest import EXAMPLE_PROFILE, base_config

BUDGETS = range(5, 61)
BUCKETS = range(5, 61, 5)

# The dose formula, written out again (docs/content.md): do not import it from the code.
SECONDS_PER_REP, REST_BETWEEN_SETS_S, MIN_TIMED = 4, 30, 3


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
    "urgent-flag-still-gets-a-routine": {
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
        dose = block["dose"]
        expected_item = {"id": block["id"], **{k: v for k, v in dose.items() if k != "each_side"}}
        if item != expected_item:
            problems.append(f"routine item {item} differs from the block's dose {dose}")
        catalog_dose = catalog[block["id"]].dose
        if "minutes" in dose:
            limit = min(catalog_dose["minutes"], bucket // 3)
            if not MIN_TIMED <= dose["minutes"] <= limit:
                problems.append(f"{block['id']}: {dose['minutes']} timed minutes, not 3..{limit}")
        elif dose != catalog_dose:
            problems.append(f"{block['id']}: dose {dose} is not the catalog's {catalog_dose}")
        total += dose_minutes(dose)
    if routine["minutes"] != total:
        problems.append(f"routine says {routine['minutes']} minutes, its doses add up to {total}")

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
    if page["triage"]["level"] != "emergency" and not ids:
        problems.append("no routine at all")
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
    profile = {"symptoms": {"worse_with": ["lying_down"]}}
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
            "items": [{"id": "paced-walking", "minutes": 2, "per_day": 1}, {"id": "bridge"}],
        },
    }  # fmt: skip
    problems = "\n".join(routine_problems(page, profile, 10, catalog))
    assert "over the 10-minute bucket" in problems
    assert "differs from the block's dose" in problems
    assert "paced-walking: 2 timed minutes, not 3..3" in problems
    assert "its doses add up to 3" in problems
    assert "bridge is contraindicated here: ['lying_provoked']" in problems
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


def test_a_timed_activity_takes_at_most_a_third(routine_client, catalog):
    profile = PROFILES["flexion-relief-short-walk"]
    for bucket in BUCKETS:
        timed = [
            b for b in exercise_blocks(page_for(routine_client, profile, bucket))
            if "minutes" in b["dose"]
        ]  # fmt: skip
        if bucket < 3 * MIN_TIMED:
            assert timed == [], bucket
        for block in timed:
            assert block["dose"]["minutes"] <= bucket // 3, (bucket, block)
    # Cut to a third of the budget, the dose shown says so.
    walking = catalog["paced-walking"].dose["minutes"]
    page = page_for(routine_client, profile, 15)
    doses = {b["id"]: b["dose"] for b in exercise_blocks(page)}
    assert doses.get("paced-walking", {"minutes": 5})["minutes"] == min(walking, 5)


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
            and ("anterior pelvic tilt" in w["reason"] or "lumbar arch" in w["reason"])
            for w in b["why"]
        )
        for b in anterior
    ), [(b["id"], reasons(b)) for b in anterior]
    posterior_reasons = [w["reason"] for b in posterior for w in b["why"]]
    assert any(
        "posterior pelvic tilt" in r or "flat lumbar curve" in r for r in posterior_reasons
    ), posterior_reasons
    # Work that eases the back forward, justified by an arch, never goes to a flat back.
    assert not any("anterior" in r or "excess" in r for r in posterior_reasons)


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
        and any(w["plugin"] == "alignment" and "uneven hips" in w["reason"] for w in b["why"])
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
