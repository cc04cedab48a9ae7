"""Routine: the everyday base of the routine, whatever the alignment.

The fact sheet's usual mix (section 3): stretching, flexion-biased work for the middle, and
aerobic work the person can manage. This plugin gives every goal a small base score, so a
routine always has something of each kind to choose from, and chooses the aerobic work:
walking, or the exercise bike when walking is very short or sitting and leaning forward
ease the legs (the bike keeps the back bent a little forward). Symptom and alignment plugins
add to these scores; the routine (personalizer/routine.py) fits the result to the minutes.
"""

from personalizer import hookimpl

READS_FEATURES = (
    "walking",
    "walking_provoked",
    "flexion_relief",
    "flexion_provoked",
    "pattern",
    "circulation_clue",
    "legs",
)

BASE = {
    "flexion": (1.5, "a gentle forward stretch to start your routine"),
    "core": (1, "builds support around your middle"),
    "glutes": (1, "keeps your hips and legs strong"),
    "mobility": (0.8, "a gentle warm-up that keeps your back moving"),
    "hip_flexor": (0.6, "keeps the front of your hips supple"),
    "relief": (0.5, "quick to do wherever you are, with something to lean on"),
    "balance": (0.5, "a short balance practice, holding on"),
    "posture": (0.3, "works on how you hold your upper back and neck"),
}
EXTENSION = (0.3, "a gentle back-arching move, for backs that do not like bending forward")


def _aerobic(f):
    """(walking score, bike score, walking reason, bike reason)."""
    walking = f.get("walking")
    held = f.get("circulation_clue")
    walk_reason = "walking with planned rests builds how far you can go"
    bike_reason = "the bike builds stamina with your back bent a little forward"
    if held:
        walk_reason = (
            "keep your walks the same length until your doctor has checked your circulation"
        )
        bike_reason = (
            "if your calves hurt on the bike, tell your doctor: it can be a circulation sign"
        )
    if walking == "none":
        return (
            0,
            4,
            walk_reason,
            "the bike builds stamina sitting down, while walking is not possible",
        )
    if walking == "minimal":
        return (
            1,
            3.5,
            walk_reason,
            "the bike builds stamina sitting down, while walks are very short",
        )
    if f.get("flexion_provoked"):
        return 3, 1, walk_reason, bike_reason
    if f.get("flexion_relief") and walking in ("very_short", "short"):
        return 2, 3, walk_reason, bike_reason
    return 3, 2, walk_reason, bike_reason


@hookimpl
def personalizer_candidates(features, catalog):
    f = features
    base = dict(BASE)
    if f.get("pattern") == "less_typical" or f.get("flexion_provoked"):
        base["flexion"] = (0.5, "a gentle stretch for your lower back")
    walk, bike, walk_reason, bike_reason = _aerobic(f)
    # One pick for each group of exercises that score alike (catalog indexes, in catalog
    # order): aerobic work on foot and not; back-arching moves, whatever else their goal;
    # the rest of each goal with a base score.
    aerobic = [i for i in catalog.with_goal("conditioning") if i.kind == "exercise"]
    on_foot = [i.id for i in aerobic if "walking" in i.meta.get("involves", ())]
    seated = [i.id for i in aerobic if "walking" not in i.meta.get("involves", ())]
    arching = [
        i.id
        for i in catalog.involving("extension")
        if i.kind == "exercise" and i.goal != "conditioning"
    ]
    groups = [(on_foot, walk, walk_reason), (seated, bike, bike_reason), (arching, *EXTENSION)]
    arches = set(arching)
    for goal, (score, reason) in base.items():
        ids = [i.id for i in catalog.with_goal(goal) if i.kind == "exercise" and i.id not in arches]
        groups.append((ids, score, reason))
    return [
        {"ids": ids, "score": score, "reason": reason}
        for ids, score, reason in groups
        if ids and score > 0
    ]
