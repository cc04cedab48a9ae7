"""Education: which article sections this person needs, in the order they need them.

The one plugin that picks sections, so their order is decided in one place. Each section gets
one pick: the highest of the rules below that this person meets, with that rule's reason (one
idea per reason). The score sets the order (docs/plugins.md, "Scores"):

- 10: what stenosis is, first for everyone (the service keeps no history, so every visit may
  be the first);
- 8.5-9.5: what needs a doctor's eye for this person (a warning sign, a circulation clue, a
  less typical pattern, leg weakness);
- 8-8.9: their own pattern (bending forward versus arching back, positions that ease them);
- 7.8: how their routine was matched to them, when they were measured;
- 6.5-7.7: questions their answers raise (pacing, cycling when the bike is their aerobic
  work, whether it will get worse, medicines and injections when pain is high, surgery);
- 2-5: background for anyone.

A section's ``priority`` (front matter) adds up to 0.1, which breaks ties without letting
alphabetical order decide.
"""

from personalizer import hookimpl
from personalizer.vocabulary import CONTRACT_LEVELS

from .common import LIMITED_WALKING

READS_FEATURES = (
    "alignment_measured",
    "pelvic_tilt",
    "lumbar_lordosis",
    "pelvic_obliquity",
    "thoracic_kyphosis",
    "forward_head",
    "flexion_relief",
    "extension_provoked",
    "flexion_provoked",
    "walking",
    "walking_provoked",
    "pain",
    "red_flags",
    "weakness",
    "numbness",
    "pattern",
    "legs",
    "circulation_clue",
    "steady",
)

POSTURE = (
    "pelvic_tilt",
    "lumbar_lordosis",
    "pelvic_obliquity",
    "thoracic_kyphosis",
    "forward_head",
)


def _rules(f):
    """(topic, score, reason) for every rule this person's features meet."""
    legs = "your symptoms" if f.get("legs") == "none" else "your legs"
    measured = f.get("alignment_measured", False)
    deviated = any(name in f for name in POSTURE)
    walking = f.get("walking")
    less_typical = f.get("pattern") == "less_typical"
    relief = f.get("flexion_relief") and not less_typical
    pain_high = f.get("pain") == "high"
    bike_first = walking in ("none", "minimal")
    walk_limited = walking in LIMITED_WALKING
    mild = f.get("steady", False)
    rules = [
        # What stenosis is: first, for everyone.
        (
            less_typical,
            "what-is-stenosis",
            10,
            "your pattern is less typical; this shows the usual one",
        ),
        (True, "what-is-stenosis", 10, "what stenosis is and how it usually feels"),
        # What needs a doctor's eye.
        (f.get("red_flags"), "when-to-see-doctor", 9.5, "you told us about a warning sign"),
        (
            f.get("circulation_clue"),
            "when-to-see-doctor",
            9.4,
            "legs that ease when you stand still can be a circulation sign: see your doctor",
        ),
        (
            less_typical,
            "when-to-see-doctor",
            9.3,
            "a less typical pattern is worth showing a doctor",
        ),
        (
            f.get("weakness"),
            "when-to-see-doctor",
            9,
            "leg weakness is worth a check by your doctor",
        ),
        (
            f.get("circulation_clue"),
            "faq-what-makes-worse",
            8.9,
            "it explains how a circulation problem can feel similar",
        ),
        (less_typical, "faq-what-makes-worse", 8.8, "it lists the usual triggers, to compare"),
        # Their own pattern.
        (relief, "flexion-vs-extension", 8.6, f"bending forward eases {legs}"),
        (
            f.get("flexion_provoked"),
            "flexion-vs-extension",
            8.6,
            "bending forward brings on your symptoms, which is less usual",
        ),
        (
            f.get("extension_provoked"),
            "flexion-vs-extension",
            8.5,
            f"standing tall brings on {legs}",
        ),
        (relief, "helps-positions", 8.2, f"positions to use when {legs} flare"),
        # Their routine.
        (measured, "matched-routine", 7.8, "your routine uses your measurements"),
        (bike_first, "helps-cycling", 7.7, "cycling keeps you active while walking is hard"),
        (
            f.get("numbness") or f.get("weakness"),
            "faq-worse-over-time",
            7.6,
            "you may be wondering whether it will get worse",
        ),
        (
            walk_limited and walking != "none" and not f.get("circulation_clue"),
            "helps-pacing-walking",
            7.5,
            f"walking brings on {legs}; pacing helps you go further",
        ),
        (
            f.get("walking_provoked") and not walk_limited and not f.get("circulation_clue"),
            "helps-pacing-walking",
            5,
            f"a long walk brings on {legs}; planned rests help",
        ),
        (
            pain_high,
            "helps-inflammation",
            7.65,
            "with pain this high, you may be asking about medicines",
        ),
        (
            pain_high,
            "faq-surgery-only-way",
            7.45,
            "with pain this high, you may be asking about surgery",
        ),
        (
            walking in ("none", "minimal", "very_short"),
            "surgery",
            7.2,
            "you can walk only a short way, when surgery is sometimes discussed",
        ),
        (
            relief and walk_limited,
            "helps-cycling",
            6.8,
            "cycling bends you forward, which suits you",
        ),
        (
            f.get("legs") == "both",
            "faq-worse-over-time",
            6.6,
            "you may be wondering whether it will get worse",
        ),
        (f.get("weakness"), "surgery", 6.5, "leg weakness is one reason people see a specialist"),
        (deviated, "posture-lever", 6.4, "you may wonder whether your posture plays a part"),
        (
            deviated,
            "helps-support-muscles",
            6.2,
            "your routine has strength work for how you stand",
        ),
        (mild, "faq-reversed-without-surgery", 7, "many people improve without an operation"),
        (
            not f.get("pattern") and not f.get("red_flags"),
            "faq-what-makes-worse",
            5.5,
            "it lists what usually brings symptoms on",
        ),
        # Background for anyone.
        (True, "matched-routine", 4.5, "how your routine was chosen"),
        (not mild, "reversal", 4, "what can change with time and exercise, and what cannot"),
        (True, "helps-support-muscles", 3.5, "strength and supple hips support daily life"),
        (True, "helps-give-it-time", 3, "an active plan takes a few months to show its effect"),
        (True, "when-to-see-doctor", 2, "everyone should know when to get help"),
        (measured, "posture-lever", 1.5, "what posture can and cannot tell"),
    ]
    met = [(topic, score, reason) for met, topic, score, reason in rules if met]
    if _routine_held(f):
        # The urgent alert holds the routine until they are checked: no advice on exercise.
        met = [rule for rule in met if rule[0] not in ROUTINE_TOPICS]
    return met


ROUTINE_TOPICS = (
    "helps-pacing-walking",
    "helps-cycling",
    "matched-routine",
    "helps-support-muscles",
)


def _routine_held(f) -> bool:
    """An urgent or emergency red flag (the contract's levels), or a past cancer with new
    numbness or weakness: the page holds no exercise."""
    flags = f.get("red_flags", ())
    if any(CONTRACT_LEVELS.get(flag) in ("urgent", "emergency") for flag in flags):
        return True
    return "history_of_cancer" in flags and bool(f.get("numbness") or f.get("weakness"))


@hookimpl
def personalizer_candidates(features, catalog):
    best: dict[str, tuple[float, str]] = {}
    for topic, score, reason in _rules(features):
        if topic not in best or score > best[topic][0]:
            best[topic] = (score, reason)
    # The sections on this person's topics (catalog index), in catalog order.
    alike: dict[tuple[float, str], list[str]] = {}  # one pick for the sections that score alike
    for topic, (score, reason) in best.items():
        for item in catalog.on_topic(topic):
            if item.kind == "section":
                key = (score + item.priority / 1000, reason)
                alike.setdefault(key, []).append(item.id)
    return [
        {"ids": ids, "score": score, "reason": reason} for (score, reason), ids in alike.items()
    ]
