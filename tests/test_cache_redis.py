"""The page cache against a real Redis: hits, where keys live, what they hold."""

import copy

from personalizer import create_app
from tests.support import EXAMPLE_PROFILE, base_config


def own_keys(redis_client, prefix):
    return sorted(k.decode() for k in redis_client.scan_iter(match=prefix + "*"))


def test_second_identical_request_is_a_hit(redis_app, redis_client, redis_prefix):
    client = redis_app.test_client()
    first = client.post("/v1/pages", json=EXAMPLE_PROFILE)
    second = client.post("/v1/pages", json=EXAMPLE_PROFILE)
    assert first.headers["X-Cache"] == "miss"
    assert second.headers["X-Cache"] == "hit"
    assert second.data == first.data
    keys = own_keys(redis_client, redis_prefix)
    assert len(keys) == 1 and keys[0].startswith(redis_prefix)
    assert 0 < redis_client.ttl(keys[0]) <= 3600


def test_hit_is_shared_between_app_instances(redis_url, redis_prefix):
    """Two workers (two app instances) share one Redis."""
    config = base_config(REDIS_URL=redis_url, CACHE_PREFIX=redis_prefix)
    one, two = create_app(config).test_client(), create_app(config).test_client()
    assert one.post("/v1/pages", json=EXAMPLE_PROFILE).headers["X-Cache"] == "miss"
    assert two.post("/v1/pages", json=EXAMPLE_PROFILE).headers["X-Cache"] == "hit"


def test_no_raw_measurement_in_keys_or_values(redis_app, redis_client, redis_prefix):
    profile = copy.deepcopy(EXAMPLE_PROFILE)
    profile["alignment"].update(pelvic_tilt_deg=17.5, lumbar_lordosis_deg=62.25)
    profile["symptoms"]["walking_tolerance_min"] = 13
    client = redis_app.test_client()
    client.post("/v1/pages", json=profile)
    client.post("/v1/pages", json=profile, headers={"Accept": "text/html"})
    keys = own_keys(redis_client, redis_prefix)
    assert len(keys) == 2
    for key in keys:
        value = redis_client.get(key)
        for raw in ("17.5", "62.25", "pelvic_tilt_deg", "walking_tolerance_min"):
            assert raw not in key
            assert raw.encode() not in value


def test_redis_down_means_bypass_not_500(redis_prefix):
    config = base_config(REDIS_URL="redis://127.0.0.1:1/0", CACHE_PREFIX=redis_prefix)
    client = create_app(config).test_client()
    for _ in range(3):
        response = client.post("/v1/pages", json=EXAMPLE_PROFILE)
        assert response.status_code == 200
        assert response.headers["X-Cache"] == "bypass"
        assert response.get_json()["triage"]["level"] == "assess"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"]["cache"] == "degraded"


def test_readyz_reports_ok_with_redis(redis_app):
    body = redis_app.test_client().get("/readyz").get_json()
    assert body["checks"] == {"cache": "ok", "cache_backend": "redis"}


def test_content_edit_changes_version_and_misses(redis_url, redis_prefix, tmp_path):
    import shutil

    from personalizer.config import ROOT

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    config = base_config(REDIS_URL=redis_url, CACHE_PREFIX=redis_prefix, CONTENT_DIRS=[content])
    client = create_app(config).test_client()
    before = client.post("/v1/pages", json=EXAMPLE_PROFILE)
    assert client.post("/v1/pages", json=EXAMPLE_PROFILE).headers["X-Cache"] == "hit"
    section = content / "sections" / "what-is-stenosis.md"
    section.write_text(section.read_text() + "\nOne more plain sentence.\n")
    client = create_app(config).test_client()
    after = client.post("/v1/pages", json=EXAMPLE_PROFILE)
    assert after.headers["X-Cache"] == "miss"
    assert after.get_json()["content_version"] != before.get_json()["content_version"]


def test_a_repeated_body_whose_page_was_evicted_is_built_again(
    redis_app, redis_client, redis_prefix
):
    client = redis_app.test_client()
    first = client.post("/v1/pages", json=EXAMPLE_PROFILE)
    redis_client.delete(*own_keys(redis_client, redis_prefix))
    again = client.post("/v1/pages", json=EXAMPLE_PROFILE)
    assert again.status_code == 200
    assert again.headers["X-Cache"] == "miss"
    assert again.data == first.data
    assert client.post("/v1/pages", json=EXAMPLE_PROFILE).headers["X-Cache"] == "hit"
