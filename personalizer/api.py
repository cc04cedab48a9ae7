"""HTTP endpoints: the v1 API and the operational ones."""

from __future__ import annotations

import json

import marshmallow as ma
import orjson
from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from werkzeug.http import quote_etag

from personalizer import access
from personalizer.schemas import (
    CatalogSchema,
    HealthSchema,
    PageSchema,
    PluginSchema,
    ProfileSchema,
    flatten_errors,
)

blp = Blueprint("v1", __name__, url_prefix="/v1", description="Personalized pages")
ops = Blueprint("ops", __name__, description="Health and readiness")

PROFILE_SCHEMA = ProfileSchema()
ERROR_SCHEMA = "#/components/schemas/Error"
ERRORS = {
    "400": "Malformed JSON, or a key in the query string",
    "401": "A partner key is missing or not valid (WWW-Authenticate: Bearer)",
    "403": "The publishable key is used from an origin not allowed",
    "413": "Body larger than the limit",
    "415": "Body is not JSON, or has a content coding other than identity",
    "422": "Invalid profile; errors name each field by its path",
    "429": "Too many requests for this key; see Retry-After",
}
MAX_LISTED_ERRORS = 50
JSON_TYPES = ("application/json",)


def service():
    return current_app.extensions["personalizer"]


class BadJson(ValueError):
    pass


def _object(pairs):
    """A JSON object, refusing a key given twice: which value would win is not obvious,
    and a dropped red flag must never pass silently."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise BadJson("a key appears twice in one object")
    return obj


def _constant(name):
    raise BadJson(f"{name} is not valid JSON")


def read_body(limit: int) -> bytes:
    """The body, or 413 when it is larger than the limit, with or without a Content-Length
    (a chunked body is read up to one byte past the limit, never further)."""
    if request.content_length is not None or not request.environ.get("wsgi.input_terminated"):
        return request.get_data(cache=False)
    stream, chunks, size = request.environ["wsgi.input"], [], 0
    while chunk := stream.read(min(65536, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            abort(413, message=f"the request body is larger than {limit} bytes")
    return b"".join(chunks)


def parse_json(raw: bytes):
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_object, parse_constant=_constant)
    except BadJson as exc:
        abort(400, message=f"the request body is not valid JSON: {exc}")
    except (UnicodeDecodeError, ValueError, RecursionError):
        abort(400, message="the request body is not valid JSON")


def read_raw() -> bytes:
    """The request body, refused with 415, 413 or 400 before anything parses it."""
    if request.mimetype not in JSON_TYPES and not request.mimetype.endswith("+json"):
        abort(415, message="send the profile as application/json")
    coding = request.headers.get("Content-Encoding", "").strip().lower()
    if coding not in ("", "identity"):
        abort(415, message="send the body without a content coding (Content-Encoding)")
    raw = read_body(current_app.config["MAX_CONTENT_LENGTH"])
    if not raw.strip():
        abort(400, message="the request body is empty; send a JSON object")
    return raw


def load_profile(raw: bytes) -> dict:
    """The body as a validated profile, or the right 4xx in the one error shape."""
    body = parse_json(raw)
    if not isinstance(body, dict):
        abort(422, message="the profile must be a JSON object", errors={"_body": ["not an object"]})
    try:
        return PROFILE_SCHEMA.load(body)
    except ma.ValidationError as exc:
        errors = dict(flatten_errors(exc.messages))
        # An error never grows much larger than the request: at most 50 fields, short paths.
        listed = {path[:120]: m for path, m in list(errors.items())[:MAX_LISTED_ERRORS]}
        abort(422, message=f"invalid profile: {len(errors)} field(s) at fault", errors=listed)


def page_headers(served) -> list[tuple[str, str]]:
    """The headers of a page answer (with pages.Served): it varies with Accept, and is never
    stored by a shared cache (the profile is in the body, not the URL)."""
    return [
        ("X-Cache", served.cache),
        ("ETag", quote_etag(served.etag)),
        ("Vary", "Accept"),
        ("Cache-Control", "no-store"),
    ]


def wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "text/html"
        and request.accept_mimetypes["text/html"] > (request.accept_mimetypes["application/json"])
    )


@blp.route("/pages")
class Pages(MethodView):
    @blp.doc(
        requestBody={"required": True, "content": {"application/json": {"schema": ProfileSchema}}},
        responses={
            "200": {
                "description": "The page, as JSON, or as an HTML fragment with Accept: text/html",
                "content": {
                    "application/json": {"schema": PageSchema},
                    "text/html": {"schema": {"type": "string"}},
                },
            },
            **{
                code: {
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA}}},
                }
                for code, text in ERRORS.items()
            },
        },
    )
    def post(self):
        """Build the personalized page for a posture-assessment profile"""
        partner = access.current_partner()
        raw = read_raw()
        if request.args.get("explain") in ("1", "true"):
            page = service().explain(load_profile(raw), partner)
            response = Response(orjson.dumps(page), mimetype="application/json")
            response.headers["X-Cache"] = "bypass"
            response.headers["Cache-Control"] = "no-store"
            return response
        fmt = "html" if wants_html() else "json"
        served = service().serve_body(raw, fmt, partner, lambda: load_profile(raw))
        # Weak comparison (RFC 9110 13.1.2); "*" says nothing about this profile's page.
        tags = request.if_none_match
        if not tags.star_tag and tags.contains_weak(served.etag):
            response = Response(status=304)
        else:
            mimetype = "text/html" if fmt == "html" else "application/json"
            response = Response(served.body, mimetype=mimetype)
        response.headers.extend(page_headers(served))
        return response


@blp.route("/plugins")
class Plugins(MethodView):
    @blp.response(200, PluginSchema(many=True))
    def get(self):
        """Every plugin: name, version, source, hooks, whether it is enabled, and for how
        many more seconds it is quarantined after repeated failures (this worker)"""
        return service().plugins()


@blp.route("/content")
class Content(MethodView):
    @blp.response(200, CatalogSchema())
    def get(self):
        """The content catalog and its version"""
        return service().catalog_summary()


@ops.route("/healthz")
class Health(MethodView):
    @ops.response(200, HealthSchema())
    def get(self):
        """200 while the process serves"""
        return {"status": "ok"}


@ops.route("/readyz")
class Ready(MethodView):
    @ops.response(200, HealthSchema())
    def get(self):
        """The state of each dependency; a degraded cache still serves (uncached)"""
        return {"status": "ok", "checks": service().readiness()}
