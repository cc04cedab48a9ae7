"""The daily routine: the best-scored exercises that fit the person's minutes, in order.

Goals are balanced first (the top exercise of each goal the plugins favoured, best goal
first), then the remaining minutes go to the next best exercises. A timed activity (cycling,
walking) takes at most a third of the budget, so it never crowds out the rest; its minutes
are shortened to fit, and the dose shown says so. The result is ordered warm-up, mobility,
strength, conditioning, as a session is done.

Minutes of a counted exercise come from its dose (content.Item.minutes); the routine's
minutes are the sum over its exercises of minutes x times per day.
"""

from __future__ import annotations

from dataclasses import dataclass

from personalizer.content import Item
from personalizer.vocabulary import PHASES

MIN_TIMED_MINUTES = 3


@dataclass(frozen=True)
class Entry:
    item: Item
    dose: dict

    @property
    def daily_minutes(self) -> int:
        minutes = self.dose.get("minutes", self.item.minutes)
        return minutes * self.dose.get("per_day", 1)

    def as_dict(self) -> dict:
        return {"id": self.item.id, **{k: v for k, v in self.dose.items() if k != "each_side"}}


def dose_for(item: Item, budget_min: int) -> dict | None:
    """The item's dose for this budget, or None when it cannot fit at all."""
    dose = dict(item.dose)
    if "minutes" in dose:
        dose.pop("hold_s", None)
        dose.pop("each_side", None)
        dose["minutes"] = min(dose["minutes"], budget_min // 3)
        if dose["minutes"] < MIN_TIMED_MINUTES:
            return None
    return dose


def fill(ranked: list[tuple[Item, float]], budget_min: int, max_items: int = 8) -> list[Entry]:
    """Pick from ``ranked`` (best first) within ``budget_min`` daily minutes."""
    candidates = []
    for item, _score in ranked:
        dose = dose_for(item, budget_min)
        if dose is not None:
            candidates.append(Entry(item, dose))
    chosen: list[Entry] = []
    chosen_ids = set()
    used = 0
    goals_done = set()
    for balance_goals in (True, False):
        for entry in candidates:
            if len(chosen) >= max_items:
                break
            if entry.item.id in chosen_ids or used + entry.daily_minutes > budget_min:
                continue
            if balance_goals and entry.item.goal in goals_done:
                continue
            goals_done.add(entry.item.goal)
            chosen.append(entry)
            chosen_ids.add(entry.item.id)
            used += entry.daily_minutes
    position = {entry.item.id: n for n, entry in enumerate(candidates)}
    return sorted(chosen, key=lambda e: (PHASES.index(e.item.phase), position[e.item.id]))
