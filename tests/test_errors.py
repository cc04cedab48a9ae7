"""Bad requests get the right 4xx, always in one JSON shape, never a 5xx."""

import json

import pytest


def assert_error_shape(response, code):
    assert response.status_code == code
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["code"] == code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    return body


def raw_post(client, data, content_type="application/json"):
    return client.post("/v1/pages", data=data, content_type=content_type)


def test_malformed_json_is_400(client):
    assert_error_shape(raw_post(client, b'{"red_flags": ['), 400)


def test_empty_body_is_400(client):
    assert_error_shape(raw_post(client, b""), 400)


@pytest.mark.parametrize("data", [b"NaN", b'{"alignment": {"pelvic_tilt_deg": NaN}}', b"\xff\xfe"])
def test_non_json_tokens_are_400(client, data):
    assert_error_shape(raw_post(client, data), 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_not_json_is_415(client, content_type):
    assert_error_shape(raw_post(client, b"{}", content_type), 415)


def test_body_over_64_kib_is_413(client):
    data = json.dumps({"red_flags": ["fever"] * 20000}).encode()
    assert len(data) > 64 * 1024
    assert_error_shape(raw_post(client, data), 413)


@pytest.mark.parametrize("data", [b"[]", b'"text"', b"42", b"null"])
def test_body_not_an_object_is_422(client, data):
    assert_error_shape(raw_post(client, data), 422)


def test_422_names_every_bad_field_by_path(client):
    body = {
        "alignment": {"pelvic_tilt_deg": 99, "lumbar_lordosis_deg": "62", "height_cm": 170},
        "symptoms": {"legs": "all", "worse_with": ["standing", "running"], "numbness": 1},
        "red_flags": ["headache"],
        "context": {"minutes_per_day": 4, "channel": "tv"},
        "extra": True,
    }
    errors = assert_error_shape(client.post("/v1/pages", json=body), 422)["errors"]
    assert set(errors) == {
        "alignment.pelvic_tilt_deg",
        "alignment.lumbar_lordosis_deg",
        "alignment.height_cm",
        "symptoms.legs",
        "symptoms.worse_with.1",
        "symptoms.numbness",
        "red_flags.0",
        "context.minutes_per_day",
        "context.channel",
        "extra",
    }
    assert all(isinstance(m, list) and m for m in errors.values())


@pytest.mark.parametrize(
    "body, path",
    [
        ({"symptoms": {"pain_score": 6.5}}, "symptoms.pain_score"),
        ({"symptoms": {"pain_score": True}}, "symptoms.pain_score"),
        ({"symptoms": {"walking_tolerance_min": -1}}, "symptoms.walking_tolerance_min"),
        ({"alignment": {"forward_head_cm": 1e308}}, "alignment.forward_head_cm"),
        ({"alignment": []}, "alignment"),
        ({"red_flags": "fever"}, "red_flags"),
        ({"red_flags": ["fever"] * 40}, "red_flags"),
        ({"context": {"locale": "fr"}}, "context.locale"),
    ],
)
def test_wrong_types_and_ranges_are_422(client, body, path):
    errors = assert_error_shape(client.post("/v1/pages", json=body), 422)["errors"]
    assert path in errors


def test_unknown_route_and_method_use_the_error_shape(client):
    assert_error_shape(client.get("/v1/nothing"), 404)
    assert_error_shape(client.get("/v1/pages"), 405)
