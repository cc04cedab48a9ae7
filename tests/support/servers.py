"""The service under gunicorn, as in production, on a free loopback port: for the isolation
test, the HTTP benchmark and the soak. Stops by itself when the block ends."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from personalizer.config import ROOT
from personalizer.testing import BUILTINS
from tests.support.redis_tools import free_port


@dataclass(frozen=True)
class Server:
    port: int
    pid: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def healthy(port: int) -> bool:
    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        probe.request("GET", "/healthz")
        return probe.getresponse().status == 200
    except OSError:
        return False
    finally:
        probe.close()


@contextmanager
def gunicorn(
    access_log: str = "/dev/null", app: str = "wsgi:app", **env: str | None
) -> Iterator[Server]:
    """gunicorn.conf.py serving ``app`` (module:variable) with the built-in plugins only and
    no rate limit, plus ``env``; the access log goes to ``access_log`` (a path, or "-" for
    stdout). A variable given as None is removed from the environment."""
    port = free_port()
    settings = {
        **os.environ,
        "BIND": f"127.0.0.1:{port}",
        "PERSONALIZER_LOAD_PLUGINS": ",".join(BUILTINS),
        "PERSONALIZER_RATE_LIMIT_ENABLED": "false",
        **env,
    }
    settings = {name: value for name, value in settings.items() if value is not None}
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
    process = subprocess.Popen(
        [*command, "--access-logfile", access_log, app],
        cwd=ROOT,
        env=settings,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn ({app}) did not start")
            time.sleep(0.1)
        yield Server(port, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)
