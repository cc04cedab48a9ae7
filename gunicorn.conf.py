"""gunicorn settings for production and ``make run``.

Sync workers: DESIGN section 5 measured two sync workers ahead of four and of gthread on
this 2-core machine, and the plugin time budget uses SIGALRM, which needs the main thread.
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 10  # longer than REQUEST_DEADLINE_MS (2 s) plus the slowest cache call
graceful_timeout = 10
keepalive = 2
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
