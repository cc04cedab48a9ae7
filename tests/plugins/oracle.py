"""The safety contract (DESIGN section 4) as assertions on finished pages.

The levels, alert ids and contraindication words are restated here, not imported from the
engine, so a change to ``personalizer/safety.py`` cannot quietly change what the tests expect.
``personalizer.safety.check`` is run as well, but every key fact is asserted directly.
"""

from __future__ import annotations

import re

from personalizer import safety

LEVEL_OF = {
    "saddle_numbness": "emergency",
    "bladder_or_bowel_change": "emergency",
    "sudden_leg_weakness": "emergency",
    "worsening_weakness": "urgent",
    "spreading_numbness": "urgent",
    "walking_decline": "urgent",
    "fever": "urgent",
    "after_fall": "urgent",
    "unexplained_weight_loss": "assess",
    "history_of_cancer": "assess",
}
FLAGS = tuple(LEVEL_OF)
EMERGENCY = tuple(f for f, level in LEVEL_OF.items() if level == "emergency")
URGENT = tuple(f for f, level in LEVEL_OF.items() if level == "urgent")
ASSESS = tuple(f for f, level in LEVEL_OF.items() if level == "assess")
RANK = {"none": 0, "assess": 1, "urgent": 2, "emergency": 3}
ALERT_ID = {"emergency": "emergency-now", "urgent": "urgent-care", "assess": "get-assessed"}
FAILSAFE_ALERT = "warning-signs"
ACTIONS = ("exercise", "cta")

# A person whose legs get worse standing: the contract's own example of rule 5.
EXTENSION_PROVOKED = {"symptoms": {"legs": "both", "worse_with": ["standing", "walking"]}}
# Alignment that makes the built-ins push prone-press-up (flat lower back, rounded upper back).
PRESS_UP_ALIGNMENT = {"lumbar_lordosis_deg": 20, "thoracic_kyphosis_deg": 60}


def expected_level(flags) -> str:
    return max((LEVEL_OF[f] for f in flags), key=RANK.__getitem__, default="none")


def contraindications(profile: dict) -> set[str]:
    """The contraindication words that apply to this person (the catalog's vocabulary)."""
    s = profile.get("symptoms", {})
    worse = set(s.get("worse_with", []))
    words = set()
    if worse & {"standing", "arching_back"}:
        words.add("extension_provoked")
    if worse & {"bending_forward", "sitting"}:
        words.add("flexion_provoked")
    if "lying_down" in worse:
        words.add("lying_provoked")
    if s.get("pain_score", 0) >= 7:
        words.add("high_pain")
    if s.get("weakness"):
        words.add("weakness")
    return words


def vetoed_ids(profile: dict, catalog) -> set[str]:
    """Exercises whose contraindications apply to this person: they must never show."""
    words = contraindications(profile)
    return {
        item.id
        for item in catalog.of_kind("exercise")
        if words & set(item.meta.get("contraindications", []))
    }


def channel_of(profile: dict) -> str:
    return profile.get("context", {}).get("channel", "web")


def reported(profile: dict) -> set[str]:
    return set(profile.get("red_flags", []))


def assert_page(
    page: dict,
    profile: dict,
    vetoed=frozenset(),
    exact: bool = True,
    failsafe: bool | None = None,
) -> None:
    """Rules 1-6 and 8 on a JSON page built for ``profile``.

    ``exact``: the level must equal the contract's (a faulty plugin may add its own,
    non-contract flags, which can only raise it). ``failsafe``: True or False to require it
    or its absence; None to accept either (then its own rules are checked when it shows).
    """
    blocks = page["blocks"]
    kinds = [b["kind"] for b in blocks]
    ids = [b["id"] for b in blocks]
    flags = reported(profile)
    want = expected_level(flags)
    level = page["triage"]["level"]
    channel = channel_of(profile)
    alerts = [b for b in blocks if b["kind"] == "alert"]
    is_failsafe = FAILSAFE_ALERT in ids
    if failsafe is not None:
        assert is_failsafe == failsafe, ids
    commercial_allowed = channel != "clinic" and not is_failsafe

    if exact:
        assert level == want, (level, want, flags)
    else:
        assert RANK[level] >= RANK[want], (level, want, flags)
    assert flags <= set(page["triage"]["flags"])

    # Rules 1-4: the highest level's alert first; every alert before any exercise or cta;
    # alerts ordered by level; every reported flag named by the alert of its level.
    first_action = next((i for i, k in enumerate(kinds) if k in ACTIONS), len(kinds))
    if level != "none":
        assert blocks[0]["kind"] == "alert", ids
        assert blocks[0]["level"] == level
        if level in ALERT_ID:
            assert blocks[0]["id"] == ALERT_ID[level], ids
    for n, block in enumerate(blocks):
        if block["kind"] == "alert":
            assert n < first_action, f"alert {block['id']} after an exercise or cta: {ids}"
    alert_ranks = [RANK.get(a["level"], 0) for a in alerts]
    assert alert_ranks == sorted(alert_ranks, reverse=True), ids
    by_id = {a["id"]: a for a in alerts}
    for flag in flags:
        alert = by_id.get(ALERT_ID[LEVEL_OF[flag]])
        assert alert is not None, f"no {LEVEL_OF[flag]} alert for {flag}: {ids}"
        assert flag in alert["flags"], (flag, alert["flags"])
        assert safety.FLAG_WORDS[flag] in alert["html"], flag
    for lvl, alert_id in ALERT_ID.items():
        if any(LEVEL_OF[f] == lvl for f in flags):
            assert alert_id in ids

    exercises = [b["id"] for b in blocks if b["kind"] == "exercise"]
    routine_ids = [item["id"] for item in page["routine"]["items"]]
    # Rule 1 (and 7: the fail-safe page): no exercise, no routine.
    if level == "emergency" or is_failsafe:
        assert exercises == [], exercises
        assert routine_ids == [] and page["routine"]["minutes"] == 0
    # Rules 1 and 6: no commercial call to action of ours.
    commercial = [b["id"] for b in blocks if b["kind"] == "cta" and b.get("commercial")]
    if level == "emergency" or not commercial_allowed:
        assert commercial == [], (level, channel, commercial)
    for block in blocks:
        if block["kind"] == "cta" and block["id"] == "partner-booking":
            assert block["href"], "a partner booking slot without a link"
    # Rule 5: vetoed exercises never in the blocks nor in the routine.
    assert not set(exercises) & set(vetoed), set(exercises) & set(vetoed)
    assert not set(routine_ids) & set(vetoed), set(routine_ids) & set(vetoed)
    assert set(routine_ids) <= set(exercises)
    # Rule 8: every block says why it is there, naming a plugin and a reason.
    for block in blocks:
        assert block["why"], f"{block['kind']} {block['id']} has no why"
        for why in block["why"]:
            assert why["plugin"].strip() and why["reason"].strip(), block["id"]

    problems = safety.check(page, vetoed=set(vetoed), commercial_allowed=commercial_allowed)
    assert problems == [], problems


# -- the HTML fragment ---------------------------------------------------------------------


TAG = re.compile(r"<(article|section|aside|details|li)\b([^>]*)>|</(section|aside|details)>")
ATTR = re.compile(r'([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)"')
BLOCK_KINDS = {
    "pz-alert": "alert",
    "pz-section": "section",
    "pz-exercise": "exercise",
    "pz-cta": "cta",
}


class Fragment:
    """The blocks of a page fragment in document order, with their 'why' items counted.

    A small tag scanner (the fragment is our own template's output; block bodies are
    sanitized to a few inline tags), fast enough for thousands of property examples.
    """

    def __init__(self, html: str):
        self.root: dict | None = None
        self.blocks: list[dict] = []
        self.routine_ids: list[str] = []
        self.has_routine = False
        block, in_why = None, False
        for match in TAG.finditer(html):
            tag, attrs, closing = match.groups()
            if closing:
                if closing == "details":
                    in_why = False
                else:
                    block = None
                continue
            a = dict(ATTR.findall(attrs))
            classes = a.get("class", "").split()
            if tag == "article" and self.root is None:
                self.root = a
            elif tag in ("section", "aside") and "pz-block" in classes:
                if "pz-routine" in classes:
                    self.has_routine = True
                    block = None
                    continue
                (kind,) = [BLOCK_KINDS[c] for c in classes if c in BLOCK_KINDS]
                block = {
                    "kind": kind,
                    "id": a.get("data-block-id"),
                    "role": a.get("role"),
                    "classes": classes,
                    "why_items": 0,
                }
                self.blocks.append(block)
            elif tag == "details" and "pz-why" in classes:
                in_why = True
            elif tag == "li":
                if "data-routine-id" in a:
                    self.routine_ids.append(a["data-routine-id"])
                elif in_why and block is not None:
                    block["why_items"] += 1


def assert_fragment(html: str, profile: dict, vetoed=frozenset(), exact: bool = True) -> None:
    """Rules 1-6 and 8 on the HTML fragment of a page built for ``profile``."""
    assert html.startswith("<article") and html.endswith("</article>")
    assert "<html" not in html and "<script" not in html
    frag = Fragment(html)
    flags = reported(profile)
    want = expected_level(flags)
    level = frag.root["data-triage"]
    if exact:
        assert level == want
    else:
        assert RANK[level] >= RANK[want]
    blocks = frag.blocks
    ids = [b["id"] for b in blocks]
    kinds = [b["kind"] for b in blocks]
    is_failsafe = FAILSAFE_ALERT in ids
    for block in blocks:
        assert (block["role"] == "alert") == (block["kind"] == "alert"), block
    first_action = next((i for i, k in enumerate(kinds) if k in ACTIONS), len(kinds))
    if level != "none":
        assert blocks[0]["role"] == "alert", ids
        if level in ALERT_ID:
            assert blocks[0]["id"] == ALERT_ID[level], ids
            assert f"pz-level-{level}" in blocks[0]["classes"]
    assert all(n < first_action for n, k in enumerate(kinds) if k == "alert"), ids
    for flag in flags:
        assert ALERT_ID[LEVEL_OF[flag]] in ids, (flag, ids)
    exercises = [b["id"] for b in blocks if b["kind"] == "exercise"]
    if level == "emergency" or is_failsafe:
        assert exercises == [] and not frag.has_routine and frag.routine_ids == []
        assert "pz-exercise" not in html and "pz-routine" not in html
    commercial = [b["id"] for b in blocks if "pz-commercial" in b["classes"]]
    if level == "emergency" or channel_of(profile) == "clinic" or is_failsafe:
        assert commercial == [] and "pz-commercial" not in html, commercial
    assert not (set(exercises) | set(frag.routine_ids)) & set(vetoed)
    assert set(frag.routine_ids) <= set(exercises)
    for block in blocks:
        assert block["why_items"] >= 1, f"{block['kind']} {block['id']} has no why"
