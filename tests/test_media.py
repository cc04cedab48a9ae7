"""Exercise pictures (issue 13): every exercise on a page has one, with alt text, and its URL
answers with the picture, its type and long-lived cache headers."""

from __future__ import annotations

from urllib.parse import urlsplit

from personalizer import create_app
from tests.support import EXAMPLE_PROFILE, base_config


def test_every_exercise_on_a_page_has_a_picture_that_is_served_to_be_cached():
    app = create_app(base_config(PUBLIC_URL="https://pages.example"))
    client = app.test_client()
    page = client.post("/v1/pages", json={**EXAMPLE_PROFILE, "red_flags": []}).get_json()
    exercises = [b for b in page["blocks"] if b["kind"] == "exercise"]
    assert exercises
    for block in exercises:
        (media,) = block["media"]
        assert media["url"].startswith("https://pages.example/media/")
        assert len(media["alt"]) > 20 and media["type"] == "image/svg+xml"
        assert media["width"] > 0 and media["height"] > 0
        url = urlsplit(media["url"])
        response = client.get(f"{url.path}?{url.query}")
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert b"<script" not in response.data and media["alt"].encode()[:20] in response.data


def test_every_exercise_of_the_catalog_has_a_picture():
    catalog = create_app(base_config()).extensions["personalizer"].engine.catalog
    missing = [item.id for item in catalog.of_kind("exercise") if item.picture is None]
    assert missing == []


def test_an_unknown_picture_is_404():
    client = create_app(base_config()).test_client()
    assert client.get("/media/no-such-exercise.svg").status_code == 404
    assert client.get("/media/../content/sources.yaml").status_code == 404
