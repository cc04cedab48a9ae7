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

Minutes of a counted exercise come from its dose (the formula of content.Item.minutes); the
routine's minutes are the sum over its exercises of minutes x times per day: a day when
everything in it is done.

Progression (``stage``, from the progression plugin; docs/content.md, "Progression"): the
exercises are chosen as at stage 0, so a person keeps the routine they know; then each stage
is one round in which every exercise may take one step up its ladder (a few more
repetitions, a longer hold, one more set, then the harder version its ``progression`` text
names) and the aerobic activity about a tenth more minutes, cheapest steps first, as long as
the day's minutes last. No step comes before its usual stage, except the harder version
(which takes no longer): from stage 2 on, it comes early when the minutes leave no room for
the steps before it. A flare-up (``flare_up``; the plugin has already taken the stage one
below last week's) keeps the same exercises at this stage's numbers, without the harder
versions; an exercise that has no harder version to drop goes one notch below (``eased``). So
no dose is heavier than last week's, and there are never more exercises than without the
flare-up.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, replace
from itertools import islice

from personalizer.content import REST_BETWEEN_SETS_S, SECONDS_PER_REP, Item
from personalizer.dose import describe
from personalizer.vocabulary import PHASES

MIN_TIMED_MINUTES = 3
AEROBIC_DAYS = 5
AEROBIC_MAX_PER_DAY = 30  # x 5 days = the 150 minutes a week of the guidance
# Non-aerobic exercises a day: the fact sheet's 3-4, a little more for long budgets.
MAX_EXERCISES = 4
MAX_EXERCISES_LONG = 6
LONG_BUDGET = 30

# Progression (fact sheet section 3: 8-12 repetitions, progress weekly; stretch holds of
# 30-60 seconds, 2-4 times; 150 minutes a week of aerobic work, built up gradually).
MAX_STAGE = 6
REPS_STEP = 2
EARLIEST_VARIANT = 2  # the harder version never comes with the first step up
FLARE_AEROBIC_SHARE = 0.8  # a flare-up at stage 0: a fifth fewer minutes of walking or cycling
# Per exercise: the most repetitions, the longest hold (seconds) and the most sets its ladder
# climbs to, and whether its progression text names a harder version (False: the text asks
# only for longer holds or more of the same, which the ladder already gives). An exercise
# not listed here (a plugin's) gets DEFAULT_LADDER, with its own starting numbers as floors.
DEFAULT_LADDER = {"reps": 12, "hold_s": 5, "sets": 2, "variant": True}
LADDERS = {
    # flexion and mobility: a few more, then the harder version; no extra sets of warm-ups
    "knee-to-chest": {"reps": 12, "hold_s": 2, "sets": 1, "variant": True},
    "pelvic-tilt": {"reps": 12, "hold_s": 5, "sets": 1, "variant": True},
    "seated-forward-bend": {"reps": 10, "hold_s": 4, "sets": 2, "variant": True},
    "double-knees-to-chest": {"reps": 12, "hold_s": 5, "sets": 1, "variant": False},
    "bottom-to-heels": {"reps": 10, "hold_s": 10, "sets": 1, "variant": False},
    # knee rolls: no progression in the fact sheet beyond the usual 8-12; no wider twist
    "knee-rolls": {"reps": 12, "hold_s": 3, "sets": 1, "variant": False},
    "chin-tuck-chest-lift": {"reps": 12, "hold_s": 5, "sets": 1, "variant": False},
    "prone-press-up": {"reps": 10, "hold_s": 5, "sets": 1, "variant": False},
    # stretches: the hold toward 60 seconds, then (half-kneeling) a third stretch a side
    "lying-hip-flexor-stretch": {"reps": 1, "hold_s": 60, "sets": 2, "variant": False},
    "half-kneeling-hip-flexor-stretch": {"reps": 1, "hold_s": 60, "sets": 3, "variant": False},
    # strength: 8-12 repetitions, then sets, then the harder version
    "abdominal-draw-in": {"reps": 12, "hold_s": 10, "sets": 2, "variant": True},
    "bridge": {"reps": 12, "hold_s": 0, "sets": 3, "variant": True},
    "four-point-reach": {"reps": 12, "hold_s": 2, "sets": 3, "variant": True},
    "side-leg-raise": {"reps": 10, "hold_s": 5, "sets": 2, "variant": True},
    "sit-to-stand": {"reps": 10, "hold_s": 0, "sets": 1, "variant": True},  # up to 10 [30]
    "balance-stand": {"reps": 2, "hold_s": 20, "sets": 1, "variant": True},
    # the rest stop is relief, not training: it does not grow
    "standing-lean": {"reps": 10, "hold_s": 3, "sets": 1, "variant": False},
}


def dose_minutes(dose: dict) -> int:
    """Minutes one session of this dose takes (the formula of content.Item.minutes)."""
    if "minutes" in dose:
        return dose["minutes"]
    sides = 2 if dose.get("each_side") else 1
    seconds = dose["sets"] * dose["reps"] * (dose.get("hold_s", 0) + SECONDS_PER_REP) * sides
    seconds += (dose["sets"] - 1) * REST_BETWEEN_SETS_S
    return max(1, math.ceil(seconds / 60))


@dataclass(frozen=True)
class Entry:
    """One exercise of the routine with its dose for this stage. ``changed``: the dose is a
    step up from the stage below (the page says it was made a little harder); ``variant``:
    the exercise is done in the harder version its ``progression`` text names; ``eased``:
    a flare-up took the dose below this stage's."""

    item: Item
    dose: dict
    changed: bool = False
    variant: bool = False
    eased: bool = False

    @property
    def daily_minutes(self) -> int:
        return dose_minutes(self.dose) * self.dose.get("per_day", 1)

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
        if self.variant:
            row["variant"] = True
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


def _rank_key(pick: tuple[Item, float]) -> tuple:
    item, score = pick
    return (-score, -item.meta.get("preference", 50), item.id)


def rank(ranked: list[tuple[Item, float]]) -> list[tuple[Item, float]]:
    """Best first: score, then declared preference, then id (the last only for equal
    preferences, which ``cut_line_ties`` reports)."""
    return sorted(ranked, key=_rank_key)


def best(ranked: list[tuple[Item, float]], n: int) -> list[tuple[Item, float]]:
    """``rank(ranked)[:n]``, without ranking the rest."""
    return heapq.nsmallest(n, ranked, key=_rank_key)


def _best_first(ranked: list[tuple[Item, float]]):
    """What ``rank`` gives, lazily: by score, each score's items ranked only when reached."""
    by_score: dict[float, list] = {}
    for pick in ranked:
        by_score.setdefault(pick[1], []).append(pick)
    for score in sorted(by_score, reverse=True):
        yield from sorted(by_score[score], key=_rank_key)


def fill(
    ranked: list[tuple[Item, float]],
    budget_min: int,
    stage: int = 0,
    flare_up: bool = False,
    hold_walking: bool = False,
) -> list[Entry]:
    """Pick from ``ranked`` within ``budget_min`` daily minutes, with doses progressed for
    ``stage`` (0..6) and eased for a flare-up (see the module docstring). ``hold_walking``
    keeps walking at its starting minutes (a circulation clue: fact sheet section 2, "hold
    walking progression")."""
    chosen = _choose(ranked, budget_min, explain=False)[0]
    return progress(chosen, budget_min, stage, flare_up, hold_walking)


def left_out(ranked: list[tuple[Item, float]], budget_min: int) -> list[dict]:
    """The exercises ``fill`` did not take, best first, each with what pushed it out:
    ``[{"id", "score", "reason"}]``, for ``?explain=1``. The choice does not depend on the
    stage or a flare-up (only the doses do), so neither is asked for."""
    return _choose(ranked, budget_min)[1]


# -- progression ---------------------------------------------------------------------------


def ladder(item: Item, dose: dict) -> list[tuple[str, object]]:
    """The steps up from ``dose``, in order: (field, new value), ``("variant", True)`` for
    the harder version. Step n (from 0) is first allowed at stage n + 1."""
    if "minutes" in dose:
        return []
    caps = LADDERS.get(item.id, DEFAULT_LADDER)
    steps: list[tuple[str, object]] = []
    reps = dose["reps"]
    while reps >= 5 and reps < caps["reps"]:
        reps = min(caps["reps"], reps + REPS_STEP)
        steps.append(("reps", reps))
    hold = dose.get("hold_s", 0)
    while 0 < hold < caps["hold_s"]:
        hold = min(caps["hold_s"], hold + _hold_step(hold))
        steps.append(("hold_s", hold))
    sets = dose["sets"]
    while sets < caps["sets"]:
        sets += 1
        steps.append(("sets", sets))
    if caps["variant"]:
        steps.append(("variant", True))
    return steps


def _hold_step(hold: int) -> int:
    """Seconds added to a hold in one step: 2 to a short hold, 5 to a balance hold, 15 to a
    stretch (30 -> 45 -> 60)."""
    if hold < 10:
        return 2
    if hold < 20:
        return 5
    return 15


def aerobic_ladder(dose: dict) -> list[tuple[str, object]]:
    """Minutes up by about a tenth of the starting minutes a step (at least one), to at most
    AEROBIC_MAX_PER_DAY (x 5 days: the 150 minutes a week of the guidance)."""
    start = dose["minutes"]
    step = max(1, round(start / 10))
    steps = []
    minutes = start
    while minutes < AEROBIC_MAX_PER_DAY and len(steps) < MAX_STAGE:
        minutes = min(AEROBIC_MAX_PER_DAY, minutes + step)
        steps.append(("minutes", minutes))
    return steps


def eased(item: Item, dose: dict) -> dict:
    """A flare-up: one notch below ``dose`` (a set fewer, else two
    repetitions fewer but not below 4; walking or cycling a fifth shorter, at least
    MIN_TIMED_MINUTES; the rest stop stays as it is)."""
    dose = dict(dose)
    if item.meta.get("goal") == "relief":
        return dose  # the rest stop is what eases the legs: keep it
    if "minutes" in dose:
        dose["minutes"] = max(MIN_TIMED_MINUTES, int(dose["minutes"] * FLARE_AEROBIC_SHARE))
    elif dose["sets"] > 1:
        dose["sets"] -= 1
    elif dose["reps"] >= 6:
        dose["reps"] -= REPS_STEP
    return dose


def _walking(item: Item) -> bool:
    return "walking" in item.meta.get("involves", ())


def _rounds(entries: list[Entry], budget_min: int, stage: int, hold_walking: bool):
    """Run ``stage`` rounds of progression; returns (doses, variant flags, stepped in the
    last round) per entry, by position."""
    doses = [dict(e.dose) for e in entries]
    variant = [False] * len(entries)
    steps = []
    for entry in entries:
        if entry.aerobic:
            held = hold_walking and _walking(entry.item)
            steps.append([] if held else aerobic_ladder(entry.dose))
        else:
            steps.append(ladder(entry.item, entry.dose))
    pointer = [0] * len(entries)
    stepped = [False] * len(entries)
    for week in range(1, stage + 1):
        stepped = [False] * len(entries)
        used = sum(dose_minutes(d) * d.get("per_day", 1) for d in doses)
        # Cheapest steps first, so the most exercises grow within the minutes.
        offers = []
        for n in range(len(entries)):
            for j in range(pointer[n], len(steps[n])):
                field, value = steps[n][j]
                trial = dict(doses[n])
                if field != "variant":
                    trial[field] = value
                cost = (dose_minutes(trial) - dose_minutes(doses[n])) * trial.get("per_day", 1)
                fits = used + cost <= budget_min
                # A step is due in its own week; the harder version (which takes no longer)
                # also earlier, from the second week, once no step before it fits the minutes.
                due = j < week or (field == "variant" and week >= EARLIEST_VARIANT)
                if fits and due:
                    offers.append((cost, n, j, trial))
                    break
                if fits:
                    break  # it fits but its week has not come: wait for it
                # It does not fit the minutes: look further along the ladder.
        for cost, n, j, trial in sorted(offers, key=lambda o: (o[0], o[1])):
            if used + cost > budget_min:
                continue
            field = steps[n][j][0]
            doses[n] = trial
            if field == "variant":
                variant[n] = True
            pointer[n] = j + 1
            stepped[n] = True
            used += cost
    return doses, variant, stepped


def progress(
    entries: list[Entry],
    budget_min: int,
    stage: int = 0,
    flare_up: bool = False,
    hold_walking: bool = False,
) -> list[Entry]:
    """The same exercises with doses for ``stage`` (see the module docstring); never over
    ``budget_min`` unless the starting doses were."""
    stage = max(0, min(MAX_STAGE, int(stage)))
    if not flare_up:
        if stage == 0:
            return list(entries)
        doses, variant, stepped = _rounds(entries, budget_min, stage, hold_walking)
        return [
            replace(e, dose=doses[n], variant=variant[n], changed=stepped[n])
            for n, e in enumerate(entries)
        ]
    usual, harder, _ = _rounds(entries, budget_min, stage, hold_walking)
    out = []
    for n, entry in enumerate(entries):
        # The harder version waits; an exercise without one drops a notch instead.
        dose = usual[n] if harder[n] else eased(entry.item, usual[n])
        out.append(replace(entry, dose=dose, eased=harder[n] or dose != usual[n]))
    return out


def _choose(ranked, budget_min, explain: bool = True):
    """The routine and, with ``explain``, why each other exercise was left out. Without it,
    the candidates are ranked only as far as the search reads, and it stops once the routine
    is full, so a large catalog costs little more."""
    ordered = rank(ranked) if explain else _Kept(_best_first(ranked))
    chosen: list[Entry] = []
    out: dict[str, str] = {}
    aerobic = aerobic_minutes(budget_min)
    timed_ones = (item for item, _ in ordered if _timed(item))
    # The best aerobic activity is the one; only the trace lists every other.
    timed = list(timed_ones if explain else islice(timed_ones, 1))
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
    others = _Kept(item for item, _ in ordered if not _timed(item))
    entries: dict[str, Entry] = {}  # made when first needed, kept for the second pass
    picked: list[Entry] = []
    picked_ids: set[str] = set()
    goals_done: set[str] = set()
    for balance_goals in (True, False):
        for item in others:
            item_id = item.id
            if item_id in picked_ids:
                continue
            if len(picked) >= limit:
                if not explain:
                    break
                out[item_id] = f"the routine already holds {limit} exercises"
                continue
            if balance_goals and not explain and item.goal in goals_done:
                continue  # left out whatever its minutes (only the trace says which it was)
            entry = entries.get(item_id)
            if entry is None:
                entry = entries[item_id] = Entry(item, dose_for(item))
            if used + entry.daily_minutes > budget_min:
                minutes = entry.daily_minutes
                out[item_id] = f"{minutes} minute{'s' * (minutes != 1)}: more than the time left"
                continue
            if balance_goals and entry.item.goal in goals_done:
                out[item_id] = f"a better {entry.item.goal} exercise came first"
                continue
            goals_done.add(entry.item.goal)
            picked.append(entry)
            picked_ids.add(item_id)
            out.pop(item_id, None)
            used += entry.daily_minutes
    chosen += picked
    # Routine order: by phase, then as ranked (only the chosen need their places).
    wanted = {e.item.id for e in chosen}
    position: dict[str, int] = {}
    for n, (item, _) in enumerate(ordered):
        if len(position) == len(wanted):
            break
        if item.id in wanted:
            position[item.id] = n
    chosen.sort(key=lambda e: (PHASES.index(e.item.phase), position[e.item.id]))
    if not explain:
        return chosen, []
    cut = [
        {"id": item.id, "score": score, "reason": out[item.id]}
        for item, score in ordered
        if item.id in out
    ]
    return chosen, cut


class _Kept:
    """An iterator's values, made as they are first reached and kept, so that they can be
    read again from the start."""

    def __init__(self, values):
        self._values = iter(values)
        self._made: list = []

    def __iter__(self):
        n = 0
        while True:
            if n == len(self._made):
                value = next(self._values, _END)
                if value is _END:
                    return
                self._made.append(value)
            yield self._made[n]
            n += 1


_END = object()


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
