"""Checks on the words of the content catalog (content/*/*.md and content/sources.yaml).

These tests read the files directly (PyYAML for the front matter) and do not import the
personalizer package, so they guard the text on their own. They need nothing outside the
repository:

1. the catalog holds enough items of each kind, and an alert for every level;
2. every source number an item cites is in content/sources.yaml, whose entries each have a
   title, a publisher, an https url and a year; review dates are ordered;
3. no run of 8 consecutive words is copied from the source article (compared by hash with
   tests/data/article_runs.txt, written by scripts/article_runs.py);
4. the warning signs are listed only through the ``{{warning_signs}}`` token, never in a
   file's own words (contract rule 4: one wording everywhere), and the alerts say what
   the safety contract asks of each level;
5. every section body reads at Flesch-Kincaid grade 8 or below;
6. no raw HTML in bodies, no hard-coded emergency number or service name, no unknown token;
7. exercises carry a usable dose, progression and step-down; calls to action link to our
   own site paths or https addresses, and our own paid offers say plainly that they are
   ours.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from personalizer import vocabulary

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = REPO_ROOT / "content"
SOURCES_PATH = CONTENT_DIR / "sources.yaml"
ARTICLE_RUNS_PATH = REPO_ROOT / "tests" / "data" / "article_runs.txt"
ARTICLE_RUNS_SCRIPT = REPO_ROOT / "scripts" / "article_runs.py"

KIND_DIRS = {"section": "sections", "exercise": "exercises", "cta": "ctas", "alert": "alerts"}
# The vocabularies have one home; these checks read the files without the loader.
ADDRESSES = set(vocabulary.ADDRESSES)
CONTRAINDICATIONS = set(vocabulary.CONTRAINDICATIONS)
GOALS = set(vocabulary.GOALS)
PHASES = set(vocabulary.PHASES)
ALERT_LEVELS = set(vocabulary.ALERT_LEVELS)

# Tokens the service fills in: the warning signs are expanded by the content loader (a line
# holding only the token becomes the canonical list); the numbers and service names come
# from configuration, per deployment and per partner.
WARNING_SIGNS_TOKEN = "{{warning_signs}}"
KNOWN_TOKENS = {
    "warning_signs",
    "emergency_number",
    "emergency_service",
    "urgent_number",
    "urgent_service",
}
# The files that must list the warning signs (through the token).
MUST_LIST_WARNING_SIGNS = (
    "content/alerts/warning-signs.md",
    "content/alerts/urgent-care.md",
    "content/alerts/get-assessed.md",
    "content/sections/when-to-see-doctor.md",
)

NGRAM = 8
MAX_FK_GRADE = 8.0

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n(.*)\Z", re.DOTALL)
_TOKEN = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")


def _load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# One implementation of the normalization and hashing: the one of the script that wrote
# the committed hashes.
article_runs = _load_module(ARTICLE_RUNS_SCRIPT, "article_runs")


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
BY_NAME = {item["name"]: item for item in ITEMS}


def _of_kind(kind: str) -> list[dict]:
    return [i for i in ITEMS if i["meta"].get("kind") == kind]


def _bibliography() -> dict:
    assert SOURCES_PATH.is_file(), f"bibliography missing: {SOURCES_PATH}"
    data = yaml.safe_load(SOURCES_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and data, f"{SOURCES_PATH}: not a mapping of source numbers"
    return data


def _article_runs() -> set[str]:
    assert ARTICLE_RUNS_PATH.is_file(), (
        f"{ARTICLE_RUNS_PATH} missing: run scripts/article_runs.py on the source article"
    )
    return set(ARTICLE_RUNS_PATH.read_text(encoding="ascii").splitlines())


# --------------------------------------------------------------------------- text helpers


def _words(text: str) -> list[str]:
    """Lowercased words with punctuation removed (apostrophes dropped inside words)."""
    return article_runs.words(text)


def _strip_markdown(body: str) -> str:
    text = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", body, flags=re.MULTILINE)  # list bullets
    text = re.sub(r"[*_`#>]", "", text)
    text = _TOKEN.sub(lambda m: m.group(1).replace("_", " "), text)
    return text


def _without_tokens(text: str) -> str:
    return _TOKEN.sub(" ", text)


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


def _source_problems(name: str, meta: dict, known) -> list[str]:
    sources = meta.get("sources")
    if not isinstance(sources, list) or not sources:
        return [f"{name}: no sources"]
    problems = []
    for s in sources:
        if isinstance(s, bool) or not isinstance(s, int):
            problems.append(f"{name}: source {s!r} is not an integer")
        elif s not in known:
            problems.append(f"{name}: source {s} is not in content/sources.yaml")
    return problems


def test_sources_exist_and_review_dates_are_ordered():
    known = set(_bibliography())
    problems = []
    for item in ITEMS:
        meta = item["meta"]
        problems += _source_problems(item["name"], meta, known)
        last, nxt = meta.get("last_reviewed"), meta.get("next_review")
        if not isinstance(last, dt.date) or not isinstance(nxt, dt.date):
            problems.append(f"{item['name']}: last_reviewed/next_review must be dates (YYYY-MM-DD)")
        elif not last < nxt:
            problems.append(f"{item['name']}: last_reviewed {last} is not before next_review {nxt}")
    assert not problems, "\n".join(problems)


def test_the_source_check_can_fail():
    known = set(_bibliography())
    assert _source_problems("x.md", {"sources": [max(known) + 1]}, known)
    assert _source_problems("x.md", {"sources": ["10"]}, known)
    assert _source_problems("x.md", {"sources": []}, known)
    assert not _source_problems("x.md", {"sources": [min(known)]}, known)


def test_bibliography_entries_are_complete():
    problems = []
    this_year = dt.date.today().year
    for number, entry in _bibliography().items():
        where = f"content/sources.yaml: {number!r}"
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            problems.append(f"{where}: source numbers are positive integers")
        if not isinstance(entry, dict):
            problems.append(f"{where}: entry is not a mapping")
            continue
        fields = set(entry)
        if fields != {"title", "publisher", "url", "year"}:
            problems.append(
                f"{where}: needs exactly title, publisher, url and year (has {sorted(fields)})"
            )
        for field in ("title", "publisher"):
            value = entry.get(field)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where}: {field} missing or empty")
        url = entry.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme != "https" or not parts.netloc or re.search(r"\s", url):
            problems.append(f"{where}: url must be an https:// address, not {url!r}")
        year = entry.get("year")
        if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= this_year:
            problems.append(f"{where}: year must be an integer year, not {year!r}")
    assert not problems, "\n".join(problems)


def test_committed_article_runs_are_well_formed():
    lines = ARTICLE_RUNS_PATH.read_text(encoding="ascii").splitlines()
    assert 500 < len(lines) < 20000, f"{len(lines)} runs: regenerate with scripts/article_runs.py"
    assert all(re.fullmatch(r"[0-9a-f]{64}", line) for line in lines), "not one sha256 per line"
    assert lines == sorted(set(lines)), "runs must be sorted and without duplicates"


def test_the_copy_check_can_fail():
    runs = _article_runs()
    # A sentence of the article, hashed the way the content is: it must be found, or the
    # committed hashes and the normalization have drifted apart.
    lifted = "You may not be able to widen the tunnel, but you can change"
    assert article_runs.run_hashes(lifted) <= runs
    assert article_runs.run_hashes(lifted.upper().replace(",", " --")) <= runs
    assert not article_runs.run_hashes("The same eight words were never in the article.") & runs


def test_no_eight_word_run_from_the_article():
    runs = _article_runs()
    problems = []
    for item in ITEMS:
        words = _words(item["text"])
        for i in range(len(words) - NGRAM + 1):
            run = words[i : i + NGRAM]
            if article_runs.run_hash(run) in runs:
                problems.append(f'{item["name"]}: copies the article: "{" ".join(run)}"')
                break
    assert not problems, "\n".join(problems)


# Phrases that name one of the warning signs (contract rule 4). The signs are listed only
# through {{warning_signs}}, so a file that words them itself drifts from the one canonical
# list. Checked on the whole file (front matter too) with the tokens taken out.
OWN_WORDING = {
    "numbness between the legs": r"\bbetween (?:your|the|their|his|her) (?:legs|thighs)\b",
    "around the bottom": r"\baround (?:your|the) (?:bottom|back passage)\b",
    "saddle area": r"\bsaddle\b",
    "bladder": r"\bbladder\b",
    "bowel": r"\bbowels?\b",
    "sexual function": r"\bsexual\b|\bgenital|\berection",
    "foot drop": r"\bfoot (?:that )?(?:drops?|drags?)\b|\b(?:dropped|floppy) foot\b",
    "pain in both legs": r"\b(?:pain|numbness|weakness) in both legs\b",
    "sudden leg weakness": r"\bsudden(?:ly)?\b[^.\n]{0,30}\bweak|\bweak[^.\n]{0,30}\bsudden",
}
# (file, phrase) -> why this file may say it in its own words.
OWN_WORDING_ALLOWED = {
    ("content/sections/when-to-see-doctor.md", "numbness between the legs"): (
        "one sentence after the token's list asks the reader to check on purpose for the "
        "sign people most often miss and rarely mention (fact sheet source 15); it does not "
        "list the signs again"
    ),
}


def _own_wording(text: str) -> set[str]:
    text = _without_tokens(text)
    return {name for name, pattern in OWN_WORDING.items() if re.search(pattern, text, re.I)}


def test_warning_signs_are_never_listed_in_own_words():
    problems, used = [], set()
    for item in ITEMS:
        for phrase in sorted(_own_wording(item["text"])):
            key = (item["name"], phrase)
            if key in OWN_WORDING_ALLOWED:
                used.add(key)
            else:
                problems.append(
                    f"{item['name']}: words a warning sign itself ({phrase}); put the line "
                    f"{WARNING_SIGNS_TOKEN} there instead, or allowlist it with a reason"
                )
    for key, reason in OWN_WORDING_ALLOWED.items():
        if key not in used:
            problems.append(f"allowlist entry {key} matches nothing any more: remove it")
        if not isinstance(reason, str) or len(reason) < 20:
            problems.append(f"allowlist entry {key} needs a reason")
    assert not problems, "\n".join(problems)


def test_the_own_wording_check_can_fail():
    own_list = (
        "- Numbness in the saddle area, between your legs or around your bottom.\n"
        "- New bladder or bowel problems, or a change in sexual feeling.\n"
        "- Sudden weakness in a leg, or a foot that drops.\n"
        "- Severe pain in both legs.\n"
    )
    assert _own_wording(own_list) == set(OWN_WORDING)
    assert _own_wording(f"Call now if you have any of these:\n\n{WARNING_SIGNS_TOKEN}\n") == set()


def test_alerts_and_when_to_see_doctor_use_the_token():
    problems = []
    for name in MUST_LIST_WARNING_SIGNS:
        item = BY_NAME.get(name)
        if item is None:
            problems.append(f"{name}: missing")
            continue
        lines = [line.strip() for line in item["body"].splitlines()]
        if WARNING_SIGNS_TOKEN not in lines:
            problems.append(f"{name}: does not list the warning signs with {WARNING_SIGNS_TOKEN}")
    for item in ITEMS:
        for number, line in enumerate(item["text"].splitlines(), 1):
            if WARNING_SIGNS_TOKEN in line and line.strip() != WARNING_SIGNS_TOKEN:
                problems.append(
                    f"{item['name']}:{number}: {WARNING_SIGNS_TOKEN} must stand alone on its "
                    "line (the loader expands only such lines)"
                )
    assert not problems, "\n".join(problems)


def _alert(alert_id: str) -> dict:
    item = BY_NAME.get(f"content/alerts/{alert_id}.md")
    assert item is not None, f"content/alerts/{alert_id}.md missing"
    return item


def test_emergency_alert_is_one_action_now_and_nothing_else():
    item = _alert("emergency-now")
    title, body = item["meta"]["title"], item["body"]
    assert item["meta"].get("level") == "emergency"
    assert title.startswith("Call {{emergency_number}}") and title.endswith(" now"), title
    # The engine adds the person's reported flags and the call / find-care actions; the
    # body gives no other timeframe, no list of its own and no exercise advice.
    other_time = re.search(
        r"\btoday\b|\btomorrow\b|day or two|\bwithin\b|\bweeks?\b|\bsoon\b|\burgent|\bbook\b",
        _without_tokens(body),
        re.I,
    )
    assert not other_time, f"emergency alert names another timeframe: {other_time.group(0)!r}"
    assert "{{urgent_" not in body
    assert WARNING_SIGNS_TOKEN not in body
    advice = re.search(r"\bexercis|\broutine\b|\bstretch|\bwalk", body, re.I)
    assert not advice, f"emergency alert gives activity advice: {advice.group(0)!r}"
    assert re.search(r"\bdo not drive\b", body, re.I), "say not to drive yourself"


def test_urgent_alert_holds_the_routine_and_escalates():
    item = _alert("urgent-care")
    body = item["body"]
    assert item["meta"].get("level") == "urgent"
    assert re.search(r"\b(?:hold|pause)\b[^.\n]*\b(?:routine|exercises?)\b", body, re.I), (
        "the urgent alert must say plainly to hold the exercise routine until checked"
    )
    assert re.search(r"\btoday\b", body) and re.search(r"day or two", body)
    assert re.search(r"\{\{emergency_number\}\} now", body), "name the emergency number, now"


def test_assess_alert_says_within_days():
    item = _alert("get-assessed")
    text = item["meta"]["title"] + "\n" + item["body"]
    assert item["meta"].get("level") == "assess"
    assert re.search(r"\bwithin days\b", item["meta"]["title"]), item["meta"]["title"]
    assert re.search(r"\bwithin (?:the next few )?days\b", item["body"]), "book within days"
    assert not re.search(r"\bweeks?\b", text, re.I), "the timeframe is days, not weeks"
    assert re.search(r"\bcancer\b[^.\n]*\{\{emergency_number\}\} now", item["body"]), (
        "keep the note: a history of cancer with new weakness or numbness means call now"
    )


def test_general_warning_signs_alert():
    item = _alert("warning-signs")
    body = item["body"]
    assert item["meta"].get("level") == "general"
    assert re.search(r"\{\{emergency_number\}\}[^\n]*\bnow\b", body)
    assert "{{urgent_number}}" in body and "day or two" in body
    assert len(_words(_without_tokens(body))) <= 90, "keep the general alert short"


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


def test_no_html_no_hard_coded_emergency_numbers_no_unknown_tokens():
    problems = []
    for item in ITEMS:
        tag = re.search(r"<[a-zA-Z/!]", item["body"])
        if tag:
            problems.append(
                f"{item['name']}: raw HTML near {item['body'][tag.start() : tag.start() + 30]!r}"
            )
        text = item["text"]
        number = re.search(r"\b(911|999|111|112)\b", text)
        if number:
            problems.append(f"{item['name']}: hard-coded number {number.group(0)}")
        if "A&E" in text:
            problems.append(f"{item['name']}: hard-coded service name 'A&E'")
        unknown = {m.group(1) for m in _TOKEN.finditer(text)} - KNOWN_TOKENS
        if unknown:
            problems.append(f"{item['name']}: unknown tokens {sorted(unknown)}")
        if _TOKEN.sub("", text).count("{{") or _TOKEN.sub("", text).count("}}"):
            problems.append(f"{item['name']}: a malformed {{{{token}}}}")
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


def test_cta_links_and_commercial_ctas_say_they_are_ours_and_paid():
    problems = []
    for item in _of_kind("cta"):
        meta, name = item["meta"], item["name"]
        href = meta.get("href")
        if meta.get("owner") == "partner":
            # The partner's own booking slot: the engine puts the partner's link there.
            if href != "partner:booking":
                problems.append(f"{name}: a partner's slot has href 'partner:booking'")
        elif not isinstance(href, str) or not (
            re.fullmatch(r"/(?!/)[^\s]*", href)
            or (urlsplit(href).scheme == "https" and urlsplit(href).netloc and " " not in href)
        ):
            problems.append(f"{name}: href {href!r} must be a site path (/...) or https://")
        if meta.get("commercial") is True:
            if meta.get("owner") != "ours":
                problems.append(f"{name}: commercial call to action must have owner: ours")
            if not re.search(r"\bour(?: own)?\b", item["body"], re.IGNORECASE):
                problems.append(f"{name}: body does not say this is our own service")
            if not re.search(r"\bpaid\b", item["body"], re.IGNORECASE):
                problems.append(f"{name}: body does not say this is a paid service")
        elif meta.get("commercial") is not False:
            problems.append(f"{name}: commercial must be true or false")
    assert not problems, "\n".join(problems)
