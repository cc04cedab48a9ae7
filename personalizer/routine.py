"""The routine: a few exercises chosen for the person, plus aerobic work, within their minutes.

Shaped like the fact sheet (section 3): 3-4 exercises, strength work on 2-3 days a week, and
aerobic work (walking or the exercise bike) built up toward 150 minutes a week.

- Aerobic work: the best-scored timed activity (one only). It takes a growing share of a
  growing budget: nothing at 5 minutes (too short to be worth it), 40 % at 10 minutes rising to
  60 % at 30, and at most 30 minutes a day on 5 days a week (150 minutes a week). Its dose
  carries those minutes and ``days_per_week: 5``.
- The other exercises fill what is left, at most 4 of them up to a 30-minute budget and 6
  above it: first the best of each goal (so a routine is not three stretches of one kind),
  then the next best while the minutes last.
- Ties: candidates are ranked by score, then by the exercise's declared ``preference``
  (front matter, 0-100), then by id. ``cut_line_ties`` lists the ties that only the id broke,
  so a test can insist they never happen.

The result is ordered warm-up, mobility, strength, conditioning, as a session is done.
``left_out`` lists the exercises ``fill`` did not take and what pushed each out (for
``?explain=1``).
``week`` lays the routine out over seven days: daily work every day, strength work on its own
2-3 days, aerobic work on 5.

Minutes of a counted exercise come from its dose (content.Item.minutes); the routine's
minutes are the sum over its exercises of minutes x times per day: a day when everything in
it is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from personalizer.content import Item
from personalizer.dose import describe
from personalizer.vocabulary import PHASES

MIN_TIMED_MINUTES = 3
AEROBIC_DAYS = 5
AEROBIC_MAX_PER_DAY = 30  # x 5 days = the 150 minutes a week of the guidance
# Non-aerobic exercises a day: the fact sheet's 3-4, a little more for long budgets.
MAX_EXERCISES = 4
MAX_EXERCISES_LONG = 6
LONG_BUDGET = 30


@dataclass(frozen=True)
class Entry:
    item: Item
    dose: dict

    @property
    def daily_minutes(self) -> int:
        minutes = self.dose.get("minutes", self.item.minutes)
        return minutes * self.dose.get("per_day", 1)

    @property
    def aerobic(self) -> bool:
        return "minutes" in self.dose

    def as_dict(self) -> dict:
        dose = self.dose
        row = {"id": self.item.id, "title": self.item.title}
        for key in ("sets", "reps", "hold_s", "minutes"):
            if key in dose:
                row[key] = dose[key]
        row["per_day"] = dose.get("per_day", 1)
        row["days_per_week"] = dose.get("days_per_week", 7)
        row["each_side"] = bool(dose.get("each_side", False))
        row["text"] = describe(dose)
        return row


def aerobic_minutes(budget_min: int) -> int:
    """Minutes of aerobic work a day for this budget: 0 under 10 minutes, then a share rising
    from 40 % (10 minutes) to 60 % (30 minutes), never more than 30 a day."""
    if budget_min < 10:
        return 0
    share = 0.4 + 0.2 * min(1.0, (budget_min - 10) / 20)
    return min(AEROBIC_MAX_PER_DAY, int(budget_min * share + 0.5))


def _timed(item: Item) -> bool:
    return "minutes" in item.dose


def dose_for(item: Item, minutes: int | None = None) -> dict | None:
    """The item's dose; a timed activity gets ``minutes`` (None when too short to do)."""
    dose = dict(item.dose)
    if not _timed(item):
        return dose
    dose.pop("hold_s", None)
    dose.pop("each_side", None)
    if minutes is None or minutes < MIN_TIMED_MINUTES:
        return None
    dose["minutes"] = minutes
    dose["per_day"] = 1
    dose["days_per_week"] = AEROBIC_DAYS
    return dose


def rank(ranked: list[tuple[Item, float]]) -> list[tuple[Item, float]]:
    """Best first: score, then declared preference, then id (the last only for equal
    preferences, which ``cut_line_ties`` reports)."""
    return sorted(ranked, key=lambda p: (-p[1], -p[0].meta.get("preference", 50), p[0].id))


def fill(ranked: list[tuple[Item, float]], budget_min: int) -> list[Entry]:
    """Pick from ``ranked`` within ``budget_min`` daily minutes (see the module docstring)."""
    return _choose(ranked, budget_min)[0]


def left_out(ranked: list[tuple[Item, float]], budget_min: int) -> list[dict]:
    """The exercises ``fill`` did not take, best first, each with what pushed it out:
    ``[{"id", "score", "reason"}]``, for ``?explain=1``."""
    return _choose(ranked, budget_min)[1]


def _choose(ranked, budget_min):
    ordered = rank(ranked)
    chosen: list[Entry] = []
    out: dict[str, str] = {}
    aerobic = aerobic_minutes(budget_min)
    timed = [item for item, _ in ordered if _timed(item)]
    if timed:
        dose = dose_for(timed[0], aerobic)
        if dose is not None:
            chosen.append(Entry(timed[0], dose))
        else:
            out[timed[0].id] = f"no aerobic work in a {budget_min}-minute routine"
        for item in timed[1:]:
            out[item.id] = f"one aerobic activity a day: {timed[0].id} scored higher"
    used = sum(e.daily_minutes for e in chosen)
    limit = MAX_EXERCISES_LONG if budget_min > LONG_BUDGET else MAX_EXERCISES
    others = [Entry(item, dose_for(item)) for item, _ in ordered if not _timed(item)]
    picked: list[Entry] = []
    goals_done: set[str] = set()
    for balance_goals in (True, False):
        for entry in others:
            item_id = entry.item.id
            if item_id in {e.item.id for e in picked}:
                continue
            if len(picked) >= limit:
                out[item_id] = f"the routine already holds {limit} exercises"
                continue
            if used + entry.daily_minutes > budget_min:
                minutes = entry.daily_minutes
                out[item_id] = f"{minutes} minute{'s' * (minutes != 1)}: more than the time left"
                continue
            if balance_goals and entry.item.goal in goals_done:
                out[item_id] = f"a better {entry.item.goal} exercise came first"
                continue
            goals_done.add(entry.item.goal)
            picked.append(entry)
            out.pop(item_id, None)
            used += entry.daily_minutes
    chosen += picked
    position = {item.id: n for n, (item, _) in enumerate(ordered)}
    chosen.sort(key=lambda e: (PHASES.index(e.item.phase), position[e.item.id]))
    cut = [
        {"id": item.id, "score": score, "reason": out[item.id]}
        for item, score in ordered
        if item.id in out
    ]
    return chosen, cut


def cut_line_ties(ranked: list[tuple[Item, float]], chosen: list[Entry]) -> list[tuple]:
    """Pairs (in, out) of exercises of the same kind of work (aerobic or not) with equal score
    and equal preference where one made the routine and the other did not: a choice that
    only the id (alphabetical order) made."""
    ids = {e.item.id for e in chosen}
    ties = []
    for a, score_a in ranked:
        if a.id not in ids:
            continue
        for b, score_b in ranked:
            if (
                b.id not in ids
                and _timed(a) == _timed(b)
                and score_a == score_b
                and a.meta.get("preference", 50) == b.meta.get("preference", 50)
            ):
                ties.append((a.id, b.id))
    return ties


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Which days of the week an item done n days a week falls on: strength on its own days
# (Monday, Wednesday, Friday), aerobic work on five, spread so that no two rest days meet.
DAYS_FOR = {
    1: (0,),
    2: (0, 3),
    3: (0, 2, 4),
    4: (0, 2, 4, 6),
    5: (0, 1, 3, 4, 5),
    6: (0, 1, 2, 3, 4, 5),
    7: (0, 1, 2, 3, 4, 5, 6),
}


def week(entries: list[Entry]) -> list[dict]:
    """The routine over a week: ``[{"day": "Monday", "items": [ids]}, ...]``, seven days,
    items in routine order."""
    days = [{"day": name, "items": []} for name in WEEKDAYS]
    for entry in entries:
        for index in DAYS_FOR[entry.dose.get("days_per_week", 7)]:
            days[index]["items"].append(entry.item.id)
    return days
