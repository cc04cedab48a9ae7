"""``/docs``: a browsable view of the OpenAPI document that works with no network.

Swagger UI comes from the ``swagger-ui-bundle`` package (installed with the project), not a
CDN. The service serves the page and its assets itself: the page under its own strict
Content-Security-Policy (no inline script or style, nothing from another origin, never in a
frame), the assets under a versioned path with long-lived cache headers, and the page's
start-up code from ``static/docs-init.js`` (Swagger UI's own initializer is inline and
points at a demo API, so it is not used). The online validator badge is off (it would call
validator.swagger.io) and Swagger UI's query-string configuration is off.

flask-smorest's own Swagger UI route is not registered: ``OPENAPI_SWAGGER_UI_URL`` is None.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, render_template_string

try:  # the package is a dependency; without it /docs says how to get it
    import swagger_ui_bundle

    SWAGGER_DIR: Path | None = Path(swagger_ui_bundle.swagger_ui_path)
except ImportError:  # pragma: no cover - the package is installed with the project
    SWAGGER_DIR = None

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
ONE_YEAR = 365 * 24 * 3600
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ title }}: API reference</title>
  <link rel="icon" type="image/png" href="{{ assets }}/favicon-32x32.png">
  <link rel="stylesheet" href="{{ assets }}/swagger-ui.css">
  <script src="{{ assets }}/swagger-ui-bundle.js" defer></script>
  <script src="{{ assets }}/docs-init.js" defer></script>
</head>
<body>
  <main id="swagger-ui" data-spec-url="{{ spec_url }}">
    <noscript>This reference needs JavaScript. The OpenAPI document itself is at
      <a href="{{ spec_url }}">{{ spec_url }}</a>.</noscript>
  </main>
</body>
</html>
"""

bp = Blueprint("docs_ui", __name__)


def version() -> str:
    """Swagger UI's version, from the package's directory name (swagger-ui-4.15.5)."""
    if SWAGGER_DIR is None:
        return "missing"
    return SWAGGER_DIR.name.removeprefix("swagger-ui-")


def _spec_url() -> str:
    prefix = (current_app.config.get("OPENAPI_URL_PREFIX") or "/").rstrip("/")
    return f"{prefix}/{current_app.config.get('OPENAPI_JSON_PATH', 'openapi.json')}"


@bp.get("/docs")
def docs():
    if SWAGGER_DIR is None:
        body = "Swagger UI is not installed: pip install swagger-ui-bundle"
        response = Response(body, status=503, mimetype="text/plain")
    else:
        page = render_template_string(
            PAGE,
            title=current_app.config.get("API_TITLE", "API"),
            assets=f"/docs/assets/{version()}",
            spec_url=_spec_url(),
        )
        response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = DOCS_CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/docs/assets/<release>/<name>")
def asset(release: str, name: str):
    if release != version():
        abort(404)
    if name == "docs-init.js":
        path, mimetype = STATIC / "docs-init.js", "text/javascript"
    elif name in ASSETS and SWAGGER_DIR is not None:
        path, mimetype = SWAGGER_DIR / name, ASSETS[name]
    else:
        abort(404)
    response = Response(path.read_bytes(), mimetype=mimetype)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
