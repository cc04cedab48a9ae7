"""Property tests: the safety contract holds for every profile the wire contract accepts.

Profiles are generated over every field of DESIGN section 2: each alignment value in its
range or absent, symptom lists as subsets with duplicates, every enum word, every channel,
minutes 5-60, and any combination of red flags (with duplicates). Each test runs 1,000
examples (derandomized, no example database, so a run is repeatable) and checks the page as
JSON and as the HTML fragment with tests/plugins/oracle.py, which restates the contract
independently of the engine and also runs ``personalizer.safety.check``.

Rules covered (contract v2), by test (each asserts all of rules 1-8 on every example; the
generator of each is aimed at the rule named first):
- test_pages_keep_the_contract: rules 5, 6, 8 (any profile, built-in plugins).
- test_emergency_pages_keep_the_contract: rule 1 (and 4: lower flags mixed in).
- test_urgent_pages_keep_the_contract: rule 2 (and 4).
- test_assess_pages_keep_the_contract: rule 3 (and 4).
- test_pages_with_faulty_plugins_keep_the_contract: rule 9 (every adversarial plugin of
  tests/plugins installed at once, including those that reach through their read-only
  arguments with reflection), and 1-8 under it.
- test_failsafe_pages_keep_the_contract: rule 9's fail-safe page (triage cannot run).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from personalizer import create_app
from personalizer.schemas import CHANNELS, EASED_BY, LEGS, WORSE_WITH
from tests.plugins import (
    alerts_last,
    attacks,
    commercial_push,
    garbage,
    liar,
    mutator,
    oracle,
    raiser,
    vetoed_pick,
)
from tests.plugins.oracle import FLAGS
from tests.support import BUILTINS, base_config

SETTINGS = settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

RANGES = {
    "pelvic_tilt_deg": (-30, 45),
    "lumbar_lordosis_deg": (0, 100),
    "pelvic_obliquity_deg": (-20, 20),
    "thoracic_kyphosis_deg": (0, 100),
    "forward_head_cm": (0, 20),
}


def number(low, high):
    return st.one_of(
        st.integers(low, high),
        st.floats(low, high, allow_nan=False, allow_infinity=False),
    )


alignments = st.fixed_dictionaries({}, optional={k: number(*r) for k, r in RANGES.items()})
symptom_sets = st.fixed_dictionaries(
    {},
    optional={
        "legs": st.sampled_from(LEGS),
        "worse_with": st.lists(st.sampled_from(WORSE_WITH), max_size=10),
        "eased_by": st.lists(st.sampled_from(EASED_BY), max_size=8),
        "walking_tolerance_min": st.integers(0, 600),
        "numbness": st.booleans(),
        "weakness": st.booleans(),
        "pain_score": st.integers(0, 10),
    },
)
contexts = st.fixed_dictionaries(
    {},
    optional={
        "channel": st.sampled_from(CHANNELS),
        "locale": st.just("en"),
        "minutes_per_day": st.integers(5, 60),
    },
)
flag_lists = st.lists(st.sampled_from(FLAGS), max_size=14)
profiles = st.fixed_dictionaries(
    {},
    optional={
        "alignment": alignments,
        "symptoms": symptom_sets,
        "red_flags": flag_lists,
        "context": contexts,
    },
)


def flags_topped_by(level: str):
    """Red-flag lists whose highest level is ``level``: at least one flag of that level,
    any of the lower levels, duplicates allowed, in any order."""
    top = [f for f in FLAGS if oracle.LEVEL_OF[f] == level]
    lower = [f for f in FLAGS if oracle.RANK[oracle.LEVEL_OF[f]] < oracle.RANK[level]]
    below = st.lists(st.sampled_from(lower), max_size=8) if lower else st.just([])
    return st.tuples(st.lists(st.sampled_from(top), min_size=1, max_size=6), below).flatmap(
        lambda parts: st.permutations(parts[0] + parts[1])
    )


def profiles_topped_by(level: str):
    return st.fixed_dictionaries(
        {"red_flags": flags_topped_by(level)},
        optional={"alignment": alignments, "symptoms": symptom_sets, "context": contexts},
    )


FAULTY = [
    ("commercial_push", commercial_push.plugin),
    ("alert_scorer", commercial_push.alert_scorer),
    ("vetoed_pick", vetoed_pick),
    ("alerts_last", alerts_last),
    ("raiser", raiser),
    ("liar", liar),
    ("garbage_unknown_ids", garbage.VARIANTS["unknown_ids"]),
    ("features_mutator", mutator.features_mutator),
    ("profile_mutator", mutator.profile_mutator),
    *attacks.ALL,
]


class Site:
    """One app and its client, built once per module."""

    def __init__(self, **config):
        self.app = create_app(base_config(**config))
        self.client = self.app.test_client()
        self.catalog = self.app.extensions["personalizer"].engine.catalog

    def check(self, profile, failsafe=False):
        vetoed = oracle.vetoed_ids(profile, self.catalog)
        response = self.client.post("/v1/pages", json=profile)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        page = response.get_json()
        oracle.assert_page(page, profile, vetoed=vetoed, failsafe=failsafe)
        response = self.client.post("/v1/pages", json=profile, headers={"Accept": "text/html"})
        assert response.status_code == 200
        assert response.mimetype == "text/html"
        oracle.assert_fragment(response.get_data(as_text=True), profile, page)
        event(f"level {page['triage']['level']}")
        return page


@pytest.fixture(scope="module")
def builtins():
    return Site()


@pytest.fixture(scope="module")
def faulty():
    names = [name for name, _ in FAULTY]
    return Site(EXTRA_PLUGINS=FAULTY, LOAD_PLUGINS=BUILTINS + names, QUARANTINE_AFTER=10**9)


@pytest.fixture(scope="module")
def no_triage():
    return Site(LOAD_PLUGINS=[name for name in BUILTINS if name != "red_flags"])


@SETTINGS
@given(profile=profiles)
def test_pages_keep_the_contract(builtins, profile):
    """Rules 1, 2, 3, 4, 5, 6, 8 on JSON and HTML, built-in plugins."""
    builtins.check(profile)


def check_flagged(site, profile, level):
    """``level``: the highest flag's own level (a history of cancer with weakness or
    numbness raises an assess page to urgent)."""
    page = site.check(profile)
    want = oracle.expected_level(profile["red_flags"], profile)
    assert oracle.RANK[want] >= oracle.RANK[level]
    assert page["triage"]["level"] == want
    assert page["blocks"][0]["id"] == oracle.ALERT_ID[want]
    assert set(page["triage"]["flags"]) == set(profile["red_flags"])
    return page


@SETTINGS
@given(profile=profiles_topped_by("emergency"))
def test_emergency_pages_keep_the_contract(builtins, profile):
    """Rule 1: the emergency alert alone, naming every flag; no routine."""
    page = check_flagged(builtins, profile, "emergency")
    assert [b["id"] for b in page["blocks"]] == ["emergency-now"]
    assert page["routine"]["items"] == []


@SETTINGS
@given(profile=profiles_topped_by("urgent"))
def test_urgent_pages_keep_the_contract(builtins, profile):
    """Rule 2 (with 4-8): the urgent alert first; no exercise, routine or offer of ours."""
    page = check_flagged(builtins, profile, "urgent")
    assert not [b for b in page["blocks"] if b["kind"] == "exercise" or b.get("commercial")]
    assert page["routine"]["items"] == []


@SETTINGS
@given(profile=profiles_topped_by("assess"))
def test_assess_pages_keep_the_contract(builtins, profile):
    """Rule 3 (with 4-8): the assessment alert first, and no offer of ours."""
    check_flagged(builtins, profile, "assess")


@SETTINGS
@given(profile=profiles)
def test_pages_with_faulty_plugins_keep_the_contract(faulty, profile):
    """Rule 9 (status 200 whatever the plugins do; nothing they do to their arguments
    changes the level, the alert, the vetoes or the offers), and rules 1-8 under it, on JSON
    and HTML, with every faulty and attacking plugin installed together."""
    faulty.check(profile)


@SETTINGS
@given(profile=profiles)
def test_failsafe_pages_keep_the_contract(no_triage, profile):
    """Rule 9's fail-safe page: warning signs, no exercise, no routine, no offer of ours,
    the contract's levels still applied; and rules 1-8 on JSON and HTML."""
    page = no_triage.check(profile, failsafe=True)
    if page["triage"]["level"] == "none":
        assert oracle.FAILSAFE_ALERT in [b["id"] for b in page["blocks"]]
