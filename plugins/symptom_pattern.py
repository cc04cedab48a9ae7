"""Symptom pattern: where and when the legs complain, what eases them, how severe it is now.

Features (fact sheet section 2): the classic pattern of stenosis is leg symptoms brought on by
standing and walking and eased by sitting or bending forward; pain that walking does not bring
on, or that comes on lying down, is less typical; legs that ease by standing still can point
to a circulation problem instead. Walking tolerance, pain, numbness and weakness set how
gentle the work must be. The pattern words describe, they do not diagnose.

Exclusions: the catalog's contraindications, plus what an exercise involves (the same rules
the engine applies on its own): no back-arching work when standing or arching brings the legs
on or bending forward eases them, no walking when the person cannot walk, no kneeling with
leg weakness or high pain.
"""

from personalizer import hookimpl

from .common import LIMITED_WALKING, bucket

# Minutes of walking before the legs force a stop. 20 or more reads as "not limited".
WALKING = [(1, "none"), (3, "minimal"), (10, "very_short"), (20, "short"), (10**6, "longer")]
PAIN = [(7, "moderate"), (11, "high")]

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
    "legs",
    "circulation_clue",
    "pattern",
    "steady",
)


@hookimpl
def personalizer_features(profile):
    """Only what changes a decision: a false flag, walking of 20 minutes or more, or pain
    below 7 read the same as not reported, so they do not split the cache."""
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
        # Legs easing when standing still: more often a circulation sign (fact sheet 2).
        "circulation_clue": "standing" in eased,
    }
    if "legs" in s:
        features["legs"] = {"left": "one", "right": "one"}.get(s["legs"], s["legs"])
    if "walking_tolerance_min" in s:
        features["walking"] = bucket(s["walking_tolerance_min"], WALKING)
    if "pain_score" in s:
        features["pain"] = bucket(s["pain_score"], PAIN)
    features["pattern"] = _pattern(worse, eased)
    # Ready for firmer floor work: low pain (0-3), walking 20 minutes or more, no weakness or
    # numbness. One feature rather than a pain bucket, so low pain alone does not split the
    # cache.
    features["steady"] = (
        s.get("pain_score", 10) <= 3
        and s.get("walking_tolerance_min", 0) >= 20
        and not s.get("weakness")
        and not s.get("numbness")
    )
    return {
        name: value
        for name, value in features.items()
        if value not in (False, None, "longer", "moderate")
    }


def _pattern(worse: set, eased: set) -> str | None:
    """typical: at least two of eased sitting, eased leaning forward, brought on by standing
    or walking. less_typical: provoked, but not by standing or walking; or eased by walking;
    or brought on lying down (pain at rest). None when too little was reported to say."""
    if not worse and not eased:
        return None
    if (worse and not worse & {"standing", "walking"}) or "walking" in eased:
        return "less_typical"
    if "lying_down" in worse:
        return "less_typical"
    signs = ["sitting" in eased, "leaning_forward" in eased, bool(worse & {"standing", "walking"})]
    return "typical" if sum(signs) >= 2 else None


def legs_word(features) -> str:
    """How to name the symptoms: "your legs", or "your symptoms" when the legs are clear."""
    return "your symptoms" if features.get("legs") == "none" else "your legs"


def limited_walking(features) -> bool:
    return features.get("walking") in LIMITED_WALKING


def gentle(features) -> str | None:
    """Why this person's work must be gentle now, or None."""
    if features.get("pain") == "high":
        return "your pain is high right now"
    if features.get("walking") in ("none", "minimal"):
        return "walking is very hard for you right now"
    if features.get("weakness"):
        return "you have leg weakness"
    return None


def steady(features) -> bool:
    """Low pain, walking not limited, no weakness or numbness: ready for floor work."""
    return bool(features.get("steady"))


def active_contraindications(features):
    """Contraindication word -> plain reason, for the ones that apply to this person."""
    active = {}
    if features.get("extension_provoked"):
        active["extension_provoked"] = "standing tall or arching back brings on your symptoms"
    if features.get("flexion_provoked"):
        active["flexion_provoked"] = "bending forward or sitting brings on your symptoms"
    if features.get("lying_provoked"):
        active["lying_provoked"] = "lying down brings on your symptoms"
    if features.get("pain") == "high":
        active["high_pain"] = "your pain is high right now"
    if features.get("weakness"):
        active["weakness"] = "you have leg weakness"
    return active


def involvement_vetoes(features):
    """What an exercise involves -> plain reason it is left out for this person, beyond the
    engine's own vetoes (contract rule 5: back-arching work with flexion relief or extension
    provoked, walking at a tolerance of 0, kneeling with weakness or pain of 8 or more): this
    plugin also leaves kneeling out from a pain of 7."""
    if features.get("pain") == "high":
        return {"kneeling": "kneeling is left out while your pain is high"}
    return {}


@hookimpl
def personalizer_exclusions(features, catalog):
    active = active_contraindications(features)
    by_involvement = involvement_vetoes(features)
    # Only the exercises carrying one of the active words (catalog indexes), in catalog order.
    concerned = {
        i.id: i
        for i in (
            *(i for word in active for i in catalog.contraindicated_by(word)),
            *(i for word in by_involvement for i in catalog.involving(word)),
        )
        if i.kind == "exercise"
    }
    vetoes = []
    for item in sorted(concerned.values(), key=lambda i: catalog.position(i.id)):
        reasons = [active[w] for w in item.contraindications if w in active]
        reasons += [by_involvement[w] for w in item.meta.get("involves", []) if w in by_involvement]
        if reasons:
            vetoes.append({"id": item.id, "reason": f"left out: {reasons[0]}"})
    return vetoes


# Gentle work for high pain, very short walking or weakness: lying and seated, the smallest
# movement first; firmer floor work for someone with low pain who walks well.
GENTLE = {
    "pelvic-tilt": 1.3,
    "seated-forward-bend": 1,
    "knee-rolls": 1,
    "abdominal-draw-in": 1,
    "lying-hip-flexor-stretch": 1,
    "knee-to-chest": 0.8,
}
STEADY = {
    "double-knees-to-chest": 1.4,
    "bottom-to-heels": 1.4,
    "four-point-reach": 1.2,
    "half-kneeling-hip-flexor-stretch": 1.2,
}


def _wanted(f):
    """(item id or goal, score, reason) for this person's symptoms."""
    legs = legs_word(f)
    wanted = []
    if f.get("flexion_relief") and f.get("pattern") != "less_typical":
        wanted.append(("flexion", 2, f"bending forward eases {legs}"))
        if f.get("legs") != "none":
            wanted.append(("relief", 1, f"leaning forward eases {legs}"))
    if limited_walking(f) or f.get("walking_provoked"):
        wanted.append(("standing-lean", 2, "a rest stop to use whenever walking brings on " + legs))
        if f.get("walking") != "none":
            wanted.append(("sit-to-stand", 1, "strong legs help you keep walking"))
    reason = gentle(f)
    if reason:
        for item_id, score in GENTLE.items():
            wanted.append((item_id, score, f"a gentle move, done lying or sitting, while {reason}"))
    elif steady(f):
        for item_id, score in STEADY.items():
            wanted.append((item_id, score, "your pain is low and you walk well: a firmer stretch"))
    # Supported balance work is kept for those at risk of falling: 4 with one of numbness or
    # weakness, 5 with both, so it is not pushed out of a short routine.
    at_risk = bool(f.get("numbness")) + bool(f.get("weakness"))
    if f.get("numbness"):
        wanted.append(
            ("balance-stand", 3 + at_risk, "numbness can make you less steady on your feet")
        )
    elif f.get("weakness"):
        wanted.append(("balance-stand", 4, "weak legs can make you less steady on your feet"))
    elif f.get("legs") == "both":
        wanted.append(("balance-stand", 1, "symptoms in both legs can make you less steady"))
    if f.get("weakness"):
        wanted.append(("sit-to-stand", 1, "builds leg strength, with your hands to help"))
        wanted.append(("bridge", 1, "builds hip strength lying down"))
    if f.get("flexion_provoked"):
        wanted.append(
            (
                "prone-press-up",
                3,
                "bending forward brings on your symptoms; this goes the other way",
            )
        )
        wanted.append(("bridge", 1, "builds strength without bending forward"))
    if f.get("legs") == "one" and not reason:
        wanted.append(("side-leg-raise", 2.5, "your symptoms are in one leg: this works each side"))
    return wanted


@hookimpl
def personalizer_candidates(features, catalog):
    scored: dict[str, list] = {}  # item id -> [score, the first reason]
    for target, score, reason in _wanted(features):
        # The exercise of that id and those of that goal (catalog indexes).
        named = [catalog[target]] if target in catalog else []
        matched = {i.id: i for i in (*named, *catalog.with_goal(target)) if i.kind == "exercise"}
        for item_id in matched:
            scored.setdefault(item_id, [0, reason])[0] += score
    alike: dict[tuple, list[str]] = {}  # one pick for the exercises that score alike
    for item_id, (score, reason) in scored.items():
        alike.setdefault((score, reason), []).append(item_id)
    return [
        {"ids": ids, "score": score, "reason": reason} for (score, reason), ids in alike.items()
    ]
