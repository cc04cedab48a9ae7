"""gunicorn as shipped (gunicorn.conf.py): what it leaves behind and what it logs."""

from __future__ import annotations

import http.client
import json

from tests.support.servers import gunicorn


def request(port: int, method: str, path: str, body: dict | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        return conn.getresponse().status
    finally:
        conn.close()


def test_gunicorn_leaves_no_control_socket_nor_metrics_directory(tmp_path):
    home, temp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temp.mkdir()
    with gunicorn(
        HOME=str(home), TMPDIR=str(temp), XDG_RUNTIME_DIR=None, PROMETHEUS_MULTIPROC_DIR=None
    ) as server:
        assert list(temp.glob("personalizer-metrics-*")), "the metrics directory is made"
        assert request(server.port, "GET", "/healthz") == 200
    assert not (home / ".gunicorn").exists(), "no control socket under the home directory"
    assert list(home.iterdir()) == []
    assert not list(temp.glob("personalizer-metrics-*")), "the metrics directory is removed"


def test_access_log_holds_no_query_string(tmp_path):
    log = tmp_path / "access.log"
    with gunicorn(access_log=str(log), HOME=str(tmp_path)) as server:
        assert request(server.port, "POST", "/v1/pages?api_key=sk_in_the_url", {}) == 400
        assert request(server.port, "POST", "/v1/pages?explain=1&who=someone", {}) == 200
        assert request(server.port, "GET", "/healthz?probe=kubelet") == 200
    text = log.read_text()
    assert '"POST /v1/pages HTTP/1.1" 400' in text
    assert '"POST /v1/pages HTTP/1.1" 200' in text
    assert "sk_in_the_url" not in text and "someone" not in text and "kubelet" not in text
    assert "?" not in text


def test_a_metrics_directory_given_from_outside_is_kept(tmp_path):
    given = tmp_path / "metrics"
    given.mkdir()
    with gunicorn(PROMETHEUS_MULTIPROC_DIR=str(given), HOME=str(tmp_path)) as server:
        assert request(server.port, "GET", "/v1/content") == 200
    assert given.is_dir() and list(given.iterdir())
