"""Hostile bodies POSTed to /v1/pages: each gets the right 4xx in the one error shape.

DESIGN section 2: 400 malformed JSON, 413 body too large (64 KiB by default), 415 not
JSON, 422 invalid profile (naming each bad field by its path), and never a 5xx for anything
a client sent. Where two codes are both defensible (a number literal JSON allows but a double
cannot hold), the case lists both; everywhere else exactly one code is right.

Most cases go through the Flask test client. Streamed (chunked) bodies are also sent to a
real gunicorn with the production gunicorn.conf.py, since the server decides how a body
without Content-Length reaches the app.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from personalizer import create_app
from personalizer.config import ROOT
from tests.support import BUILTINS, base_config
from tests.support.redis_tools import free_port

LIMIT = 64 * 1024  # MAX_CONTENT_LENGTH default
JSON = "application/json"
ERROR_KEYS = {"code", "status", "message", "errors"}


def compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def under_limit(data: bytes) -> bytes:
    assert len(data) <= LIMIT, f"case meant to fit the body limit is {len(data)} bytes"
    return data


def over_limit(data: bytes) -> bytes:
    assert len(data) > LIMIT, f"case meant to exceed the body limit is {len(data)} bytes"
    return data


def nested(opening: bytes, closing: bytes, depth: int, inner: bytes = b"") -> bytes:
    return opening * depth + inner + closing * depth


def assert_error_shape(response, codes, path=None) -> dict:
    """The status is one of ``codes``, the body is the one error shape, and a 422 names
    ``path`` among its per-field errors."""
    codes = {codes} if isinstance(codes, int) else set(codes)
    assert response.status_code < 500, response.get_data()[:500]
    assert response.status_code in codes, (response.status_code, response.get_data()[:500])
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict) and set(body) <= ERROR_KEYS, body
    assert body["code"] == response.status_code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    if response.status_code == 422:
        errors = body.get("errors")
        assert isinstance(errors, dict) and errors, body
        assert all(isinstance(m, list) and m for m in errors.values()), errors
        if path is not None:
            assert path in errors, f"422 does not name {path!r}: {list(errors)[:10]}"
    return body


def case(id, data, codes, path=None, content_type=JSON):
    return pytest.param(data, content_type, codes, path, id=id)


HUGE_INT = str(10**400).encode()
STRING_60K = "s" * (60 * 1024)
KEY_60K = "k" * (60 * 1024)

CASES = [
    # nesting: over the body limit it is 413 before any parsing; under it, the parser's
    # depth limit (orjson: 1024) answers 400; near that depth a parser may (400) or may not
    # (422 from the schema) give up, both are right
    case("arrays-100k-deep", over_limit(nested(b"[", b"]", 100_000)), 413),
    case("objects-100k-deep", over_limit(nested(b'{"a":', b"}", 100_000, b"0")), 413),
    case("arrays-30k-deep-under-limit", under_limit(nested(b"[", b"]", 30_000)), 400),
    case(
        "objects-10k-deep-under-limit",
        under_limit(nested(b'{"a":', b"}", 10_000, b"0")),
        400,
    ),
    case(
        "alignment-5000-deep-arrays",
        under_limit(b'{"alignment":' + nested(b"[", b"]", 5000) + b"}"),
        400,
    ),
    case(
        "alignment-5000-deep-objects",
        under_limit(b'{"alignment":' + nested(b'{"x":', b"}", 5000, b"0") + b"}"),
        400,
    ),
    case(
        "alignment-1000-deep-objects",
        b'{"alignment":' + nested(b'{"x":', b"}", 1000, b"0") + b"}",
        (400, 422),
        "alignment.x",
    ),
    case(
        "red-flags-1000-deep-arrays",
        b'{"red_flags":' + nested(b"[", b"]", 1000) + b"}",
        (400, 422),
        "red_flags.0",
    ),
    # numbers no double holds: syntactically JSON, so 400 or 422 are both defensible
    case("1e400", b'{"alignment":{"pelvic_tilt_deg":1e400}}', (400, 422)),
    case("minus-1e309", b'{"alignment":{"forward_head_cm":-1e309}}', (400, 422)),
    case("10-pow-400-literal", b'{"alignment":{"pelvic_tilt_deg":' + HUGE_INT + b"}}", (400, 422)),
    case("10-pow-400-integer-field", b'{"symptoms":{"pain_score":' + HUGE_INT + b"}}", (400, 422)),
    case(
        "60k-digit-integer",
        under_limit(b'{"symptoms":{"walking_tolerance_min":1' + b"0" * 60_000 + b"}}"),
        (400, 422),
    ),
    case(
        "2-pow-64-integer",
        b'{"symptoms":{"walking_tolerance_min":18446744073709551616}}',
        422,
        "symptoms.walking_tolerance_min",
    ),
    case(
        "60k-digit-fraction-integer-field",
        under_limit(b'{"symptoms":{"pain_score":0.' + b"1" * 60_000 + b"}}"),
        422,
        "symptoms.pain_score",
    ),
    case(
        "1e400-as-string",
        b'{"alignment":{"pelvic_tilt_deg":"1e400"}}',
        422,
        "alignment.pelvic_tilt_deg",
    ),
    # NaN and infinities are not JSON
    case("NaN-literal", b'{"alignment":{"pelvic_tilt_deg":NaN}}', 400),
    case("Infinity-literal", b'{"alignment":{"lumbar_lordosis_deg":Infinity}}', 400),
    case("minus-Infinity-literal", b'{"alignment":{"pelvic_obliquity_deg":-Infinity}}', 400),
    case("NaN-integer-field", b'{"symptoms":{"pain_score":NaN}}', 400),
    # booleans where numbers are due, and other wrong types
    case(
        "true-for-number",
        b'{"alignment":{"pelvic_tilt_deg":true}}',
        422,
        "alignment.pelvic_tilt_deg",
    ),
    case(
        "false-for-integer",
        b'{"symptoms":{"walking_tolerance_min":false}}',
        422,
        "symptoms.walking_tolerance_min",
    ),
    case(
        "true-for-minutes", b'{"context":{"minutes_per_day":true}}', 422, "context.minutes_per_day"
    ),
    case("string-for-section", b'{"symptoms":"bad"}', 422, "symptoms"),
    case("object-for-list", b'{"red_flags":{"fever":true}}', 422, "red_flags"),
    case("null-list-item", b'{"red_flags":[null]}', 422, "red_flags.0"),
    case("null-section", b'{"context":null}', 422, "context"),
    # long lists: the length limit (32) answers 422 when the body fits, else 413
    case("red-flags-10k-words", over_limit(compact({"red_flags": ["fever"] * 10_000})), 413),
    case(
        "red-flags-10k-zeros", under_limit(compact({"red_flags": [0] * 10_000})), 422, "red_flags"
    ),
    case(
        "red-flags-10k-empty", under_limit(compact({"red_flags": [""] * 10_000})), 422, "red_flags"
    ),
    case(
        "worse-with-5k-words",
        under_limit(compact({"symptoms": {"worse_with": ["sitting"] * 5_000}})),
        422,
        "symptoms.worse_with",
    ),
    # long strings
    case(
        "60k-enum-string",
        under_limit(compact({"symptoms": {"legs": STRING_60K}})),
        422,
        "symptoms.legs",
    ),
    case("60k-red-flag", under_limit(compact({"red_flags": [STRING_60K]})), 422, "red_flags.0"),
    # an error never grows much beyond the request: a long key is named by its first 120
    # characters, and at most 50 fields are listed (the message gives the count)
    case("60k-unknown-key", under_limit(compact({KEY_60K: 1})), 422, KEY_60K[:120]),
    case("60k-unknown-value", under_limit(compact({"note": STRING_60K})), 422, "note"),
    case("70k-string", over_limit(compact({"symptoms": {"legs": "s" * 70_000}})), 413),
    # encodings: JSON on the wire is UTF-8 (RFC 8259 section 8.1)
    case("invalid-utf8-value", b'{"symptoms":{"legs":"\xff\xfe"}}', 400),
    case("invalid-utf8-key", b'{"\xc3\x28":1}', 400),
    case("overlong-utf8", b'{"symptoms":{"legs":"\xc0\xaf"}}', 400),
    case("lone-surrogate-escape", b'{"symptoms":{"legs":"\\ud800"}}', (400, 422)),
    case("lone-surrogate-key", b'{"\\ud800":1}', (400, 422), "\ud800"),
    case("utf8-bom", b"\xef\xbb\xbf{}", 400),
    case("utf16-body", '{"red_flags":["fever"]}'.encode("utf-16"), 400),
    case("utf16le-body-no-bom", '{"red_flags":["fever"]}'.encode("utf-16-le"), 400),
    case("utf32-body", "{}".encode("utf-32"), 400),
    case(
        "utf16-body-declared-charset",
        "{}".encode("utf-16"),
        (400, 415),
        content_type="application/json; charset=utf-16",
    ),
    case("raw-nul-in-string", b'{"symptoms":{"legs":"bo\x00th"}}', 400),
    # content types
    case("text-plain", b"{}", 415, content_type="text/plain"),
    case(
        "multipart-form-data",
        b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n{}\r\n--x--\r\n',
        415,
        content_type="multipart/form-data; boundary=x",
    ),
    case(
        "application-xml", b'<?xml version="1.0"?><profile/>', 415, content_type="application/xml"
    ),
    case(
        "form-urlencoded", b"red_flags=fever", 415, content_type="application/x-www-form-urlencoded"
    ),
    case("no-content-type", b"{}", 415, content_type=None),
    case("empty-content-type", b"{}", 415, content_type=""),
    case("json-lookalike-type", b"{}", 415, content_type="application/jsonx"),
    case("xml-sent-as-json", b'<?xml version="1.0"?><profile/>', 400),
    # empty, blank and non-object bodies
    case("empty", b"", 400),
    case("whitespace-only", b" \t\r\n  ", 400),
    case("nul-byte-only", b"\x00", 400),
    case("null", b"null", 422, "_body"),
    case("true", b"true", 422, "_body"),
    case("string", b'"{}"', 422, "_body"),
    case("two-objects", b"{} {}", 400),
    case("trailing-garbage", b"{}garbage", 400),
    case("truncated", b'{"red_flags":["fever"', 400),
    # keys
    case("unknown-top-level-key", b'{"height_cm":170}', 422, "height_cm"),
    case("proto-key", b'{"__proto__":{"admin":true}}', 422, "__proto__"),
    case("nul-in-key", b'{"red\\u0000flags":["fever"]}', 422, "red\x00flags"),
    case(
        "nul-in-nested-key",
        b'{"alignment":{"pelvic_tilt_deg\\u0000":1}}',
        422,
        "alignment.pelvic_tilt_deg\x00",
    ),
    case("nested-unknown-field", b'{"symptoms":{"legs":"both","x":{"y":1}}}', 422, "symptoms.x"),
    case(
        "unknown-field-in-context",
        b'{"context":{"channel":"web","tracking":[1]}}',
        422,
        "context.tracking",
    ),
    case("6000-unknown-keys", under_limit(compact({f"k{i}": 0 for i in range(6000)})), 422),
    # duplicate names: RFC 8259 leaves the meaning open and common parsers silently keep the
    # last one, so a red flag could vanish between a gateway that reads the first and us
    case(
        "duplicate-key-drops-red-flag",
        b'{"red_flags":["saddle_numbness"],"red_flags":[]}',
        (400, 422),
    ),
    case(
        "duplicate-nested-key",
        b'{"alignment":{"pelvic_tilt_deg":40,"pelvic_tilt_deg":-10}}',
        (400, 422),
    ),
]


@pytest.fixture(scope="module")
def client():
    """One app for the module: every case here is a single stateless request (errors are
    never cached), and building an app per case would dominate the run time."""
    return create_app(base_config()).test_client()


@pytest.mark.parametrize("data, content_type, codes, path", CASES)
def test_hostile_body(client, data, content_type, codes, path):
    if content_type is None:
        response = client.post("/v1/pages", data=data)
        assert "Content-Type" not in response.request.headers
    else:
        response = client.post("/v1/pages", data=data, content_type=content_type)
    assert_error_shape(response, codes, path)


@pytest.fixture(scope="module")
def roomy_client():
    """A 1 MiB body limit, so 100,000-deep nesting reaches the JSON parser."""
    return create_app(base_config(MAX_CONTENT_LENGTH=1024 * 1024)).test_client()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(nested(b"[", b"]", 100_000), id="arrays-100k-deep"),
        pytest.param(nested(b'{"a":', b"}", 100_000, b"0"), id="objects-100k-deep"),
        pytest.param(
            b'{"alignment":' + nested(b'{"a":', b"}", 100_000, b"0") + b"}",
            id="alignment-100k-deep",
        ),
    ],
)
def test_deep_nesting_past_the_body_limit_is_400(roomy_client, data):
    started = time.perf_counter()
    response = roomy_client.post("/v1/pages", data=data, content_type=JSON)
    assert_error_shape(response, 400)
    assert time.perf_counter() - started < 2.0


def test_field_named_like_the_schema_error_key_is_blamed_on_its_section(client):
    """A field named like marshmallow's own error key still gets a 422 that points into the
    right section (today it names the section, not ``alignment._schema``)."""
    response = client.post("/v1/pages", json={"alignment": {"_schema": 1}})
    errors = assert_error_shape(response, 422)["errors"]
    assert all(key.startswith("alignment") for key in errors), errors


@pytest.mark.parametrize(
    "data, content_type, code",
    [
        pytest.param(b'{"height_cm":170}', JSON, 422, id="invalid-profile"),
        pytest.param(b"{", JSON, 400, id="malformed"),
        pytest.param(b"{}", "text/plain", 415, id="not-json"),
        pytest.param(over_limit(b"{}" + b" " * LIMIT), JSON, 413, id="too-large"),
    ],
)
def test_errors_stay_json_when_html_is_asked_for(client, data, content_type, code):
    headers = {"Accept": "text/html"}
    response = client.post("/v1/pages", data=data, content_type=content_type, headers=headers)
    assert_error_shape(response, code)


def test_accept_image_png_is_json_or_406(client):
    response = client.post("/v1/pages", json={}, headers={"Accept": "image/png"})
    assert response.status_code in (200, 406)
    if response.status_code == 406:
        assert_error_shape(response, 406)
    else:
        assert response.mimetype == "application/json"
        assert response.get_json()["triage"]["level"] == "none"
        assert "Accept" in {v.strip() for v in response.headers["Vary"].split(",")}


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_other_methods_with_a_body_are_405(client, method):
    response = client.open("/v1/pages", method=method, data=b'{"red_flags":[]}', content_type=JSON)
    assert response.status_code == 405
    if method != "HEAD":
        assert_error_shape(response, 405)


@pytest.mark.parametrize(
    "content_length, codes",
    [
        pytest.param(str(10**9), 413, id="claims-1GB"),
        pytest.param(str(LIMIT + 1), 413, id="claims-limit-plus-1"),
        pytest.param("abc", 400, id="garbage"),
        pytest.param("-5", 400, id="negative"),
        pytest.param("5", 400, id="shorter-than-body"),
    ],
)
def test_lying_content_length(client, content_length, codes):
    response = client.post(
        "/v1/pages",
        data=b'{"red_flags":["fever"]}',
        content_type=JSON,
        environ_overrides={"CONTENT_LENGTH": content_length},
    )
    assert_error_shape(response, codes)


# Streamed bodies: no Content-Length (Transfer-Encoding: chunked). gunicorn, like any
# server that de-chunks, sets wsgi.input_terminated; werkzeug then enforces the limit while
# reading, and the app must answer 413 however the body arrives.

OVER_LIMIT_BODIES = [
    pytest.param(over_limit(compact({"red_flags": ["fever"] * 20_000})), id="json-over-limit"),
    pytest.param(
        over_limit(b'{"red_flags":["fever"]}' + b" " * 70_000),
        id="valid-json-padded-over-limit",
    ),
]


def post_streamed(client, data: bytes):
    return client.post(
        "/v1/pages",
        input_stream=io.BytesIO(data),
        content_type=JSON,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_streamed_body_under_limit_is_served(client):
    response = post_streamed(client, b'{"red_flags":["fever"]}')
    assert response.request.content_length is None  # what the app sees: no length
    assert response.status_code == 200
    assert response.get_json()["triage"]["flags"] == ["fever"]


@pytest.mark.parametrize("data", OVER_LIMIT_BODIES)
def test_streamed_body_over_limit_is_413(client, data):
    response = post_streamed(client, data)
    assert response.request.content_length is None  # what the app sees: no length
    assert_error_shape(response, 413)


# The same through a real gunicorn, with the production settings (gunicorn.conf.py).


class RawResponse:
    def __init__(self, raw: bytes):
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status_code = int(lines[0].split()[1])
        self.headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
        }
        self.mimetype = self.headers.get("content-type", "").split(";")[0]

    def get_json(self):
        return json.loads(self.body)

    def get_data(self):
        return self.body


@pytest.fixture(scope="module")
def gunicorn_url(tmp_path_factory):
    """gunicorn wsgi:app with gunicorn.conf.py, one worker, on a free loopback port;
    built-in plugins only, no Redis. Stopped at the end of the module, even on failure."""
    from gunicorn.config import KNOWN_SETTINGS

    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PERSONALIZER_") and k != "REDIS_URL"
    }
    env.update(
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        PERSONALIZER_LOAD_PLUGINS=json.dumps(BUILTINS),
        PERSONALIZER_PLUGIN_BUDGET_MS="1000",
        PERSONALIZER_REQUEST_DEADLINE_MS="5000",
    )
    args = [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py")]
    if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS):
        args.append("--no-control-socket")  # gunicorn >= 25 would make ~/.gunicorn/*.ctl
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*args, "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                raw = http_request(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n", b"")
                if RawResponse(raw).status_code == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail(f"gunicorn did not serve on port {port}:\n{log.read_text()[-2000:]}")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def http_request(port: int, head: bytes, body: bytes, chunk: int = 0) -> bytes:
    """One HTTP/1.1 request on a fresh connection (closed after); the body is sent chunked
    in pieces of ``chunk`` bytes when chunk > 0. Bounded by socket timeouts."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        if chunk:
            sock.sendall(head + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            try:
                for start in range(0, len(body), chunk):
                    piece = body[start : start + chunk]
                    sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                sock.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the server may answer 413 and close before it has read everything
        else:
            length = b"Content-Length: %d\r\n" % len(body)
            sock.sendall(head + length + b"Connection: close\r\n\r\n")
            with contextlib.suppress(OSError):  # likewise: a 413 may come before the body
                sock.sendall(body)
        received = bytearray()
        while len(received) < 4 * 1024 * 1024:
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            received += data
        return bytes(received)


PAGES_HEAD = b"POST /v1/pages HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"


def test_gunicorn_chunked_under_limit_is_served(gunicorn_url):
    response = RawResponse(http_request(gunicorn_url, PAGES_HEAD, b'{"red_flags":["fever"]}', 7))
    assert response.status_code == 200
    assert response.get_json()["triage"]["flags"] == ["fever"]


@pytest.mark.parametrize("data", OVER_LIMIT_BODIES)
def test_gunicorn_chunked_over_limit_is_413(gunicorn_url, data):
    response = RawResponse(http_request(gunicorn_url, PAGES_HEAD, data, 4096))
    assert_error_shape(response, 413)


def test_gunicorn_content_length_over_limit_is_413(gunicorn_url):
    data = OVER_LIMIT_BODIES[0].values[0]
    response = RawResponse(http_request(gunicorn_url, PAGES_HEAD, data))
    assert_error_shape(response, 413)


def test_a_422_lists_at_most_50_fields_and_counts_them_all(client):
    body = compact({f"k{i}": 0 for i in range(6000)})
    response = client.post("/v1/pages", data=body, content_type=JSON)
    assert response.status_code == 422
    payload = response.get_json()
    assert len(payload["errors"]) == 50
    assert "6000 field(s)" in payload["message"]
    assert len(response.data) < len(body)
