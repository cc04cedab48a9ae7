"""Progression: how the routine grows with the person, from what the client sent back.

The service stores nothing about a person: the client keeps the ``follow_up`` object a page
returns and sends it back next time (DESIGN section 4b). This plugin turns it into coarse
features only (every value splits the cache, so no raw number such as the weeks is kept):

- ``stage`` (0..6): the progression stage of this page's routine (personalizer/routine.py
  gives each stage one step up each exercise's ladder);
- ``step``: ``up`` (a stage higher than last time), ``same``, ``down`` (the routine felt too
  hard, or a flare-up) or ``hold`` (legs worse than last time: no progression);
- ``flare_up`` and ``legs_worse``: True, only when reported.

The rules (fact sheet section 3: progress weekly; ease off when symptoms flare):

- with the ``stage`` the last page returned: too easy, one stage up; about right, one stage
  up on even weeks, else the same; too hard or a flare-up, one stage down (never below 0);
  legs worse, the same stage; a step down wins over a hold, a hold over a step up;
- without it (a first follow-up, or a client that forgot it), from the weeks on the routine:
  too easy, the weeks; about right (or not said), half the weeks; legs worse, what about
  right gave the week before; too hard or a flare-up, a stage below that. Each is monotone in
  the weeks and rises at most one stage a week;
- never more stages than weeks on the routine (one step a week, however often the client
  asks), never above 6.

On a step down the page brings ease-off advice (the flare-ups section) to the top; with legs
worse, when to get medical help. The engine decides walking decline (a drop of a third or
more in walking tolerance) itself: it is a red flag, not a progression feature.
"""

from personalizer import hookimpl

MAX_STAGE = 6

# stage and flare_up are read by the engine (routine.fill); step and legs_worse by the hooks
# below. Declared here so the engine keeps them in the decision key.
READS_FEATURES = ("stage", "step", "flare_up", "legs_worse")

FLARE_SECTION = "flare-ups"
DOCTOR_SECTION = "when-to-see-doctor"
# Above what stenosis is (10): the advice a follow-up needs is the first section (and the one
# section of the email check-in page); personalizer_arrange also lifts it above the routine.
ADVICE_SCORE = 10.5
FLARE_REASON = "you told us your symptoms flared up: how to ease off, then build back up"
TOO_HARD_REASON = "you found your routine too hard last time: how to ease off, then build up"
LEGS_WORSE_REASON = "your legs are worse than last time"
HELD = ("urgent", "emergency")


def _kind_of_step(follow: dict) -> str:
    """What the person's answers ask for, before any stage arithmetic."""
    if follow.get("flare_up") is True or follow.get("routine_felt") == "too_hard":
        return "down"
    if follow.get("legs_since_last") == "worse":
        return "hold"
    return follow.get("routine_felt") or "about_right"


def _derived(weeks: int, kind: str) -> int:
    """The stage from the weeks alone, when no earlier stage was sent back."""
    weeks = max(0, weeks)
    if kind == "too_easy":
        return weeks
    if kind == "hold":
        return max(0, (weeks - 1) // 2)
    if kind == "down":
        return max(0, (weeks - 1) // 2 - 1)
    return weeks // 2


def stage_and_step(follow: dict) -> tuple[int, str]:
    """(stage for this page, step) from a follow_up object (see the module docstring)."""
    weeks = follow.get("weeks_on_routine")
    kind = _kind_of_step(follow)
    previous = follow.get("stage")
    if previous is None:
        stage = min(MAX_STAGE, _derived(weeks or 0, kind))
        before = min(MAX_STAGE, _derived((weeks or 0) - 1, kind)) if weeks else stage
    else:
        before = min(MAX_STAGE, previous)
        if kind == "down":
            stage = max(0, before - 1)
        elif kind == "hold":
            stage = before
        elif kind == "too_easy":
            stage = before + 1
        elif weeks is not None and weeks % 2 == 0:
            stage = before + 1  # about right: a step every other week
        else:
            stage = before
        stage = min(MAX_STAGE, stage)
    if weeks is not None:
        stage = min(stage, weeks)
    if kind in ("down", "hold"):
        return stage, kind
    return stage, "up" if stage > before else "same"


@hookimpl
def personalizer_features(profile):
    follow = profile.get("follow_up")
    if follow is None:
        return {}
    stage, step = stage_and_step(follow)
    features = {"stage": stage, "step": step}
    if follow.get("flare_up") is True:
        features["flare_up"] = True
    if follow.get("legs_since_last") == "worse":
        features["legs_worse"] = True
    return features


def _advice(features) -> list[tuple[str, str]]:
    """(topic, reason) of the advice this follow-up needs, most important first."""
    advice = []
    if features.get("legs_worse"):
        advice.append((DOCTOR_SECTION, LEGS_WORSE_REASON))
    if features.get("flare_up"):
        advice.append((FLARE_SECTION, FLARE_REASON))
    elif features.get("step") == "down":
        advice.append((FLARE_SECTION, TOO_HARD_REASON))
    return advice


@hookimpl
def personalizer_candidates(features, catalog, level):
    advice = dict(_advice(features))
    if level in HELD:
        # The alert holds the routine until they are checked: no advice on easing it.
        advice.pop(FLARE_SECTION, None)
    # One pick for the sections of each topic (catalog index).
    picks = [
        {
            "ids": [i.id for i in catalog.on_topic(topic) if i.kind == "section"],
            "score": ADVICE_SCORE,
            "reason": reason,
        }
        for topic, reason in advice.items()
    ]
    return [pick for pick in picks if pick["ids"]]


@hookimpl
def personalizer_arrange(blocks, features):
    """The advice this follow-up needs first (the engine keeps the level's alert above it).
    The built-in sections' ids are their topics."""
    topics = [topic for topic, _ in _advice(features)]
    if not topics:
        return None
    first = [b["id"] for topic in topics for b in blocks if b["id"] == topic]
    if not first:
        return None
    return first + [b["id"] for b in blocks if b["id"] not in first]
