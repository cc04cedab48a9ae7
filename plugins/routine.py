"""Routine: the everyday base of the daily routine, whatever the alignment.

Alignment and symptom plugins push the exercises that fit a person's deviations; this one
makes sure a routine also has a warm-up, a rest position for walks, a way to build stamina
and, where it helps, balance work. The engine fits the result to the minutes available.
"""

from personalizer import hookimpl

READS_FEATURES = ("walking", "walking_provoked", "flexion_relief", "numbness")


def _wanted(f):
    walking_short = f.get("walking") in ("very_short", "short") or f.get("walking_provoked")
    return [
        ("mobility", 1.5, "a gentle warm-up to start the routine"),
        ("relief", 1.5 if walking_short else 0.5, "a resting position to use on any walk"),
        (
            "conditioning",
            2 if f.get("flexion_relief") else 1,
            "builds stamina; a forward-leaning position suits you"
            if f.get("flexion_relief")
            else "builds stamina at your own pace",
        ),
        (
            "balance",
            1.5 if f.get("numbness") else 0.5,
            "numbness can affect balance" if f.get("numbness") else "keeps balance sharp",
        ),
        ("core", 1, "core support for everyday posture"),
        ("glutes", 1, "leg and buttock strength for standing and walking"),
    ]


@hookimpl
def personalizer_candidates(features, catalog):
    picks = []
    for goal, score, reason in _wanted(features):
        for item in catalog.of_kind("exercise"):
            if item.goal == goal:
                picks.append({"id": item.id, "score": score, "reason": reason})
    return picks
