"""A large catalog: the routine and the sections are ranked only as far as a page reads, and
that gives what ranking every candidate gives (properties, hypothesis); group picks keep a
miss small (measured in `make bench`, docs/performance.md)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from personalizer import routine
from tests.support import grown_catalog
from tests.test_catalog_index import CATALOG

# Three copies of every exercise and section: many candidates tie on score and preference.
LARGE = grown_catalog(CATALOG, 3)
EXERCISES = LARGE.of_kind("exercise")
SECTIONS = LARGE.of_kind("section")
SCORES = st.sampled_from([0.3, 0.5, 1, 1.5, 2, 2.5, 3, 4])


def candidates(items):
    """Some of ``items``, each with a score from a few values (so that scores tie)."""
    return st.lists(st.tuples(st.sampled_from(items), SCORES), max_size=60).map(
        lambda picks: list({item.id: (item, score) for item, score in picks}.values())
    )


@settings(max_examples=300, deadline=None)
@given(candidates(SECTIONS), st.integers(0, 10))
def test_the_best_few_are_the_first_of_the_full_ranking(picks, n):
    assert routine.best(picks, n) == routine.rank(picks)[:n]


@settings(max_examples=300, deadline=None)
@given(candidates(EXERCISES), st.sampled_from([5, 10, 15, 20, 30, 45, 60]))
def test_the_routine_and_what_it_left_out_account_for_every_candidate(picks, minutes):
    """``fill`` ranks lazily and stops once full; ``left_out`` (for ?explain=1) ranks them
    all: each candidate is in exactly one of the two."""
    chosen = [entry.item.id for entry in routine.fill(picks, minutes)]
    left = [row["id"] for row in routine.left_out(picks, minutes)]
    assert len(set(chosen)) == len(chosen)
    assert sorted(chosen + left) == sorted(item.id for item, _ in picks)
