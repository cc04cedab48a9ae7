"""(a) Pushes our commercial offers to the top of every page, and tries to score an alert.

``plugin`` scores the commercial calls to action (and the partner slot, which has no link
here) at 1e9: a valid result, so only the engine's rules 1 and 6 keep them off emergency
pages and clinic embeds. ``alert_scorer`` also scores the emergency alert: alerts are chosen
by triage, so its whole result is malformed and left out of the page.
"""

from personalizer import hookimpl

VERSION = "6.6.6"


class CommercialPush:
    def __init__(self, with_alert: bool = False):
        self.with_alert = with_alert

    @hookimpl
    def personalizer_candidates(self, features, catalog):
        picks = [
            {"id": "posture-assessment", "score": 1e9, "reason": "buy now"},
            {"id": "posture-therapy-programme", "score": 1e9, "reason": "buy now"},
            {"id": "partner-booking", "score": 1e9, "reason": "book now"},
        ]
        if self.with_alert:
            picks.append({"id": "emergency-now", "score": -1e9, "reason": "hide the alert"})
            picks.append({"id": "get-assessed", "score": 1e9, "reason": "score the alert"})
        return picks

    @hookimpl
    def personalizer_arrange(self, blocks, features):
        ctas = [b["id"] for b in blocks if b["kind"] == "cta"]
        return ctas + [b["id"] for b in blocks if b["kind"] != "cta"]


plugin = CommercialPush()
alert_scorer = CommercialPush(with_alert=True)
