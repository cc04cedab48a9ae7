"""Turning a page dict into response bytes: JSON (orjson) or an embeddable HTML fragment.

The fragment has one root element and no ``<html>``; Jinja autoescapes everything except the
block bodies, which were sanitized with an allowlist when the catalog was loaded.

The fragment is laid out for people, not in the engine's block order: the summary, the level
alert (emergency, urgent or assess), the routine as a short plan, the warning signs, the
exercises, the reading sections, and the calls to action last (free ones before our paid
ones). The engine's order is kept within each group. Doses are shown as the page words them
(``dose.text`` and the routine items' ``text``); ``personalizer.dose`` words one only for a
page that does not carry the text yet.
"""

from __future__ import annotations

import re

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape

from personalizer import dose as dose_words

_env = Environment(
    loader=PackageLoader("personalizer", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_template = _env.get_template("page.html")

LEVEL_ALERTS = ("emergency", "urgent", "assess")
DEFAULT_LABELS = {
    "emergency": "Emergency",
    "urgent": "Urgent",
    "assess": "Get checked soon",
    "general": "Warning signs",
}
DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
ORDERED_DAYS = list(DAY_NAMES.values())
# Days that spread n sessions over a week, for pages whose routine names no days of its own.
SPREAD = {
    1: ["Monday"],
    2: ["Monday", "Thursday"],
    3: ["Monday", "Wednesday", "Friday"],
    4: ["Monday", "Tuesday", "Thursday", "Friday"],
    5: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
    6: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
}


def _day_name(day) -> str:
    if isinstance(day, int) and 1 <= day <= 7:
        return ORDERED_DAYS[day - 1]
    text = str(day).strip()
    return DAY_NAMES.get(text[:3].lower(), text[:1].upper() + text[1:])


def _and(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _dose_text(dose: dict | None) -> str:
    if not dose:
        return ""
    if dose.get("text"):
        return dose["text"]
    try:
        return dose_words.describe(dose)
    except (KeyError, TypeError):
        return ""


MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _date(value) -> str:
    """An ISO date in words ("1 December 2026"); anything else as it is."""
    text = str(value or "")
    try:
        year, month, day = (int(part) for part in text[:10].split("-"))
        return f"{day} {MONTHS[month - 1]} {year}"
    except (ValueError, IndexError):
        return text


def _reasons(block: dict) -> list[str]:
    """The block's reasons in plain words, each once, first letter capitalised."""
    seen, out = set(), []
    for why in block.get("why") or []:
        reason = str(why.get("reason", "")).strip()
        if reason and reason.lower() not in seen:
            seen.add(reason.lower())
            out.append(reason[:1].upper() + reason[1:])
    return out


EASE_OFF_OPENINGS = (
    "ease off or stop if ",
    "ease off or stop when ",
    "ease off when ",
    "ease off if ",
    "stop if ",
    "stop when ",
)


def _ease_off(text: str | None) -> str:
    """What follows "Ease off or stop if" (the template's words) in the exercise's rule."""
    text = (text or "").strip()
    lowered = text.lower()
    for opening in EASE_OFF_OPENINGS:
        if lowered.startswith(opening):
            return text[len(opening) :]
    return text[:1].lower() + text[1:]


_FIRST_LIST = re.compile(r"\A\s*<ol>(.*?)</ol>\s*", re.S)


def _exercise_body(block: dict) -> tuple[list[str] | None, str]:
    """The steps to show as a list, and the rest of the exercise's HTML (its tips).

    An exercise's ``html`` opens with its steps as a list, then tips. With ``steps`` given,
    the list is drawn from them and only the tips are kept from the HTML; an HTML body of
    another shape is shown whole instead, so nothing is lost or said twice.
    """
    html = block.get("html") or ""
    steps = block.get("steps") or None
    if not steps:
        return None, html
    match = _FIRST_LIST.match(html)
    if html and not (match and match.group(1).count("<li") == len(steps)):
        return None, html
    return steps, html[match.end() :].strip() if match else ""


def _alert(block: dict, missing_level: str = "general") -> dict:
    level = block.get("level") or missing_level
    label = block.get("label") or DEFAULT_LABELS.get(level, "Important")
    title = block.get("title", "")
    show_label = not title.lower().startswith(label.lower())
    return {**block, "level": level, "label": label, "show_label": show_label}


def _routine(page: dict, titles: dict[str, str], exercise_ids: set[str]) -> dict | None:
    routine = page.get("routine") or {}
    items = routine.get("items") or []
    if not items:
        return None
    days_of: dict[str, list[str]] = {}
    for entry in routine.get("week") or []:
        for item_id in entry.get("items") or []:
            days_of.setdefault(item_id, []).append(_day_name(entry.get("day")))
    groups: dict[str, list[dict]] = {}
    weekly = False
    for item in items:
        days = item.get("days_per_week", 7)
        if days >= 7:
            when = "Every day"
        else:
            weekly = True
            named = days_of.get(item["id"])
            if named and len(named) < 7:
                when = "On " + _and(named)
            else:
                when = "On 1 day a week" if days == 1 else f"On {days} days a week"
                if days in SPREAD:
                    when += ", for example " + (
                        "Monday to Friday" if days == 5 else _and(SPREAD[days])
                    )
        text = item.get("text") or _dose_text(item)
        groups.setdefault(when, []).append(
            {
                "id": item["id"],
                "title": item.get("title") or titles.get(item["id"], item["id"]),
                "text": text,
                "each_side": bool(item.get("each_side")) and "each side" not in text,
                "linked": item["id"] in exercise_ids,
            }
        )
    numbered, start = [], 1  # one numbering across the groups: the routine's order
    for when, entries in groups.items():
        numbered.append((when, entries, start))
        start += len(entries)
    return {
        "minutes": routine.get("minutes"),
        "groups": numbered,
        "weekly": weekly,
        "count": len(items),
    }


def layout(page: dict, titles: dict[str, str] | None = None) -> dict:
    """The page's blocks in the order people read them, with what the template shows."""
    titles = titles or {}
    level_alerts, warnings, exercises, sections, free, paid = [], [], [], [], [], []
    triage = (page.get("triage") or {}).get("level")
    for block in page.get("blocks") or []:
        kind = block.get("kind")
        if kind == "alert":
            # A page without alert levels (contract v1): its first alert is the triage's.
            first = triage in LEVEL_ALERTS and not level_alerts
            alert = _alert(block, triage if first else "general")
            (level_alerts if alert["level"] in LEVEL_ALERTS else warnings).append(alert)
        elif kind == "exercise":
            steps, tips = _exercise_body(block)
            exercises.append(
                {
                    **block,
                    "dose_text": _dose_text(block.get("dose")),
                    "ease_off_rest": _ease_off(block.get("ease_off")),
                    "steps": steps,
                    "tips": tips,
                }
            )
        elif kind == "cta":
            (paid if block.get("commercial") else free).append(block)
        else:
            sections.append(block)
    routine = _routine(page, titles, {b["id"] for b in exercises})
    return {
        "level_alerts": level_alerts,
        "warnings": warnings,
        "routine": routine,
        "exercises": exercises,
        "sections": sections,
        "ctas": free + paid,
    }


_env.globals["reasons"] = _reasons
_env.filters["date"] = _date


def to_json(page: dict) -> bytes:
    return orjson.dumps(page)


def to_html(page: dict, titles: dict[str, str] | None = None, brand: str | None = None) -> bytes:
    parts = layout(page, titles)
    return _template.render(page=page, parts=parts, brand=brand).strip().encode()
