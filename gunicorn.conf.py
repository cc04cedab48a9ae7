"""gunicorn settings for production and ``make run``.

Two sync workers: on this 2-core machine `make bench` measures four sync workers within noise
of two (using twice the memory) and gthread at half their hit rate (docs/performance.md), and
the plugin time budget uses SIGALRM, which needs the main thread.
"""

import os
import tempfile

# Prometheus counts from every worker: each writes its values to files in this directory and
# /metrics adds them up. It must be set before the workers import prometheus_client.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="personalizer-metrics-")

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Overridable only so that `make bench` can measure the alternatives side by side.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 10  # longer than REQUEST_DEADLINE_MS (2 s) plus the slowest cache call
graceful_timeout = 10
keepalive = 2
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"


def child_exit(server, worker):
    """A recycled or crashed worker's live values leave the sum; its counts stay."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
