"""Every closed word list of the service, stated once and imported everywhere.

The profile schema, the content loader, the safety contract, the plugins, the CLI and the
embed all read their words from here, so adding a kind, a goal or a red flag is one edit.
"""

from __future__ import annotations

# -- the profile (DESIGN section 2) -------------------------------------------------------

LEGS = ("none", "left", "right", "both")
WORSE_WITH = ("standing", "walking", "arching_back", "bending_forward", "sitting", "lying_down")
EASED_BY = ("sitting", "leaning_forward", "lying_down", "walking", "standing")
CHANNELS = ("web", "email", "clinic")
LOCALES = ("en",)
ROUTINE_FELT = ("too_easy", "about_right", "too_hard")
LEGS_SINCE_LAST = ("better", "same", "worse")

# -- triage: the safety contract's levels (DESIGN section 4) ------------------------------

LEVELS = ("emergency", "urgent", "assess", "none")
LEVEL_RANK = {"none": 0, "assess": 1, "urgent": 2, "emergency": 3}

# Each red flag: its contract level and the words a page uses for it.
RED_FLAG_TABLE = {
    "saddle_numbness": ("emergency", "numbness between your legs or around your bottom"),
    "bladder_or_bowel_change": ("emergency", "a new change in your bladder or bowel control"),
    "sudden_leg_weakness": ("emergency", "sudden weakness in a leg"),
    "worsening_weakness": ("urgent", "leg weakness that is getting worse"),
    "spreading_numbness": ("urgent", "numbness that is spreading"),
    "walking_decline": ("urgent", "walking much less far than before"),
    "fever": ("urgent", "a fever with back pain"),
    "after_fall": ("urgent", "back pain that started after a fall"),
    "unexplained_weight_loss": ("assess", "weight loss you cannot explain"),
    "history_of_cancer": ("assess", "a history of cancer"),
}
RED_FLAGS = tuple(RED_FLAG_TABLE)
CONTRACT_LEVELS = {flag: level for flag, (level, _words) in RED_FLAG_TABLE.items()}
FLAG_WORDS = {flag: words for flag, (_level, words) in RED_FLAG_TABLE.items()}

# A history of cancer together with new weakness or numbness may be spinal cord compression:
# the contract raises it from assess to urgent (DESIGN section 4).
CANCER_WITH_DEFICIT_LEVEL = "urgent"

# The warning signs every page that is not an emergency page carries (contract rule 4), in
# the one wording used everywhere: content files say ``{{warning_signs}}`` to include them.
WARNING_SIGNS = (
    "Numbness between your legs or around your bottom",
    "A new change in your bladder, bowel or sexual function",
    "Sudden or new weakness in a leg, or a foot that drops or drags",
    "New severe pain in both legs",
)

# -- content (docs/content.md) ------------------------------------------------------------

KINDS = ("alert", "section", "exercise", "cta")
# Alerts: one per triage level, plus the general warning signs shown on other pages.
ALERT_LEVELS = ("emergency", "urgent", "assess", "general")
ALERT_LABELS = {
    "emergency": "Emergency",
    "urgent": "Urgent",
    "assess": "Get checked soon",
    "general": "Warning signs",
}
ALERT_FOR_LEVEL = {"emergency": "emergency-now", "urgent": "urgent-care", "assess": "get-assessed"}
WARNING_SIGNS_ALERT = "warning-signs"

GOALS = (
    "flexion",
    "hip_flexor",
    "core",
    "glutes",
    "conditioning",
    "balance",
    "mobility",
    "relief",
    "posture",
)
PHASES = ("warmup", "mobility", "strength", "conditioning")
ADDRESSES = (
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
)
CONTRAINDICATIONS = (
    "extension_provoked",
    "flexion_provoked",
    "lying_provoked",
    "high_pain",
    "weakness",
)
# What an exercise asks of the body, for the engine's own vetoes (contract rule 5).
INVOLVES = ("extension", "walking", "kneeling", "floor", "standing")
OWNERS = ("ours", "partner")
ACTION_KINDS = ("call", "find_care", "link")
