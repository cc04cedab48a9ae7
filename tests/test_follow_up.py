"""Follow-ups: a routine that grows with the person, without storing anything about them.

The client keeps the ``follow_up`` object a page returns and sends it back with the next
profile (DESIGN section 4b). The progression plugin (plugins/progression.py) turns it into
coarse features (``stage``, ``step``, ``flare_up``, ``legs_worse``); personalizer/routine.py
progresses the doses for the stage and eases them on a flare-up. Here:

1. the plugin's rules, case by case, and as properties (monotone in the weeks, at most one
   stage a week, a step down never raises the stage);
2. the routine's progression as properties (hypothesis): monotone in the stage, within the
   minutes, at most one step an exercise a stage, never more exercises on a flare-up, never a
   heavier dose after "too hard" or a flare-up;
3. eight-week journeys through the app (steady, too easy, too hard, a flare-up in week 4,
   walking tolerance halving), carrying the stage from page to page as a client does, with
   what each week's page must hold;
4. the cache: follow-up pages of a re-measured population hit it, and no follow-up value is a
   feature.
"""

from __future__ import annotations

import copy
import logging
import random
import re
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalizer import create_app, routine
from personalizer_plugins import progression
from tests.support import base_config

FOLLOW_UP_FEATURES = {"stage", "step", "flare_up", "legs_worse"}
FELT = ("too_easy", "about_right", "too_hard")
LEGS = ("better", "same", "worse")

# A person with the classic pattern, steady enough for the firmer work, 30 minutes a day: room
# for the routine to grow.
PERSON = {
    "alignment": {"pelvic_tilt_deg": 21, "lumbar_lordosis_deg": 64},
    "symptoms": {
        "legs": "both",
        "worse_with": ["standing", "walking"],
        "eased_by": ["sitting", "leaning_forward"],
        "walking_tolerance_min": 20,
        "numbness": False,
        "weakness": False,
        "pain_score": 4,
    },
    "context": {"channel": "web", "locale": "en", "minutes_per_day": 30},
}


@pytest.fixture(scope="module")
def app():
    return create_app(base_config())


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def catalog(app):
    return app.extensions["personalizer"].engine.catalog


def post(client, body: dict, explain: bool = False) -> dict:
    response = client.post("/v1/pages?explain=1" if explain else "/v1/pages", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# -- 1. the plugin's rules ---------------------------------------------------------------------


def features_of(follow: dict | None) -> dict:
    profile = {} if follow is None else {"follow_up": follow}
    return progression.personalizer_features(profile)


@pytest.mark.parametrize(
    ("follow", "stage", "step"),
    [
        ({}, 0, "same"),
        # with the stage the last page returned
        ({"stage": 2, "weeks_on_routine": 5, "routine_felt": "too_easy"}, 3, "up"),
        ({"stage": 2, "weeks_on_routine": 4, "routine_felt": "about_right"}, 3, "up"),
        ({"stage": 2, "weeks_on_routine": 5, "routine_felt": "about_right"}, 2, "same"),
        ({"stage": 2, "weeks_on_routine": 5, "routine_felt": "too_hard"}, 1, "down"),
        ({"stage": 0, "weeks_on_routine": 5, "routine_felt": "too_hard"}, 0, "down"),
        ({"stage": 3, "weeks_on_routine": 5, "flare_up": True}, 2, "down"),
        ({"stage": 3, "weeks_on_routine": 5, "flare_up": True, "routine_felt": "too_easy"}, 2,
         "down"),
        ({"stage": 3, "weeks_on_routine": 5, "legs_since_last": "worse",
          "routine_felt": "too_easy"}, 3, "hold"),
        ({"stage": 3, "weeks_on_routine": 5, "legs_since_last": "worse",
          "routine_felt": "too_hard"}, 2, "down"),
        ({"stage": 6, "weeks_on_routine": 40, "routine_felt": "too_easy"}, 6, "same"),
        ({"stage": 10, "weeks_on_routine": 40, "routine_felt": "about_right"}, 6, "same"),
        # one step a week, however often the client asks
        ({"stage": 3, "weeks_on_routine": 3, "routine_felt": "too_easy"}, 3, "same"),
        ({"stage": 0, "weeks_on_routine": 0, "routine_felt": "too_easy"}, 0, "same"),
        # a client that forgot the stage: from the weeks
        ({"weeks_on_routine": 4, "routine_felt": "too_easy"}, 4, "up"),
        ({"weeks_on_routine": 9, "routine_felt": "too_easy"}, 6, "same"),
        ({"weeks_on_routine": 4, "routine_felt": "about_right"}, 2, "up"),
        ({"weeks_on_routine": 5, "routine_felt": "about_right"}, 2, "same"),
        ({"weeks_on_routine": 5}, 2, "same"),
        ({"weeks_on_routine": 5, "routine_felt": "too_hard"}, 1, "down"),
        ({"weeks_on_routine": 1, "routine_felt": "too_hard"}, 0, "down"),
        ({"weeks_on_routine": 5, "legs_since_last": "worse"}, 2, "hold"),
    ],
)  # fmt: skip
def test_stage_and_step(follow, stage, step):
    features = features_of(follow)
    assert (features["stage"], features["step"]) == (stage, step), features


def test_features_are_coarse_and_only_when_sent():
    assert features_of(None) == {}
    full = {
        "weeks_on_routine": 17,
        "routine_felt": "about_right",
        "legs_since_last": "worse",
        "previous_walking_tolerance_min": 37,
        "flare_up": True,
        "stage": 4,
    }
    features = features_of(full)
    assert set(features) == FOLLOW_UP_FEATURES
    assert features["flare_up"] is True and features["legs_worse"] is True
    calm = features_of({**full, "flare_up": False, "legs_since_last": "better"})
    assert "flare_up" not in calm and "legs_worse" not in calm
    # No raw number is copied: only the stage (0..6) is a number.
    for follow in (full, {**full, "stage": None}, {"weeks_on_routine": 17}):
        follow = {k: v for k, v in follow.items() if v is not None}
        features = features_of(follow)
        assert 0 <= features["stage"] <= progression.MAX_STAGE
        assert features["step"] in ("up", "same", "down", "hold")
    # Every feature it makes is declared, so the engine keeps it in the decision key.
    assert set(progression.READS_FEATURES) >= FOLLOW_UP_FEATURES


follow_ups = st.fixed_dictionaries(
    {},
    optional={
        "weeks_on_routine": st.integers(0, 104),
        "routine_felt": st.sampled_from(FELT),
        "legs_since_last": st.sampled_from(LEGS),
        "previous_walking_tolerance_min": st.integers(0, 600),
        "flare_up": st.booleans(),
        "stage": st.integers(0, 10),
    },
)


@settings(max_examples=400, deadline=None)
@given(follow_ups)
def test_stage_rules_hold_for_any_follow_up(follow):
    stage = features_of(follow)["stage"]
    assert 0 <= stage <= progression.MAX_STAGE
    weeks = follow.get("weeks_on_routine")
    if weeks is not None:
        assert stage <= weeks, "more than one stage a week since the start"
    before = follow.get("stage")
    if before is not None:
        before = min(before, progression.MAX_STAGE)
        assert stage <= before + 1, "more than one stage up in a week"
        if follow.get("flare_up") or follow.get("routine_felt") == "too_hard":
            assert stage <= max(0, before - 1), "no step down after too hard or a flare-up"
        elif follow.get("legs_since_last") == "worse":
            assert stage <= before, "legs worse, yet the routine went up"


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 103),
    st.sampled_from((None, *FELT)),
    st.sampled_from((None, *LEGS)),
    st.booleans(),
)
def test_a_stage_from_the_weeks_alone_is_monotone_and_one_step_a_week(weeks, felt, legs, flare):
    answers = {"routine_felt": felt, "legs_since_last": legs, "flare_up": flare}
    answers = {k: v for k, v in answers.items() if v is not None}
    now = features_of({"weeks_on_routine": weeks, **answers})["stage"]
    later = features_of({"weeks_on_routine": weeks + 1, **answers})["stage"]
    assert now <= later <= now + 1


# -- 2. the routine's progression (properties) ------------------------------------------------

BUDGETS = st.integers(1, 12).map(lambda n: n * 5)


def dose_key(entry) -> tuple:
    d = entry.dose
    return (d.get("sets", 0), d.get("reps", 0), d.get("hold_s", 0), d.get("minutes", 0))


def heavier_or_equal(a, b) -> bool:
    """Entry ``a`` asks at least as much as ``b`` in every number, and is at least as hard."""
    return all(x >= y for x, y in zip(dose_key(a), dose_key(b), strict=True)) and (
        a.variant or not b.variant
    )


def steps_between(a, b) -> int:
    """How many numbers (and the harder version) differ between two doses of one exercise."""
    return sum(x != y for x, y in zip(dose_key(a), dose_key(b), strict=True)) + (
        a.variant != b.variant
    )


@st.composite
def rankings(draw, catalog):
    exercises = sorted(catalog.of_kind("exercise"), key=lambda i: i.id)
    chosen = draw(
        st.lists(st.sampled_from(exercises), min_size=1, max_size=12, unique_by=lambda i: i.id)
    )
    return [(item, draw(st.floats(0.5, 10, allow_nan=False))) for item in chosen]


def minutes(entries) -> int:
    return sum(e.daily_minutes for e in entries)


def test_progression_properties(catalog):
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(rankings(catalog), BUDGETS, st.integers(0, 5))
    def monotone(ranked, budget, stage):
        lower = routine.fill(ranked, budget, stage)
        upper = routine.fill(ranked, budget, stage + 1)
        base = routine.fill(ranked, budget)
        assert (
            [e.item.id for e in lower] == [e.item.id for e in upper] == [e.item.id for e in base]
        ), "the exercises changed with the stage"
        if minutes(base) <= budget:
            assert minutes(upper) <= budget, "progression went over the minutes"
        for a, b in zip(upper, lower, strict=True):
            assert heavier_or_equal(a, b), (a.item.id, a.dose, b.dose)
            assert steps_between(a, b) <= 1, (a.item.id, a.dose, b.dose)
            assert a.changed == (steps_between(a, b) == 1), (a.item.id, a.dose, b.dose)
            for key, cap in (("reps", 12), ("hold_s", 60), ("sets", 3), ("minutes", 30)):
                start = b.item.dose.get(key, 0) if key != "minutes" else b.dose.get(key, 0)
                assert a.dose.get(key, 0) <= max(cap, start), (a.item.id, a.dose)

    monotone()


def test_flare_up_and_too_hard_properties(catalog):
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(rankings(catalog), BUDGETS, st.integers(0, 6), follow_ups)
    def never_heavier(ranked, budget, last_stage, follow):
        # What last week's page gave, and what this week's gives after "too hard" or a flare.
        follow = {**follow, "stage": last_stage}
        hard = {**follow, "routine_felt": "too_hard", "flare_up": False}
        flare = {**follow, "flare_up": True}
        last_week = routine.fill(ranked, budget, last_stage)
        for answers in (hard, flare):
            f = features_of(answers)
            this_week = routine.fill(ranked, budget, f["stage"], bool(f.get("flare_up")))
            same_without = routine.fill(ranked, budget, f["stage"])
            assert len(this_week) <= len(same_without), "a flare-up added exercises"
            assert [e.item.id for e in this_week] == [e.item.id for e in same_without]
            assert minutes(this_week) <= minutes(last_week)
            for now, before in zip(this_week, last_week, strict=True):
                assert heavier_or_equal(before, now), (now.item.id, before.dose, now.dose)
            if f.get("flare_up"):
                assert not any(e.variant or e.changed for e in this_week)
                for now, usual in zip(this_week, same_without, strict=True):
                    assert heavier_or_equal(usual, now)

    never_heavier()


def test_a_flare_up_eases_every_exercise_it_can(catalog):
    names = ["knee-to-chest", "bridge", "abdominal-draw-in", "lying-hip-flexor-stretch",
             "standing-lean", "paced-walking"]  # fmt: skip
    ranked = [(catalog[n], 10.0 - i) for i, n in enumerate(names)]
    for stage in range(0, 7):
        usual = {e.item.id: e for e in routine.fill(ranked, 60, stage)}
        for entry in routine.fill(ranked, 60, stage, flare_up=True):
            if entry.item.id == "standing-lean":  # the rest stop is kept as it is
                assert entry.dose == usual[entry.item.id].dose
                continue
            assert entry.eased, (stage, entry.item.id, entry.dose)


def test_walking_is_held_for_a_circulation_clue(catalog):
    ranked = [(catalog["paced-walking"], 3.0), (catalog["knee-to-chest"], 2.0)]
    grown = routine.fill(ranked, 45, 4)
    held = routine.fill(ranked, 45, 4, hold_walking=True)
    walk = {e.item.id: e for e in grown}["paced-walking"]
    assert walk.dose["minutes"] > routine.aerobic_minutes(45)
    assert {e.item.id: e for e in held}["paced-walking"].dose["minutes"] == (
        routine.aerobic_minutes(45)
    )


def test_stage_zero_is_the_routine_as_before(catalog):
    ranked = [(item, 1.0 + n) for n, item in enumerate(catalog.of_kind("exercise"))]
    for budget in (5, 15, 30, 60):
        assert routine.fill(ranked, budget) == routine.fill(ranked, budget, 0, False)
        for entry in routine.fill(ranked, budget):
            assert not (entry.changed or entry.variant or entry.eased)
            assert "variant" not in entry.as_dict()


def test_the_harder_version_is_marked_and_named(catalog):
    ranked = [(catalog["bridge"], 3.0), (catalog["knee-to-chest"], 2.0)]
    entries = {e.item.id: e for e in routine.fill(ranked, 30, 6)}
    bridge = entries["bridge"]
    assert bridge.variant and bridge.as_dict()["variant"] is True
    assert bridge.dose["reps"] == 12 and bridge.dose["sets"] == 3  # fact sheet: <=15 x 2-3
    assert "one foot" in bridge.item.progression  # what the page shows for "this week"
    row = bridge.as_dict()
    assert row["text"] == "3 rounds of 12, with a short rest between rounds, on 3 days a week"


# -- 3. eight-week journeys through the app ---------------------------------------------------


@dataclass
class Week:
    number: int
    body: dict
    page: dict
    features: dict
    items: dict = field(default_factory=dict)

    @property
    def section_ids(self) -> list[str]:
        return [b["id"] for b in self.page["blocks"] if b["kind"] == "section"]

    @property
    def first_advice(self) -> str | None:
        """The first block that is neither an alert nor the warning signs."""
        rest = [b for b in self.page["blocks"] if b["kind"] != "alert"]
        return rest[0]["id"] if rest else None


def item_key(item: dict) -> tuple:
    return (
        item.get("sets", 0),
        item.get("reps", 0),
        item.get("hold_s", 0),
        item.get("minutes", 0),
        int(bool(item.get("variant"))),
    )


def rise(before: dict, after: dict) -> int:
    """Steps from one week's dose of an exercise to the next (numbers that changed, and the
    harder version); negative when any number fell."""
    a, b = item_key(before), item_key(after)
    if any(y < x for x, y in zip(a, b, strict=True)):
        return -1
    return sum(y > x for x, y in zip(a, b, strict=True))


def journey(client, weekly: list[dict], tolerance: list[int] | None = None) -> list[Week]:
    """Week 0: the first page. Weeks 1..8: the person sends back what the client kept (the
    page's ``follow_up``) with their answers for the week."""
    weeks = []
    kept: dict = {}
    for number in range(0, len(weekly) + 1):
        body = copy.deepcopy(PERSON)
        if tolerance:
            body["symptoms"]["walking_tolerance_min"] = tolerance[number]
        if number:
            follow = {
                "weeks_on_routine": number,
                "previous_walking_tolerance_min": weeks[-1].body["symptoms"][
                    "walking_tolerance_min"
                ],
                **{k: v for k, v in kept.items() if k in ("stage",)},
                **weekly[number - 1],
            }
            body["follow_up"] = follow
        page = post(client, body)
        explained = post(client, body, explain=True)
        features = explained["explain"]["features"]
        stage = page.get("follow_up", {}).get("stage", features.get("stage", 0))
        kept = {"stage": stage}
        items = {i["id"]: i for i in page["routine"]["items"]}
        weeks.append(Week(number, body, page, features, items))
    return weeks


def assert_rises_at_most_one_step_a_week(weeks: list[Week]):
    for before, after in zip(weeks, weeks[1:], strict=False):
        for item_id, item in after.items.items():
            if item_id in before.items:
                step = rise(before.items[item_id], item)
                assert step <= 1, (after.number, item_id, before.items[item_id], item)


def test_journey_steady(client):
    weeks = journey(client, [{"routine_felt": "about_right", "legs_since_last": "same"}] * 8)
    stages = [w.features.get("stage", 0) for w in weeks]
    assert stages == [0, 0, 1, 1, 2, 2, 3, 3, 4], stages
    for week in weeks:
        assert week.page["triage"]["level"] == "none"
        assert list(week.items) == list(weeks[0].items), "the routine's exercises changed"
        assert "flare-ups" not in week.section_ids
    assert_rises_at_most_one_step_a_week(weeks)
    for before, after in zip(weeks, weeks[1:], strict=False):
        assert all(rise(before.items[i], after.items[i]) >= 0 for i in after.items)
    assert any(rise(weeks[0].items[i], weeks[-1].items[i]) > 0 for i in weeks[-1].items)


def test_journey_too_easy_and_better(client, catalog):
    weeks = journey(client, [{"routine_felt": "too_easy", "legs_since_last": "better"}] * 8)
    stages = [w.features.get("stage", 0) for w in weeks]
    assert stages == [0, 1, 2, 3, 4, 5, 6, 6, 6], stages
    assert [w.features.get("step") for w in weeks[1:]] == ["up"] * 6 + ["same"] * 2
    assert_rises_at_most_one_step_a_week(weeks)
    last = weeks[-1]
    with_variant = [i for i in last.items if routine.LADDERS.get(i, {}).get("variant")]
    assert with_variant, last.items
    for item_id in with_variant:
        assert last.items[item_id].get("variant") is True, (item_id, last.items[item_id])
        block = next(b for b in last.page["blocks"] if b["id"] == item_id)
        assert block["progression"] == catalog[item_id].progression
    # Up to the fact sheet's maxima, within the person's minutes.
    for item in last.items.values():
        assert item.get("reps", 0) <= 12 and item.get("sets", 1) <= 3
        assert item.get("hold_s", 0) <= 60 and item.get("minutes", 0) <= 30
    assert last.page["routine"]["minutes"] <= PERSON["context"]["minutes_per_day"]
    assert sum(rise(weeks[0].items[i], last.items[i]) > 0 for i in last.items) >= 3


def test_journey_too_hard(client):
    weeks = journey(client, [{"routine_felt": "too_hard", "legs_since_last": "same"}] * 8)
    assert all(w.features.get("stage", 0) == 0 for w in weeks)
    for week in weeks[1:]:
        assert week.features["step"] == "down"
        assert week.first_advice == "flare-ups", [b["id"] for b in week.page["blocks"]]
        why = next(b["why"] for b in week.page["blocks"] if b["id"] == "flare-ups")
        assert any("too hard" in w["reason"] for w in why), why
    for before, after in zip(weeks, weeks[1:], strict=False):
        for item_id, item in after.items.items():
            assert rise(before.items[item_id], item) <= 0, (after.number, item_id)


def test_journey_flare_up_in_week_4(client):
    answers = [{"routine_felt": "too_easy", "legs_since_last": "better"}] * 8
    answers[3] = {"routine_felt": "about_right", "legs_since_last": "same", "flare_up": True}
    weeks = journey(client, answers)
    stages = [w.features.get("stage", 0) for w in weeks]
    assert stages == [0, 1, 2, 3, 2, 3, 4, 5, 6], stages
    flare = weeks[4]
    assert flare.features.get("flare_up") is True and flare.features["step"] == "down"
    assert flare.first_advice == "flare-ups", [b["id"] for b in flare.page["blocks"]]
    # The same person and week without the flare-up: never fewer exercises than the flare.
    calm = copy.deepcopy(flare.body)
    calm["follow_up"]["flare_up"] = False
    without = {i["id"] for i in post(client, calm)["routine"]["items"]}
    assert set(flare.items) <= without
    assert set(flare.items) <= set(weeks[3].items), "a flare-up added exercises"
    for week in weeks[5:]:
        assert week.first_advice != "flare-ups"
    fell = [rise(weeks[3].items[i], flare.items[i]) for i in flare.items]
    assert all(step <= 0 for step in fell), fell
    assert any(step < 0 for step in fell) or any(
        weeks[3].items[i].get("variant") and not flare.items[i].get("variant") for i in flare.items
    ), "the flare-up week is no lighter"
    assert not any(i.get("variant") for i in flare.items.values())


def test_journey_legs_worse_holds_and_says_when_to_get_checked(client):
    answers = [{"routine_felt": "too_easy", "legs_since_last": "better"}] * 3
    answers.append({"routine_felt": "too_easy", "legs_since_last": "worse"})
    weeks = journey(client, answers)
    worse = weeks[-1]
    assert worse.features["stage"] == weeks[-2].features["stage"]
    assert worse.features["step"] == "hold" and worse.features.get("legs_worse") is True
    assert worse.first_advice == "when-to-see-doctor"
    why = next(b["why"] for b in worse.page["blocks"] if b["id"] == "when-to-see-doctor")
    assert any(w["reason"] == "your legs are worse than last time" for w in why), why
    for item_id, item in worse.items.items():
        assert rise(weeks[-2].items[item_id], item) <= 0


def test_journey_walking_tolerance_halving(client):
    answers = [{"routine_felt": "about_right", "legs_since_last": "same"}] * 8
    tolerance = [20, 20, 20, 20, 18, 10, 10, 10, 10]  # 18 -> 10 in week 5: more than a third
    weeks = journey(client, answers, tolerance)
    for week in weeks[:5]:
        assert week.page["triage"]["level"] == "none", week.number
    halved = weeks[5]
    assert "walking_decline" in halved.page["triage"]["flags"]
    assert halved.page["triage"]["level"] == "urgent"
    assert not halved.items and not [b for b in halved.page["blocks"] if b["kind"] == "exercise"]
    assert "flare-ups" not in halved.section_ids


# -- 4. the cache -----------------------------------------------------------------------------


def follow_up_population(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    people = []
    for _ in range(n):
        body = copy.deepcopy(PERSON)
        body["alignment"] = {
            "pelvic_tilt_deg": round(rng.uniform(5, 28), 1),
            "lumbar_lordosis_deg": round(rng.uniform(35, 75), 1),
        }
        tolerance = rng.choice([5, 10, 15, 20, 30, 45, 60])
        body["symptoms"]["walking_tolerance_min"] = tolerance
        body["context"]["minutes_per_day"] = rng.choice([10, 15, 20, 30, 45])
        weeks = rng.randint(1, 12)
        follow = {
            "weeks_on_routine": weeks,
            "routine_felt": rng.choice(FELT),
            "legs_since_last": rng.choice(LEGS),
            "previous_walking_tolerance_min": tolerance + rng.choice([0, 1]),
            "flare_up": rng.random() < 0.1,
            "stage": rng.randint(0, min(6, weeks)),
        }
        body["follow_up"] = follow
        people.append(body)
    return people


def remeasured(body: dict, rng: random.Random) -> dict:
    body = copy.deepcopy(body)
    for key, value in body["alignment"].items():
        body["alignment"][key] = round(value + rng.uniform(-0.5, 0.5), 1)
    follow = body["follow_up"]
    # The raw follow-up numbers move without changing the features.
    tolerance = body["symptoms"]["walking_tolerance_min"]
    follow["previous_walking_tolerance_min"] = tolerance + rng.choice([0, 1])
    return body


def test_follow_up_pages_of_a_remeasured_population_hit_the_cache():
    app = create_app(base_config())
    client = app.test_client()
    people = follow_up_population(150, seed=18)
    for body in people:
        assert client.post("/v1/pages", json=body).status_code == 200
    rng = random.Random(7)
    caches = [
        client.post("/v1/pages", json=remeasured(body, rng)).headers["X-Cache"] for body in people
    ]
    ratio = caches.count("hit") / len(caches)
    assert ratio >= 0.9, ratio


def test_same_features_same_key_and_no_follow_up_value_is_kept(app, client):
    engine = app.extensions["personalizer"].engine
    body = copy.deepcopy(PERSON)
    body["follow_up"] = {
        "weeks_on_routine": 23,
        "routine_felt": "too_easy",
        "legs_since_last": "better",
        "previous_walking_tolerance_min": 21,
        "stage": 6,
    }
    other = copy.deepcopy(body)
    other["follow_up"].update(weeks_on_routine=57, previous_walking_tolerance_min=22)
    first = client.post("/v1/pages", json=body)
    second = client.post("/v1/pages", json=other)
    assert second.headers["X-Cache"] == "hit", "same features, yet a different key"
    features = post(client, body, explain=True)["explain"]["features"]
    assert {k: features[k] for k in FOLLOW_UP_FEATURES & set(features)} == {
        "stage": 6,
        "step": "same",
    }
    raw = {"weeks_on_routine", "routine_felt", "legs_since_last",
           "previous_walking_tolerance_min"}  # fmt: skip
    assert not raw & set(features)
    assert 23 not in features.values() and 57 not in features.values()
    key = engine.decision_key(features)
    assert key == engine.decision_key(post(client, other, explain=True)["explain"]["features"])
    # The cached page holds no follow-up value beyond the coarse stage.
    cached = [v for _, v in app.extensions["personalizer"].cache._data.values()]
    assert cached
    for value in cached:
        assert b'weeks_on_routine":23' not in value and b'weeks_on_routine":57' not in value
        assert b"previous_walking_tolerance_min" not in value
    assert first.get_json()["follow_up"]["stage"] == 6


def test_no_follow_up_value_in_a_log_line(client, caplog):
    body = copy.deepcopy(PERSON)
    body["symptoms"]["walking_tolerance_min"] = 531
    body["follow_up"] = {
        "weeks_on_routine": 97,
        "routine_felt": "too_hard",
        "legs_since_last": "worse",
        "previous_walking_tolerance_min": 587,
        "flare_up": True,
        "stage": 5,
    }
    with caplog.at_level(logging.DEBUG):
        post(client, body)
        post(client, body)
    text = "\n".join(r.getMessage() for r in caplog.records)
    for name in ("too_hard", "routine_felt", "legs_since_last", "follow_up", "weeks_on"):
        assert name not in text, name
    # The numbers as values, not as part of a timing such as 0.97 or 97.5.
    assert not re.search(r"(?<![\d.])(97|531|587)(?![\d.])", text), text


def test_no_flare_up_advice_when_the_routine_is_held(client):
    body = copy.deepcopy(PERSON)
    body["red_flags"] = ["fever"]
    body["follow_up"] = {"weeks_on_routine": 3, "flare_up": True, "legs_since_last": "worse"}
    page = post(client, body)
    assert page["triage"]["level"] == "urgent"
    ids = [b["id"] for b in page["blocks"]]
    assert "flare-ups" not in ids and not page["routine"]["items"]
    assert ids[0] == "urgent-care"
