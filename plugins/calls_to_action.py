"""Calls to action: what the person can do next.

- Never measured: our posture assessment, as a first measurement. Measured: our programme,
  and measuring again later to see change.
- A clinician near you: raised when something the person reported needs a professional's
  eye (a warning sign, leg weakness, high pain, a less typical pattern, a circulation clue).
  Not on a clinic's own pages: the person already has a clinic, so we do not send them
  elsewhere.
- The clinic's own booking, on clinic pages (shown only when the partner has a booking link).

Our own offers are commercial and say so; the engine drops them on emergency and urgent pages
and on clinic embeds whose partner policy does not allow them.
"""

from personalizer import hookimpl

READS_FEATURES = (
    "alignment_measured",
    "red_flags",
    "weakness",
    "pain",
    "pattern",
    "circulation_clue",
    "channel",
    "partner",
)


def _needs_a_clinician(f) -> str | None:
    if f.get("red_flags"):
        return "a clinician can check what you told us about"
    if f.get("circulation_clue"):
        return "a doctor can check your circulation"
    if f.get("pattern") == "less_typical":
        return "a clinician can look into a less typical pattern"
    if f.get("weakness"):
        return "a clinician can check your leg weakness"
    if f.get("pain") == "high":
        return "a clinician can help when pain is high"
    return None


@hookimpl
def personalizer_candidates(features, catalog):
    f = features
    clinic = f.get("channel") == "clinic"
    wanted = []
    if f.get("alignment_measured", False):
        wanted.append(
            ("posture-therapy-programme", 2, "a programme can build on your measurements")
        )
        wanted.append(("posture-assessment", 1.5, "measuring again in a few weeks shows change"))
    else:
        wanted.append(("posture-assessment", 3, "your posture has not been measured yet"))
    if not clinic:
        reason = _needs_a_clinician(f)
        if reason:
            wanted.append(("find-a-clinician", 4, reason))
        else:
            wanted.append(("find-a-clinician", 1, "a physiotherapist can guide your exercise"))
    if f.get("partner") or clinic:
        wanted.append(("partner-booking", 5, "your clinic can go through these results with you"))
    return [
        {"id": item_id, "score": score, "reason": reason}
        for item_id, score, reason in wanted
        if item_id in catalog
    ]
