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

from personalizer.vocabulary import (  # noqa: E402 - the word lists have one home
    CHANNELS,
    EASED_BY,
    KINDS,
    LEGS,
    LEVELS,
    LOCALES,
    RED_FLAGS,
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


class ContextSchema(ma.Schema):
    channel = StrictString(validate=validate.OneOf(CHANNELS), load_default="web")
    locale = StrictString(validate=validate.OneOf(LOCALES), load_default="en")
    minutes_per_day = _integer(5, 60, "Time budget of the daily routine.", load_default=15)


class ProfileSchema(ma.Schema):
    """A posture-assessment profile. Every part is optional; missing means not measured."""

    alignment = fields.Nested(AlignmentSchema, load_default=dict)
    symptoms = fields.Nested(SymptomsSchema, load_default=dict)
    red_flags = _word_set(RED_FLAGS)
    context = fields.Nested(ContextSchema, load_default=lambda: ContextSchema().load({}))


# Response schemas: they document the page in the OpenAPI document.


class WhySchema(ma.Schema):
    plugin = fields.String(required=True)
    reason = fields.String(required=True)


class DoseSchema(ma.Schema):
    sets = fields.Integer()
    reps = fields.Integer()
    hold_s = fields.Integer()
    minutes = fields.Integer()
    per_day = fields.Integer()
    days_per_week = fields.Integer()
    each_side = fields.Boolean()


class BlockSchema(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(BLOCK_KINDS))
    id = fields.String(required=True)
    title = fields.String(required=True)
    html = fields.String(required=True)
    why = fields.List(fields.Nested(WhySchema), required=True)
    level = fields.String()
    flags = fields.List(fields.String())
    dose = fields.Nested(DoseSchema)
    href = fields.String()
    commercial = fields.Boolean()


class TriageSchema(ma.Schema):
    level = fields.String(required=True, validate=validate.OneOf(TRIAGE_LEVELS))
    flags = fields.List(fields.String(), required=True)


class RoutineItemSchema(DoseSchema):
    id = fields.String(required=True)
    minutes = fields.Integer()


class RoutineSchema(ma.Schema):
    minutes = fields.Integer(required=True)
    items = fields.List(fields.Nested(RoutineItemSchema), required=True)


class PageSchema(ma.Schema):
    page_id = fields.String(required=True)
    content_version = fields.String(required=True)
    triage = fields.Nested(TriageSchema, required=True)
    blocks = fields.List(fields.Nested(BlockSchema), required=True)
    routine = fields.Nested(RoutineSchema, required=True)


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
