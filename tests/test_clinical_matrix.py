"""The clinical matrix: named archetypes (tests/clinical_profiles.py), each page built through
the app, checked against what the fact sheet says it must and must not hold; then what holds
for every page of the matrix and of 1,000 random realistic profiles (plain reasons, safe
routines, no tie settled by name), and the coverage figure: every exercise and every section
is used by some realistic person.

``python -m tests.test_clinical_matrix`` prints the figures quoted in docs/content.md.
"""

from __future__ import annotations

import copy
import random
import re
from collections import Counter

import pytest

from personalizer import create_app, routine
from tests.clinical_profiles import ARCHETYPES, random_profiles
from tests.plugins import oracle
from tests.support import base_config

# Words that must never reach a patient's reason: plugin ids, internal feature words, jargon.
JARGON = re.compile(
    r"symptom_pattern|calls_to_action|red_flags|\(routine\)|\(education\)|\(alignment\)|_"
    r"|\banterior\b|\bposterior\b|lordosis|kyphosis|obliquity|deficit|cauda equina"
    r"|\bmeasured;|\bflexion\b|\bextension\b|contraindicat|\bveto",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def matrix_app():
    return create_app(base_config())


@pytest.fixture(scope="module")
def client(matrix_app):
    return matrix_app.test_client()


@pytest.fixture(scope="module")
def catalog(matrix_app):
    return matrix_app.extensions["personalizer"].engine.catalog


def build(client, profile: dict, explain: bool = False) -> dict:
    url = "/v1/pages?explain=1" if explain else "/v1/pages"
    response = client.post(url, json=profile)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(page: dict, kind: str) -> list[str]:
    return [b["id"] for b in page["blocks"] if b["kind"] == kind]


def routine_ids(page: dict) -> list[str]:
    return [i["id"] for i in page["routine"]["items"]]


def reasons(page: dict) -> list[str]:
    return [w["reason"] for b in page["blocks"] for w in b.get("why", [])]


def test_the_matrix_is_large_enough():
    assert len(ARCHETYPES) >= 40


@pytest.mark.parametrize("name", sorted(ARCHETYPES))
def test_archetype(client, catalog, name):
    arch = ARCHETYPES[name]
    page = build(client, arch.profile)
    page["_budget"] = arch.profile.get("context", {}).get("minutes_per_day", 15) // 5 * 5
    problems = []
    routine_now = set(routine_ids(page))
    sections = ids(page, "section")
    ctas = set(ids(page, "cta"))
    text = " | ".join(reasons(page))

    if page["triage"]["level"] != arch.level:
        problems.append(f"level {page['triage']['level']}, not {arch.level}")
    if arch.exercises and not routine_now:
        problems.append("no routine")
    if not arch.exercises and (routine_now or ids(page, "exercise")):
        problems.append(f"exercises on a page that must hold none: {sorted(routine_now)}")
    if arch.routine_any and not routine_now & arch.routine_any:
        problems.append(f"routine {sorted(routine_now)} has none of {sorted(arch.routine_any)}")
    if routine_now & arch.routine_none:
        problems.append(f"routine holds {sorted(routine_now & arch.routine_none)}")
    if arch.aerobic is not False:
        aerobic = [i for i in routine_now if "minutes" in catalog[i].dose]
        if aerobic != ([arch.aerobic] if arch.aerobic else []):
            problems.append(f"aerobic work {aerobic}, not {arch.aerobic}")
    if arch.sections_first and (not sections or sections[0] != arch.sections_first):
        problems.append(f"sections start {sections[:1]}, not {arch.sections_first}")
    if arch.sections - set(sections):
        problems.append(f"missing sections {sorted(arch.sections - set(sections))}: {sections}")
    if set(sections) & arch.sections_none:
        problems.append(f"sections it must not hold: {sorted(set(sections) & arch.sections_none)}")
    if arch.ctas - ctas:
        problems.append(f"missing calls to action {sorted(arch.ctas - ctas)}: {sorted(ctas)}")
    if ctas & arch.ctas_none:
        problems.append(f"calls to action it must not hold: {sorted(ctas & arch.ctas_none)}")
    for words in arch.says:
        if words.lower() not in text.lower():
            problems.append(f"no reason says {words!r}")
    for words in arch.says_none:
        if words.lower() in text.lower():
            problems.append(f"a reason says {words!r}")
    problems += page_problems(page, catalog)
    assert not problems, (arch.why, problems, text)


def page_problems(page: dict, catalog) -> list[str]:
    """What must hold on every page, whoever the person."""
    problems = []
    for block in page["blocks"]:
        seen = set()
        for why in block.get("why", []):
            reason = why["reason"]
            if JARGON.search(reason):
                problems.append(f"{block['id']}: jargon in {reason!r}")
            if len(reason) > 300:
                problems.append(f"{block['id']}: reason over 300 characters")
            if reason in seen:
                problems.append(f"{block['id']}: the same reason twice")
            seen.add(reason)
    items = page["routine"]["items"]
    others = [i for i in items if "minutes" not in i]
    budget = page.get("_budget", 60)
    if len(others) > (4 if budget <= 30 else 6):
        problems.append(f"{len(others)} exercises besides aerobic work")
    return problems


# -- every page of the matrix and of random people ---------------------------------------------

PEOPLE = random_profiles(1000)


def test_every_random_page_keeps_the_rules(client, catalog):
    problems = {}
    for n, person in enumerate(PEOPLE):
        page = build(client, person)
        page["_budget"] = person["context"]["minutes_per_day"] // 5 * 5
        found = page_problems(page, catalog)
        avoid = oracle.engine_avoids(person)
        for item_id in routine_ids(page):
            clash = set(catalog[item_id].involves) & avoid
            if clash:
                found.append(f"{item_id} involves {sorted(clash)}")
        if found:
            problems[n] = found
    assert not problems, dict(list(problems.items())[:5])


def scores_of(page: dict) -> tuple[dict, set]:
    explain = page["explain"]
    scores: dict[str, float] = {}
    for pick in explain["candidates"]:
        scores[pick["id"]] = scores.get(pick["id"], 0.0) + pick["score"]
    vetoed = {v["id"] for v in explain["vetoes"]}
    return scores, vetoed


def tie_problems(page: dict, catalog) -> list:
    """Ties at a cut line that only alphabetical order could have settled: exercises (the
    routine) and sections (the section limit)."""
    scores, vetoed = scores_of(page)
    ranked = [
        (catalog[i], s)
        for i, s in scores.items()
        if catalog[i].kind == "exercise" and i not in vetoed and s > 0
    ]
    chosen = [routine.Entry(catalog[i], {}) for i in routine_ids(page)]
    ties = routine.cut_line_ties(ranked, chosen) if chosen else []
    shown = set(ids(page, "section"))
    if shown:
        for a in shown:
            for b, s in scores.items():
                if (
                    catalog[b].kind == "section"
                    and b not in shown
                    and s == scores[a]
                    and catalog[a].priority == catalog[b].priority
                ):
                    ties.append((a, b))
    return ties


def test_no_tie_at_a_cut_line_is_settled_by_name(client, catalog):
    people = [a.profile for a in ARCHETYPES.values()] + PEOPLE[:300]
    found = {}
    for n, person in enumerate(people):
        ties = tie_problems(build(client, person, explain=True), catalog)
        if ties:
            found[n] = ties
    assert not found, found


def remeasure(rng: random.Random, person: dict) -> dict:
    again = copy.deepcopy(person)
    for key, value in again.get("alignment", {}).items():
        low, high = (-30, 45) if key == "pelvic_tilt_deg" else (-20, 20)
        if key in ("lumbar_lordosis_deg", "thoracic_kyphosis_deg"):
            low, high = 0, 100
        if key == "forward_head_cm":
            low, high = 0, 20
        again["alignment"][key] = min(high, max(low, round(value + rng.uniform(-0.5, 0.5), 1)))
    return again


def test_remeasurement_keeps_the_routine(client):
    """The same person measured again (+-0.5 on every measure) gets the same routine at
    least 90 % of the time."""
    rng = random.Random(3)
    people = [p for p in PEOPLE if "alignment" in p][:400]
    same = sum(
        routine_ids(build(client, p)) == routine_ids(build(client, remeasure(rng, p)))
        for p in people
    )
    assert same / len(people) >= 0.9, same / len(people)


WITHIN_BUCKET = [
    ({"pelvic_tilt_deg": 19.0, "lumbar_lordosis_deg": 62.0},
     {"pelvic_tilt_deg": 22.5, "lumbar_lordosis_deg": 71.0}),
    ({"pelvic_tilt_deg": 5.0, "lumbar_lordosis_deg": 45.0},
     {"pelvic_tilt_deg": 17.9, "lumbar_lordosis_deg": 60.9}),
    ({"pelvic_obliquity_deg": 5.0}, {"pelvic_obliquity_deg": -12.0}),
    ({"thoracic_kyphosis_deg": 51}, {"thoracic_kyphosis_deg": 70}),
]  # fmt: skip


@pytest.mark.parametrize("first,second", WITHIN_BUCKET)
def test_changes_within_a_bucket_do_not_flip_exercises(client, first, second):
    base = ARCHETYPES["classic-moderate"].profile
    pages = [build(client, {**base, "alignment": a}) for a in (first, second)]
    assert routine_ids(pages[0]) == routine_ids(pages[1])


# -- what changes must change the page ---------------------------------------------------------


def variant(**symptoms) -> dict:
    body = copy.deepcopy(ARCHETYPES["classic-moderate"].profile)
    body["symptoms"].update(symptoms)
    return body


@pytest.mark.parametrize(
    "first,second",
    [
        ({"pain_score": 3}, {"pain_score": 9}),
        ({"walking_tolerance_min": 2}, {"walking_tolerance_min": 60}),
        ({"walking_tolerance_min": 4}, {"walking_tolerance_min": 14}),
        ({"legs": "none"}, {"legs": "both"}),
        ({"weakness": False}, {"weakness": True}),
    ],
)
def test_meaningful_differences_change_the_page(client, first, second):
    a, b = build(client, variant(**first)), build(client, variant(**second))

    def view(page):
        return (routine_ids(page), ids(page, "section"), sorted(reasons(page)))

    assert view(a) != view(b)


@pytest.mark.parametrize(
    "first,second",
    [
        ({"pain_score": 3}, {"pain_score": 9}),
        ({"walking_tolerance_min": 2}, {"walking_tolerance_min": 60}),
        ({"legs": "none"}, {"legs": "both"}),
    ],
)
def test_severity_changes_the_routine(client, first, second):
    assert routine_ids(build(client, variant(**first))) != routine_ids(
        build(client, variant(**second))
    )


# -- coverage ----------------------------------------------------------------------------------


def coverage(client, people: list[dict]) -> dict:
    exercises, sections, routines = Counter(), Counter(), Counter()
    for person in people:
        page = build(client, person)
        exercises.update(routine_ids(page))
        sections.update(ids(page, "section"))
        if page["routine"]["items"]:
            routines[tuple(routine_ids(page))] += 1
    return {"exercises": exercises, "sections": sections, "routines": routines}


def test_every_exercise_and_section_is_used_by_someone(client, catalog):
    people = [a.profile for a in ARCHETYPES.values()] + PEOPLE
    figures = coverage(client, people)
    unused_exercises = {i.id for i in catalog.of_kind("exercise")} - set(figures["exercises"])
    unused_sections = {i.id for i in catalog.of_kind("section")} - set(figures["sections"])
    assert not unused_exercises, unused_exercises
    assert not unused_sections, unused_sections
    # One routine does not serve nearly everyone.
    most = figures["routines"].most_common(1)[0][1]
    assert most < 0.2 * sum(figures["routines"].values()), figures["routines"].most_common(3)


def main() -> None:  # pragma: no cover - prints the figures for docs/content.md
    app = create_app(base_config())
    client = app.test_client()
    catalog = app.extensions["personalizer"].engine.catalog
    for label, people in (
        ("matrix", [a.profile for a in ARCHETYPES.values()]),
        ("random", PEOPLE),
        ("both", [a.profile for a in ARCHETYPES.values()] + PEOPLE),
    ):
        figures = coverage(client, people)
        pages = len(people)
        with_routine = sum(figures["routines"].values())
        print(f"## {label}: {pages} pages, {with_routine} with a routine")
        print(f"distinct routines: {len(figures['routines'])}")
        print(f"most common routine serves: {figures['routines'].most_common(1)[0][1]}")
        for kind in ("exercises", "sections"):
            used = figures[kind]
            every = [i.id for i in catalog.of_kind(kind[:-1])]
            print(f"{kind}: {sum(1 for i in every if used[i])}/{len(every)} used")
            for item_id in sorted(every, key=lambda i: -used[i]):
                print(f"  {item_id}: {used[item_id]}")


def test_never_measured_is_not_asked_to_retake(client):
    page = build(client, ARCHETYPES["classic-not-measured"].profile)
    offer = next(b for b in page["blocks"] if b["id"] == "posture-assessment")
    assert "retake" not in (offer["title"] + offer["html"]).lower()
    assert "again" not in offer["title"].lower()


if __name__ == "__main__":  # pragma: no cover
    main()
