"""HTTP endpoints: the v1 API and the operational ones."""

from __future__ import annotations

import marshmallow as ma
import orjson
from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

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
JSON_TYPES = ("application/json",)


def service():
    return current_app.extensions["personalizer"]


def read_profile() -> dict:
    """The request body as a validated profile, or the right 4xx in the one error shape."""
    if request.mimetype not in JSON_TYPES and not request.mimetype.endswith("+json"):
        abort(415, message="send the profile as application/json")
    raw = request.get_data(cache=False)
    if not raw.strip():
        abort(400, message="the request body is empty; send a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        abort(400, message="the request body is not valid JSON")
    if not isinstance(body, dict):
        abort(422, message="the profile must be a JSON object", errors={"_body": ["not an object"]})
    try:
        return PROFILE_SCHEMA.load(body)
    except ma.ValidationError as exc:
        errors = dict(flatten_errors(exc.messages))
        abort(422, message=f"invalid profile: {len(errors)} field(s) at fault", errors=errors)


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
            "400": {"description": "Malformed JSON"},
            "401": {"description": "A partner key is missing or not valid"},
            "403": {"description": "The publishable key is used from an origin not allowed"},
            "413": {"description": "Body larger than the limit"},
            "415": {"description": "Body is not JSON"},
            "422": {"description": "Invalid profile; errors name each field by its path"},
            "429": {"description": "Too many requests for this key; see Retry-After"},
        },
    )
    def post(self):
        """Build the personalized page for a posture-assessment profile"""
        partner = access.current_partner()
        profile = read_profile()
        if request.args.get("explain") in ("1", "true"):
            page = service().explain(profile, partner)
            response = Response(orjson.dumps(page), mimetype="application/json")
            response.headers["X-Cache"] = "bypass"
            response.headers["Cache-Control"] = "no-store"
            return response
        fmt = "html" if wants_html() else "json"
        served = service().serve(profile, fmt, partner)
        if request.if_none_match.contains(served.etag):
            response = Response(status=304)
        else:
            mimetype = "text/html" if fmt == "html" else "application/json"
            response = Response(served.body, mimetype=mimetype)
        response.headers["X-Cache"] = served.cache
        response.set_etag(served.etag)
        response.vary.add("Accept")
        response.headers["Cache-Control"] = "no-store"
        return response


@blp.route("/plugins")
class Plugins(MethodView):
    @blp.response(200, PluginSchema(many=True))
    def get(self):
        """Every plugin: name, version, source, hooks, and whether it is enabled"""
        return service().engine.host.listing()


@blp.route("/content")
class Content(MethodView):
    @blp.response(200, CatalogSchema())
    def get(self):
        """The content catalog and its version"""
        catalog = service().engine.catalog
        return {
            "content_version": catalog.version,
            "items": [item.summary_row() for item in catalog.items.values()],
        }


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
        cache = service().cache
        return {"status": "ok", "checks": {"cache": cache.state(), "cache_backend": cache.name}}
