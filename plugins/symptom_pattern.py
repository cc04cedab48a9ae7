"""Symptom pattern: where and when the legs complain, what eases them, and what to avoid.

Its exclusions are the contraindications of the catalog: an exercise tagged
``extension_provoked`` is vetoed for a person whose legs get worse standing or arching back,
and so on. The pattern words describe, they do not diagnose.
"""

from personalizer import hookimpl

WALKING = [(5, "very_short"), (15, "short"), (10**6, "longer")]
PAIN = [(7, "not_high"), (11, "high")]

READS_FEATURES = (
    "flexion_relief",
    "extension_provoked",
    "flexion_provoked",
    "lying_provoked",
    "walking",
    "walking_provoked",
    "pain",
    "numbness",
    "weakness",
)


def _bucket(value, bands):
    return next(name for upper, name in bands if value < upper)


@hookimpl
def personalizer_features(profile):
    """Only what changes a decision: a false flag, walking beyond 15 minutes or pain below 7
    read the same as not reported, so they do not split the cache."""
    s = profile.get("symptoms", {})
    worse, eased = set(s.get("worse_with", [])), set(s.get("eased_by", []))
    features = {
        "flexion_relief": bool(eased & {"sitting", "leaning_forward"}),
        "extension_provoked": bool(worse & {"standing", "arching_back"}),
        "flexion_provoked": bool(worse & {"bending_forward", "sitting"}),
        "lying_provoked": "lying_down" in worse,
        "walking_provoked": "walking" in worse,
        "numbness": s.get("numbness", False),
        "weakness": s.get("weakness", False),
    }
    if "walking_tolerance_min" in s:
        features["walking"] = _bucket(s["walking_tolerance_min"], WALKING)
    if "pain_score" in s:
        features["pain"] = _bucket(s["pain_score"], PAIN)
    # The classic pattern (fact sheet section 2): at least two of these together.
    signs = ["sitting" in eased, "leaning_forward" in eased, bool(worse & {"standing", "walking"})]
    if sum(signs) >= 2:
        features["pattern"] = "typical"
    return {
        name: value
        for name, value in features.items()
        if value not in (False, "longer", "not_high")
    }


def active_contraindications(features):
    """Contraindication word -> plain reason, for the ones that apply to this person."""
    active = {}
    if features.get("extension_provoked"):
        active["extension_provoked"] = "standing or arching back brings on your leg symptoms"
    if features.get("flexion_provoked"):
        active["flexion_provoked"] = "bending forward or sitting brings on your symptoms"
    if features.get("lying_provoked"):
        active["lying_provoked"] = "lying down brings on your symptoms"
    if features.get("pain") == "high":
        active["high_pain"] = "your pain is high (7 or more out of 10) right now"
    if features.get("weakness"):
        active["weakness"] = "you have leg weakness now"
    return active


@hookimpl
def personalizer_exclusions(features, catalog):
    active = active_contraindications(features)
    vetoes = []
    for item in catalog.of_kind("exercise"):
        for word in item.contraindications:
            if word in active:
                vetoes.append({"id": item.id, "reason": f"left out: {active[word]}"})
                break
    return vetoes


@hookimpl
def personalizer_candidates(features, catalog):
    wanted = {}
    if features.get("flexion_relief"):
        wanted["flexion_relief"] = (3, "your legs ease when you sit or lean forward")
    if features.get("walking") in ("very_short", "short") or features.get("walking_provoked"):
        wanted["walking_limited"] = (2, "walking brings on your legs early")
    if features.get("numbness"):
        wanted["numbness"] = (1, "you have numbness now")
    if features.get("weakness"):
        wanted["weakness"] = (1, "you have leg weakness now")
    picks = []
    for item in catalog.of_kind("exercise") + catalog.of_kind("section"):
        for word, (score, reason) in wanted.items():
            if word in item.addresses:
                picks.append({"id": item.id, "score": score, "reason": reason})
    return picks
