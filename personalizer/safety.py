"""The safety contract, v2 (DESIGN section 4), stated once as predicates.

The engine uses the same predicates twice: when it builds a page (what it offers at all) and
after every plugin has spoken (``enforce``, which re-checks the finished block list whatever
the plugins scored, vetoed or rearranged). ``check`` lists how a finished page breaks the
contract, for the tests and the plugin kit. Nothing here trusts a plugin: levels come from
the vocabulary's contract table, vetoes from the engine's own reading of the profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from personalizer.vocabulary import (
    ALERT_FOR_LEVEL,
    CANCER_WITH_DEFICIT_LEVEL,
    CONTRACT_LEVELS,
    FLAG_WORDS,
    LEVEL_RANK,
    WARNING_SIGNS,
    WARNING_SIGNS_ALERT,
)

__all__ = [
    "ALERT_FOR_LEVEL",
    "CONTRACT_LEVELS",
    "FLAG_WORDS",
    "LEVEL_RANK",
    "WARNING_SIGNS_ALERT",
    "Allowed",
    "allowed",
    "check",
    "contract_level",
    "engine_avoids",
    "enforce",
    "flag_words",
]

# Why the engine leaves out each kind of work it vetoes itself (rule 5), in patient words.
AVOID_REASONS = {
    "extension": "arching your back can bring on your leg symptoms",
    "walking": "walking is not possible for you right now",
    "kneeling": "kneeling work is not safe with leg weakness or strong pain",
}
KNEELING_PAIN = 8  # pain score from which kneeling work is left out (rule 5)


def missing_alerts(catalog) -> list[tuple[str, str, str]]:
    """(level, alert id, problem) for each alert the contract needs and the catalog lacks:
    one per level and the warning signs, from the built-in content only."""
    wanted = {**ALERT_FOR_LEVEL, "general": WARNING_SIGNS_ALERT}
    problems = []
    for level, item_id in wanted.items():
        item = catalog.items.get(item_id)
        if item is None:
            problems.append((level, item_id, "is missing"))
        elif item.meta.get("level") != level:
            problems.append((level, item_id, f"must be level {level} (is {item.meta['level']})"))
        elif item.origin != "built-in":
            problems.append((level, item_id, "must be built-in content, not a plugin's"))
    return problems


def carries_warning_signs(block: dict) -> bool:
    """A block that lists every warning sign, in their one wording (rule 4)."""
    html = block.get("html", "")
    return all(escape(sign, quote=False) in html for sign in WARNING_SIGNS)


def highest(levels) -> str:
    return max(levels, key=LEVEL_RANK.__getitem__, default="none")


def flag_words(flag: str) -> str:
    return FLAG_WORDS.get(flag, flag.replace("_", " "))


def cancer_with_deficit(profile: dict) -> bool:
    """A history of cancer with weakness or numbness now (possible cord compression)."""
    symptoms = profile.get("symptoms", {})
    return "history_of_cancer" in profile.get("red_flags", ()) and bool(
        symptoms.get("weakness") or symptoms.get("numbness")
    )


def contract_level(flag: str, cancer_deficit: bool = False) -> str | None:
    """The contract's level for a reported flag (None for a flag the contract does not know)."""
    if flag == "history_of_cancer" and cancer_deficit:
        return CANCER_WITH_DEFICIT_LEVEL
    return CONTRACT_LEVELS.get(flag)


# A drop in walking tolerance of a third or more since last time is a walking decline
# (DESIGN section 4b), whatever the person ticked.
WALKING_DECLINE_DROP = 1 / 3


def derived_flags(profile: dict) -> list[str]:
    """Red flags the engine reads from the profile beyond those the person ticked."""
    before = profile.get("follow_up", {}).get("previous_walking_tolerance_min")
    now = profile.get("symptoms", {}).get("walking_tolerance_min")
    if before and now is not None and before - now >= before * WALKING_DECLINE_DROP:
        return ["walking_decline"]
    return []


def reported_flags(profile: dict) -> set[str]:
    """Every red flag of the profile: ticked, or read from it (``derived_flags``)."""
    return set(profile.get("red_flags", ())) | set(derived_flags(profile))


def engine_avoids(profile: dict) -> list[str]:
    """The kinds of work (vocabulary.INVOLVES) the engine itself vetoes for this person."""
    s = profile.get("symptoms", {})
    worse, eased = set(s.get("worse_with", ())), set(s.get("eased_by", ()))
    avoid = []
    if worse & {"standing", "arching_back"} or eased & {"sitting", "leaning_forward"}:
        avoid.append("extension")
    if s.get("walking_tolerance_min") == 0:
        avoid.append("walking")
    if s.get("weakness") or s.get("pain_score", 0) >= KNEELING_PAIN:
        avoid.append("kneeling")
    return avoid


@dataclass(frozen=True)
class Allowed:
    """What a page may hold, from its level and where it is shown (rules 1-3, 6)."""

    level: str
    sections: bool
    exercises: bool
    ctas: bool
    commercial: bool
    warning_signs: bool


def allowed(level: str, failsafe: bool, commercial_policy: bool, clinic_unpartnered: bool):
    """Rules 1-3 and 6 as one answer; a fail-safe page (triage could not run) holds no
    exercise and no offer of ours."""
    emergency = level == "emergency"
    return Allowed(
        level=level,
        sections=not emergency,
        exercises=level in ("none", "assess") and not failsafe,
        ctas=not emergency,
        commercial=level == "none"
        and not failsafe
        and commercial_policy
        and not clinic_unpartnered,
        warning_signs=not emergency,
    )


def _refusal(block: dict, rules: Allowed, vetoed: set[str]) -> str | None:
    """Why a block may not stay on this page, or None when it may."""
    kind, bid = block["kind"], block["id"]
    if not block.get("why"):
        return "it does not say why it is there (rule 8)"
    if kind == "alert":
        return None
    if kind == "section" and not rules.sections:
        return "an emergency page holds the alert alone (rule 1)"
    if kind == "exercise":
        if bid in vetoed:
            return "vetoed for this person (rule 5)"
        if not rules.exercises:
            return "no exercise on this page (rules 1, 2, 9)"
        if not block.get("ease_off") or "cautions" not in block:
            return "an exercise without its cautions and ease-off rule (rule 7)"
    if kind == "cta":
        if not rules.ctas:
            return "an emergency page holds the alert alone (rule 1)"
        if block.get("commercial") and not rules.commercial:
            return "no commercial offer here (rules 2, 3, 6)"
    return None


def enforce(
    blocks: list[dict], rules: Allowed, vetoed: set[str], warning_signs: dict | None = None
) -> tuple[list[dict], list[str]]:
    """Return the blocks with the contract applied, and a note of each change made.

    One alert for the page's level comes first (on an emergency page, alone); the warning
    signs are on every other page (in the level's alert, or their own block, added back if
    they went missing); nothing the rules
    refuse survives, whatever order or content the plugins left.
    """
    changes, kept, seen = [], [], set()
    level_alert = ALERT_FOR_LEVEL.get(rules.level)
    for block in blocks:
        kind, bid = block["kind"], block["id"]
        if (kind, bid) in seen:
            changes.append(f"removed a second {kind} {bid}")
            continue
        seen.add((kind, bid))
        if kind == "alert" and bid not in (level_alert, WARNING_SIGNS_ALERT):
            changes.append(f"removed alert {bid}: one alert for the page's level (rule 1)")
            continue
        if kind == "alert" and bid == WARNING_SIGNS_ALERT and not rules.warning_signs:
            changes.append("removed the warning signs: an emergency page is the alert alone")
            continue
        reason = _refusal(block, rules, vetoed)
        if reason:
            changes.append(f"removed {kind} {bid}: {reason}")
            continue
        kept.append(block)
    missing = not any(b["kind"] == "alert" and carries_warning_signs(b) for b in kept)
    if rules.warning_signs and missing and warning_signs is not None:
        kept.append(warning_signs)
        changes.append("added the warning signs back (rule 4)")
    first = [b for b in kept if b["kind"] == "alert" and b["id"] == level_alert]
    rest = [b for b in kept if not (b["kind"] == "alert" and b["id"] == level_alert)]
    ordered = first + rest
    if [b["id"] for b in ordered] != [b["id"] for b in kept]:
        changes.append("moved the alert for the page's level to the top (rules 1-3)")
    return ordered, changes


def check(page: dict, vetoed=frozenset(), commercial_allowed: bool = True) -> list[str]:
    """List every way a finished JSON page breaks the contract (empty when it holds)."""
    problems = []
    blocks = page["blocks"]
    kinds = [b["kind"] for b in blocks]
    level = page["triage"]["level"]
    flags = page["triage"]["flags"]
    routine = page["routine"]["items"]
    for flag in flags:
        want = CONTRACT_LEVELS.get(flag)
        if want and LEVEL_RANK[want] > LEVEL_RANK[level]:
            problems.append(f"triage {level} is below the contract level of {flag}")
    alerts = [b for b in blocks if b["kind"] == "alert"]
    level_alerts = [b for b in alerts if b.get("level") != "general"]
    if level != "none":
        if not blocks or blocks[0]["kind"] != "alert" or blocks[0].get("level") != level:
            problems.append(f"the first block is not the {level} alert")
        if len(level_alerts) != 1:
            problems.append(f"{len(level_alerts)} alerts for the page's level, not one")
        named = {f for b in level_alerts for f in b.get("flags", [])}
        if set(flags) - named:
            problems.append(f"flags not named in the alert: {sorted(set(flags) - named)}")
        if any(not alert.get("label") for alert in alerts):
            problems.append("an alert without its label")
    elif level_alerts:
        problems.append("an alert for a level on a page without one")
    if level == "emergency":
        if kinds != ["alert"] or routine:
            problems.append("an emergency page holds more than its one alert")
        emergency = blocks[0] if blocks else {}
        if not any(a.get("kind") == "find_care" for a in emergency.get("actions", [])):
            problems.append("the emergency alert has no way to find emergency care")
    else:
        if not any(b["kind"] == "alert" and carries_warning_signs(b) for b in blocks):
            problems.append("the warning signs are missing (rule 4)")
    if level == "urgent" and ("exercise" in kinds or routine):
        problems.append("an urgent page holds an exercise or a routine (rule 2)")
    commercial = any(b["kind"] == "cta" and b.get("commercial") for b in blocks)
    if commercial and (level != "none" or not commercial_allowed):
        problems.append("a commercial call to action where none may show (rules 1-3, 6)")
    shown = {b["id"] for b in blocks if b["kind"] == "exercise"} | {i["id"] for i in routine}
    if shown & set(vetoed):
        problems.append(f"vetoed exercises shown: {sorted(shown & set(vetoed))}")
    for block in blocks:
        if not block.get("why"):
            problems.append(f"{block['kind']} {block['id']} does not say why (rule 8)")
        if block["kind"] == "exercise" and (not block.get("ease_off") or "cautions" not in block):
            problems.append(f"exercise {block['id']} lacks cautions or ease-off (rule 7)")
        href = block.get("href", "")
        if block["kind"] == "cta" and not href.startswith(("https://", "http://")):
            problems.append(f"call to action {block['id']} has no absolute link")
    return problems
