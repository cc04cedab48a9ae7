"""personalizer.content.load_catalog on temporary directories, and on the real content/.

A broken file stops the load with a ContentError whose problems name the file and the field
(all problems at once, not the first one); the app refuses to start on it; no raw HTML from a
body reaches a page; the version follows the bytes; stale items are left out.
"""

from __future__ import annotations

import datetime as dt
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from personalizer import create_app
from personalizer.content import ALLOWED_TAGS, ContentError, load_catalog
from tests.support import base_config

REAL_CONTENT = Path(__file__).resolve().parent.parent / "content"
TODAY = dt.date(2026, 6, 1)

COMMON = {
    "summary": "A short summary.",
    "tags": ["test"],
    "sources": [1],
    "last_reviewed": "2026-01-01",
    "next_review": "2027-01-01",
}
VALID = {
    "sections/sec-a.md": {
        "kind": "section",
        "title": "A section",
        "topic": "basics",
        "addresses": ["always"],
    },
    "exercises/ex-a.md": {
        "kind": "exercise",
        "title": "An exercise",
        "goal": "core",
        "phase": "strength",
        "dose": {"sets": 2, "reps": 8, "hold_s": 3, "each_side": True},
        "progression": "Do more.",
        "step_down": "Do less.",
        "contraindications": ["lying_provoked"],
        "addresses": ["general"],
    },
    "ctas/cta-a.md": {
        "kind": "cta",
        "title": "A call to action",
        "href": "/somewhere",
        "commercial": False,
        "owner": "ours",
    },
    "alerts/alert-a.md": {"kind": "alert", "title": "Act on this", "level": "urgent"},
}


def write_item(root: Path, rel: str, meta: dict, body: str = "Some plain text.") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    front = yaml.safe_dump(meta, sort_keys=False)
    path.write_text(f"---\n{front}---\n{body}\n", encoding="utf-8")
    return path


SOURCES = {
    1: {"title": "A source", "publisher": "A publisher", "url": "https://x.example", "year": 2024}
}
STEPS = "1. Lie on your back.\n2. Lift one knee.\n\nBreathe out as you lift."
PICTURE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360" viewBox="0 0 640 360">'
    "<title>Lying on your back, you lift one knee and lower it.</title>"
    '<circle cx="100" cy="100" r="20" fill="none" stroke="#1f2933"/></svg>'
)


def make_catalog(root: Path, **changes) -> Path:
    """A valid four-item content dir (with its bibliography and the exercise's picture);
    ``changes`` maps a file to front-matter updates (a value of None deletes the field)."""
    for rel, meta in VALID.items():
        full = {"id": Path(rel).stem, **meta, **COMMON}
        for key, value in changes.get(rel, {}).items():
            if value is None:
                full.pop(key, None)
            else:
                full[key] = value
        write_item(root, rel, full, STEPS if full.get("kind") == "exercise" else "Some text.")
    (root / "sources.yaml").write_text(yaml.safe_dump(SOURCES))
    (root / "media").mkdir(exist_ok=True)
    (root / "media" / "ex-a.svg").write_text(PICTURE)
    return root


def problems_of(directory, **kwargs) -> list[str]:
    with pytest.raises(ContentError) as info:
        load_catalog([directory], today=TODAY, **kwargs)
    return info.value.problems


def test_the_fixture_catalog_is_valid(tmp_path):
    catalog = load_catalog([make_catalog(tmp_path / "content")], today=TODAY)
    assert sorted(catalog.items) == ["alert-a", "cta-a", "ex-a", "sec-a"]
    assert catalog.stale == ()
    exercise = catalog["ex-a"]
    assert exercise.path == "content/exercises/ex-a.md"
    assert exercise.dose == {
        "sets": 2,
        "reps": 8,
        "hold_s": 3,
        "each_side": True,
        "per_day": 1,
        "days_per_week": 7,
    }
    assert catalog["sec-a"].priority == 50  # the default


@pytest.mark.parametrize(
    ("rel", "changes", "expected"),
    [
        ("exercises/ex-a.md", {"title": None}, "content/exercises/ex-a.md:title: "),
        ("exercises/ex-a.md", {"goal": "wings"}, "content/exercises/ex-a.md:goal: "),
        ("exercises/ex-a.md", {"phase": "cooldown"}, "content/exercises/ex-a.md:phase: "),
        (
            "exercises/ex-a.md",
            {"contraindications": ["standing"]},
            "content/exercises/ex-a.md:contraindications.0: ",
        ),
        ("exercises/ex-a.md", {"dose": {"sets": 0, "reps": 8}}, "ex-a.md:dose.sets: "),
        ("exercises/ex-a.md", {"dose": {"sets": 2}}, "ex-a.md:dose: give either sets"),
        ("sections/sec-a.md", {"next_review": "someday"}, "content/sections/sec-a.md:next_review"),
        (
            "sections/sec-a.md",
            {"next_review": "2025-01-01"},
            "sections/sec-a.md:next_review: must come after last_reviewed",
        ),
        ("sections/sec-a.md", {"sources": []}, "content/sections/sec-a.md:sources: "),
        ("ctas/cta-a.md", {"owner": "theirs"}, "content/ctas/cta-a.md:owner: "),
        ("ctas/cta-a.md", {"commercial": None}, "content/ctas/cta-a.md:commercial: "),
        ("alerts/alert-a.md", {"level": "severe"}, "content/alerts/alert-a.md:level: "),
        ("alerts/alert-a.md", {"kind": "banner"}, "content/alerts/alert-a.md:kind: "),
        ("alerts/alert-a.md", {"id": "Alert A"}, "content/alerts/alert-a.md:id: "),
        ("alerts/alert-a.md", {"id": "alert-b"}, "alerts/alert-a.md:id: must equal the file name"),
    ],
)
def test_a_broken_field_names_file_and_field(tmp_path, rel, changes, expected):
    root = make_catalog(tmp_path / "content", **{rel: changes})
    problems = problems_of(root)
    assert any(p.startswith(expected) or expected in p for p in problems), problems
    assert all(Path(rel).name in p for p in problems), problems


def test_no_front_matter(tmp_path):
    root = make_catalog(tmp_path / "content")
    (root / "sections" / "sec-a.md").write_text("# Just a heading\n\nNo front matter.\n")
    problems = problems_of(root)
    assert problems == [
        "content/sections/sec-a.md: no YAML front matter (the file must start with ---)"
    ]


def test_unclosed_front_matter_and_bad_yaml(tmp_path):
    root = make_catalog(tmp_path / "content")
    (root / "sections" / "sec-a.md").write_text("---\nid: sec-a\nkind: section\n")
    (root / "ctas" / "cta-a.md").write_text("---\nid: [unclosed\n---\nBody.\n")
    problems = problems_of(root)
    assert len(problems) == 2
    assert any(
        p.startswith("content/sections/sec-a.md: front matter is not closed") for p in problems
    )
    assert any(p.startswith("content/ctas/cta-a.md: ") for p in problems)


def test_empty_body(tmp_path):
    root = make_catalog(tmp_path / "content")
    path = root / "sections" / "sec-a.md"
    path.write_text(path.read_text().replace("Some text.", ""))
    assert problems_of(root) == ["content/sections/sec-a.md:body: is empty"]


def test_duplicate_id_names_both_files(tmp_path):
    root = make_catalog(tmp_path / "content")
    meta = {"id": "sec-a", **VALID["sections/sec-a.md"], **COMMON}
    write_item(root, "more/sec-a.md", meta)
    problems = problems_of(root)
    assert len(problems) == 1
    assert "sec-a.md:id: sec-a already defined in" in problems[0]
    assert "content/more/sec-a.md" in problems[0] and "content/sections/sec-a.md" in problems[0]


def test_duplicate_id_across_directories(tmp_path):
    first = make_catalog(tmp_path / "one" / "content")
    second = tmp_path / "two" / "content"
    write_item(second, "sections/sec-a.md", {"id": "sec-a", **VALID["sections/sec-a.md"], **COMMON})
    (second / "sources.yaml").write_text(yaml.safe_dump(SOURCES))
    with pytest.raises(ContentError) as info:
        load_catalog([first, second], today=TODAY)
    assert len(info.value.problems) == 1
    assert "sec-a already defined" in info.value.problems[0]


def test_all_problems_are_reported_together(tmp_path):
    root = make_catalog(
        tmp_path / "content",
        **{
            "exercises/ex-a.md": {"goal": "wings", "title": None},
            "ctas/cta-a.md": {"owner": "theirs"},
            "alerts/alert-a.md": {"level": "severe"},
        },
    )
    (root / "sections" / "sec-a.md").write_text("no front matter here\n")
    problems = problems_of(root)
    expected = [
        "content/exercises/ex-a.md:goal",
        "content/exercises/ex-a.md:title",
        "content/ctas/cta-a.md:owner",
        "content/alerts/alert-a.md:level",
        "content/sections/sec-a.md: no YAML front matter",
    ]
    for prefix in expected:
        assert any(p.startswith(prefix) for p in problems), (prefix, problems)
    assert len(problems) == len(expected)
    # The exception's message lists them too (it is what start-up prints).
    with pytest.raises(ContentError) as info:
        load_catalog([root], today=TODAY)
    assert all(f"\n  {problem}" in str(info.value) for problem in problems)


def test_missing_directory_is_a_problem(tmp_path):
    assert problems_of(tmp_path / "nowhere") == [
        f"{tmp_path / 'nowhere'}: content directory not found"
    ]


def test_create_app_refuses_a_broken_content_dir(tmp_path):
    broken = tmp_path / "content"
    shutil.copytree(REAL_CONTENT, broken)
    bridge = broken / "exercises" / "bridge.md"
    bridge.write_text(bridge.read_text().replace("goal: glutes", "goal: wings", 1))
    with pytest.raises(ContentError) as info:
        create_app(base_config(CONTENT_DIRS=[str(broken)]))
    assert any(p.startswith("content/exercises/bridge.md:goal: ") for p in info.value.problems)


def test_create_app_refuses_content_without_the_safety_alerts(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(REAL_CONTENT, content)
    (content / "alerts" / "warning-signs.md").unlink()
    with pytest.raises(ContentError) as info:
        create_app(base_config(CONTENT_DIRS=[str(content)]))
    assert any("warning-signs" in p for p in info.value.problems)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.extend(attrs)


HOSTILE = """Plain words first.

<script>alert(1)</script>

Inline <script>alert(2)</script> and <img src=x onerror=alert(3)> here.

<img src=x onerror=alert(4)>

[click me](javascript:alert(5)) and [also](JaVaScRiPt:alert(6)) and <javascript:alert(7)>

<a href="javascript:alert(8)">raw link</a> <iframe src="//evil.example"></iframe>

<div onclick="alert(9)" style="x">div</div> <svg onload=alert(10)></svg>

[a fine link](https://example.com) **bold** and *em*.
"""


def test_raw_html_and_scripts_never_reach_item_html(tmp_path):
    root = make_catalog(tmp_path / "content")
    meta = {"id": "sec-a", **VALID["sections/sec-a.md"], **COMMON}
    write_item(root, "sections/sec-a.md", meta, body=HOSTILE)
    html = load_catalog([root], today=TODAY)["sec-a"].html
    parser = _Tags()
    parser.feed(html)
    assert parser.tags <= ALLOWED_TAGS, parser.tags
    assert parser.attrs == []  # no href, src, on*, style: no attribute survives at all
    for tag in ("<script", "<img", "<a ", "<a>", "<iframe", "<div", "<svg"):
        assert tag not in html.lower()
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html
    assert html.startswith("<p>Plain words first.</p>")


def test_item_html_is_rendered_markdown(tmp_path):
    root = make_catalog(tmp_path / "content")
    meta = {"id": "sec-a", **VALID["sections/sec-a.md"], **COMMON}
    write_item(root, "sections/sec-a.md", meta, body="One.\n\n- two\n- three\n")
    assert load_catalog([root], today=TODAY)["sec-a"].html == (
        "<p>One.</p>\n<ul>\n<li>two</li>\n<li>three</li>\n</ul>"
    )


def test_editing_a_file_changes_the_version(tmp_path):
    root = make_catalog(tmp_path / "content")
    first = load_catalog([root], today=TODAY).version
    assert load_catalog([root], today=TODAY).version == first  # stable when nothing changed
    path = root / "sections" / "sec-a.md"
    path.write_text(path.read_text().replace("Some text.", "Some plainer text."))
    second = load_catalog([root], today=TODAY).version
    assert second != first
    (root / "exercises" / "ex-a.md").rename(root / "ex-a.md")  # moved, same bytes
    assert load_catalog([root], today=TODAY).version != second
    path.write_text(path.read_text().replace("Some plainer text.", "Some text."))
    (root / "ex-a.md").rename(root / "exercises" / "ex-a.md")
    assert load_catalog([root], today=TODAY).version == first


def test_a_stale_item_is_left_out_unless_allowed(tmp_path):
    root = make_catalog(
        tmp_path / "content",
        **{"exercises/ex-a.md": {"last_reviewed": "2024-01-01", "next_review": "2025-01-01"}},
    )
    catalog = load_catalog([root], today=TODAY)
    assert "ex-a" not in catalog
    assert catalog.of_kind("exercise") == ()
    assert catalog.stale == ("content/exercises/ex-a.md:next_review: review was due 2025-01-01",)
    kept = load_catalog([root], today=TODAY, allow_stale=True)
    assert "ex-a" in kept and kept.stale == catalog.stale
    assert kept.version != catalog.version  # which items are in force is part of the version
    # Due today is not stale yet; the day after is.
    assert "ex-a" in load_catalog([root], today=dt.date(2025, 1, 1))
    assert "ex-a" not in load_catalog([root], today=dt.date(2025, 1, 2))


def test_the_real_content_loads():
    catalog = load_catalog([REAL_CONTENT])
    counts = {kind: len(catalog.of_kind(kind)) for kind in ("section", "exercise", "cta", "alert")}
    assert counts["section"] >= 14, counts
    assert counts["exercise"] >= 16, counts
    assert counts["cta"] == 4, counts
    assert counts["alert"] == 4, counts
    assert catalog.stale == ()
    assert len(catalog.version) == 16
    assert {catalog[a].level for a in ("emergency-now", "urgent-care", "get-assessed")} == {
        "emergency",
        "urgent",
        "assess",
    }
    assert catalog["warning-signs"].level == "general"
    for item in catalog.items.values():
        parser = _Tags()
        parser.feed(item.html)
        assert parser.tags <= ALLOWED_TAGS and parser.attrs == [], item.path


@pytest.mark.parametrize("kind", [["exercise"], {"a": 1}])
def test_a_non_string_kind_is_a_problem_not_a_crash(tmp_path, kind):
    root = make_catalog(tmp_path / "content", **{"exercises/ex-a.md": {"kind": kind}})
    assert any(p.startswith("content/exercises/ex-a.md:kind: ") for p in problems_of(root))


def test_a_timestamp_in_a_date_field_is_a_problem_not_a_crash(tmp_path):
    root = make_catalog(
        tmp_path / "content", **{"sections/sec-a.md": {"last_reviewed": "2026-01-01 10:00:00"}}
    )
    path = root / "sections" / "sec-a.md"
    # yaml.safe_dump quoted the value; unquote it so YAML reads a timestamp.
    path.write_text(path.read_text().replace("'2026-01-01 10:00:00'", "2026-01-01 10:00:00"))
    assert any(p.startswith("content/sections/sec-a.md:last_reviewed") for p in problems_of(root))


# -- v2: bibliography, steps, pictures, tokens, safe links, immutability ------------------------


def test_sources_resolve_from_the_bibliography_and_a_missing_one_is_named(tmp_path):
    root = make_catalog(tmp_path / "content")
    catalog = load_catalog([root], today=TODAY)
    assert dict(catalog["sec-a"].sources[0]) == SOURCES[1]
    (root / "sources.yaml").write_text(yaml.safe_dump({2: SOURCES[1]}))
    assert "content/sections/sec-a.md:sources: [1] not in sources.yaml" in problems_of(root)
    (root / "sources.yaml").write_text(yaml.safe_dump({1: {**SOURCES[1], "url": "http://x"}}))
    assert any("sources.yaml:1.url" in p for p in problems_of(root))


def test_an_exercise_has_its_steps_and_a_checked_picture(tmp_path):
    root = make_catalog(tmp_path / "content")
    exercise = load_catalog([root], today=TODAY)["ex-a"]
    assert exercise.steps == ("Lie on your back.", "Lift one knee.")
    assert exercise.picture.alt == "Lying on your back, you lift one knee and lower it."
    assert (exercise.picture.width, exercise.picture.height) == (640, 360)
    (root / "media" / "ex-a.svg").unlink()
    assert problems_of(root) == ["content/exercises/ex-a.md:media: no picture (media/ex-a.svg)"]


@pytest.mark.parametrize(
    ("svg", "problem"),
    [
        (
            PICTURE.replace(
                "<title>Lying on your back, you lift one knee and lower it.</title>", ""
            ),
            "alt text",
        ),
        (PICTURE.replace("<circle", "<script>alert(1)</script><circle"), "<script>"),
        (
            PICTURE.replace("<circle", '<animate attributeName="href" to="javascript:x"/><circle'),
            "<animate>",
        ),
        (PICTURE.replace('fill="none"', 'onclick="x()" fill="none"'), "onclick"),
        (
            PICTURE.replace('fill="none"', 'fill="url(https://evil.example/x)"'),
            "inside the picture",
        ),
        (PICTURE.replace("<svg ", '<!DOCTYPE svg [<!ENTITY a "b">]><svg '), "DOCTYPE"),
        (PICTURE.replace("</svg>", "<!--" + "x" * 17000 + "--></svg>"), "budget"),
        (PICTURE.replace('width="640"', 'width="wide"'), "width and height"),
    ],
)
def test_content_check_refuses_an_unsafe_or_unlabelled_picture(tmp_path, svg, problem):
    root = make_catalog(tmp_path / "content")
    (root / "media" / "ex-a.svg").write_text(svg)
    (found,) = problems_of(root)
    assert found.startswith("content/exercises/ex-a.md:media:") and problem in found, found


def test_the_warning_signs_token_becomes_the_one_wording(tmp_path):
    from personalizer.vocabulary import WARNING_SIGNS

    root = make_catalog(tmp_path / "content")
    path = root / "alerts" / "alert-a.md"
    path.write_text(path.read_text().replace("Some text.", "Watch for:\n\n{{warning_signs}}\n"))
    html = load_catalog([root], today=TODAY)["alert-a"].html
    assert html.count("<li>") == len(WARNING_SIGNS)
    assert all(sign in html for sign in WARNING_SIGNS)


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "data:text/html,x",
        "http://plain.example",
        "//evil.example",
        "/\\evil",
        "https://a b",
    ],
)
def test_a_call_to_action_link_must_be_https_or_a_path_on_our_site(tmp_path, href):
    root = make_catalog(tmp_path / "content", **{"ctas/cta-a.md": {"href": href}})
    assert problems_of(root) == [
        "content/ctas/cta-a.md:href: must be an https:// address or a path on our site (/...)"
    ]


def test_the_catalog_cannot_be_changed_by_ordinary_means(tmp_path):
    catalog = load_catalog([make_catalog(tmp_path / "content")], today=TODAY)
    item = catalog["ex-a"]
    with pytest.raises(TypeError):
        item.meta["contraindications"] = []
    with pytest.raises(AttributeError):
        item.meta["contraindications"].clear()
    with pytest.raises(TypeError):
        catalog.items["ex-a"] = None
    copy = catalog.copy()
    assert copy["ex-a"] is not item and copy["ex-a"].meta is not item.meta
    assert copy["ex-a"].meta == item.meta
