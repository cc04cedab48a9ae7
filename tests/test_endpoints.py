"""The read-only endpoints: plugins, catalog, health, OpenAPI."""

from tests.support import BUILTINS


def test_plugins_lists_every_builtin(client):
    plugins = client.get("/v1/plugins").get_json()
    by_name = {p["name"]: p for p in plugins}
    assert set(BUILTINS) <= set(by_name)
    for name in BUILTINS:
        entry = by_name[name]
        assert entry["source"] == "built-in"
        assert entry["enabled"] is True
        assert entry["hooks"] and all(h.startswith("personalizer_") for h in entry["hooks"])
    assert by_name["red_flags"]["hooks"] == ["personalizer_triage"]


def test_disabled_plugin_is_listed_as_disabled(app):
    from personalizer import create_app
    from tests.support import base_config

    client = create_app(base_config(DISABLE_PLUGINS=["education"])).test_client()
    by_name = {p["name"]: p for p in client.get("/v1/plugins").get_json()}
    assert by_name["education"]["enabled"] is False
    page = client.post("/v1/pages", json={}).get_json()
    plugins = {w["plugin"] for b in page["blocks"] for w in b["why"]}
    assert "education" not in plugins


def test_content_catalog(client):
    body = client.get("/v1/content").get_json()
    assert len(body["content_version"]) == 16
    kinds = {}
    for item in body["items"]:
        assert set(item) == {"id", "kind", "title", "tags"}
        kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
    assert kinds["section"] >= 8 and kinds["exercise"] >= 10
    assert kinds["cta"] >= 4 and kinds["alert"] >= 4


def test_health_and_ready(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz").get_json()
    assert ready["checks"] == {"cache": "ok", "cache_backend": "local"}


def test_openapi_documents_every_route(client):
    spec = client.get("/openapi.json").get_json()
    assert {"/v1/pages", "/v1/plugins", "/v1/content", "/healthz", "/readyz"} <= set(spec["paths"])
    body = spec["paths"]["/v1/pages"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Profile"}
    profile = spec["components"]["schemas"]["Alignment"]["properties"]["pelvic_tilt_deg"]
    assert (profile["minimum"], profile["maximum"]) == (-30, 45)
    assert client.get("/docs").status_code == 200
