"""HTTP endpoints of experiments: ``POST /v1/events`` (outcome events, rate-limited like
pages) and ``GET /v1/experiments/<key>`` (the report; an operations endpoint, behind
``PERSONALIZER_OPS_TOKEN`` when it is set, see access.py).

    init_service(app, known_plugins, catalog)  # in app.init_service: experiments and events
    register(api)                              # with the other blueprints
"""

from __future__ import annotations

import logging
import threading
import time

import marshmallow as ma
import redis
from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import fields, validate

from personalizer import access, config
from personalizer.api import ERROR_SCHEMA, MAX_LISTED_ERRORS, parse_json, read_raw
from personalizer.events import EventsUnavailable, report, store_from_settings, visitor_hash
from personalizer.experiments import Experiments
from personalizer.schemas import StrictInteger, StrictString, flatten_errors

log = logging.getLogger(__name__)

bp = Blueprint("experiments", __name__, url_prefix="/v1", description="Experiments and events")

EVENTS = ("view", "cta_click", "routine_started", "routine_done", "check_in")
MAX_EVENTS = 100
RETRY_AFTER_S = 5
AT_MIN, AT_MAX = 1_577_836_800_000, 4_102_444_800_000  # 2020-01-01 .. 2100-01-01, ms
ID = r"^[A-Za-z0-9_-]{1,64}\Z"
BLOCK = r"^[a-z0-9]+(-[a-z0-9]+)*\Z"
EXPERIMENT = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z"
EXTENSION = "personalizer_experiments"


def _text(pattern: str, description: str, **kwargs):
    return StrictString(
        validate=validate.Regexp(pattern), metadata={"description": description}, **kwargs
    )


class EventSchema(ma.Schema):
    page_id = _text(ID, "The page_id of the page shown.", required=True)
    visitor_id = _text(
        ID,
        "The visitor id the page was asked with (stored only as a keyed hash).",
        required=True,
    )
    event = StrictString(
        required=True, validate=validate.OneOf(EVENTS), metadata={"description": "What happened."}
    )
    block_id = _text(BLOCK, "The block acted on (cta_click).")
    experiment = _text(EXPERIMENT, "An experiment the page listed.")
    variation = StrictInteger(
        validate=validate.Range(0, 99), metadata={"description": "Its variation on the page."}
    )
    at = StrictInteger(
        validate=validate.Range(AT_MIN, AT_MAX),
        metadata={"description": "When it happened, in milliseconds since 1970 (UTC)."},
    )


class EventsSchema(ma.Schema):
    events = fields.List(fields.Nested(EventSchema), required=True)


class AcceptedSchema(ma.Schema):
    accepted = fields.Integer(required=True)


EVENTS_SCHEMA = EventsSchema()

# The request as OpenAPI describes it: EventSchema, plus what marshmallow does not say in a
# schema (1 to 100 events; an experiment and its variation come together).
_TEXT = {"type": "string"}
REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["events"],
    "properties": {
        "events": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_EVENTS,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["page_id", "visitor_id", "event"],
                "properties": {
                    "page_id": {**_TEXT, "pattern": ID, "description": "The page's page_id."},
                    "visitor_id": {
                        **_TEXT,
                        "pattern": ID,
                        "description": "The visitor id the page was asked with (stored only "
                        "as a keyed hash).",
                    },
                    "event": {"type": "string", "enum": list(EVENTS)},
                    "block_id": {**_TEXT, "pattern": BLOCK, "description": "The block acted on."},
                    "experiment": {
                        **_TEXT,
                        "pattern": EXPERIMENT,
                        "description": "An experiment the page listed (409 when it is not "
                        "running).",
                    },
                    "variation": {"type": "integer", "minimum": 0, "maximum": 99},
                    "at": {
                        "type": "integer",
                        "minimum": AT_MIN,
                        "maximum": AT_MAX,
                        "description": "When it happened, in milliseconds since 1970 (UTC).",
                    },
                },
                "anyOf": [
                    {"required": ["experiment", "variation"]},
                    {"not": {"anyOf": [{"required": ["experiment"]}, {"required": ["variation"]}]}},
                ],
            },
        }
    },
}


def _state():
    return current_app.extensions[EXTENSION]


def _refuse(errors: dict, total: int | None = None):
    listed = {path[:120]: m for path, m in list(errors.items())[:MAX_LISTED_ERRORS]}
    count = len(errors) if total is None else total
    abort(422, message=f"invalid events: {count} field(s) at fault", errors=listed)


def _pairs(events: list[dict]) -> dict:
    """An experiment comes with its variation, and a variation with its experiment (422)."""
    errors: dict[str, list[str]] = {}
    for i, event in enumerate(events):
        key, variation = event.get("experiment"), event.get("variation")
        if (key is None) != (variation is None):
            missing = "variation" if key is not None else "experiment"
            errors[f"events.{i}.{missing}"] = ["experiment and variation come together"]
    return errors


def _running(events: list[dict], experiments: Experiments) -> dict:
    """Events of an experiment that is not running, or of a variation it does not have: the
    request is well formed but does not fit the experiments loaded now (409)."""
    errors: dict[str, list[str]] = {}
    for i, event in enumerate(events):
        key, variation = event.get("experiment"), event.get("variation")
        if key is None:
            continue
        definition = experiments.definitions.get(key)
        if definition is None:
            errors[f"events.{i}.experiment"] = ["no experiment with this key is running"]
        elif variation >= definition.variations:
            errors[f"events.{i}.variation"] = [
                f"this experiment has variations 0 to {definition.variations - 1}"
            ]
    return errors


class EventLimiter:
    """Fixed windows for POST /v1/events, with the limits of POST /v1/pages but buckets of
    their own (so events never use up a page budget): in Redis when it is set (the event
    store's client, so every URL scheme of REDIS_URL works), shared by every worker, and in
    this process's memory while Redis fails (one try within the timeout, then memory for
    ``COOLDOWN_S``), as the page limits do. A window starts with its first call and lasts the
    limit's period; every call in it counts."""

    COOLDOWN_S = 2.0
    MEMORY_KEYS = 10_000

    def __init__(self, client, prefix: str):
        self.client = client
        self.prefix = prefix + "ratelimit:events:"
        self._memory: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._items: dict[str, list] = {}

    def _windows(self, limit: str) -> list[tuple[int, float]]:
        """(amount, seconds) of every part of the limit ("10/second; 500/hour" is two)."""
        from limits import parse_many

        if limit not in self._items:
            self._items[limit] = [(i.amount, float(i.get_expiry())) for i in parse_many(limit)]
        return self._items[limit]

    def _shared(self, keys: list[str], windows) -> list[tuple[int, float]]:
        pipe = self.client.pipeline(transaction=False)
        for key, (_amount, seconds) in zip(keys, windows, strict=True):
            pipe.set(key, 0, nx=True, px=int(seconds * 1000))
            pipe.incr(key)
            pipe.pttl(key)
        answers = pipe.execute()
        now, counts = time.time(), []
        for i, (key, (_amount, seconds)) in enumerate(zip(keys, windows, strict=True)):
            count, left = answers[3 * i + 1], answers[3 * i + 2]
            if left < 0:  # expired between SET and INCR: give the new window its period
                self.client.pexpire(key, int(seconds * 1000))
                left = int(seconds * 1000)
            counts.append((count, now + left / 1000))
        return counts

    def _local(self, keys: list[str], windows) -> list[tuple[int, float]]:
        now, counts = time.time(), []
        with self._lock:
            if len(self._memory) > self.MEMORY_KEYS:
                self._memory = {k: v for k, v in self._memory.items() if v[1] > now}
            for key, (_amount, seconds) in zip(keys, windows, strict=True):
                count, reset = self._memory.get(key, (0, 0.0))
                if reset <= now:
                    count, reset = 0, now + seconds
                self._memory[key] = (count + 1, reset)
                counts.append((count + 1, reset))
        return counts

    def hit(self, limit: str, *parts: str) -> tuple[bool, float, int, int]:
        """Count a call; (allowed, end of the window closest to running out, calls it has
        left, its amount)."""
        windows = self._windows(limit)
        name = self.prefix + "/".join(parts)
        keys = [f"{name}:{amount}/{int(seconds)}" for amount, seconds in windows]
        counts = None
        if self.client is not None and self._open_until <= time.monotonic():
            try:
                counts = self._shared(keys, windows)
            except (redis.RedisError, OSError) as exc:
                log.warning("event rate limit storage unavailable (%s)", type(exc).__name__)
                self._open_until = time.monotonic() + self.COOLDOWN_S
        if counts is None:
            counts = self._local(keys, windows)
        rows = [
            (amount - count, reset, amount, count > amount)
            for (amount, _s), (count, reset) in zip(windows, counts, strict=True)
        ]
        left, reset, amount, _ = min(rows, key=lambda r: (not r[3], r[0]))
        return not any(r[3] for r in rows), reset, left, amount


def _rate_limit() -> dict:
    """The limits of POST /v1/pages: per partner for secret keys, per partner and address for
    publishable keys, per address when anonymous. Authentication first, as for pages (401/403
    in the one error shape). Answers the X-RateLimit headers for the response."""
    cfg = current_app.config
    partner = access.current_partner()
    if not cfg["RATE_LIMIT_ENABLED"]:
        return {}
    address = request.remote_addr or "unknown"
    if partner is None:
        limit, keys = cfg["RATE_LIMIT"], ("addr", address)
    elif access.key_kind() == "secret":
        limit, keys = partner.rate_limit or cfg["RATE_LIMIT"], ("partner", partner.id)
    else:
        limit, keys = cfg["BROWSER_RATE_LIMIT"], ("partner", partner.id, address)
    allowed, reset, remaining, amount = _state()["limiter"].hit(limit, *keys)
    headers = {
        "X-RateLimit-Limit": str(amount),
        "X-RateLimit-Remaining": str(max(0, remaining)),
        "X-RateLimit-Reset": str(int(reset)),
    }
    if not allowed:
        retry = max(1, int(reset - time.time()) + 1)
        abort(
            429,
            message="too many events from this client; see Retry-After",
            headers={**headers, "Retry-After": str(retry)},
        )
    return headers


def _unavailable():
    abort(
        503,
        message="events cannot be stored or read right now; try again later",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def _responses(codes: dict) -> dict:
    return {
        code: {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA}}},
        }
        for code, text in codes.items()
    }


@bp.route("/events")
class Events(MethodView):
    @bp.doc(
        requestBody={"required": True, "content": {"application/json": {"schema": REQUEST}}},
        responses={
            "202": {
                "description": "Stored",
                "content": {"application/json": {"schema": AcceptedSchema}},
            },
            **_responses(
                {
                    "400": "Malformed JSON",
                    "401": "A partner key is missing or not valid",
                    "413": "Body larger than the limit",
                    "415": "Body is not JSON",
                    "409": "An event of an experiment not running now (errors name the field)",
                    "422": f"Invalid events (at most {MAX_EVENTS}); errors name each field",
                    "429": "Too many requests; see Retry-After",
                    "503": "The event store is unavailable; try again (Retry-After)",
                }
            ),
        },
    )
    def post(self):
        """Store a batch of outcome events (view, cta_click, routine_started, routine_done,
        check_in); the visitor id is stored only as a keyed hash"""
        limit_headers = _rate_limit()
        body = parse_json(read_raw())
        if not isinstance(body, dict):
            _refuse({"_body": ["not an object"]})
        batch = body.get("events")
        if isinstance(batch, list) and len(batch) > MAX_EVENTS:
            _refuse({"events": [f"at most {MAX_EVENTS} events in one request"]})
        if isinstance(batch, list) and not batch:
            _refuse({"events": ["at least one event"]})
        try:
            loaded = EVENTS_SCHEMA.load(body)
        except ma.ValidationError as exc:
            _refuse(dict(flatten_errors(exc.messages)))
        errors = _pairs(loaded["events"])
        if errors:
            _refuse(errors)
        state = _state()
        errors = _running(loaded["events"], state["experiments"])
        if errors:
            listed = {path[:120]: m for path, m in list(errors.items())[:MAX_LISTED_ERRORS]}
            abort(409, message="events of experiments not running now", errors=listed)
        secret = state["secret"]
        records = [
            {
                "page_id": e["page_id"],
                "visitor": visitor_hash(secret, e["visitor_id"]),
                "event": e["event"],
                "block_id": e.get("block_id"),
                "experiment": e.get("experiment"),
                "variation": e.get("variation"),
                "at": e.get("at"),
            }
            for e in loaded["events"]
        ]
        try:
            state["store"].add(records)
        except EventsUnavailable:
            _unavailable()
        return {"accepted": len(records)}, 202, limit_headers


class UpliftSchema(ma.Schema):
    value = fields.Float(allow_none=True)
    ci = fields.List(fields.Float(allow_none=True))
    note = fields.String()


class VariationReportSchema(ma.Schema):
    variation = fields.Integer(required=True)
    visitors = fields.Integer(required=True)
    conversions = fields.Dict(keys=fields.String(), values=fields.Integer())
    rate = fields.Dict(keys=fields.String(), values=fields.Float())
    uplift = fields.Dict(keys=fields.String(), values=fields.Nested(UpliftSchema))
    chance_to_win = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True))


class ReportSchema(ma.Schema):
    key = fields.String(required=True)
    srm_p = fields.Float(required=True)
    srm_warning = fields.Boolean()
    weights = fields.List(fields.Float())
    visitors_in_several_variations = fields.Integer()
    variations = fields.List(fields.Nested(VariationReportSchema), required=True)


@bp.route("/experiments/<string:key>")
class ExperimentReport(MethodView):
    @bp.response(200, ReportSchema())
    @bp.doc(
        responses=_responses(
            {
                "401": "The operations token is missing or wrong",
                "404": "No experiment with this key",
                "503": "The event store is unavailable",
            }
        )
    )
    def get(self, key):
        """Per variation: visitors, conversions and rate per event, relative uplift against
        variation 0 with its 95 % interval and chance to beat control (gbstats), and the
        sample-ratio-mismatch p-value"""
        state = _state()
        if key not in state["experiments"].definitions:
            abort(404, message="no experiment with this key")
        try:
            return report(state["experiments"], state["store"], key)
        except EventsUnavailable:
            _unavailable()


def init_service(app, known_plugins=None, catalog=None) -> None:
    """The experiments (checked: a broken payload stops start-up) and the event store."""
    cfg = app.config
    experiments = Experiments.from_settings(cfg, known_plugins=known_plugins, catalog=catalog)
    store = store_from_settings(cfg)
    if cfg["REDIS_URL"] and cfg["EVENTS_KEY_SECRET"] == config.DEV_EVENTS_SECRET:
        log.warning("EVENTS_KEY_SECRET is the development default; set a secret")
    app.extensions[EXTENSION] = {
        "experiments": experiments,
        "store": store,
        "secret": str(cfg["EVENTS_KEY_SECRET"]).encode(),
        "limiter": EventLimiter(getattr(store, "client", None), cfg["CACHE_PREFIX"]),
    }


def register(api) -> None:
    api.register_blueprint(bp)
    # The key parameter documented on the operation rather than on the path, so every key of
    # a path item in /openapi.json is a method (a path-level "parameters" list is valid
    # OpenAPI, but tools listing a path's methods from its keys count it as one).
    paths = getattr(api.spec, "_paths", {})
    item = paths.get("/v1/experiments/{key}")
    if item and item.get("parameters") and "get" in item:
        item["get"]["parameters"] = item.pop("parameters") + item["get"].get("parameters", [])
