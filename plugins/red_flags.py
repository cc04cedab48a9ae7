"""Triage: how urgent each reported red flag is, in words a clinician can check.

The engine holds the same levels in its safety contract and applies them even when this
plugin fails; this plugin adds the clinical reasons shown in each alert's ``why``.
"""

from personalizer import hookimpl

READS_FEATURES = ("red_flags",)

REASONS = {
    "saddle_numbness": (
        "emergency",
        "numbness between the legs can mean the nerves at the base of the spine are squeezed",
    ),
    "bladder_or_bowel_change": (
        "emergency",
        "a new bladder or bowel change can mean the nerves at the base of the spine are squeezed",
    ),
    "sudden_leg_weakness": ("emergency", "sudden leg weakness can mean a nerve is badly squeezed"),
    "worsening_weakness": (
        "urgent",
        "weakness that keeps getting worse needs a check today or in a day or two",
    ),
    "spreading_numbness": (
        "urgent",
        "numbness that is spreading needs a check today or in a day or two",
    ),
    "walking_decline": (
        "urgent",
        "walking much less far than before needs a check today or in a day or two",
    ),
    "fever": ("urgent", "back pain with a fever can be a sign of infection"),
    "after_fall": ("urgent", "back pain after a fall can be a sign of a broken bone"),
    "unexplained_weight_loss": (
        "assess",
        "weight loss you cannot explain is worth a check within days",
    ),
    "history_of_cancer": ("assess", "with a past cancer, back pain is worth a check within days"),
}


@hookimpl
def personalizer_triage(features):
    entries = []
    for flag in features.get("red_flags", []):
        level, reason = REASONS.get(flag, ("assess", "you reported something worth a check"))
        entries.append({"flag": flag, "level": level, "reason": reason})
    return entries
