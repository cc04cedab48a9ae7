"""The embed assets and the demo page, through the Flask test client (no browser)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from personalizer import create_app, safety
from personalizer.schemas import (
    CHANNELS,
    EASED_BY,
    LEGS,
    LOCALES,
    RED_FLAGS,
    WORSE_WITH,
    AlignmentSchema,
    ContextSchema,
    SymptomsSchema,
)
from tests.conftest import base_config


def embed_app(config: dict):
    """The app with the embed blueprint (registered here until create_app does it)."""
    app = create_app(config)
    if "embed" not in app.blueprints:
        from personalizer.embed import bp

        app.register_blueprint(bp)
    return app


@pytest.fixture
def client():
    return embed_app(base_config()).test_client()


class Page(HTMLParser):
    """Every start tag with its attributes, and the text of each <script> and <style>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.script_text: list[str] = []
        self.style_elements = 0
        self.labels_for: set[str] = set()
        self._in_script = False
        self._label_depth = 0
        self.wrapped: set[int] = set()  # indexes of controls inside a <label>

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "script":
            self._in_script = True
            self.script_text.append("")
        elif tag == "style":
            self.style_elements += 1
        elif tag == "label":
            self._label_depth += 1
            if attributes.get("for"):
                self.labels_for.add(attributes["for"])
        elif tag in ("input", "select", "textarea") and self._label_depth:
            self.wrapped.add(len(self.tags) - 1)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        elif tag == "label":
            self._label_depth = max(0, self._label_depth - 1)

    def handle_data(self, data):
        if self._in_script:
            self.script_text[-1] += data


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.mark.parametrize(
    ("path", "mimetype", "marker"),
    [
        ("/embed.js", "text/javascript", "attachShadow"),
        ("/embed.css", "text/css", ":host"),
        ("/demo.js", "text/javascript", "Personalizer.render"),
        ("/demo.css", "text/css", ".demo-layout"),
    ],
)
def test_assets_are_served_with_their_types(client, path, mimetype, marker):
    with client.get(path) as response:
        body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "public" in response.headers["Cache-Control"]
    assert "max-age=300" in response.headers["Cache-Control"]
    assert "Access-Control-Allow-Origin" not in response.headers
    assert marker in body
    with client.get(path, headers={"If-None-Match": response.headers["ETag"]}) as again:
        assert again.status_code == 304


def test_embed_script_has_no_eval_and_no_third_party_loads(client):
    with client.get("/embed.js") as response:
        source = response.get_data(as_text=True)
    code = "\n".join(line for line in source.splitlines() if not line.strip().startswith("*"))
    for forbidden in ("eval(", "new Function", "document.write", "import(", "http://", "https://"):
        assert forbidden not in code, forbidden
    assert 'attachShadow({ mode: "open" })' in source
    assert "X-Personalizer-Key" in source and "text/html" in source


def test_demo_sets_a_strict_csp(client):
    response = client.get("/demo")
    assert response.status_code == 200 and response.mimetype == "text/html"
    csp = dict(
        (part.split()[0], part.split()[1:])
        for part in response.headers["Content-Security-Policy"].split(";")
        if part.strip()
    )
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]


def test_demo_has_no_inline_script_handler_or_style(client):
    page = parse(client.get("/demo").get_data(as_text=True))
    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    assert len(scripts) == 2 and all(attrs.get("src") for attrs in scripts)
    assert all(not text.strip() for text in page.script_text)
    assert page.style_elements == 0
    for tag, attrs in page.tags:
        assert "style" not in attrs, tag
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, (tag, handlers)
        for name in ("href", "src", "action"):
            assert not (attrs.get(name) or "").lower().startswith("javascript:"), (tag, name)


def test_demo_has_a_labelled_control_for_every_profile_field(client):
    page = parse(client.get("/demo").get_data(as_text=True))
    controls = [
        (index, tag, attrs)
        for index, (tag, attrs) in enumerate(page.tags)
        if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden"
    ]
    by_name: dict[str, list[dict]] = {}
    for _, tag, attrs in controls:
        if attrs.get("name"):
            by_name.setdefault(attrs["name"], []).append({"tag": tag, **attrs})

    # Every control has a label (for=id or wrapped) or an aria-label.
    for index, tag, attrs in controls:
        labelled = (
            attrs.get("id") in page.labels_for or index in page.wrapped or attrs.get("aria-label")
        )
        assert labelled, (tag, attrs)
    ids = [attrs["id"] for _, _, attrs in controls if "id" in attrs]
    assert len(ids) == len(set(ids))

    # Alignment: a range slider with the schema's range and a "not measured" box each.
    schema = AlignmentSchema()
    for name, field in schema.fields.items():
        (slider,) = by_name[f"alignment.{name}"]
        assert slider["type"] == "range"
        limits = next(v for v in field.validators if hasattr(v, "min"))
        assert (float(slider["min"]), float(slider["max"])) == (limits.min, limits.max)
        boxes = [
            attrs
            for _, _, attrs in controls
            if attrs.get("data-unmeasured-for") == slider["id"] and attrs["type"] == "checkbox"
        ]
        assert len(boxes) == 1, name

    # Symptoms: every field, every enum word.
    symptoms = SymptomsSchema().fields
    assert {n for n in by_name if n.startswith("symptoms.")} == {f"symptoms.{n}" for n in symptoms}
    (legs,) = by_name["symptoms.legs"]
    assert legs["tag"] == "select"
    assert _options(page, "symptoms-legs") == ["", *LEGS]
    assert sorted(c["value"] for c in by_name["symptoms.worse_with"]) == sorted(WORSE_WITH)
    assert sorted(c["value"] for c in by_name["symptoms.eased_by"]) == sorted(EASED_BY)
    for name in ("numbness", "weakness"):
        assert by_name[f"symptoms.{name}"][0]["type"] == "checkbox"
    for name, (low, high) in (("walking_tolerance_min", (0, 600)), ("pain_score", (0, 10))):
        (number,) = by_name[f"symptoms.{name}"]
        assert number["type"] == "number"
        assert (int(number["min"]), int(number["max"])) == (low, high)

    # Every red flag, grouped by level.
    assert sorted(c["value"] for c in by_name["red_flags"]) == sorted(RED_FLAGS)
    assert all(c["type"] == "checkbox" for c in by_name["red_flags"])
    assert set(safety.CONTRACT_LEVELS) == set(RED_FLAGS)

    # Context.
    context = ContextSchema().fields
    assert {n for n in by_name if n.startswith("context.")} == {f"context.{n}" for n in context}
    assert _options(page, "context-channel") == list(CHANNELS)
    assert _options(page, "context-locale") == list(LOCALES)
    (minutes,) = by_name["context.minutes_per_day"]
    assert (minutes["type"], minutes["min"], minutes["max"]) == ("range", "5", "60")

    # Nothing else is sent.
    top = {name.split(".")[0] for name in by_name}
    assert top == {"alignment", "symptoms", "red_flags", "context"}


def _options(page: Page, select_id: str) -> list[str]:
    values, inside = [], False
    for tag, attrs in page.tags:
        if tag == "select":
            inside = attrs.get("id") == select_id
        elif tag == "option" and inside:
            values.append(attrs.get("value", ""))
        elif tag not in ("option", "optgroup"):
            inside = False
    return values


def test_demo_page_posts_to_the_same_origin(client):
    """The demo calls the API anonymously and same-origin, which the API allows."""
    response = client.post(
        "/v1/pages",
        json={"red_flags": ["fever"], "context": {"channel": "web"}},
        headers={"Accept": "text/html"},
    )
    assert response.status_code == 200
    assert 'role="alert"' in response.get_data(as_text=True)
