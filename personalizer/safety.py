"""The safety contract (DESIGN section 4), enforced after every plugin has spoken.

Nothing here trusts a plugin: the levels of the contract's red flags are fixed in this
module, and ``enforce`` re-checks the finished block list whatever the plugins scored,
vetoed or rearranged. Each change it makes is returned, for the explain trace.
"""

from __future__ import annotations

LEVEL_RANK = {"none": 0, "assess": 1, "urgent": 2, "emergency": 3}

CONTRACT_LEVELS = {
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

FLAG_WORDS = {
    "saddle_numbness": "numbness in the saddle area (between the legs)",
    "bladder_or_bowel_change": "a change in bladder or bowel control",
    "sudden_leg_weakness": "sudden weakness in a leg",
    "worsening_weakness": "leg weakness that is getting worse",
    "spreading_numbness": "numbness that is spreading",
    "walking_decline": "walking much less far than before",
    "fever": "a fever with back pain",
    "after_fall": "pain that started after a fall",
    "unexplained_weight_loss": "weight loss you cannot explain",
    "history_of_cancer": "a history of cancer",
}

ALERT_FOR_LEVEL = {"emergency": "emergency-now", "urgent": "urgent-care", "assess": "get-assessed"}
FAILSAFE_ALERT = "warning-signs"


def highest(levels) -> str:
    return max(levels, key=LEVEL_RANK.__getitem__, default="none")


def flag_words(flag: str) -> str:
    return FLAG_WORDS.get(flag, flag.replace("_", " "))


def enforce(
    blocks: list[dict],
    level: str,
    vetoed: set[str],
    commercial_allowed: bool,
    exercises_allowed: bool = True,
) -> tuple[list[dict], list[str]]:
    """Return the blocks with rules 1-6 and 8 applied, and a note of each change made."""
    changes = []
    kept = []
    no_exercise = level == "emergency" or not exercises_allowed
    no_commercial = level == "emergency" or not commercial_allowed
    for block in blocks:
        kind, bid = block["kind"], block["id"]
        if not block.get("why"):
            changes.append(f"removed {kind} {bid}: it does not say why it is there (rule 8)")
        elif kind == "exercise" and bid in vetoed:
            changes.append(f"removed exercise {bid}: vetoed for this person (rule 5)")
        elif kind == "exercise" and no_exercise:
            changes.append(f"removed exercise {bid}: no exercise on this page (rules 1, 7)")
        elif kind == "cta" and block.get("commercial") and no_commercial:
            changes.append(f"removed call to action {bid}: no commercial offer here (rules 1, 6)")
        else:
            kept.append(block)
    alerts = sorted(
        (b for b in kept if b["kind"] == "alert"),
        key=lambda b: -LEVEL_RANK.get(b.get("level", "none"), 0),
    )
    rest = [b for b in kept if b["kind"] != "alert"]
    ordered = alerts + rest
    if [b["id"] for b in ordered] != [b["id"] for b in kept]:
        changes.append("moved the alerts to the top, highest level first (rules 1-4)")
    return ordered, changes


def check(page: dict, vetoed: set[str] = frozenset(), commercial_allowed: bool = True) -> list:
    """List every way a finished page breaks the contract (empty when it holds).

    Used by the tests and by the conformance kit; the engine relies on ``enforce``.
    """
    problems = []
    blocks = page["blocks"]
    kinds = [b["kind"] for b in blocks]
    level = page["triage"]["level"]
    flags = page["triage"]["flags"]
    for flag in flags:
        if flag in CONTRACT_LEVELS and LEVEL_RANK[CONTRACT_LEVELS[flag]] > LEVEL_RANK[level]:
            problems.append(f"triage {level} is below the contract level of {flag}")
    if level != "none":
        if not blocks or blocks[0]["kind"] != "alert" or blocks[0].get("level") != level:
            problems.append(f"the first block is not the {level} alert")
        first_action = next(
            (i for i, k in enumerate(kinds) if k in ("exercise", "cta")), len(kinds)
        )
        if "alert" not in kinds[:first_action]:
            problems.append("an exercise or call to action comes before the alert")
        named = {f for b in blocks if b["kind"] == "alert" for f in b.get("flags", [])}
        if set(flags) - named:
            problems.append(f"flags not named in any alert: {sorted(set(flags) - named)}")
    if level == "emergency" and ("exercise" in kinds or page["routine"]["items"]):
        problems.append("an emergency page holds an exercise or a routine")
    commercial = any(b["kind"] == "cta" and b.get("commercial") for b in blocks)
    if commercial and (level == "emergency" or not commercial_allowed):
        problems.append("a commercial call to action where none may show")
    shown = {b["id"] for b in blocks if b["kind"] == "exercise"}
    shown |= {item["id"] for item in page["routine"]["items"]}
    if shown & set(vetoed):
        problems.append(f"vetoed exercises shown: {sorted(shown & set(vetoed))}")
    if any(not b.get("why") for b in blocks):
        problems.append("a block without a reason")
    return problems
