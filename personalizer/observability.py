"""Request ids, security headers, Prometheus metrics and JSON logs.

Metrics live in a registry of the app's own. Under gunicorn (gunicorn.conf.py sets
``PROMETHEUS_MULTIPROC_DIR``) every worker also writes its values to files there, and
``/metrics`` reports the sum over all workers, whichever worker answers the scrape.
No log line and no metric label carries a value of the profile.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
HTML_CSP = "default-src 'none'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Every label has a bounded set of values: routes are the app's rules (or "unmatched"),
# methods these or "other", statuses HTTP's three digits, cache results our three words.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CACHE_RESULTS = frozenset({"hit", "miss", "bypass"})
# Besides the request id and the content security policy, on every answer.
ALWAYS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"))


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def status_label(code: int) -> str:
    return str(code) if 100 <= code <= 599 else "other"


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "personalizer_requests_total",
            "Requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "personalizer_request_seconds",
            "Request latency by route",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.cache = Counter(
            "personalizer_cache_total", "Page cache results", ["result"], registry=self.registry
        )
        self.plugin_seconds = Histogram(
            "personalizer_plugin_seconds",
            "Time per plugin hook call",
            ["plugin", "hook"],
            registry=self.registry,
            buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5),
        )
        self.plugin_errors = Counter(
            "personalizer_plugin_errors_total",
            "Plugin calls left out of a page",
            ["plugin", "hook"],
            registry=self.registry,
        )
        self._counted: dict[tuple, object] = {}
        self._timed: dict[str, object] = {}
        self._cached: dict[str, object] = {}

    def record_call(self, call) -> None:
        """HookRunner callback: every plugin call's time and outcome."""
        self.plugin_seconds.labels(call.plugin, call.hook).observe(call.ms / 1000)
        if not call.ok:
            self.plugin_errors.labels(call.plugin, call.hook).inc()

    def request_done(
        self, route: str, method: str, status: int, seconds: float | None, cache: str | None
    ) -> None:
        """One answered request. The metric children of each label set are looked up once
        per worker (labels are bounded, so these stay small): a request then only adds."""
        labels = (route, method_label(method), status_label(status))
        counter = self._counted.get(labels)
        if counter is None:
            counter = self._counted[labels] = self.requests.labels(*labels)
        counter.inc()
        if seconds is not None:
            histogram = self._timed.get(route)
            if histogram is None:
                histogram = self._timed[route] = self.latency.labels(route)
            histogram.observe(seconds)
        if cache in CACHE_RESULTS:
            child = self._cached.get(cache)
            if child is None:
                child = self._cached[cache] = self.cache.labels(cache)
            child.inc()


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id when there is one."""

    def format(self, record):
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        with contextlib.suppress(RuntimeError, AttributeError):  # outside a request
            entry["request_id"] = g.request_id
        if record.exc_info:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry)


def request_id(incoming: str | None) -> str:
    """The caller's request id when it is a safe token, else a new one."""
    return incoming if incoming and REQUEST_ID.match(incoming) else os.urandom(16).hex()


def security_headers(mimetype: str) -> list[tuple[str, str]]:
    """The headers every answer carries (a view with its own policy sets its own CSP)."""
    csp = HTML_CSP if mimetype == "text/html" else API_CSP
    return [*ALWAYS, ("Content-Security-Policy", csp)]


def init_app(app: Flask, metrics: Metrics) -> None:
    app.extensions["metrics"] = metrics

    @app.before_request
    def start():
        g.started = time.perf_counter()
        g.request_id = request_id(request.environ.get("HTTP_X_REQUEST_ID"))

    @app.after_request
    def finish(response: Response):
        req = request._get_current_object()
        state = g._get_current_object()
        headers = response.headers
        headers["X-Request-Id"] = getattr(state, "request_id", "")
        policy = req.path == "/docs" or "Content-Security-Policy" in headers
        for name, value in ALWAYS if policy else security_headers(response.mimetype):
            headers[name] = value
        rule = req.url_rule
        started = getattr(state, "started", None)
        metrics.request_done(
            rule.rule if rule else "unmatched",
            req.method,
            response.status_code,
            None if started is None else time.perf_counter() - started,
            headers.get("X-Cache"),
        )
        return response

    @app.get("/metrics")
    def metrics_endpoint():
        registry = metrics.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def configure_logging(level: str = "INFO") -> None:
    """JSON logs on stderr for the service (called from wsgi.py, not from tests)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
