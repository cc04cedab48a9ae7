"""The production shape: Debian's nginx with deploy/nginx.conf in front of gunicorn as
shipped, on loopback ports. 50 idle or slow clients must not delay anyone else: /healthz and a
page stay under 1 s and nothing gets a 5xx. Bounded: about 10 s in all.

Without nginx, two idle connections hold both sync workers until gunicorn's timeout (10 s);
docs/operations.md has the figures. nginx: ``make install`` installs nginx-light.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from personalizer.config import ROOT
from tests.support import EXAMPLE_PROFILE
from tests.support.redis_tools import free_port
from tests.support.servers import gunicorn

SLOW_CLIENTS = 50
LIMIT_S = 1.0
PROBE_FOR_S = 4.0


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        pytest.fail("nginx is not installed: run `make install` (apt-get install nginx-light)")
    return found


def nginx_config(listen: int, upstream: int, workdir: Path) -> str:
    """deploy/nginx.conf with our ports and directories; every replaced line must exist."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = {
        "listen 8080;": f"listen 127.0.0.1:{listen};",
        "server personalizer:8000;": f"server 127.0.0.1:{upstream};",
        "/tmp/personalizer-nginx": str(workdir),
        "access_log /dev/stdout service;": f"access_log {workdir}/access.log service;",
    }
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    if os.geteuid() == 0:  # workers would run as nobody, which cannot enter our directory
        text = "user root;\n" + text
    return text


@contextlib.contextmanager
def nginx(upstream: int):
    workdir = Path(tempfile.mkdtemp(prefix="personalizer-nginx-test-"))
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(nginx_config(port, upstream, workdir))
    with open(workdir / "error.log", "wb") as errors:
        process = subprocess.Popen(
            [nginx_binary(), "-p", str(workdir), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("nginx did not start: " + (workdir / "error.log").read_text()[-2000:])
            time.sleep(0.05)
        yield port, workdir
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)


class SlowClients:
    """Half connect and send nothing; half send a POST head with a Content-Length and then
    one byte of the body every half second. All are closed when the block ends."""

    def __init__(self, port: int, count: int):
        self.port, self.count = port, count
        self.sockets: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._dribble, daemon=True)

    def __enter__(self) -> SlowClients:
        for i in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            if i % 2:
                sock.sendall(
                    b"POST /v1/pages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1000\r\n\r\n{"
                )
            self.sockets.append(sock)
        self.thread.start()
        return self

    def _dribble(self) -> None:
        while not self.stop.wait(0.5):
            for sock in self.sockets[1::2]:
                with contextlib.suppress(OSError):
                    sock.send(b" ")

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(5)
        for sock in self.sockets:
            sock.close()


def timed(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    except OSError:
        return 0, time.perf_counter() - started  # no answer at all counts as a failure
    finally:
        conn.close()


def test_slow_clients_do_not_delay_others_behind_nginx():
    page = json.dumps(EXAMPLE_PROFILE).encode()
    with (
        gunicorn(WEB_CONCURRENCY="2", PERSONALIZER_PROXY_HOPS="1") as server,
        nginx(server.port) as (port, workdir),
    ):
        assert timed(port, "GET", "/healthz")[0] == 200
        results: list[tuple[str, int, float]] = []
        with SlowClients(port, SLOW_CLIENTS):
            deadline = time.monotonic() + PROBE_FOR_S
            while time.monotonic() < deadline:
                results.append(("healthz", *timed(port, "GET", "/healthz")))
                results.append(("page", *timed(port, "POST", "/v1/pages", page)))
                time.sleep(0.05)
        after = timed(port, "POST", "/v1/pages", page)
        log = (workdir / "access.log").read_text()
    worst = {name: max(t for n, _, t in results if n == name) for name in ("healthz", "page")}
    print(
        f"\n[nginx, {SLOW_CLIENTS} slow clients] {len(results)} requests; worst /healthz "
        f"{worst['healthz'] * 1000:.0f} ms, worst page {worst['page'] * 1000:.0f} ms"
    )
    assert len(results) >= 20
    assert all(status == 200 for _, status, _ in results), {s for _, s, _ in results}
    assert max(worst.values()) < LIMIT_S, worst
    assert after[0] == 200
    assert "POST /v1/pages HTTP/1.1" in log and " 200 " in log


def test_nginx_refuses_large_bodies_and_cuts_off_stalled_ones():
    with (
        gunicorn(WEB_CONCURRENCY="1", PERSONALIZER_PROXY_HOPS="1") as server,
        nginx(server.port) as (port, _),
    ):
        status, _ = timed(port, "POST", "/v1/pages", b"{" + b" " * (70 * 1024) + b"}")
        assert status == 413
        # A body that stops half-way: nginx gives up on it (client_body_timeout, 5 s) and
        # gunicorn never sees it; its one worker keeps serving meanwhile.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as stalled:
            stalled.sendall(
                b"POST /v1/pages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\n\r\n{"
            )
            status, elapsed = timed(port, "GET", "/healthz")
            assert status == 200 and elapsed < LIMIT_S
            started = time.monotonic()
            try:
                answer = stalled.recv(4096)
            except ConnectionResetError:  # reset_timedout_connection: closed with a RST
                answer = b""
            waited = time.monotonic() - started
        assert answer == b"" or b" 408 " in answer.split(b"\r\n")[0], answer[:100]
        assert waited < 8
