"""gunicorn settings for production and ``make run``.

Two sync workers: the plugin time budget uses SIGALRM, which needs the main thread, and on
this 2-core machine more workers only add memory; `make bench` compares four sync workers and
gthread on the production path (docs/performance.md; on a shared machine those figures are
noisy). The app is preloaded in the master (see ``preload_app``).
"""

import os
import shutil
import tempfile

from personalizer.config import gunicorn_settings

# Prometheus counts from every worker: each writes its values to files in this directory and
# /metrics adds them up. It must be set before the workers import prometheus_client. A
# directory made here is removed when the server stops (on_exit).
OWN_METRICS_DIR = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    OWN_METRICS_DIR = tempfile.mkdtemp(prefix="personalizer-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = OWN_METRICS_DIR

_settings = gunicorn_settings(os.environ)  # BIND and WEB_CONCURRENCY, checked
bind = _settings["BIND"]
workers = _settings["WEB_CONCURRENCY"]
# Overridable only so that `make bench` can measure the alternatives side by side.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 10  # longer than REQUEST_DEADLINE_MS (2 s) plus the slowest cache call
graceful_timeout = 10
keepalive = 2
max_requests = 5000
max_requests_jitter = 500
# The app is built once, in the master, and each worker is a fork of it: a worker recycled by
# max_requests starts serving at once instead of loading content and plugins again (about
# half a CPU second each, which at 5,000 requests a worker was some 100 us a request;
# docs/performance.md). Redis clients and the Prometheus files notice the fork by themselves.
preload_app = True
accesslog = "-"
# The request line without its query string ("%(U)s" is the path only) and no referrer: a
# query can carry what does not belong in logs (keys are refused in URLs, but still sent).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
# gunicorn 25+ opens a control socket under $XDG_RUNTIME_DIR or ~/.gunicorn by default; the
# service is managed by its supervisor (compose, systemd), not through that socket.
control_socket_disable = True


def when_ready(server):
    """The preloaded app's objects live as long as the server: move them out of the garbage
    collector's sight, so no collection in a worker walks them (nor copies their pages)."""
    import gc

    gc.collect()
    gc.freeze()


def on_exit(server):
    """Remove the metrics directory this file made; one given from outside is left alone."""
    if OWN_METRICS_DIR:
        shutil.rmtree(OWN_METRICS_DIR, ignore_errors=True)


def child_exit(server, worker):
    """A recycled or crashed worker's live values leave the sum; its counts stay."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
