"""Partner clinics: keys, origins, policy on their pages, CORS and rate limits."""

import copy

import pytest
import yaml

from personalizer import create_app
from personalizer.partners import Registry, new_key
from tests.support import EXAMPLE_PROFILE, base_config

ORIGIN = "https://riverside.example"
EMERGENCY = {"red_flags": ["saddle_numbness"], "context": {"channel": "clinic"}}
ROUTINE = {**copy.deepcopy(EXAMPLE_PROFILE), "red_flags": []}
ROUTINE["context"] = {"channel": "clinic", "minutes_per_day": 20}


@pytest.fixture
def keys():
    return {name: new_key(name[:2]) for name in ("sk_a", "pk_a", "sk_b", "pk_b")}


@pytest.fixture
def partners_file(tmp_path, keys):
    data = {
        "partners": [
            {
                "id": "riverside",
                "name": "Riverside Spine Clinic",
                "secret_key_sha256": keys["sk_a"][1],
                "publishable_key_sha256": keys["pk_a"][1],
                "allowed_origins": [ORIGIN],
                "rate_limit": "3 per minute",
                "policy": {
                    "cta": {"title": "Book at Riverside", "href": "https://riverside.example/b"},
                    "brand_colour": "#0a6e5c",
                    "emergency_number": "000",
                    "emergency_service": "the Riverside emergency room",
                },
            },
            {
                "id": "hillside",
                "name": "Hillside",
                "secret_key_sha256": keys["sk_b"][1],
                "publishable_key_sha256": keys["pk_b"][1],
                "allowed_origins": ["https://hillside.example"],
                "policy": {"commercial_ctas": True},
            },
        ]
    }
    path = tmp_path / "partners.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def client(partners_file):
    return create_app(base_config(PARTNERS_FILE=str(partners_file))).test_client()


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_keys_are_stored_only_as_hashes(partners_file, keys):
    text = partners_file.read_text()
    registry = Registry.load(partners_file)
    for key, digest in keys.values():
        assert key not in text and digest in text
        assert all(key not in repr(p) for p in registry.partners)


def test_example_partner_file_loads():
    from personalizer.config import ROOT

    registry = Registry.load(ROOT / "partners.example.yaml")
    assert [p.id for p in registry.partners] == ["riverside-clinic"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer sk_wrong"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        {"X-Personalizer-Key": "pk_wrong", "Origin": ORIGIN},
    ],
)
def test_wrong_key_is_401(client, headers):
    response = client.post("/v1/pages", json=ROUTINE, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["code"] == 401 and response.get_json()["message"]


def test_publishable_key_from_another_origin_is_403(client, keys):
    for origin in ("https://evil.example", None, "https://hillside.example"):
        headers = {"X-Personalizer-Key": keys["pk_a"][0]}
        if origin:
            headers["Origin"] = origin
        response = client.post("/v1/pages", json=ROUTINE, headers=headers)
        assert response.status_code == 403, origin
        assert (
            "Access-Control-Allow-Origin" not in response.headers
            or origin != "https://evil.example"
        )


def test_publishable_key_from_allowed_origin(client, keys):
    headers = {"X-Personalizer-Key": keys["pk_a"][0], "Origin": ORIGIN}
    response = client.post("/v1/pages", json=ROUTINE, headers=headers)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response.vary


def test_cors_preflight_answers_only_allowed_origins(client):
    allowed = client.options(
        "/v1/pages", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Personalizer-Key" in allowed.headers["Access-Control-Allow-Headers"]
    other = client.options(
        "/v1/pages",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in other.headers


def test_required_key(partners_file):
    config = base_config(PARTNERS_FILE=str(partners_file), REQUIRE_PARTNER_KEY=True)
    response = create_app(config).test_client().post("/v1/pages", json=ROUTINE)
    assert response.status_code == 401


def test_partner_policy_on_json(client, keys):
    page = client.post("/v1/pages", json=ROUTINE, headers=bearer(keys["sk_a"][0])).get_json()
    ctas = [b for b in page["blocks"] if b["kind"] == "cta"]
    assert not any(b["commercial"] for b in ctas)
    booking = next(b for b in ctas if b["id"] == "partner-booking")
    assert (booking["title"], booking["href"]) == (
        "Book at Riverside",
        "https://riverside.example/b",
    )
    assert any(b["kind"] == "section" for b in page["blocks"])
    assert any(b["kind"] == "exercise" for b in page["blocks"])


def test_partner_that_allows_commercial_ctas(client, keys):
    profile = {**ROUTINE, "alignment": {}}
    page = client.post("/v1/pages", json=profile, headers=bearer(keys["sk_b"][0])).get_json()
    ids = [b["id"] for b in page["blocks"] if b["kind"] == "cta"]
    assert "posture-assessment" in ids
    assert "partner-booking" not in ids  # Hillside has no booking link


def test_partner_numbers_in_alerts_json_and_html(client, keys):
    page = client.post("/v1/pages", json=EMERGENCY, headers=bearer(keys["sk_a"][0])).get_json()
    alert = page["blocks"][0]
    assert alert["id"] == "emergency-now"
    assert "000" in alert["title"] + alert["html"]
    assert "Riverside emergency room" in alert["title"] + alert["html"]
    assert not any(b["kind"] == "exercise" or b.get("commercial") for b in page["blocks"])
    html = client.post(
        "/v1/pages", json=EMERGENCY, headers={**bearer(keys["sk_a"][0]), "Accept": "text/html"}
    ).get_data(as_text=True)
    assert 'data-brand="#0a6e5c"' in html
    assert "000" in html and "pz-exercise" not in html and "pz-commercial" not in html
    anonymous = client.post("/v1/pages", json=EMERGENCY).get_json()
    assert "000" not in anonymous["blocks"][0]["html"]


def test_partner_is_part_of_the_decision_key(client, keys):
    ids = {
        client.post("/v1/pages", json=ROUTINE, headers=headers).get_json()["page_id"]
        for headers in ({}, bearer(keys["sk_a"][0]), bearer(keys["sk_b"][0]))
    }
    assert len(ids) == 3


def test_429_after_the_limit_per_key(partners_file, keys):
    config = base_config(PARTNERS_FILE=str(partners_file), RATE_LIMIT_ENABLED=True)
    client = create_app(config).test_client()
    codes = [
        client.post("/v1/pages", json=ROUTINE, headers=bearer(keys["sk_a"][0])).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    limited = client.post("/v1/pages", json=ROUTINE, headers=bearer(keys["sk_a"][0]))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.get_json()["code"] == 429
    other = client.post("/v1/pages", json=ROUTINE, headers=bearer(keys["sk_b"][0]))
    assert other.status_code == 200
    assert client.get("/healthz").status_code == 200


def test_rate_limits_are_shared_through_redis(partners_file, keys, redis_url, redis_prefix):
    config = base_config(
        PARTNERS_FILE=str(partners_file),
        RATE_LIMIT_ENABLED=True,
        REDIS_URL=redis_url,
        CACHE_PREFIX=redis_prefix,
    )
    one, two = create_app(config).test_client(), create_app(config).test_client()
    codes = [
        c.post("/v1/pages", json=ROUTINE, headers=bearer(keys["sk_a"][0])).status_code
        for c in (one, two, one, two)
    ]
    assert codes == [200, 200, 200, 429]


def test_rate_limiter_with_redis_down_keeps_serving(partners_file, keys, redis_prefix):
    """Decision: with Redis down the limiter counts per process; pages keep coming."""
    config = base_config(
        PARTNERS_FILE=str(partners_file),
        RATE_LIMIT_ENABLED=True,
        REDIS_URL="redis://127.0.0.1:1/0",
        CACHE_PREFIX=redis_prefix,
    )
    client = create_app(config).test_client()
    codes = [
        client.post("/v1/pages", json=ROUTINE, headers=bearer(keys["sk_a"][0])).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
