"""Request ids, security headers, metrics, and logs that hold nothing of the profile."""

import json
import logging

from personalizer.observability import JsonFormatter
from tests.support import EXAMPLE_PROFILE


def test_request_id_is_returned_or_made(client):
    given = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert len(made.headers["X-Request-Id"]) == 32


def test_security_headers(client):
    page = client.post("/v1/pages", json=EXAMPLE_PROFILE)
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    html = client.post("/v1/pages", json=EXAMPLE_PROFILE, headers={"Accept": "text/html"})
    assert html.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert html.headers["Cache-Control"] == "no-store"


def test_metrics_count_requests_cache_and_plugins(client):
    client.post("/v1/pages", json=EXAMPLE_PROFILE)
    client.post("/v1/pages", json=EXAMPLE_PROFILE)
    client.post("/v1/pages", data=b"{", content_type="application/json")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'personalizer_requests_total{method="POST",route="/v1/pages",status="200"} 2.0' in text
    assert 'personalizer_requests_total{method="POST",route="/v1/pages",status="400"} 1.0' in text
    assert 'personalizer_cache_total{result="miss"} 1.0' in text
    assert 'personalizer_cache_total{result="hit"} 1.0' in text
    assert (
        'personalizer_plugin_seconds_count{hook="personalizer_triage",plugin="red_flags"} 1.0'
        in (text)
    )
    assert "personalizer_request_seconds_bucket" in text


def test_logs_hold_no_profile_values(app, caplog):
    profile = json.loads(json.dumps(EXAMPLE_PROFILE))
    profile["alignment"]["pelvic_tilt_deg"] = 17.123
    client = app.test_client()
    formatter = JsonFormatter()
    with caplog.at_level(logging.DEBUG):
        client.post("/v1/pages", json=profile)
        client.post("/v1/pages", json={"alignment": {"pelvic_tilt_deg": 99.123}})
        client.post("/v1/pages", data=b'{"x": 17.123', content_type="application/json")
    lines = [formatter.format(record) for record in caplog.records]
    text = caplog.text + "\n".join(lines)
    assert "17.123" not in text and "99.123" not in text
    assert all(json.loads(line)["level"] for line in lines)


def test_redis_credentials_are_never_logged(caplog):
    from personalizer import create_app
    from tests.support import base_config

    app = create_app(base_config(REDIS_URL="redis://reader:s3cret-pw@127.0.0.1:1/0"))
    client = app.test_client()
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            assert client.post("/v1/pages", json=EXAMPLE_PROFILE).status_code == 200
        client.get("/readyz")
    assert caplog.records, "the Redis failures were logged"
    assert "s3cret-pw" not in caplog.text


def test_metrics_add_up_over_gunicorn_workers():
    """Whichever worker answers the scrape, /metrics counts the requests of all of them."""
    import http.client
    import re

    from tests.support.servers import gunicorn

    with gunicorn(WEB_CONCURRENCY="2") as server:
        for _ in range(40):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", "/v1/content")
            conn.getresponse().read()
            conn.close()
        totals = set()
        for _ in range(6):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
            conn.close()
            line = re.search(
                r'^personalizer_requests_total\{[^}]*route="/v1/content"[^}]*status="200"[^}]*\}'
                r" ([\d.]+)$",
                text,
                re.M,
            )
            totals.add(float(line.group(1)))
    assert totals == {40.0}
