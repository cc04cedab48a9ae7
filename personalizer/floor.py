"""A floor endpoint for the benchmark: what any Flask endpoint on this stack pays to serve
one cached value from Redis. Registered only with ``BENCH_ENDPOINTS`` on; never in
production."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request

bp = Blueprint("floor", __name__)
FLOOR_KEY = "bench-floor"


@bp.post("/bench/floor")
def floor():
    json.loads(request.get_data())  # parse the body, as the page endpoint does
    cache = current_app.extensions["personalizer"].cache
    return Response(cache.client.get(cache.prefix + FLOOR_KEY), mimetype="application/json")
