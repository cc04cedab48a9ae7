"""Property-based API tests: schemathesis (4.x) against the app's own /openapi.json.

Every documented operation is called with generated requests, positive (valid per the
document) and negative (invalid bodies, wrong types, undeclared methods), in process through
the WSGI app (no network). The checks: never a 5xx, responses conform to the documented
schemas, status codes and content types are documented ones, valid data is accepted and
invalid data rejected, and every error is the one error shape of DESIGN section 2.

Deterministic (``derandomize=True``, no example database) and bounded (50 generated examples
per operation, plus schemathesis' explicit coverage examples): a few seconds in all.
"""

from __future__ import annotations

import schemathesis
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from personalizer import create_app
from tests.support import base_config

APP = create_app(base_config())
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]


def error_shape(ctx, response, case):
    """Every 4xx is JSON in the one shape: code (= the status), status, message, and a
    per-field ``errors`` object for 422. The document's 400/413/415/422 responses carry no
    schema, so response_schema_conformance cannot check this by itself."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), (
        f"{response.status_code} answered {content_type!r}, not JSON"
    )
    body = response.json()
    assert isinstance(body, dict), body
    assert body.get("code") == response.status_code, body
    assert isinstance(body.get("status"), str) and body["status"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert set(body) <= {"code", "status", "message", "errors"}, body
    if response.status_code == 422:
        assert isinstance(body.get("errors"), dict) and body["errors"], body
    return True


@schema.parametrize()
@settings(max_examples=50, derandomize=True, database=None, deadline=None)
def test_every_operation_conforms(case):
    case.call_and_validate(checks=CHECKS, additional_checks=[error_shape])


def _documented_methods():
    document = APP.test_client().get("/openapi.json").get_json()
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return {
        path: {key.upper() for key in item if key in methods}  # not "parameters" and the like
        for path, item in document["paths"].items()
    }


DOCUMENTED = _documented_methods()


def test_undeclared_method_is_405_with_allow():
    """schemathesis' unsupported_method check (ST204) sends undeclared methods to every
    operation. RFC 9110 section 15.5.6: a 405 MUST carry an Allow header naming the methods
    that work. Checked here directly, once for every path and undeclared method."""
    client = APP.test_client()
    wrong = []
    for path, methods in DOCUMENTED.items():
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "TRACE"):
            if method in methods:
                continue
            response = client.open(path, method=method)
            body = response.get_json()
            assert response.status_code == 405, (method, path, response.status_code)
            assert body["code"] == 405 and body["status"] and body["message"], body
            allow = {m.strip() for m in response.headers.get("Allow", "").split(",")}
            if not methods <= allow:
                wrong.append(f"{method} {path} -> Allow: {response.headers.get('Allow')!r}")
    assert not wrong, "405 without an Allow header naming the documented methods:\n" + "\n".join(
        wrong
    )
