"""The partner embed: the widget's script and stylesheet, and a demo page that uses them.

``/embed.js`` and ``/embed.css`` are what a partner's page loads (see docs/partners.md);
``/demo`` is a form over every field of the profile that renders through the same script.
The demo page sets its own Content-Security-Policy (no inline script or style at all), which
the app's after_request hook keeps because it only fills in a policy when none is set.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, render_template, send_from_directory

from personalizer import safety
from personalizer.schemas import (
    CHANNELS,
    EASED_BY,
    LEGS,
    LOCALES,
    RED_FLAGS,
    WORSE_WITH,
    AlignmentSchema,
    ContextSchema,
    FollowUpSchema,
    SymptomsSchema,
)
from personalizer.vocabulary import LEGS_SINCE_LAST, ROUTINE_FELT

STATIC = Path(__file__).resolve().parent / "static"
MAX_AGE = 300
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'"
)
ASSETS = {
    "embed.js": "text/javascript",
    "embed.css": "text/css",
    "demo.js": "text/javascript",
    "demo.css": "text/css",
}

bp = Blueprint("embed", __name__)

# Words for the demo form. Ranges, enum words and flag levels come from the schema and the
# safety module, so the form follows the contract when it changes.
ALIGNMENT_LABELS = {
    "pelvic_tilt_deg": ("Pelvic tilt", "degrees; + tipped forward, - tucked under", 0.5),
    "lumbar_lordosis_deg": ("Lower-back curve (lordosis)", "degrees", 1),
    "pelvic_obliquity_deg": ("Uneven hips (obliquity)", "degrees; + right side higher", 0.5),
    "thoracic_kyphosis_deg": ("Upper-back curve (kyphosis)", "degrees", 1),
    "forward_head_cm": ("Head ahead of shoulders", "cm", 0.5),
}
ALIGNMENT_DEFAULTS = {
    "pelvic_tilt_deg": 17.5,
    "lumbar_lordosis_deg": 62,
    "pelvic_obliquity_deg": -2.0,
    "thoracic_kyphosis_deg": 48,
    "forward_head_cm": 5.5,
}
POSITION_WORDS = {
    "standing": "Standing",
    "walking": "Walking",
    "arching_back": "Arching the back",
    "bending_forward": "Bending forward",
    "sitting": "Sitting",
    "lying_down": "Lying down",
    "leaning_forward": "Leaning forward",
}
LEVEL_WORDS = {
    "emergency": "Act now (emergency)",
    "urgent": "See a clinician within a day or two (urgent)",
    "assess": "Book an assessment soon",
}


def _range(schema, name) -> tuple[float, float]:
    validator = next(v for v in schema.fields[name].validators if hasattr(v, "min"))
    return validator.min, validator.max


FOLLOW_UP_WORDS = {
    "too_easy": "Too easy",
    "about_right": "About right",
    "too_hard": "Too hard",
    "better": "Better",
    "same": "The same",
    "worse": "Worse",
}


def demo_form() -> dict:
    """Everything the demo template needs to draw a control for every profile field."""
    alignment_schema, symptoms_schema = AlignmentSchema(), SymptomsSchema()
    alignment = []
    for name in alignment_schema.fields:
        label, unit, step = ALIGNMENT_LABELS[name]
        low, high = _range(alignment_schema, name)
        alignment.append(
            {
                "name": name,
                "label": label,
                "unit": unit,
                "min": low,
                "max": high,
                "step": step,
                "value": ALIGNMENT_DEFAULTS[name],
            }
        )
    flags = {level: [] for level in LEVEL_WORDS}
    for flag in RED_FLAGS:
        words = safety.FLAG_WORDS.get(flag, flag.replace("_", " "))
        flags[safety.CONTRACT_LEVELS[flag]].append((flag, words[:1].upper() + words[1:]))
    return {
        "alignment": alignment,
        "legs": LEGS,
        "worse_with": [(w, POSITION_WORDS.get(w, w)) for w in WORSE_WITH],
        "eased_by": [(w, POSITION_WORDS.get(w, w)) for w in EASED_BY],
        "walking": _range(symptoms_schema, "walking_tolerance_min"),
        "pain": _range(symptoms_schema, "pain_score"),
        "flag_groups": [(LEVEL_WORDS[level], flags[level]) for level in LEVEL_WORDS],
        "channels": CHANNELS,
        "locales": LOCALES,
        "minutes": _range(ContextSchema(), "minutes_per_day"),
        "weeks": _range(FollowUpSchema(), "weeks_on_routine"),
        "stage": _range(FollowUpSchema(), "stage"),
        "previous_walking": _range(FollowUpSchema(), "previous_walking_tolerance_min"),
        "routine_felt": [(w, FOLLOW_UP_WORDS[w]) for w in ROUTINE_FELT],
        "legs_since_last": [(w, FOLLOW_UP_WORDS[w]) for w in LEGS_SINCE_LAST],
    }


def _asset(name: str) -> Response:
    response = send_from_directory(STATIC, name, mimetype=ASSETS[name], max_age=MAX_AGE)
    response.cache_control.public = True
    return response


@bp.get("/embed.js")
def embed_js():
    return _asset("embed.js")


@bp.get("/embed.css")
def embed_css():
    return _asset("embed.css")


@bp.get("/demo.js")
def demo_js():
    return _asset("demo.js")


@bp.get("/demo.css")
def demo_css():
    return _asset("demo.css")


@bp.get("/demo")
def demo():
    response = Response(render_template("demo.html", form=demo_form()), mimetype="text/html")
    response.headers["Content-Security-Policy"] = DEMO_CSP
    return response
