"""The embed assets and the demo page, through the Flask test client (no browser)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from personalizer import create_app, render, safety
from personalizer.schemas import (
    CHANNELS,
    EASED_BY,
    LEGS,
    LOCALES,
    RED_FLAGS,
    WORSE_WITH,
    AlignmentSchema,
    ContextSchema,
    FollowUpSchema,
    SymptomsSchema,
)
from personalizer.vocabulary import LEGS_SINCE_LAST, ROUTINE_FELT
from tests.support import EXAMPLE_PROFILE, base_config


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

    # Follow-up: every field, every enum word.
    follow_up = FollowUpSchema().fields
    assert {n for n in by_name if n.startswith("follow_up.")} == {
        f"follow_up.{n}" for n in follow_up
    }
    assert _options(page, "follow-felt") == ["", *ROUTINE_FELT]
    assert _options(page, "follow-legs") == ["", *LEGS_SINCE_LAST]

    # Nothing else is sent.
    top = {name.split(".")[0] for name in by_name}
    assert top == {"alignment", "symptoms", "red_flags", "context", "follow_up"}


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


# -- the fragment, as the service renders it ---------------------------------------------------


TYPICAL = {**EXAMPLE_PROFILE, "red_flags": []}
EMERGENCY = {"symptoms": {"legs": "both"}, "red_flags": ["saddle_numbness"]}
DOSE_JARGON = re.compile(r"\b\d+\s*[x×]\s*\d+\b")
PLUGINS = ("red_flags", "symptom_pattern", "alignment", "education", "calls_to_action", "routine")


def fragment(client, body) -> str:
    response = client.post("/v1/pages", json=body, headers={"Accept": "text/html"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def visible_text(html: str) -> str:
    """The text a person sees, roughly: tags out, "why" lists kept (they are visible)."""
    return re.sub(r"<[^>]+>", " ", html)


def test_fragment_has_one_root_one_landmark_and_a_language(client):
    html = fragment(client, TYPICAL)
    assert html.startswith("<article") and html.endswith("</article>")
    assert html.count("<article") == 1 and "<html" not in html
    root = re.match(r"<article[^>]*>", html).group(0)
    assert 'lang="en"' in root and 'role="region"' in root and "aria-label=" in root
    assert html.count('role="region"') == 1
    for landmark in ("<aside", "<nav", "<main", "<header", "<footer", "aria-labelledby"):
        assert landmark not in html, landmark
    # Headings start at h2 (embed.js moves them for data-heading-level).
    assert "<h1" not in html and "<h2" in html


def test_fragment_reads_in_the_order_people_need(client):
    html = fragment(client, TYPICAL)
    at = {
        name: html.find(marker)
        for name, marker in {
            "summary": 'class="pz-intro"',
            "routine": "pz-block pz-routine",
            "warnings": "pz-level-general",
            "exercise": "pz-block pz-exercise",
            "section": "pz-block pz-section",
            "cta": "pz-block pz-cta",
        }.items()
    }
    assert all(position > 0 for position in at.values()), at
    assert list(at) == sorted(at, key=at.get), at


def test_exercises_show_picture_dose_steps_cautions_and_ease_off(client):
    html = fragment(client, TYPICAL)
    exercises = re.findall(r'<section class="pz-block pz-exercise".*?</section>', html, re.S)
    assert exercises
    for block in exercises:
        order = [
            block.find(marker) for marker in ("pz-dose", "pz-steps", "pz-cautions", "pz-ease-off")
        ]
        assert -1 not in order and order == sorted(order), block[:120]
        assert "Ease off or stop if" in block
        # Cautions and the ease-off rule are never folded away.
        cautions_at = block.find("pz-cautions")
        assert (
            "<details" not in block[block.find("</details>", block.find("pz-steps")) : cautions_at]
        )
        img = re.search(r"<img [^>]*>", block)
        if img:  # every exercise has one once the pictures have landed
            for attribute in ("alt=", "width=", "height=", 'loading="lazy"'):
                assert attribute in img.group(0), attribute


def test_no_dose_is_jargon_and_every_routine_item_has_its_words(client):
    html = fragment(client, TYPICAL)
    assert not DOSE_JARGON.search(visible_text(html))
    items = re.findall(r'<li data-routine-id="([^"]+)">(.*?)</li>', html, re.S)
    assert items
    page = client.post("/v1/pages", json=TYPICAL).get_json()
    for item_id, text in items:
        assert f'href="#pz-{item_id}"' in text
        (item,) = [i for i in page["routine"]["items"] if i["id"] == item_id]
        if "text" in item:
            assert item["text"] in text
        if item.get("each_side"):
            assert "each side" in text


def test_why_is_plain_words_without_plugin_names(client):
    html = fragment(client, TYPICAL)
    whys = re.findall(r'<details class="pz-why">.*?</details>', html, re.S)
    assert whys
    for why in whys:
        for plugin in PLUGINS:
            assert f"({plugin})" not in why and f">{plugin}<" not in why


def test_emergency_fragment_labels_the_alert_in_text(client):
    html = fragment(client, EMERGENCY)
    assert 'class="pz-label-text">Emergency<' in html
    assert "pz-exercise" not in html and "pz-routine" not in html and "pz-cta" not in html


def test_dialable_number_is_a_tel_link():
    client = embed_app(base_config(EMERGENCY_NUMBER="112")).test_client()
    html = fragment(client, EMERGENCY)
    assert 'href="tel:112"' in html


def page_v2(**overrides) -> dict:
    """A small page of contract v2, for the template alone."""
    page = {
        "page_id": "p1",
        "content_version": "c1",
        "lang": "en",
        "triage": {"level": "assess", "flags": ["unexplained_weight_loss"]},
        "summary": {"title": "Your plan", "text": "For you."},
        "blocks": [
            {
                "kind": "alert",
                "id": "get-assessed",
                "level": "assess",
                "label": "Get checked soon",
                "title": "Book an assessment",
                "html": "<p>Soon.</p>",
                "why": [{"plugin": "red_flags", "reason": "weight loss reported"}],
                "actions": [
                    {
                        "kind": "find_care",
                        "label": "Find a doctor",
                        "href": "https://example.org/find",
                    }
                ],
            },
            {
                "kind": "cta",
                "id": "paid",
                "title": "Our programme",
                "html": "<p>x</p>",
                "href": "https://example.org/programme",
                "commercial": True,
                "owner": "ours",
                "why": [{"plugin": "calls_to_action", "reason": "a guided programme"}],
            },
            {
                "kind": "exercise",
                "id": "bridge",
                "title": "Bridge",
                "html": "<p>x</p>",
                "summary": "A lift.",
                "steps": ["Lie down.", "Lift."],
                "cautions": ["Go gently."],
                "ease_off": "Ease off when your legs tingle.",
                "progression": "Do more.",
                "dose": {"sets": 1, "reps": 8, "text": "8 times, on 3 days a week"},
                "media": [
                    {
                        "url": "https://example.org/m.svg",
                        "alt": "A bridge",
                        "width": 640,
                        "height": 360,
                        "type": "image/svg+xml",
                    }
                ],
                "sources": [
                    {
                        "title": "A leaflet",
                        "publisher": "NHS",
                        "url": "https://nhs.example/",
                        "year": 2024,
                    }
                ],
                "last_reviewed": "2026-01-01",
                "next_review": "2027-01-01",
                "why": [{"plugin": "routine", "reason": "strength for your hips"}],
            },
            {
                "kind": "alert",
                "id": "warning-signs",
                "level": "general",
                "label": "Warning signs",
                "title": "Call 112 now if you get any of these signs",
                "html": "<ul><li>a</li></ul>",
                "why": [{"plugin": "safety", "reason": "everyone should know these"}],
            },
            {
                "kind": "cta",
                "id": "free",
                "title": "Find a physio",
                "html": "<p>x</p>",
                "href": "https://example.org/find",
                "commercial": False,
                "owner": "ours",
                "why": [{"plugin": "calls_to_action", "reason": "someone to check your back"}],
            },
        ],
        "routine": {
            "minutes": 5,
            "items": [
                {
                    "id": "bridge",
                    "title": "Bridge",
                    "sets": 1,
                    "reps": 8,
                    "days_per_week": 3,
                    "text": "8 times, on 3 days a week",
                }
            ],
            "week": [
                {"day": "mon", "items": ["bridge"]},
                {"day": "wed", "items": ["bridge"]},
                {"day": "fri", "items": ["bridge"]},
            ],
        },
    }
    page.update(overrides)
    return page


def test_template_alone_orders_free_before_paid_and_marks_paid():
    html = render.to_html(page_v2()).decode()
    assert html.index('data-block-id="free"') < html.index('data-block-id="paid"')
    paid = html[html.index('data-block-id="paid"') :]
    assert ">Paid<" in paid and "(paid)" in paid
    assert html.index("get-assessed") < html.index("pz-routine") < html.index("warning-signs")
    assert "On Monday, Wednesday and Friday" in html
    assert "Ease off or stop if</strong> your legs tingle." in html
    assert (
        ">Sources<" in html
        and "https://nhs.example/" in html
        and 'Reviewed <time datetime="2026-01-01">1 January 2026</time>' in html
    )
    assert 'class="pz-label-text">Get checked soon<' in html
    assert "Weight loss reported" in html and "red_flags" not in html


def test_template_tolerates_a_page_without_the_v2_fields():
    page = page_v2()
    for block in page["blocks"]:
        for name in (
            "label",
            "level",
            "summary",
            "steps",
            "cautions",
            "ease_off",
            "progression",
            "media",
            "sources",
            "last_reviewed",
            "actions",
            "owner",
        ):
            block.pop(name, None)
        if "dose" in block:
            block["dose"] = {"sets": 1, "reps": 8, "per_day": 1, "days_per_week": 3}
    del page["summary"], page["lang"], page["routine"]["week"]
    for item in page["routine"]["items"]:
        item.pop("text"), item.pop("title")
    html = render.to_html(page, {"bridge": "Bridge"}).decode()
    assert html.startswith("<article") and 'lang="en"' in html
    # Without levels, the first alert is the triage's and keeps its place before the routine.
    assert html.index("get-assessed") < html.index("pz-routine") < html.index("warning-signs")
    assert 'class="pz-label-text">Get checked soon<' in html
    assert "8 times, on 3 days a week" in html  # worded by personalizer.dose, the one place
    assert not DOSE_JARGON.search(visible_text(html))


def test_embed_scrub_drops_svg_animation_and_every_unsafe_url(client):
    with client.get("/embed.js") as response:
        source = response.get_data(as_text=True)
    for name in ("animate", "set", "animatemotion", "animatetransform", "svg", "math"):
        assert f'"{name}"' in source, name
    assert "javascript|vbscript|data" in source
    assert "data-timeout-ms" in source and "data-heading-level" in source
    assert "adoptedStyleSheets" in source and "personalizer:error" in source


def test_demo_has_a_skip_link_and_live_regions(client):
    page = parse(client.get("/demo").get_data(as_text=True))
    links = [attrs for tag, attrs in page.tags if tag == "a"]
    assert links[0].get("href") == "#result-heading" and links[0].get("class") == "demo-skip"
    live = {
        attrs.get("id"): attrs.get("aria-live") for tag, attrs in page.tags if "aria-live" in attrs
    }
    assert live == {"demo-status": "polite", "demo-announce": "assertive"}


def test_exercise_tips_are_kept_and_steps_said_once():
    page = page_v2()
    (exercise,) = [b for b in page["blocks"] if b["kind"] == "exercise"]
    exercise["html"] = "<ol>\n<li>Lie down.</li>\n<li>Lift.</li>\n</ol>\n<p>Breathe out.</p>"
    html = render.to_html(page).decode()
    assert html.count("Lie down.") == 1 and "<p>Breathe out.</p>" in html
    # A body of another shape is shown whole rather than cut.
    exercise["html"] = "<p>Intro.</p><ol><li>Lie down.</li><li>Lift.</li></ol>"
    html = render.to_html(page).decode()
    assert "<p>Intro.</p>" in html and html.count("Lie down.") == 1
