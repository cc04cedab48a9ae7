"""The benchmark's floor: a bare Flask app, outside the service, under the same gunicorn
configuration (gunicorn.conf.py). ``POST /floor`` parses the JSON body, hashes it and returns
one page-size value read from Redis: what any Flask endpoint on this stack pays to serve a
cached page. ``make bench`` reports every path of the service as a ratio to it.

Run by bench/http_bench.py as ``gunicorn --config gunicorn.conf.py bench.floor_app:app`` with
``REDIS_URL`` and ``FLOOR_KEY`` (the key the benchmark stored a page under) set. Never part
of the service.
"""

from __future__ import annotations

import hashlib
import json
import os

import redis
from flask import Flask, Response, request
from redis.backoff import NoBackoff
from redis.retry import Retry

app = Flask(__name__)
# The same client settings as the page cache (personalizer/cache.py).
client = redis.Redis.from_url(
    os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
    socket_connect_timeout=0.25,
    socket_timeout=0.25,
    retry=Retry(NoBackoff(), 1),
    retry_on_timeout=False,
    health_check_interval=30,
)
KEY = os.environ.get("FLOOR_KEY", "personalizer-bench:floor")


@app.post("/floor")
def floor():
    raw = request.get_data()
    json.loads(raw)  # parse the body, as the page endpoint does
    hashlib.blake2b(raw, digest_size=16).hexdigest()  # hash it, as the page endpoint does
    return Response(client.get(KEY), mimetype="application/json")


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
