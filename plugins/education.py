"""Education: which article sections matter to this person, and why.

Every page gets the core background (the sections marked ``always``, by their priority);
the rest are raised by what the person reported, each with a plain reason.
"""

from personalizer import hookimpl

READS_FEATURES = (
    "alignment_measured",
    "flexion_relief",
    "extension_provoked",
    "walking",
    "walking_provoked",
    "pain",
    "red_flags",
    "weakness",
    "numbness",
    "pattern",
)


def _rules(f):
    """(topic, score, reason) for every rule this person's features meet."""
    measured = f.get("alignment_measured", False)
    walking_short = f.get("walking") in ("very_short", "short") or f.get("walking_provoked")
    rules = [
        (measured, "posture-lever", 3, "your posture was measured"),
        (measured, "matched-routine", 2, "your routine is matched to your measurements"),
        (
            f.get("flexion_relief"),
            "flexion-vs-extension",
            4,
            "sitting or leaning forward eases you",
        ),
        (f.get("flexion_relief"), "helps-positions", 3, "sitting or leaning forward eases you"),
        (
            f.get("extension_provoked"),
            "flexion-vs-extension",
            3,
            "standing tall brings your legs on",
        ),
        (walking_short, "helps-pacing-walking", 3, "walking brings your legs on early"),
        (walking_short, "helps-cycling", 2, "cycling can be easier than walking for you"),
        (f.get("pain") == "high", "helps-inflammation", 2, "your pain is high right now"),
        (f.get("pain") == "high", "surgery", 2, "high pain makes the options worth knowing"),
        (f.get("walking") == "very_short", "surgery", 2, "you can walk only a few minutes"),
        (f.get("red_flags"), "when-to-see-doctor", 5, "you reported a warning sign"),
        (f.get("weakness"), "when-to-see-doctor", 3, "you have leg weakness now"),
        (f.get("numbness"), "when-to-see-doctor", 2, "you have numbness now"),
        (
            f.get("pattern") == "typical",
            "what-is-stenosis",
            2,
            "your pattern is often seen with it",
        ),
        (True, "helps-give-it-time", 1, "most people need a few months to feel the change"),
        (True, "when-to-see-doctor", 1, "everyone should know the warning signs"),
    ]
    return [(topic, score, reason) for met, topic, score, reason in rules if met]


@hookimpl
def personalizer_candidates(features, catalog):
    sections = catalog.of_kind("section")
    by_topic = {}
    for item in sections:
        by_topic.setdefault(item.topic, []).append(item)
    picks = [
        {
            "id": item.id,
            "score": item.priority / 25,
            "reason": "core background for anyone living with stenosis",
        }
        for item in sections
        if "always" in item.addresses
    ]
    for topic, score, reason in _rules(features):
        for item in by_topic.get(topic, []):
            picks.append({"id": item.id, "score": score, "reason": reason})
    return picks
