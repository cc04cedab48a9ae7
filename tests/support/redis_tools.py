"""Test helpers for Redis fault injection: a private redis-server and a TCP proxy.

Both listen on 127.0.0.1 only, on free ports, and both stop by themselves: use them as
context managers (or through the fixtures in ``tests/test_redis_faults.py``), which stop
them in ``finally`` even when a test fails. Every loop here is bounded in time.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_binary() -> str:
    """The path of ``redis-server``; a missing binary is a test failure, never a skip."""
    path = shutil.which("redis-server")
    if path is None:
        raise RuntimeError(
            "redis-server is not installed (not on PATH); the Redis fault tests need it: "
            "install it (apt-get install redis-server, brew install redis) and run again"
        )
    return path


def _ping(port: int, timeout: float = 0.2) -> bool:
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


class RedisServer:
    """A private, throwaway ``redis-server`` on a free loopback port.

    No persistence (``--save ""``, ``--appendonly no``), so a restart comes back empty.
    ``stop()`` and ``start()`` keep the same port, which is what a client configured with
    one URL sees when Redis is restarted.
    """

    def __init__(self, workdir: Path, port: int | None = None, extra: tuple[str, ...] = ()):
        self.binary = redis_server_binary()
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.extra = extra
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        if self.running:
            return
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--daemonize", "no",
            "--loglevel", "warning",
            *self.extra,
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.workdir
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if _ping(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on 127.0.0.1:{self.port} in {timeout}s")

    def stop(self, kill: bool = False, timeout: float = 5.0) -> None:
        """Stop the server (SIGTERM, or SIGKILL to simulate a crash) and wait for it."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop(kill=True)


class Proxy:
    """A threaded TCP proxy, 127.0.0.1:<free port> -> 127.0.0.1:<upstream_port>.

    ``latency`` (seconds) is slept before forwarding every chunk, in both directions.
    ``blackhole = True`` makes the proxy accept connections and read what the client
    sends, but forward nothing and answer nothing (a hung server or a dropped route).
    Both can be changed at any time; they apply to open connections too.
    """

    CHUNK = 65536
    POLL = 0.05  # every blocking call wakes up this often to look at the stop flag
    MAX_CONNECTIONS = 64

    def __init__(self, upstream_port: int, latency: float = 0.0):
        self.upstream = ("127.0.0.1", upstream_port)
        self.latency = latency
        self.blackhole = False
        self.accepted = 0  # connections accepted so far
        self.active = 0  # connections open now
        self.received = 0  # bytes received from clients (forwarded or swallowed)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(self.POLL)
        self.port = self._listener.getsockname()[1]

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> Proxy:
        self._spawn(self._accept_loop)
        return self

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _track(self, *socks: socket.socket | None) -> None:
        with self._lock:
            self._sockets.update(sock for sock in socks if sock is not None)

    def _release(self, *socks: socket.socket | None) -> None:
        for sock in socks:
            if sock is None:
                continue
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
            with self._lock:
                self._sockets.discard(sock)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(self.POLL)
            with self._lock:
                self.accepted += 1
                too_many = self.active >= self.MAX_CONNECTIONS
            if too_many:
                client.close()
                continue
            upstream = None
            if not self.blackhole:
                try:
                    upstream = socket.create_connection(self.upstream, timeout=1.0)
                except OSError:
                    client.close()  # the upstream is down: refuse like it would
                    continue
                upstream.settimeout(self.POLL)
            with self._lock:
                self.active += 1
            self._track(client, upstream)
            self._spawn(self._pump, client, upstream, True)
            if upstream is not None:
                self._spawn(self._pump, upstream, client, False)

    def _pump(self, source: socket.socket, target: socket.socket | None, inbound: bool) -> None:
        """Copy source -> target until either side closes or the proxy stops."""
        try:
            while not self._stop.is_set():
                try:
                    data = source.recv(self.CHUNK)
                except TimeoutError:
                    continue
                if not data:
                    break
                if inbound:
                    with self._lock:
                        self.received += len(data)
                if self.blackhole or target is None:
                    continue  # swallow: read and drop, never answer
                if self.latency:
                    self._stop.wait(self.latency)
                target.sendall(data)
        except OSError:
            pass
        finally:
            self._release(source, target)
            if inbound:
                with self._lock:
                    self.active -= 1

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            sockets = list(self._sockets)
            self._sockets.clear()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
