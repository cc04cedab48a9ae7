"""Alignment: measured angles into named buckets, and the work each deviation calls for.

Buckets follow the fact sheet (section 4): tilt and lordosis around published means with
half a standard deviation each side, kyphosis by the usual Cobb bands. The obliquity and
forward-head cut-offs are our own (no verified degree norms exist); docs/safety.md says so.
Posture values describe a person; they do not diagnose stenosis or predict symptoms.
"""

from personalizer import hookimpl


def _bucket(value, bands):
    for upper, name in bands:
        if value < upper:
            return name
    return bands[-1][1]


TILT = [(0, "posterior"), (18, "typical"), (23, "mild_anterior"), (999, "marked_anterior")]
LORDOSIS = [
    (28, "marked_flat"),
    (39, "mild_flat"),
    (61, "typical"),
    (72, "mild_excess"),
    (999, "marked_excess"),
]
KYPHOSIS = [(20, "flat"), (40, "typical"), (50, "mild"), (999, "marked")]
FORWARD_HEAD = [(2.5, "typical"), (5, "mild"), (999, "marked")]
OBLIQUITY = [(1, "level"), (3, "mild"), (999, "marked")]


@hookimpl
def personalizer_features(profile):
    a = profile.get("alignment", {})
    features = {}
    if "pelvic_tilt_deg" in a:
        features["pelvic_tilt"] = _bucket(a["pelvic_tilt_deg"], TILT)
    if "lumbar_lordosis_deg" in a:
        features["lumbar_lordosis"] = _bucket(a["lumbar_lordosis_deg"], LORDOSIS)
    if "pelvic_obliquity_deg" in a:
        value = a["pelvic_obliquity_deg"]
        size = _bucket(abs(value), OBLIQUITY)
        side = "right_high" if value > 0 else "left_high"
        features["pelvic_obliquity"] = size if size == "level" else f"{size}_{side}"
    if "thoracic_kyphosis_deg" in a:
        features["thoracic_kyphosis"] = _bucket(a["thoracic_kyphosis_deg"], KYPHOSIS)
    if "forward_head_cm" in a:
        features["forward_head"] = _bucket(a["forward_head_cm"], FORWARD_HEAD)
    return features


def deviations(features):
    """(address word, strength, plain reason) for each deviation the person has."""
    found = []
    tilt = features.get("pelvic_tilt")
    if tilt in ("mild_anterior", "marked_anterior"):
        strength = 3 if tilt == "marked_anterior" else 2
        found.append(("anterior_tilt", strength, f"{tilt.replace('_', ' ')} pelvic tilt measured"))
    elif tilt == "posterior":
        found.append(("posterior_tilt", 2, "posterior pelvic tilt measured"))
    lordosis = features.get("lumbar_lordosis", "")
    if lordosis.endswith("excess"):
        strength = 3 if lordosis.startswith("marked") else 2
        found.append(("excess_lordosis", strength, f"{lordosis.replace('_', ' ')} lumbar arch"))
    elif lordosis.endswith("flat"):
        strength = 3 if lordosis.startswith("marked") else 2
        found.append(("flat_lordosis", strength, f"{lordosis.replace('_', ' ')} lumbar curve"))
    obliquity = features.get("pelvic_obliquity", "level")
    if obliquity != "level":
        size, _, side = obliquity.partition("_")
        found.append(
            (
                "obliquity",
                3 if size == "marked" else 2,
                f"{size} uneven hips ({side.partition('_')[0]} side higher)",
            )
        )
    if features.get("thoracic_kyphosis") in ("mild", "marked"):
        found.append(("kyphosis", 2, f"{features['thoracic_kyphosis']} upper-back rounding"))
    if features.get("forward_head") in ("mild", "marked"):
        found.append(("forward_head", 1, f"{features['forward_head']} forward head position"))
    return found


GOAL_WORDS = {
    "flexion": "it eases the lower back gently forward",
    "hip_flexor": "it lengthens the hip flexors",
    "core": "it builds core support",
    "glutes": "it strengthens the buttock muscles",
    "conditioning": "it builds stamina in a comfortable position",
    "balance": "it trains balance",
    "mobility": "it keeps the back moving",
    "relief": "it is a resting position for the legs",
    "posture": "it works on upper-back and neck posture",
}


@hookimpl
def personalizer_candidates(features, catalog):
    picks = []
    for word, strength, reason in deviations(features):
        for item in catalog.of_kind("exercise"):
            if word in item.addresses:
                why = f"{reason}; {GOAL_WORDS.get(item.goal, 'it addresses this')}"
                picks.append({"id": item.id, "score": strength, "reason": why})
        for item in catalog.of_kind("section"):
            if word in item.addresses:
                picks.append({"id": item.id, "score": strength, "reason": f"{reason}"})
    return picks
