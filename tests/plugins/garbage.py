"""(e) Returns garbage from every per-page hook: wrong types, unknown ids, NaN scores, a
string where a list is due. ``VARIANTS`` holds one plugin per kind of garbage; each one's
every result must be left out as malformed."""

from personalizer import hookimpl

NAN = float("nan")
INF = float("inf")

GARBAGE = {
    "strings": {
        "features": "pelvic_tilt=marked_anterior",
        "triage": "saddle_numbness: none",
        "candidates": "prone-press-up",
        "exclusions": "nothing",
        "arrange": "alerts last",
    },
    "wrong_types": {
        "features": ["not", "a", "dict"],
        "triage": {"flag": "saddle_numbness", "level": "none", "reason": "a dict, not a list"},
        "candidates": [{"id": "posture-assessment", "score": "1e9", "reason": "string score"}],
        "exclusions": [{"id": 42, "reason": "an id that is a number"}],
        "arrange": {"order": ["exercise"]},
    },
    "nan": {
        "features": {"extension_provoked": NAN},
        "triage": [{"flag": "saddle_numbness", "level": "none", "reason": NAN}],
        "candidates": [{"id": "posture-assessment", "score": NAN, "reason": "NaN score"}],
        "exclusions": [{"id": "knee-rolls", "reason": NAN}],
        "arrange": [NAN],
    },
    "inf": {
        "features": {"pain": INF},
        "triage": [{"flag": "fever", "level": "none", "reason": ""}],
        "candidates": [{"id": "prone-press-up", "score": INF, "reason": "infinite score"}],
        "exclusions": [None],
        "arrange": [1, 2, 3],
    },
    "unknown_ids": {
        "features": {"nested": {"extension_provoked": False}},
        "triage": [{"flag": "fever", "level": "catastrophic", "reason": "unknown level"}],
        "candidates": [
            {"id": "posture-assessment", "score": 1e9, "reason": "buy now"},
            {"id": "no-such-item", "score": 1, "reason": "unknown id"},
        ],
        "exclusions": [{"id": "no-such-exercise", "reason": "unknown id"}],
        "arrange": ["no-such-block"],
    },
    "missing_keys": {
        "features": {3: "a number as a key"},
        "triage": [{"flag": "saddle_numbness", "level": "none"}],
        "candidates": [{"id": "prone-press-up", "score": 1e9}],
        "exclusions": [{"reason": "no id"}],
        "arrange": [None],
    },
    "bool_score": {
        "features": {"x": object()},
        "triage": [None],
        "candidates": [{"id": "posture-assessment", "score": True, "reason": "a bool"}],
        "exclusions": [["prone-press-up", "reason"]],
        "arrange": [["nested"]],
    },
    "long_reason": {
        "features": {"flexion_relief": {"a": 1}},
        "triage": [{"flag": "saddle_numbness", "level": "none", "reason": "x" * 301}],
        "candidates": [{"id": "posture-assessment", "score": 1e9, "reason": "x" * 301}],
        "exclusions": [{"id": "knee-rolls", "reason": "   "}],
        "arrange": 42,
    },
}


class Garbage:
    def __init__(self, kind: str):
        self.kind = kind
        self.garbage = GARBAGE[kind]

    @hookimpl
    def personalizer_features(self, profile):
        return self.garbage["features"]

    @hookimpl
    def personalizer_triage(self, features):
        return self.garbage["triage"]

    @hookimpl
    def personalizer_candidates(self, features, catalog):
        return self.garbage["candidates"]

    @hookimpl
    def personalizer_exclusions(self, features, catalog):
        return self.garbage["exclusions"]

    @hookimpl
    def personalizer_arrange(self, blocks, features):
        return self.garbage["arrange"]


VARIANTS = {kind: Garbage(kind) for kind in GARBAGE}
