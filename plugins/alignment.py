"""Alignment: measured angles into named buckets, and the work each deviation calls for.

Buckets follow the fact sheet (section 4): tilt and lordosis around published means with
half a standard deviation each side; upper-back rounding counts from 50 degrees (the fact
sheet's "marked"; 40-49 is common with age). The
obliquity and forward-head cut-offs are our own (no verified degree norms exist); docs/safety.md
says so.
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
KYPHOSIS = [(50, "typical"), (999, "rounded")]
# Our own cut-offs, set well apart compared with a re-measurement's noise (about half a
# degree or centimetre), so the same person does not flip between buckets.
FORWARD_HEAD = [(5, "typical"), (999, "forward")]
OBLIQUITY = [(3, "typical"), (5, "mild"), (999, "marked")]

# The features the decision hooks below read: nothing else of ours splits the cache.
READS_FEATURES = (
    "pelvic_tilt",
    "lumbar_lordosis",
    "pelvic_obliquity",
    "thoracic_kyphosis",
    "forward_head",
)


@hookimpl
def personalizer_features(profile):
    """Only what changes a decision: a typical value reads the same as no deviation, so it
    does not split the cache."""
    a = profile.get("alignment", {})
    features = {"alignment_measured": True} if a else {}
    if "pelvic_tilt_deg" in a:
        features["pelvic_tilt"] = _bucket(a["pelvic_tilt_deg"], TILT)
    if "lumbar_lordosis_deg" in a:
        features["lumbar_lordosis"] = _bucket(a["lumbar_lordosis_deg"], LORDOSIS)
    if "pelvic_obliquity_deg" in a:
        features["pelvic_obliquity"] = _bucket(abs(a["pelvic_obliquity_deg"]), OBLIQUITY)
    if "thoracic_kyphosis_deg" in a:
        features["thoracic_kyphosis"] = _bucket(a["thoracic_kyphosis_deg"], KYPHOSIS)
    if "forward_head_cm" in a:
        features["forward_head"] = _bucket(a["forward_head_cm"], FORWARD_HEAD)
    return {name: value for name, value in features.items() if value != "typical"}


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
    obliquity = features.get("pelvic_obliquity")
    if obliquity in ("mild", "marked"):
        strength = 3 if obliquity == "marked" else 2
        found.append(("obliquity", strength, f"{obliquity} uneven hips measured"))
    if features.get("thoracic_kyphosis") == "rounded":
        found.append(("kyphosis", 2, "upper-back rounding measured"))
    if features.get("forward_head") == "forward":
        found.append(("forward_head", 1, "forward head position measured"))
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
    """One pick per item: the strongest deviation it addresses, a little more for each further
    one, and as much again for the most specific exercises of a deviation (those addressing
    the fewest things), so that one-sided work for uneven hips is not crowded out by
    all-round exercises."""
    found = deviations(features)
    if not found:
        return []
    items = catalog.of_kind("exercise") + catalog.of_kind("section")
    specific: dict[str, int] = {}  # item id -> the strength of the deviation it is made for
    for word, strength, _ in found:
        matching = [i for i in items if i.kind == "exercise" and word in i.addresses]
        breadth = {i.id: len(set(i.addresses) - {"general", "always"}) for i in matching}
        if breadth:
            narrowest = min(breadth.values())
            for item_id, n in breadth.items():
                if n == narrowest:
                    specific[item_id] = max(specific.get(item_id, 0), strength)
    picks = []
    for item in items:
        met = [(strength, reason) for word, strength, reason in found if word in item.addresses]
        if not met:
            continue
        met.sort(reverse=True)
        score = met[0][0] + 0.25 * (len(met) - 1) + specific.get(item.id, 0)
        reason = "; ".join(r for _, r in met)
        if item.kind == "exercise":
            reason += f"; {GOAL_WORDS.get(item.goal, 'it addresses this')}"
        picks.append({"id": item.id, "score": score, "reason": reason})
    return picks
