"""Turning a page dict into response bytes: JSON (orjson) or an embeddable HTML fragment.

The fragment has one root element and no ``<html>``; Jinja autoescapes everything except the
block bodies, which were sanitized with an allowlist when the catalog was loaded.
"""

from __future__ import annotations

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape

_env = Environment(
    loader=PackageLoader("personalizer", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def dose_text(dose: dict) -> str:
    if "minutes" in dose and "reps" not in dose:
        text = f"{dose['minutes']} minutes"
    else:
        text = f"{dose['sets']} x {dose['reps']}"
        if dose.get("hold_s"):
            text += f", hold {dose['hold_s']} s"
        if dose.get("each_side"):
            text += ", each side"
    per_day = dose.get("per_day", 1)
    text += ", once a day" if per_day == 1 else f", {per_day} times a day"
    days = dose.get("days_per_week", 7)
    return text if days == 7 else text + f", {days} days a week"


_env.globals["dose_text"] = dose_text
_template = _env.get_template("page.html")


def to_json(page: dict) -> bytes:
    return orjson.dumps(page)


def to_html(page: dict, titles: dict[str, str], brand: str | None = None) -> bytes:
    return _template.render(page=page, titles=titles, brand=brand).strip().encode()
