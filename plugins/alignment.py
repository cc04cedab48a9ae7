"""Alignment: measured angles into named buckets, and the work each deviation calls for.

Buckets follow the fact sheet (section 4): tilt and lordosis around published means with
half a standard deviation each side; upper-back rounding counts from 50 degrees (the fact
sheet's "marked"; 40-49 is common with age). The
obliquity and forward-head cut-offs are our own (no verified degree norms exist); docs/safety.md
says so.
Posture values describe a person; they do not diagnose stenosis or predict symptoms.
"""

from personalizer import hookimpl

from .common import bucket

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
        features["pelvic_tilt"] = bucket(a["pelvic_tilt_deg"], TILT)
    if "lumbar_lordosis_deg" in a:
        features["lumbar_lordosis"] = bucket(a["lumbar_lordosis_deg"], LORDOSIS)
    if "pelvic_obliquity_deg" in a:
        features["pelvic_obliquity"] = bucket(abs(a["pelvic_obliquity_deg"]), OBLIQUITY)
    if "thoracic_kyphosis_deg" in a:
        features["thoracic_kyphosis"] = bucket(a["thoracic_kyphosis_deg"], KYPHOSIS)
    if "forward_head_cm" in a:
        features["forward_head"] = bucket(a["forward_head_cm"], FORWARD_HEAD)
    return {name: value for name, value in features.items() if value != "typical"}


def deviations(features):
    """(address word, strength, plain reason) for each deviation the person has."""
    found = []
    tilt = features.get("pelvic_tilt")
    if tilt == "marked_anterior":
        found.append(("anterior_tilt", 3, "your pelvis tips forward more than most"))
    elif tilt == "mild_anterior":
        found.append(("anterior_tilt", 2, "your pelvis tips forward a little more than most"))
    elif tilt == "posterior":
        found.append(("posterior_tilt", 2, "your pelvis tips backward"))
    lordosis = features.get("lumbar_lordosis", "")
    strength = 3 if lordosis.startswith("marked") else 2
    if lordosis.endswith("excess"):
        found.append(("excess_lordosis", strength, "your lower back curves in more than most"))
    elif lordosis.endswith("flat"):
        found.append(("flat_lordosis", strength, "your lower back is flatter than most"))
    obliquity = features.get("pelvic_obliquity")
    if obliquity in ("mild", "marked"):
        strength = 3 if obliquity == "marked" else 2
        found.append(("obliquity", strength, "one hip sits higher than the other"))
    if features.get("thoracic_kyphosis") == "rounded":
        found.append(("kyphosis", 2, "your upper back is more rounded than most"))
    if features.get("forward_head") == "forward":
        found.append(("forward_head", 1, "your head sits forward of your shoulders"))
    return found


@hookimpl
def personalizer_candidates(features, catalog):
    """Exercises only (sections are education's): the strongest deviation an exercise
    addresses, a quarter more for each further one, and as much again for the most specific
    exercises of a deviation (those addressing the fewest things), so that one-sided work for
    uneven hips is not crowded out by all-round exercises. The reason names the strongest
    deviation only: one idea per reason."""
    found = deviations(features)
    if not found:
        return []
    # The exercises that address one of this person's deviations (catalog indexes). What an
    # exercise scores depends on what it addresses alone, so it is worked out once for each
    # set of addresses, and the exercises that share one are one pick.
    exercises: dict[str, tuple] = {}
    for word, _, _ in found:
        for item in catalog.addressing(word):
            if item.kind == "exercise":
                exercises[item.id] = tuple(item.addresses)
    address_sets = set(exercises.values())
    breadth = {a: len(set(a) - {"general", "always"}) for a in address_sets}
    # For each deviation, the fewest things an exercise made for it addresses.
    narrowest = {
        word: min(breadth[a] for a in address_sets if word in a)
        for word, _, _ in found
        if any(word in a for a in address_sets)
    }

    def scored(addresses: tuple) -> tuple[float, str]:
        met = sorted(((s, r) for w, s, r in found if w in addresses), reverse=True)
        specific = max(
            (s for w, s, _ in found if w in addresses and breadth[addresses] == narrowest[w]),
            default=0,
        )
        return met[0][0] + 0.25 * (len(met) - 1) + specific, met[0][1]

    score_of = {a: scored(a) for a in address_sets}
    alike: dict[tuple[float, str], list[str]] = {}
    for item_id, addresses in exercises.items():
        alike.setdefault(score_of[addresses], []).append(item_id)
    return [
        {"ids": ids, "score": score, "reason": reason} for (score, reason), ids in alike.items()
    ]
