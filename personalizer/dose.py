"""A structured dose in plain words: the one place the wording is made.

The JSON page (``dose.text``, routine items' ``text``), the HTML fragment and the routine
list all show what ``describe`` returns, so a dose never reads as "1 x 10, hold 3 s".
"""

from __future__ import annotations

_SMALL = {1: "once", 2: "twice"}


def times(n: int) -> str:
    """1 -> "once", 2 -> "twice", 3 -> "3 times"."""
    return _SMALL.get(n, f"{n} times")


def _seconds(n: int) -> str:
    return "1 second" if n == 1 else f"{n} seconds"


def _minutes(n: int) -> str:
    return "1 minute" if n == 1 else f"{n} minutes"


def _how_much(dose: dict) -> str:
    if "minutes" in dose and "reps" not in dose:
        return _minutes(dose["minutes"])
    sets, reps = dose["sets"], dose["reps"]
    side = " on each side" if dose.get("each_side") else ""
    if reps == 1 or sets == 1:
        text = times(sets * reps) + side
        each = "holding each time" if sets * reps > 1 else "holding"
    else:
        text = f"{sets} rounds of {reps}{side}, with a short rest between rounds"
        each = "holding each time"
    if dose.get("hold_s"):
        text += f", {each} for {_seconds(dose['hold_s'])}"
    return text


def _how_often(dose: dict) -> str:
    per_day = dose.get("per_day", 1)
    days = dose.get("days_per_week", 7)
    daily = "once a day" if per_day == 1 else f"{times(per_day)} a day"
    if days == 7:
        return daily
    week = f"on {days} days a week" if days > 1 else "on 1 day a week"
    return week if per_day == 1 else f"{daily}, {week}"


def describe(dose: dict) -> str:
    """The dose in plain words, for example "10 times, holding each time for 3 seconds,
    once a day" or "twice on each side, holding each time for 30 seconds, once a day"."""
    return f"{_how_much(dose)}, {_how_often(dose)}"
