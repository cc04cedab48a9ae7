"""The wire contract (DESIGN section 2) as marshmallow schemas.

The profile schema is strict: unknown fields, wrong JSON types (a string where a number is
due, a number where a boolean is due), values out of range and unknown enum words are all
rejected, so a 422 can name every bad field by its path. Lists are de-duplicated and sorted
on load, which makes "the same answers in another order" the same profile.
"""

from __future__ import annotations

import math
import numbers

import marshmallow as ma
from marshmallow import fields, validate

from personalizer.vocabulary import (
    ACTION_KINDS,
    CHANNELS,
    EASED_BY,
    KINDS,
    LEGS,
    LEGS_SINCE_LAST,
    LEVELS,
    LOCALES,
    RED_FLAGS,
    ROUTINE_FELT,
    WORSE_WITH,
)

TRIAGE_LEVELS = LEVELS
BLOCK_KINDS = KINDS
MAX_LIST = 32


def flatten_errors(messages, prefix: str = ""):
    """marshmallow's nested error dict as ``(dotted.path, [messages])`` pairs."""
    if not isinstance(messages, dict):
        yield prefix.rstrip(".") or "_schema", list(messages)
        return
    for key, value in messages.items():
        # The object itself is at fault, not a field of it (a field named "_schema" is
        # reported like any other unknown field).
        if key == "_schema" and prefix and value != ["Unknown field."]:
            yield prefix.rstrip("."), [str(v) for v in value]
            continue
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from flatten_errors(value, path + ".")
        else:
            yield path, [str(v) for v in value]


class StrictNumber(fields.Float):
    """A JSON number and nothing else: no strings, no booleans, no NaN or infinity."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self.make_error("invalid")
        try:
            number = float(value)
        except OverflowError:  # an integer literal too large for a float
            raise self.make_error("special") from None
        if not math.isfinite(number):
            raise self.make_error("special")
        return number


class StrictInteger(fields.Integer):
    """A JSON integer (2.0 is accepted as 2; "2", true and 2.5 are not)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return int(value)


class StrictBoolean(fields.Boolean):
    """true or false, not 1, "yes" or "true"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictString(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return value


def _word_set(words):
    """A list of enum words; duplicates collapse and order is normalized."""
    return _SortedSet(
        StrictString(validate=validate.OneOf(words)),
        validate=validate.Length(max=MAX_LIST),
        metadata={"uniqueItems": False},
    )


class _SortedSet(fields.List):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list) and len(value) > MAX_LIST:
            raise ma.ValidationError(f"Longer than maximum length {MAX_LIST}.")
        return sorted(set(super()._deserialize(value, attr, data, **kwargs)))


def _number(low, high, description):
    return StrictNumber(validate=validate.Range(low, high), metadata={"description": description})


def _integer(low, high, description, **kwargs):
    return StrictInteger(
        validate=validate.Range(low, high), metadata={"description": description}, **kwargs
    )


class AlignmentSchema(ma.Schema):
    pelvic_tilt_deg = _number(-30, 45, "Sagittal pelvic tilt standing; + anterior, - posterior.")
    lumbar_lordosis_deg = _number(0, 100, "Lumbar curve angle standing.")
    pelvic_obliquity_deg = _number(-20, 20, "Frontal-plane pelvic tilt; + right side higher.")
    thoracic_kyphosis_deg = _number(0, 100, "Upper-back curve.")
    forward_head_cm = _number(0, 20, "Ear ahead of shoulder.")


class SymptomsSchema(ma.Schema):
    legs = StrictString(validate=validate.OneOf(LEGS))
    worse_with = _word_set(WORSE_WITH)
    eased_by = _word_set(EASED_BY)
    walking_tolerance_min = _integer(0, 600, "Minutes of walking before the legs force a stop.")
    numbness = StrictBoolean()
    weakness = StrictBoolean()
    pain_score = _integer(0, 10, "Typical pain, 0 to 10.")


def _text(description, **kwargs):
    return StrictString(metadata={"description": description}, **kwargs)


class ContextSchema(ma.Schema):
    channel = _text(
        "Where the page is shown (clinic: a partner's embed).",
        validate=validate.OneOf(CHANNELS),
        load_default="web",
    )
    locale = _text("Language of the page.", validate=validate.OneOf(LOCALES), load_default="en")
    minutes_per_day = _integer(5, 60, "Time budget of the daily routine, minutes.", load_default=15)
    visitor_id = _text(
        "Opaque id the client keeps for experiments (never stored or cached as given).",
        validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}\Z"),
    )


class FollowUpSchema(ma.Schema):
    """What the client kept from last time and sends back (the service stores nothing)."""

    weeks_on_routine = _integer(0, 104, "Weeks since the person started the routine.")
    routine_felt = _text("How the routine felt last week.", validate=validate.OneOf(ROUTINE_FELT))
    legs_since_last = _text(
        "How the legs have been since last time.", validate=validate.OneOf(LEGS_SINCE_LAST)
    )
    previous_walking_tolerance_min = _integer(
        0, 600, "Walking tolerance reported last time, minutes."
    )
    flare_up = StrictBoolean(metadata={"description": "A flare-up since last time."})
    stage = _integer(0, 10, "The progression stage the last page returned in its follow_up.")


class ProfileSchema(ma.Schema):
    """A posture-assessment profile. Every part is optional; missing means not measured
    (a missing section is absent from the profile plugins see, never an empty one)."""

    alignment = fields.Nested(AlignmentSchema)
    symptoms = fields.Nested(SymptomsSchema)
    red_flags = _word_set(RED_FLAGS)
    context = fields.Nested(ContextSchema, load_default=lambda: ContextSchema().load({}))
    follow_up = fields.Nested(FollowUpSchema)


# Response schemas: they document the page in the OpenAPI document.


def _out(field, description, **kwargs):
    return field(metadata={"description": description}, **kwargs)


class WhySchema(ma.Schema):
    plugin = _out(fields.String, "The plugin that put the block there.", required=True)
    reason = _out(fields.String, "Why, in words for the person.", required=True)


class SourceSchema(ma.Schema):
    title = _out(fields.String, "Title of the source.", required=True)
    publisher = _out(fields.String, "Journal, organisation or site.", required=True)
    url = _out(fields.String, "Where to read it (https).", required=True)
    year = _out(fields.Integer, "Year of publication or of reading.", required=True)


class DoseSchema(ma.Schema):
    sets = _out(fields.Integer, "Rounds of the exercise.")
    reps = _out(fields.Integer, "Repetitions in a round.")
    hold_s = _out(fields.Integer, "Seconds each repetition is held.")
    minutes = _out(fields.Integer, "Minutes of a timed activity (walking, cycling).")
    per_day = _out(fields.Integer, "Times a day.")
    days_per_week = _out(fields.Integer, "Days a week (7: every day).")
    each_side = _out(fields.Boolean, "Done on each side.")
    text = _out(fields.String, "The dose in plain words.")


class ActionSchema(ma.Schema):
    kind = _out(fields.String, "call, find_care or link.", validate=validate.OneOf(ACTION_KINDS))
    label = _out(fields.String, "Button text.")
    href = _out(fields.String, "tel: link or absolute URL.")


class MediaSchema(ma.Schema):
    url = _out(fields.String, "Absolute URL of the picture (cacheable for a year).")
    alt = _out(fields.String, "Alt text describing the movement.")
    width = _out(fields.Integer, "Width in CSS pixels.")
    height = _out(fields.Integer, "Height in CSS pixels.")
    type = _out(fields.String, "Media type, such as image/svg+xml.")


class BlockSchema(ma.Schema):
    kind = _out(
        fields.String,
        "alert, section, exercise or cta.",
        required=True,
        validate=validate.OneOf(BLOCK_KINDS),
    )
    id = _out(fields.String, "Content item id.", required=True)
    title = _out(fields.String, "Heading.", required=True)
    html = _out(fields.String, "Sanitized HTML body.", required=True)
    why = _out(
        fields.List,
        "Why the block is on this page.",
        cls_or_instance=fields.Nested(WhySchema),
        required=True,
    )
    lang = _out(fields.String, "Language of the block.")
    sources = _out(
        fields.List, "Where its facts come from.", cls_or_instance=fields.Nested(SourceSchema)
    )
    last_reviewed = _out(fields.String, "Date the content was last reviewed (ISO).")
    next_review = _out(fields.String, "Date its next review is due (ISO).")
    summary = _out(fields.String, "One-line summary.")
    level = _out(fields.String, "Alerts: emergency, urgent, assess or general.")
    label = _out(fields.String, "Alerts: the level in words.")
    flags = _out(fields.List, "Alerts: the red flags it answers.", cls_or_instance=fields.String())
    actions = _out(fields.List, "Alerts: what to do.", cls_or_instance=fields.Nested(ActionSchema))
    steps = _out(fields.List, "Exercises: the steps.", cls_or_instance=fields.String())
    dose = _out(fields.Nested, "Exercises: how much and how often.", nested=DoseSchema)
    cautions = _out(fields.List, "Exercises: take care.", cls_or_instance=fields.String())
    ease_off = _out(fields.String, "Exercises: when to do less or stop.")
    progression = _out(fields.String, "Exercises: what to do when it feels easy.")
    variant = _out(fields.Boolean, "Exercises: this week, do the harder version (progression).")
    media = _out(fields.List, "Exercises: pictures.", cls_or_instance=fields.Nested(MediaSchema))
    href = _out(fields.String, "Calls to action: absolute link.")
    commercial = _out(fields.Boolean, "Calls to action: a paid offer.")
    owner = _out(fields.String, "Calls to action: ours, partner or plugin.")


class TriageSchema(ma.Schema):
    level = _out(
        fields.String,
        "emergency, urgent, assess or none.",
        required=True,
        validate=validate.OneOf(TRIAGE_LEVELS),
    )
    label = _out(fields.String, "The level in words.")
    flags = _out(
        fields.List, "Red flags behind the level.", cls_or_instance=fields.String(), required=True
    )


class RoutineItemSchema(DoseSchema):
    id = _out(fields.String, "Exercise id (its block on the page).", required=True)
    title = _out(fields.String, "Exercise title.")
    variant = _out(fields.Boolean, "Do the harder version this week.")


class RoutineDaySchema(ma.Schema):
    day = _out(fields.String, "Day of the week.")
    items = _out(fields.List, "Exercise ids done that day.", cls_or_instance=fields.String())


class RoutineSchema(ma.Schema):
    minutes = _out(fields.Integer, "Minutes a day, at most.", required=True)
    items = _out(
        fields.List,
        "The exercises with their doses.",
        cls_or_instance=fields.Nested(RoutineItemSchema),
        required=True,
    )
    week = _out(fields.List, "A week plan.", cls_or_instance=fields.Nested(RoutineDaySchema))


class SummarySchema(ma.Schema):
    title = _out(fields.String, "What this page is.")
    text = _out(fields.String, "For whom, in two lines.")


class PageSchema(ma.Schema):
    page_id = _out(fields.String, "Id of this page (same decision, same id).", required=True)
    content_version = _out(fields.String, "Version of the content catalog.", required=True)
    lang = _out(fields.String, "Language of the page.")
    summary = _out(fields.Nested, "What the page is and for whom.", nested=SummarySchema)
    triage = _out(
        fields.Nested, "How urgent the reported red flags are.", nested=TriageSchema, required=True
    )
    blocks = _out(
        fields.List,
        "The page, in order.",
        cls_or_instance=fields.Nested(BlockSchema),
        required=True,
    )
    routine = _out(fields.Nested, "The daily routine.", nested=RoutineSchema, required=True)
    follow_up = _out(fields.Dict, "What to send back next time (keep it on the client).")
    experiments = _out(
        fields.List, "Experiments this page is part of.", cls_or_instance=fields.Dict()
    )


class PluginSchema(ma.Schema):
    name = fields.String(required=True)
    version = fields.String(allow_none=True)
    source = fields.String(required=True)
    package = fields.String(allow_none=True)
    hooks = fields.List(fields.String(), required=True)
    enabled = fields.Boolean(required=True)
    error = fields.String(allow_none=True)
    quarantined_s = fields.Float(allow_none=True)


class CatalogItemSchema(ma.Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    tags = fields.List(fields.String(), required=True)


class CatalogSchema(ma.Schema):
    content_version = fields.String(required=True)
    items = fields.List(fields.Nested(CatalogItemSchema), required=True)


class HealthSchema(ma.Schema):
    status = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String())
