"""The attack cases of issue 16, each as a regression test (docs/operations.md, "What we
tested"). Rate limits are on here, as in production, unless a test says otherwise."""

from __future__ import annotations

import copy
import logging
import zlib

import pytest
import yaml

from personalizer import create_app
from personalizer.partners import Registry, new_key
from tests.support import EXAMPLE_PROFILE, base_config

ORIGIN = "https://riverside.example"
ROUTINE = {**copy.deepcopy(EXAMPLE_PROFILE), "red_flags": []}
EMERGENCY = {"red_flags": ["saddle_numbness"]}
OPS_TOKEN = "ops-token-for-the-tests-0123456789"


@pytest.fixture
def keys():
    return {name: new_key(name[:2]) for name in ("sk_a", "pk_a")}


def partner_entry(keys, **extra) -> dict:
    return {
        "id": "riverside",
        "name": "Riverside Spine Clinic",
        "secret_key_sha256": keys["sk_a"][1],
        "publishable_key_sha256": keys["pk_a"][1],
        "allowed_origins": [ORIGIN],
        "rate_limit": "5 per minute",
        **extra,
    }


def write_partners(tmp_path, *entries) -> str:
    path = tmp_path / "partners.yaml"
    path.write_text(yaml.safe_dump({"partners": list(entries)}))
    return str(path)


@pytest.fixture
def partners_file(tmp_path, keys):
    return write_partners(tmp_path, partner_entry(keys))


def make_client(partners_file=None, **config):
    settings = {"RATE_LIMIT_ENABLED": True, **config}
    if partners_file:
        settings["PARTNERS_FILE"] = partners_file
    return create_app(base_config(**settings)).test_client()


def post(client, headers=None, body=None, address="10.0.0.1"):
    return client.post(
        "/v1/pages",
        json=ROUTINE if body is None else body,
        headers=headers or {},
        environ_base={"REMOTE_ADDR": address},
    )


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


# -- 1. REQUIRE_PARTNER_KEY with rate limits on ----------------------------------------------


def test_required_key_is_enforced_with_rate_limits_on(partners_file, keys):
    client = make_client(partners_file, REQUIRE_PARTNER_KEY=True)
    for _ in range(3):
        response = post(client)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert post(client, bearer(keys["sk_a"][0])).status_code == 200


# -- 2. failed authentication: refused before the limiter, counted per address ---------------


def test_wrong_keys_are_rate_limited_per_address(partners_file, caplog):
    client = make_client(partners_file, AUTH_FAILURE_LIMIT="5 per minute")
    with caplog.at_level(logging.WARNING):
        codes = [post(client, bearer("sk_guess")).status_code for _ in range(8)]
    assert codes == [401] * 5 + [429] * 3
    limited = post(client, bearer("sk_guess"))
    assert int(limited.headers["Retry-After"]) > 0
    # Another address still gets its own answers, and anonymous calls are not affected.
    assert post(client, bearer("sk_guess"), address="10.0.0.2").status_code == 401
    assert post(client).status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_failed_auth_does_not_switch_the_limiter_to_memory(
    partners_file, keys, redis_url, redis_prefix
):
    """Today's main: an abort inside the key function counted as a storage failure, and the
    worker counted in memory from then on although Redis was healthy."""
    config = {"REDIS_URL": redis_url, "CACHE_PREFIX": redis_prefix, "RATE_LIMIT": "3 per minute"}
    one, two = make_client(partners_file, **config), make_client(partners_file, **config)
    assert post(one, {"X-Personalizer-Key": "pk_wrong", "Origin": ORIGIN}).status_code == 401
    assert post(one, {"X-Personalizer-Key": keys["pk_a"][0]}).status_code == 403
    limiter = one.application.extensions["limiter"]
    assert not limiter._storage_dead
    codes = [post(c).status_code for c in (one, two, one, two)]
    assert codes == [200, 200, 200, 429]  # shared through Redis, not per process


def test_failed_auth_is_counted_in_redis(partners_file, redis_url, redis_prefix):
    config = {"REDIS_URL": redis_url, "CACHE_PREFIX": redis_prefix}
    config["AUTH_FAILURE_LIMIT"] = "2 per minute"
    one, two = make_client(partners_file, **config), make_client(partners_file, **config)
    codes = [post(c, bearer("sk_guess")).status_code for c in (one, two, one, two)]
    assert codes == [401, 401, 429, 429]


# -- 4. publishable-key traffic has its own buckets ------------------------------------------


def test_forged_origin_cannot_use_up_the_server_bucket(tmp_path, keys):
    entry = partner_entry(keys, rate_limit="4 per minute", browser_rate_limit="6 per minute")
    client = make_client(write_partners(tmp_path, entry), BROWSER_RATE_LIMIT="3 per minute")
    forged = {"X-Personalizer-Key": keys["pk_a"][0], "Origin": ORIGIN}  # any curl can do this
    attacker = [post(client, forged, address="203.0.113.9").status_code for _ in range(5)]
    assert attacker == [200, 200, 200, 429, 429]  # per end-user address
    # Other browsers share the partner's browser bucket (6): three more get through.
    browsers = [post(client, forged, address=f"198.51.100.{i}").status_code for i in range(4)]
    assert browsers == [200, 200, 200, 429]
    # The partner's own server still has its whole bucket.
    server = [post(client, bearer(keys["sk_a"][0])).status_code for _ in range(5)]
    assert server == [200, 200, 200, 200, 429]


# -- 5. metric labels are bounded ------------------------------------------------------------


def test_invented_methods_do_not_grow_the_metrics(client):
    for i in range(50):
        client.open("/healthz", method=f"X{i}INVENTED")
    text = client.get("/metrics").get_data(as_text=True)
    assert "INVENTED" not in text
    assert 'method="other"' in text


# -- 6. invalid rate limits stop start-up ----------------------------------------------------


def test_invalid_rate_limit_setting_is_refused():
    with pytest.raises(RuntimeError, match="PERSONALIZER_RATE_LIMIT"):
        create_app(base_config(RATE_LIMIT="120 a minute"))


def test_invalid_partner_rate_limit_is_refused(tmp_path, keys):
    path = write_partners(tmp_path, partner_entry(keys, rate_limit="sixty a minute"))
    with pytest.raises(RuntimeError, match="rate_limit"):
        Registry.load(path)


# -- 7. conditional requests -----------------------------------------------------------------


def test_if_none_match_star_is_ignored_and_weak_tags_match(client):
    for body in (EMERGENCY, ROUTINE):
        star = client.post("/v1/pages", json=body, headers={"If-None-Match": "*"})
        assert star.status_code == 200 and star.data
    etag = client.post("/v1/pages", json=ROUTINE).headers["ETag"]
    strong = client.post("/v1/pages", json=ROUTINE, headers={"If-None-Match": etag})
    assert strong.status_code == 304
    weak = client.post("/v1/pages", json=ROUTINE, headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    other = client.post("/v1/pages", json=EMERGENCY, headers={"If-None-Match": etag})
    assert other.status_code == 200


# -- 8. X-Cache is not exposed to other origins ----------------------------------------------


def test_x_cache_is_not_exposed_cross_origin(partners_file, keys):
    client = make_client(partners_file)
    response = post(client, {"X-Personalizer-Key": keys["pk_a"][0], "Origin": ORIGIN})
    assert response.status_code == 200
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert "X-Cache" not in exposed and "ETag" in exposed


# -- 10. partner file validation -------------------------------------------------------------


@pytest.mark.parametrize(
    "href",
    [
        "//evil.example/x",
        "/\\evil.example/phish",
        "\\\\evil.example",
        "https://riverside.example@evil.example/",
        "javascript:alert(1)",
        "/book\n",
        "https://riverside.example/book\n",
    ],
)
def test_partner_cta_href_to_another_host_is_refused(tmp_path, keys, href):
    policy = {"cta": {"title": "Book", "href": href}}
    with pytest.raises(RuntimeError, match="href"):
        Registry.load(write_partners(tmp_path, partner_entry(keys, policy=policy)))


@pytest.mark.parametrize(
    "field, value",
    [
        ("id", "riverside\n"),
        ("secret_key_sha256", "a" * 64 + "\n"),
        ("allowed_origins", ["https://riverside.example\n"]),
    ],
)
def test_partner_fields_refuse_a_trailing_newline(tmp_path, keys, field, value):
    with pytest.raises(RuntimeError, match=field):
        Registry.load(write_partners(tmp_path, partner_entry(keys, **{field: value})))


def test_partner_origin_with_trailing_slash_is_accepted(tmp_path, keys):
    path = write_partners(tmp_path, partner_entry(keys, allowed_origins=[ORIGIN + "/"]))
    assert Registry.load(path).origins == {ORIGIN}
    policy = {"cta": {"title": "Book", "href": "/find-a-clinician"}}
    assert Registry.load(write_partners(tmp_path, partner_entry(keys, policy=policy)))


# -- 11. Authorization header, WWW-Authenticate, keys in the URL -----------------------------


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_bearer_scheme_is_case_insensitive(partners_file, keys, scheme):
    client = make_client(partners_file, RATE_LIMIT_ENABLED=False)
    headers = {"Authorization": f"{scheme} {keys['sk_a'][0]}"}
    assert post(client, headers).status_code == 200


def test_401_carries_www_authenticate(partners_file):
    client = make_client(partners_file)
    for headers in (bearer("sk_wrong"), {"Authorization": "Basic abc"}):
        response = post(client, headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="personalizer"'


@pytest.mark.parametrize("query", ["api_key=sk_live_123", "key=abc", "x=pk_abc", "token=t"])
def test_key_in_the_query_string_is_refused(partners_file, query):
    client = make_client(partners_file)
    response = client.post(f"/v1/pages?{query}", json=ROUTINE)
    assert response.status_code == 400
    assert "header" in response.get_json()["message"]
    assert client.post("/v1/pages?explain=1", json=ROUTINE).status_code == 200


# -- 12. content codings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "coding, data",
    [
        ("deflate", b"{}"),
        ("gzip", zlib.compress(b"{}")),
        ("br", b"{}"),
        ("gzip, identity", b"{}"),
    ],
)
def test_content_codings_are_415(client, coding, data):
    response = client.post(
        "/v1/pages",
        data=data,
        content_type="application/json",
        headers={"Content-Encoding": coding},
    )
    assert response.status_code == 415
    assert response.get_json()["code"] == 415


def test_identity_coding_is_accepted(client):
    response = client.post("/v1/pages", json={}, headers={"Content-Encoding": "identity"})
    assert response.status_code == 200


# -- 13. rate-limit headers that are true ----------------------------------------------------


def test_no_retry_after_on_success_and_true_remaining(partners_file, keys):
    client = make_client(partners_file)
    remaining = []
    for _ in range(5):
        response = post(client, bearer(keys["sk_a"][0]))
        assert response.status_code == 200
        assert "Retry-After" not in response.headers
        assert response.headers["X-RateLimit-Limit"] == "5"
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    limited = post(client, bearer(keys["sk_a"][0]))
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 61
    assert limited.headers["X-RateLimit-Remaining"] == "0"


def test_browser_traffic_reports_the_tighter_limit(partners_file, keys):
    client = make_client(partners_file, BROWSER_RATE_LIMIT="2 per minute")
    headers = {"X-Personalizer-Key": keys["pk_a"][0], "Origin": ORIGIN}
    first = post(client, headers)
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == (
        "2",
        "1",
    )


# -- 15. operations endpoints behind a token -------------------------------------------------

OPS = ["/metrics", "/v1/plugins", "/docs", "/openapi.json"]


@pytest.mark.parametrize("path", OPS)
def test_operations_endpoints_need_the_token_when_set(path):
    client = make_client(OPS_TOKEN=OPS_TOKEN)
    for headers in ({}, bearer("wrong-token"), {"Authorization": OPS_TOKEN}):
        response = client.get(path, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["code"] == 401
    assert client.get(path, headers=bearer(OPS_TOKEN)).status_code == 200
    assert client.get(path, headers={"Authorization": f"bearer {OPS_TOKEN}"}).status_code == 200


def test_health_and_pages_stay_open_with_the_token_set():
    client = make_client(OPS_TOKEN=OPS_TOKEN)
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/v1/content").status_code == 200
    assert post(client).status_code == 200


@pytest.mark.parametrize("path", OPS)
def test_operations_endpoints_are_open_without_the_token(client, path):
    assert client.get(path).status_code == 200


def test_a_short_ops_token_is_refused():
    with pytest.raises(RuntimeError, match="PERSONALIZER_OPS_TOKEN"):
        create_app(base_config(OPS_TOKEN="short"))


# -- 3. trusted proxies ----------------------------------------------------------------------


def test_forwarded_for_is_ignored_without_trusted_proxies():
    client = make_client(RATE_LIMIT="2 per minute")
    spoofed = [
        client.post(
            "/v1/pages", json=ROUTINE, headers={"X-Forwarded-For": f"192.0.2.{i}"}
        ).status_code
        for i in range(3)
    ]
    assert spoofed == [200, 200, 429]  # one address, whatever the header says


def test_forwarded_for_is_the_client_behind_one_proxy():
    client = make_client(RATE_LIMIT="2 per minute", PROXY_HOPS=1)

    def via_proxy(client_address, spoofed=None):
        forwarded = f"{spoofed}, {client_address}" if spoofed else client_address
        return client.post(
            "/v1/pages",
            json=ROUTINE,
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        ).status_code

    assert [via_proxy("192.0.2.1") for _ in range(3)] == [200, 200, 429]
    assert via_proxy("192.0.2.2") == 200
    # A client that sends its own X-Forwarded-For cannot choose its address: nginx appends.
    assert via_proxy("192.0.2.1", spoofed="192.0.2.99") == 429
