"""Checks on the words of the content catalog (content/*/*.md).

These tests read the Markdown files directly (PyYAML for the front matter) and do
not import the personalizer package, so they guard the text on their own:

1. the catalog holds enough items of each kind, and an alert for every level;
2. every item cites sources that exist in the fact sheet, with sane review dates;
3. no run of 8 consecutive words is copied from the source article;
4. every section body reads at Flesch-Kincaid grade 8 or below;
5. no raw HTML in bodies, and no hard-coded emergency number or service name;
6. exercises carry a usable dose, progression and step-down, and our own
   commercial offers say plainly that they are ours.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = REPO_ROOT / "content"
SHARED_DIR = REPO_ROOT.parent / "shared"
ARTICLE_PATH = SHARED_DIR / "source" / "stenosis-article.txt"
FACTS_PATH = SHARED_DIR / "facts" / "FACTS.md"

KIND_DIRS = {"section": "sections", "exercise": "exercises", "cta": "ctas", "alert": "alerts"}
ADDRESSES = {
    "anterior_tilt",
    "posterior_tilt",
    "excess_lordosis",
    "flat_lordosis",
    "obliquity",
    "kyphosis",
    "forward_head",
    "flexion_relief",
    "walking_limited",
    "numbness",
    "weakness",
    "balance",
    "general",
    "always",
}
CONTRAINDICATIONS = {
    "extension_provoked",
    "flexion_provoked",
    "lying_provoked",
    "high_pain",
    "weakness",
}
GOALS = {
    "flexion",
    "hip_flexor",
    "core",
    "glutes",
    "conditioning",
    "balance",
    "mobility",
    "relief",
    "posture",
}
PHASES = {"warmup", "mobility", "strength", "conditioning"}
ALERT_LEVELS = {"emergency", "urgent", "assess", "general"}

NGRAM = 8
MAX_FK_GRADE = 8.0

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n(.*)\Z", re.DOTALL)


# --------------------------------------------------------------------------- loading


def _parse(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    assert match, f"{path.relative_to(REPO_ROOT)}: no '---' front-matter fences at the top"
    meta = yaml.safe_load(match.group(1))
    assert isinstance(meta, dict), f"{path.relative_to(REPO_ROOT)}: front matter is not a mapping"
    return {
        "path": path,
        "name": str(path.relative_to(REPO_ROOT)),
        "text": text,
        "meta": meta,
        "body": match.group(2),
    }


def _load_items() -> list[dict]:
    assert CONTENT_DIR.is_dir(), f"content directory missing: {CONTENT_DIR}"
    return [_parse(p) for p in sorted(CONTENT_DIR.glob("*/*.md"))]


ITEMS = _load_items()


def _of_kind(kind: str) -> list[dict]:
    return [i for i in ITEMS if i["meta"].get("kind") == kind]


def _read_article() -> str:
    if not ARTICLE_PATH.is_file():
        pytest.fail(
            f"source article not found at {ARTICLE_PATH}: the copy check cannot run "
            "without it (expected shared/ beside the repository)"
        )
    return ARTICLE_PATH.read_text(encoding="utf-8")


def _fact_sources() -> set[int]:
    if not FACTS_PATH.is_file():
        pytest.fail(f"fact sheet not found at {FACTS_PATH}")
    lines = FACTS_PATH.read_text(encoding="utf-8").splitlines()
    # Only the numbered list under the "Sources" heading counts.
    start = next(
        (n for n, line in enumerate(lines) if line.startswith("#") and "sources" in line.lower()),
        None,
    )
    assert start is not None, f"{FACTS_PATH}: no Sources heading"
    numbers = set()
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        m = re.match(r"^(\d+)\s", line)
        if m:
            numbers.add(int(m.group(1)))
    assert len(numbers) >= 10, f"{FACTS_PATH}: parsed too few sources: {sorted(numbers)}"
    return numbers


# --------------------------------------------------------------------------- text helpers


def _words(text: str) -> list[str]:
    """Lowercased words with punctuation removed (apostrophes dropped inside words)."""
    text = text.lower().replace("\u2019", "'").replace("'", "")
    return re.findall(r"[a-z0-9]+", text)


def _ngrams(words: list[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _strip_markdown(body: str) -> str:
    text = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", body, flags=re.MULTILINE)  # list bullets
    text = re.sub(r"[*_`#>]", "", text)
    text = re.sub(r"\{\{\s*([a-z_]+)\s*\}\}", lambda m: m.group(1).replace("_", " "), text)
    return text


def _fk_grade(text: str) -> float:
    import textstat

    # textstat >= 0.7.9 counts syllables with NLTK's CMU dictionary and tries to
    # download it at first use. Without network access (CI), fall back to the
    # Pyphen hyphenation counting that textstat itself uses for words missing
    # from the dictionary (and that textstat <= 0.7.8 used for every word).
    try:
        from textstat.backend.counts import _count_syllables as cs  # type: ignore
    except ImportError:
        return float(textstat.flesch_kincaid_grade(text))
    try:
        import nltk

        nltk.data.find("corpora/cmudict")
    except (ImportError, LookupError):
        if cs.get_cmudict.__name__ != "_no_cmudict":

            def _no_cmudict(lang):
                return None

            cs.get_cmudict = _no_cmudict
            if hasattr(cs.count_syllables, "cache_clear"):
                cs.count_syllables.cache_clear()
    return float(textstat.flesch_kincaid_grade(text))


# --------------------------------------------------------------------------- tests


def test_catalog_parses_and_ids_match_files():
    assert ITEMS, "no content files found"
    seen = {}
    problems = []
    for item in ITEMS:
        meta, path = item["meta"], item["path"]
        kind = meta.get("kind")
        if kind not in KIND_DIRS:
            problems.append(f"{item['name']}: unknown kind {kind!r}")
            continue
        if path.parent.name != KIND_DIRS[kind]:
            problems.append(f"{item['name']}: kind {kind} belongs in content/{KIND_DIRS[kind]}/")
        if meta.get("id") != path.stem:
            problems.append(f"{item['name']}: id {meta.get('id')!r} differs from file name")
        if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", str(meta.get("id"))):
            problems.append(f"{item['name']}: id is not lowercase-hyphenated")
        if meta.get("id") in seen:
            problems.append(f"{item['name']}: id also used by {seen[meta.get('id')]}")
        seen[meta.get("id")] = item["name"]
        title, summary = meta.get("title"), meta.get("summary")
        if not isinstance(title, str) or not 0 < len(title) <= 70:
            problems.append(f"{item['name']}: title missing or longer than 70 characters")
        if not isinstance(summary, str) or not 0 < len(summary) <= 160:
            problems.append(f"{item['name']}: summary missing or longer than 160 characters")
        tags = meta.get("tags")
        if (
            not isinstance(tags, list)
            or not 1 <= len(tags) <= 6
            or any(not isinstance(t, str) or t != t.lower() for t in tags)
        ):
            problems.append(f"{item['name']}: tags must be 1-6 lowercase words")
        for field, vocab in (("addresses", ADDRESSES), ("contraindications", CONTRAINDICATIONS)):
            unknown = set(meta.get(field) or []) - vocab
            if unknown:
                problems.append(f"{item['name']}: unknown {field} {sorted(unknown)}")
        if not item["body"].strip():
            problems.append(f"{item['name']}: empty body")
    assert not problems, "\n".join(problems)


def test_counts():
    sections, exercises, ctas = _of_kind("section"), _of_kind("exercise"), _of_kind("cta")
    assert len(sections) >= 14, f"only {len(sections)} sections"
    assert len(exercises) >= 16, f"only {len(exercises)} exercises"
    assert len(ctas) >= 4, f"only {len(ctas)} calls to action"
    levels = [a["meta"].get("level") for a in _of_kind("alert")]
    for level in ("emergency", "urgent", "assess", "general"):
        assert level in levels, f"no alert with level {level}: found {levels}"
    assert set(levels) <= ALERT_LEVELS, f"unknown alert levels: {set(levels) - ALERT_LEVELS}"
    with_contra = [e for e in exercises if e["meta"].get("contraindications")]
    assert len(with_contra) >= 5, f"only {len(with_contra)} exercises have contraindications"


def test_sources_exist_and_review_dates_are_ordered():
    known = _fact_sources()
    problems = []
    for item in ITEMS:
        meta = item["meta"]
        sources = meta.get("sources")
        if not isinstance(sources, list) or not sources:
            problems.append(f"{item['name']}: no sources")
        else:
            for s in sources:
                if isinstance(s, bool) or not isinstance(s, int):
                    problems.append(f"{item['name']}: source {s!r} is not an integer")
                elif s not in known:
                    problems.append(f"{item['name']}: source {s} is not in FACTS.md's Sources list")
        last, nxt = meta.get("last_reviewed"), meta.get("next_review")
        if not isinstance(last, dt.date) or not isinstance(nxt, dt.date):
            problems.append(f"{item['name']}: last_reviewed/next_review must be dates (YYYY-MM-DD)")
        elif not last < nxt:
            problems.append(f"{item['name']}: last_reviewed {last} is not before next_review {nxt}")
    assert not problems, "\n".join(problems)


def test_no_eight_word_run_from_the_article():
    article_words = _words(_read_article())
    article_grams = _ngrams(article_words)
    assert len(article_grams) > 500, "article parsed into too few words to compare against"
    # The check itself must be able to fail: a sentence lifted from the article is caught.
    assert _ngrams(article_words[100 : 100 + NGRAM]) <= article_grams
    problems = []
    for item in ITEMS:
        words = _words(item["text"])
        for i in range(len(words) - NGRAM + 1):
            run = tuple(words[i : i + NGRAM])
            if run in article_grams:
                problems.append(f'{item["name"]}: copies the article: "{" ".join(run)}"')
                break
    assert not problems, "\n".join(problems)


def test_section_bodies_are_plain_language():
    sections = _of_kind("section")
    assert sections, "no sections to grade"
    grades = {}
    for item in sections:
        text = _strip_markdown(item["body"])
        assert len(_words(text)) >= 50, f"{item['name']}: body too short to grade"
        grades[item["name"]] = _fk_grade(text)
    too_hard = {n: g for n, g in grades.items() if g > MAX_FK_GRADE}
    assert not too_hard, "Flesch-Kincaid grade above 8:\n" + "\n".join(
        f"{n}: {g:.1f}" for n, g in sorted(too_hard.items())
    )


def test_grader_can_fail():
    hard = (
        "Neurogenic claudication, characteristically precipitated by prolonged ambulation "
        "and alleviated by lumbar flexion, constitutes the predominant presentation of "
        "degenerative lumbar spinal stenosis in elderly populations."
    )
    assert _fk_grade(hard) > MAX_FK_GRADE


def test_no_html_and_no_hard_coded_emergency_numbers():
    problems = []
    for item in ITEMS:
        tag = re.search(r"<[a-zA-Z/!]", item["body"])
        if tag:
            problems.append(
                f"{item['name']}: raw HTML near {item['body'][tag.start() : tag.start() + 30]!r}"
            )
    for path in sorted(p for p in CONTENT_DIR.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        number = re.search(r"\b(911|999|111|112)\b", text)
        if number:
            problems.append(f"{path.relative_to(REPO_ROOT)}: hard-coded number {number.group(0)}")
        if "A&E" in text:
            problems.append(f"{path.relative_to(REPO_ROOT)}: hard-coded service name 'A&E'")
    assert not problems, "\n".join(problems)


def test_exercises_have_dose_progression_and_step_down():
    problems = []
    for item in _of_kind("exercise"):
        meta, name = item["meta"], item["name"]
        if meta.get("goal") not in GOALS:
            problems.append(f"{name}: goal {meta.get('goal')!r} not in {sorted(GOALS)}")
        if meta.get("phase") not in PHASES:
            problems.append(f"{name}: phase {meta.get('phase')!r} not in {sorted(PHASES)}")
        progression = meta.get("progression")
        if not isinstance(progression, str) or not progression.strip():
            problems.append(f"{name}: no progression")
        step_down = meta.get("step_down")
        if not isinstance(step_down, str) or not step_down.startswith("Ease off when"):
            problems.append(f"{name}: step_down must start with 'Ease off when'")
        dose = meta.get("dose")
        if not isinstance(dose, dict) or not dose:
            problems.append(f"{name}: no dose")
        else:
            timed = "minutes" in dose
            needed = {"minutes", "per_day"} if timed else {"sets", "reps", "hold_s", "per_day"}
            missing = needed - set(dose)
            if missing:
                problems.append(f"{name}: dose lacks {sorted(missing)}")
            for key, value in dose.items():
                if key == "each_side":
                    if not isinstance(value, bool):
                        problems.append(f"{name}: dose.each_side must be true or false")
                elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    problems.append(f"{name}: dose.{key} must be a non-negative integer")
        if not isinstance(meta.get("cautions"), list):
            problems.append(f"{name}: cautions must be a list")
        if not isinstance(meta.get("contraindications"), list):
            problems.append(f"{name}: contraindications must be a list")
    assert not problems, "\n".join(problems)


def test_commercial_ctas_say_they_are_ours():
    problems = []
    for item in _of_kind("cta"):
        meta, name = item["meta"], item["name"]
        if meta.get("commercial") is True:
            if meta.get("owner") != "ours":
                problems.append(f"{name}: commercial call to action must have owner: ours")
            if not re.search(r"\bour(?: own)?\b", item["body"], re.IGNORECASE):
                problems.append(f"{name}: body does not say this is our own service")
        elif meta.get("commercial") is not False:
            problems.append(f"{name}: commercial must be true or false")
    assert not problems, "\n".join(problems)
