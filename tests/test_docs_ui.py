"""/docs: Swagger UI from the swagger-ui-bundle package, served by the service, offline.

The Flask test client checks the page, its Content-Security-Policy and the assets; chromium
(as in test_browser.py) loads the page with every request outside the service refused, and
the reference still renders.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from personalizer import docs_ui
from tests.support import base_config
from tests.test_browser import ARTIFACTS, DESKTOP, QuietWSGIHandler, browser  # noqa: F401
from tests.test_embed import embed_app


@pytest.fixture
def client():
    return embed_app(base_config()).test_client()


def csp_of(response) -> dict[str, list[str]]:
    headers = response.headers  # Flask's are case-blind; Playwright's are lower case
    policy = headers.get("Content-Security-Policy") or headers["content-security-policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_swagger_ui_comes_from_the_installed_package():
    assert docs_ui.SWAGGER_DIR is not None, "pip install swagger-ui-bundle"
    assert (Path(docs_ui.SWAGGER_DIR) / "swagger-ui-bundle.js").is_file()
    assert docs_ui.version()[0].isdigit()


def test_docs_page_has_its_own_strict_policy_and_no_cdn(client):
    response = client.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "cdn" not in page.lower() and "https://" not in page and "http://" not in page
    assert "<script>" not in page and " style=" not in page and "<style" not in page
    csp = csp_of(response)
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert 'data-spec-url="/openapi.json"' in page


@pytest.mark.parametrize(
    ("name", "mimetype"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("docs-init.js", "text/javascript"),
    ],
)
def test_assets_are_versioned_and_cached(client, name, mimetype):
    response = client.get(f"/docs/assets/{docs_ui.version()}/{name}")
    assert response.status_code == 200 and response.mimetype == mimetype
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert client.get(f"/docs/assets/0.0.0/{name}").status_code == 404


def test_only_known_assets_are_served(client):
    release = docs_ui.version()
    for name in (
        "index.html",
        "swagger-initializer.js",
        "..%2F__init__.py",
        "oauth2-redirect.html",
    ):
        assert client.get(f"/docs/assets/{release}/{name}").status_code == 404, name


def test_docs_render_in_chromium_with_no_network(browser):  # noqa: F811
    app = embed_app(base_config())
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietWSGIHandler)
    origin = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    context = browser.new_context(viewport=DESKTOP)
    refused: list[str] = []
    problems: list[str] = []

    def offline(route):
        if route.request.url.startswith(origin + "/"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    try:
        context.route("**/*", offline)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda m: (
                problems.append(m.text) if m.type == "error" and "favicon" not in m.text else None
            ),
        )
        page.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation',"
            " (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        response = page.goto(origin + "/docs")
        assert csp_of(response)["frame-ancestors"] == ["'none'"]
        title = page.locator(".swagger-ui .info .title")
        title.wait_for(timeout=15_000)
        assert "personalizer" in title.inner_text()
        page.locator(".opblock-summary-path", has_text="/v1/pages").first.wait_for()
        assert page.locator(".opblock").count() >= 4
        assert page.evaluate("window.__csp") == []
        assert refused == [] and problems == [], (refused, problems)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "docs-offline.png"))
    finally:
        context.close()
        server.shutdown()
        server.server_close()
        thread.join(5)
