"""The application factory: configuration, plugins, catalog, cache, engine, routes."""

from __future__ import annotations

import logging
import os

from flask import Flask
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from personalizer import (
    __version__,
    access,
    config,
    docs_ui,
    experiments_api,
    media,
    observability,
)
from personalizer.cache import LocalCache, RedisCache
from personalizer.content import Catalog, ContentError, load_catalog
from personalizer.engine import Engine, Policy
from personalizer.hitpath import HitPath
from personalizer.hookcalls import CallLog, HookRunner, Quarantine
from personalizer.pages import PageService
from personalizer.partners import Registry
from personalizer.plugins import PluginHost

log = logging.getLogger(__name__)


class ServiceApi(Api):
    """flask-smorest's Api with one error shape for every error: code, status, message,
    and per-field ``errors`` where a field is at fault."""

    def handle_http_exception(self, error):
        payload, code, headers = super().handle_http_exception(error)
        payload.setdefault("message", error.description or error.name)
        # Keep what the exception says about itself, such as Allow on a 405.
        own = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        return payload, code, {**own, **headers}


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)  # embed.py serves the widget's files
    # One typed reading of every setting (config.py), shared with the CLI.
    app.config.update(config.load(os.environ, test_config))
    app.config.update(
        API_TITLE="personalizer",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=None,  # /docs is served offline by personalizer.docs_ui
    )

    api = ServiceApi(app)
    app.register_error_handler(Exception, _unexpected(api))
    metrics = observability.Metrics()
    observability.init_app(app, metrics)
    init_service(app, metrics)
    access.init_app(app)

    from personalizer.api import blp, ops

    api.register_blueprint(blp)
    api.register_blueprint(ops)
    experiments_api.register(api)
    from personalizer.embed import bp as embed

    app.register_blueprint(embed)
    docs_ui.init_app(app)
    app.register_blueprint(media.bp)
    app.wsgi_app = HitPath(app, app.wsgi_app)  # a cached page's plain call skips Flask
    hops = app.config["PROXY_HOPS"]
    if hops:  # X-Forwarded-For/-Proto from this many trusted proxies in front (nginx: 1)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    return app


def _unexpected(api):
    """Anything unforeseen answers in the one error shape, logged without request data."""

    def handler(error):
        if isinstance(error, HTTPException):
            return api.handle_http_exception(error)
        log.exception("unhandled %s", type(error).__name__)
        return api.handle_http_exception(InternalServerError())

    return handler


def init_service(app: Flask, metrics: observability.Metrics) -> None:
    """Load plugins, the catalog and the cache; keep the page service in app.extensions."""
    cfg = app.config
    host = PluginHost()
    host.load(
        allow=config.as_list(cfg["LOAD_PLUGINS"]),
        deny=config.as_list(cfg["DISABLE_PLUGINS"]) or [],
        extra=cfg["EXTRA_PLUGINS"],
        strict=cfg["STRICT_PLUGINS"],
    )
    runner = HookRunner(
        host,
        budget_ms=cfg["PLUGIN_BUDGET_MS"],
        quarantine=Quarantine(cfg["QUARANTINE_AFTER"], cfg["QUARANTINE_SECONDS"]),
        on_call=metrics.record_call,
    )
    catalog = load_catalog(cfg["CONTENT_DIRS"], allow_stale=cfg["ALLOW_STALE_CONTENT"])
    catalog = plugin_content(host, runner, catalog, cfg)
    for problem in catalog.stale:
        level = logging.WARNING if cfg["ALLOW_STALE_CONTENT"] else logging.INFO
        log.log(level, "stale content %s", problem)

    if cfg["REDIS_URL"]:
        if cfg["CACHE_KEY_SECRET"] == config.DEV_SECRET:
            log.warning("CACHE_KEY_SECRET is the development default; set a secret")
        cache = RedisCache.from_url(
            cfg["REDIS_URL"],
            cfg["CACHE_PREFIX"],
            int(cfg["CACHE_TTL"]),
            cfg["REDIS_TIMEOUT_S"],
        )
    else:
        cache = LocalCache(cfg["LOCAL_CACHE_SIZE"], cfg["CACHE_TTL"])

    policy = Policy(
        commercial_ctas=cfg["COMMERCIAL_CTAS"],
        emergency_number=cfg["EMERGENCY_NUMBER"],
        emergency_service=cfg["EMERGENCY_SERVICE"],
        urgent_number=cfg["URGENT_NUMBER"],
        urgent_service=cfg["URGENT_SERVICE"],
    )
    engine = Engine(
        host,
        catalog,
        runner,
        secret=str(cfg["CACHE_KEY_SECRET"]).encode(),
        policy=policy,
        max_sections=cfg["MAX_SECTIONS"],
        max_ctas=cfg["MAX_CTAS"],
        deadline_ms=cfg["REQUEST_DEADLINE_MS"],
        public_url=cfg["PUBLIC_URL"],
        site_url=cfg["SITE_URL"],
    )
    partners = Registry.load(cfg["PARTNERS_FILE"])
    kinds = {item.id: item.kind for item in catalog.items.values()}
    experiments_api.init_service(app, known_plugins=host.infos, catalog=kinds)
    app.extensions["personalizer"] = PageService(
        engine,
        cache,
        partners,
        build_wait_ms=cfg["BUILD_WAIT_MS"],
        experiments=app.extensions[experiments_api.EXTENSION]["experiments"],
    )


def plugin_content(host, runner: HookRunner, catalog: Catalog, cfg) -> Catalog:
    """Each plugin's content, loaded on its own: a plugin whose hook fails, or whose files
    are broken, clash with another item or hold an unsafe link, is disabled alone."""
    calls = CallLog()
    answers = dict(runner.call("personalizer_content", {}, calls))
    for call in calls.failures:
        host.disable(call.plugin, RuntimeError(call.error), strict=cfg["STRICT_PLUGINS"])
    for name, directories in answers.items():
        try:
            catalog = load_catalog(
                directories,
                allow_stale=cfg["ALLOW_STALE_CONTENT"],
                origin=name,
                known=catalog,
            )
        except ContentError as exc:
            error = ContentError([f"plugin {name}: {p}" for p in exc.problems])
            host.disable(name, error, strict=cfg["STRICT_PLUGINS"])
    return catalog
