"""Triage: how urgent each reported red flag is, in words a clinician can check.

The engine holds the same levels in its safety contract and applies them even when this
plugin fails; this plugin adds the clinical reasons shown in each alert's ``why``.
"""

from personalizer import hookimpl

READS_FEATURES = ("red_flags",)

REASONS = {
    "saddle_numbness": ("emergency", "saddle numbness can signal cauda equina syndrome"),
    "bladder_or_bowel_change": (
        "emergency",
        "a new bladder or bowel change can signal cauda equina syndrome",
    ),
    "sudden_leg_weakness": ("emergency", "sudden leg weakness can be an acute nerve deficit"),
    "worsening_weakness": ("urgent", "gradually worsening weakness is a progressive deficit"),
    "spreading_numbness": ("urgent", "spreading numbness is a progressive deficit"),
    "walking_decline": ("urgent", "a clear fall in walking distance needs a clinical review"),
    "fever": ("urgent", "back pain with fever can signal an infection"),
    "after_fall": ("urgent", "back pain after a fall can signal a fracture"),
    "unexplained_weight_loss": ("assess", "unexplained weight loss warrants an assessment"),
    "history_of_cancer": ("assess", "a history of cancer with back pain warrants an assessment"),
}


@hookimpl
def personalizer_triage(features):
    entries = []
    for flag in features.get("red_flags", []):
        level, reason = REASONS.get(flag, ("assess", f"{flag.replace('_', ' ')} reported"))
        entries.append({"flag": flag, "level": level, "reason": f"{reason} (reported)"})
    return entries
