"""Calls to action: what the person can do next.

Our own offers are commercial and say so; the engine drops them on emergency pages and on
clinic embeds whose partner policy does not allow them. A partner's booking slot only shows
when that partner has a booking link.
"""

from personalizer import hookimpl

READS_FEATURES = ("alignment_measured", "red_flags", "weakness", "pain", "channel", "partner")


@hookimpl
def personalizer_candidates(features, catalog):
    measured = features.get("alignment_measured", False)
    wanted = []
    if measured:
        wanted.append(("posture-therapy-programme", 2, "your measurements can guide a programme"))
    else:
        wanted.append(("posture-assessment", 3, "your posture has not been measured yet"))
    if features.get("red_flags") or features.get("weakness") or features.get("pain") == "high":
        wanted.append(("find-a-clinician", 4, "a clinician can check what you reported"))
    else:
        wanted.append(("find-a-clinician", 1, "a clinician can guide your programme"))
    if features.get("partner") or features.get("channel") == "clinic":
        wanted.append(("partner-booking", 5, "your clinic can go through these results"))
    return [
        {"id": item_id, "score": score, "reason": reason}
        for item_id, score, reason in wanted
        if item_id in catalog
    ]
