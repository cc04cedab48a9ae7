"""The example plugin, tested with personalizer's own testing kit."""

from pathlib import Path

import personalizer_hello

from personalizer.testing import assert_changes, assert_conformance, render

GOLDEN = Path(__file__).parent / "golden"
SHORT_WALK = {"symptoms": {"walking_tolerance_min": 8, "worse_with": ["walking"]}}


def test_conformance():
    assert_conformance(personalizer_hello, "hello")


def test_diary_shows_with_its_reason(personalizer_app_factory):
    app = personalizer_app_factory([("hello", personalizer_hello)])
    page = render(app, SHORT_WALK)
    diary = next(b for b in page["blocks"] if b["id"] == "walking-diary")
    reasons = [w["reason"] for w in diary["why"] if w["plugin"] == "hello"]
    assert reasons == ["you can walk only a short while; a diary shows your progress"]


def test_no_diary_for_long_walks(personalizer_app_factory):
    app = personalizer_app_factory([("hello", personalizer_hello)])
    page = render(app, {"symptoms": {"walking_tolerance_min": 90}})
    assert "walking-diary" not in [b["id"] for b in page["blocks"]]


def test_what_it_changes_on_a_short_walk():
    """Recorded against the built-ins alone, so a change to them does not break it."""
    assert_changes(personalizer_hello, "hello", GOLDEN / "short.json", SHORT_WALK)
