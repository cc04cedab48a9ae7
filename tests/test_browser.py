"""The partner embed, the demo and the printed page in a real browser (Debian's chromium,
driven by Playwright).

The service runs on one loopback port (and a slow copy of it on another); host pages, each
with a strict Content-Security-Policy (scripts, connections, styles and pictures from the
service origin only, no inline script), are served from other loopback ports, so every widget
call is a real cross-origin request with a CORS preflight:

- ``clinic``: an origin the partner allows; routine, emergency, two-widget, hostile-host pages.
- ``sister``: an origin another partner allows; the key is refused with 403.
- ``foreign``: an origin no partner allows; the browser's CORS preflight stops the call.

axe-core (tests/browser/node_modules, installed by scripts/install-chromium.sh) checks the
demo and the host pages. Screenshots of every scenario go to ``test-artifacts/``
(git-ignored). When chromium or axe-core is not installed these tests fail (never skip) and
say to run ``scripts/install-chromium.sh``.
"""

from __future__ import annotations

import copy
import html
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from werkzeug.serving import WSGIRequestHandler, make_server

from personalizer.partners import new_key
from tests.support import EXAMPLE_PROFILE, base_config
from tests.test_embed import embed_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
EMBED_JS = ROOT / "personalizer" / "static" / "embed.js"
EXAMPLE = ROOT / "examples" / "json-page"
ARTIFACTS = ROOT / "test-artifacts"
TIMEOUT_MS = 10_000
HOSTS = ("clinic", "sister", "foreign")
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
SLOW_S = 3.0

BOOKING_TITLE = "Book a visit at Riverside"
BRAND = "#0a6e5c"
ROUTINE = {**copy.deepcopy(EXAMPLE_PROFILE), "red_flags": []}
del ROUTINE["context"]  # the widget sends channel "clinic" when the profile names none
TYPICAL = {**copy.deepcopy(EXAMPLE_PROFILE), "red_flags": []}  # the web page of the example
EMERGENCY = {
    "symptoms": {"legs": "both", "numbness": True, "weakness": True},
    "red_flags": ["saddle_numbness"],
}
FALLBACK_NUMBERS = {
    "data-emergency-number": "000",
    "data-emergency-service": "the Riverside emergency room",
    "data-urgent-number": "02 5550 1234",
    "data-urgent-service": "the Riverside same-day line",
}
WARNING_SIGNS = (
    "Numbness between the legs or around the bottom",
    "New bladder or bowel or sexual-function change",
    "Sudden or new leg weakness or foot drop",
    "New severe pain in both legs",
)
DOSE_JARGON = re.compile(r"\b\d+\s*[x×]\s*\d+\b")

# Listeners set before any page script runs: the widget's events and CSP violations.
INIT_SCRIPT = """
window.__pzEvents = [];
window.__cspViolations = [];
for (const type of ["personalizer:rendered", "personalizer:error"]) {
  window.addEventListener(type, (event) => {
    window.__pzEvents.push({type, target: event.target.id, detail: event.detail});
  });
}
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""

# The partner's own script (a file, as its CSP wants): what it does when embed.js cannot load.
HOST_JS = b"""
window.addEventListener("error", function (event) {
  var failed = event.target;
  if (failed && failed.matches && failed.matches("script[data-personalizer-script]")) {
    window.__embedFailed = true;
    document.querySelectorAll("[data-personalizer]").forEach(function (element) {
      element.setAttribute("data-personalizer-state", "unavailable");
    });
  }
}, true);  // capture: a script's load error does not bubble
"""


# -- servers ----------------------------------------------------------------------------------


class Recorder:
    """WSGI middleware that notes each call the service answers: method, path, origin,
    status and headers, so tests can tell what reached the server."""

    def __init__(self, app):
        self.app = app
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        def recording(status, headers, exc_info=None):
            with self.lock:
                self.calls.append(
                    {
                        "method": environ["REQUEST_METHOD"],
                        "path": environ.get("PATH_INFO", ""),
                        "origin": environ.get("HTTP_ORIGIN"),
                        "status": int(status.split()[0]),
                        "headers": dict(headers),
                    }
                )
            return start_response(status, headers, exc_info)

        return self.app(environ, recording)

    def pages_from(self, origin: str) -> list[dict]:
        with self.lock:
            return [c for c in self.calls if c["path"] == "/v1/pages" and c["origin"] == origin]


class Slow:
    """The service, answering page requests only after SLOW_S seconds."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ.get("PATH_INFO") == "/v1/pages":
            time.sleep(SLOW_S)
        return self.app(environ, start_response)


class QuietWSGIHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class HostPages(BaseHTTPRequestHandler):
    """A partner's site: the pages in ``self.server.pages`` as (body, mimetype, csp or None
    for the server's own policy)."""

    def do_GET(self):
        page = self.server.pages.get(self.path.split("?")[0])
        if page is None:
            self.send_error(404)
            return
        body, mimetype, csp = page
        self.send_response(200)
        self.send_header("Content-Type", f"{mimetype}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", csp or self.server.csp)
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


HOST_CSS = b"""
body { margin: 0; font-family: Georgia, serif; color: #222; background: #fafaf7; }
header { padding: 0.75rem 1rem; background: #0a6e5c; color: #fff; }
header h1 { margin: 0; font-size: 1.25rem; }
main { max-width: 50rem; margin: 0 auto; padding: 1rem; }
"""
SMALL_ROOT_CSS = HOST_CSS + b"html { font-size: 62.5%; } body { font-size: 1.6rem; }"


def widget(key: str, profile: dict | str, element_id: str = "widget", **attributes) -> str:
    raw = profile if isinstance(profile, str) else json.dumps(profile)
    extra = "".join(
        f' {name.replace("_", "-")}="{html.escape(str(value), quote=True)}"'
        for name, value in attributes.items()
    )
    fallback = (
        "<p><strong>If you get numbness between the legs, a bladder or bowel change or sudden "
        "leg weakness, call 000 now.</strong> Clinic: 02 5550 1234.</p>"
    )
    return (
        f'<div id="{element_id}" data-personalizer data-key="{html.escape(key)}"'
        f' data-profile="{html.escape(raw, quote=True)}"{extra}>{fallback}</div>'
    )


def host_page(
    script: str, title: str, widgets: str, css: str = "/host.css", lang: str = "en"
) -> bytes:
    return f"""<!doctype html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(title)}</title>
  <link rel="stylesheet" href="{css}">
  <script src="/host.js"></script>
  <script src="{script}/embed.js" data-personalizer-script async></script>
</head>
<body>
  <header><h1>{html.escape(title)}</h1></header>
  <main>
    <p>Here is the advice prepared from your posture assessment.</p>
    {widgets}
    <p>Questions? Call the clinic.</p>
  </main>
</body>
</html>
""".encode()


def _start(server) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    return thread


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The service (and a slow copy) and three host sites, each on its own loopback port; a
    fourth address where nothing listens stands for a service that is down."""
    hosts = {name: ThreadingHTTPServer(("127.0.0.1", 0), HostPages) for name in HOSTS}
    origins = {name: f"http://127.0.0.1:{server.server_port}" for name, server in hosts.items()}
    riverside, hillside = new_key("pk"), new_key("pk")
    partners = {
        "partners": [
            {
                "id": "riverside",
                "name": "Riverside Spine Clinic",
                "publishable_key_sha256": riverside[1],
                "allowed_origins": [origins["clinic"]],
                "policy": {
                    "cta": {"title": BOOKING_TITLE, "href": "https://riverside.example/book"},
                    "brand_colour": BRAND,
                    "emergency_number": "000",
                    "emergency_service": "the Riverside emergency room",
                },
            },
            {
                "id": "hillside",
                "name": "Hillside Clinic",
                "publishable_key_sha256": hillside[1],
                "allowed_origins": [origins["sister"]],
            },
        ]
    }
    path = tmp_path_factory.mktemp("partners") / "partners.yaml"
    path.write_text(yaml.safe_dump(partners))

    port = free_port()
    service_origin = f"http://127.0.0.1:{port}"
    app = embed_app(
        base_config(PARTNERS_FILE=str(path), PUBLIC_URL=service_origin, SITE_URL=service_origin)
    )
    recorder = Recorder(app.wsgi_app)
    app.wsgi_app = recorder
    service = make_server("127.0.0.1", port, app, threaded=True, request_handler=QuietWSGIHandler)
    slow = make_server("127.0.0.1", 0, Slow(app), threaded=True, request_handler=QuietWSGIHandler)
    slow_origin = f"http://127.0.0.1:{slow.server_port}"
    dead_origin = f"http://127.0.0.1:{free_port()}"  # nothing listens here

    services = f"{service_origin} {slow_origin} {dead_origin}"
    policy = (
        "default-src 'none'; script-src 'self' {services}; connect-src 'self' {services}; "
        "style-src 'self' {styles}; img-src 'self' {services}; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )
    csp = policy.format(services=services, styles=services)
    no_service_styles = policy.format(services=services, styles="")  # embed.css refused

    key = riverside[0]
    clinic = "Riverside Spine Clinic"
    s = service_origin
    pages = {
        "/routine.html": (host_page(s, clinic, widget(key, ROUTINE)), None),
        "/emergency.html": (host_page(s, clinic, widget(key, EMERGENCY)), None),
        "/two.html": (
            host_page(
                s,
                clinic,
                widget(key, ROUTINE, "first")
                + "<p>And for your partner's assessment:</p>"
                + widget(key, EMERGENCY, "second", data_heading_level=3),
            ),
            None,
        ),
        "/heading-3.html": (host_page(s, clinic, widget(key, ROUTINE, data_heading_level=3)), None),
        "/small-root.html": (
            host_page(s, clinic, widget(key, ROUTINE), css="/small-root.css"),
            None,
        ),
        "/no-style.html": (host_page(s, clinic, widget(key, EMERGENCY)), no_service_styles),
        "/wrong-key.html": (
            host_page(s, clinic, widget("pk_wrong", ROUTINE, **FALLBACK_NUMBERS)),
            None,
        ),
        "/invalid.html": (
            host_page(s, clinic, widget(key, {"symptoms": {"legs": "four"}}, **FALLBACK_NUMBERS)),
            None,
        ),
        "/slow.html": (
            host_page(
                slow_origin,
                clinic,
                widget(key, ROUTINE, data_timeout_ms=1500, **FALLBACK_NUMBERS),
            ),
            None,
        ),
        "/down.html": (
            host_page(dead_origin, clinic, widget(key, ROUTINE, **FALLBACK_NUMBERS)),
            None,
        ),
    }
    for server in hosts.values():
        server.csp = csp
        server.pages = {
            "/host.css": (HOST_CSS, "text/css", None),
            "/small-root.css": (SMALL_ROOT_CSS, "text/css", None),
            "/host.js": (HOST_JS, "text/javascript", None),
        }
        server.pages.update({p: (body, "text/html", c) for p, (body, c) in pages.items()})
    # The strictest kind of page: DOM sinks take only values from a named Trusted Types policy.
    hosts["clinic"].pages["/trusted-types.html"] = (
        pages["/routine.html"][0],
        "text/html",
        csp + "; require-trusted-types-for 'script'; trusted-types personalizer",
    )
    # The marketing site's own design, built from the JSON page (examples/json-page).
    for name in ("index.html", "page.js", "page.css"):
        kind = {"html": "text/html", "js": "text/javascript", "css": "text/css"}
        body = (EXAMPLE / name).read_bytes()
        hosts["clinic"].pages[f"/json-page/{name}"] = (body, kind[name.rsplit(".", 1)[1]], None)

    threads = [_start(service), _start(slow)] + [_start(server) for server in hosts.values()]
    try:
        yield {
            "service": service_origin,
            "slow": slow_origin,
            "dead": dead_origin,
            "origins": origins,
            "recorder": recorder,
            "app": app,
            "hosts": hosts,
        }
    finally:
        for server in [service, slow, *hosts.values()]:
            server.shutdown()
            server.server_close()
        for thread in threads:
            thread.join(5)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is not installed: run scripts/install-chromium.sh "
            "(or apt-get install chromium) and run the tests again"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class Tab:
    """A page in a fresh browser context, with its console and errors collected."""

    def __init__(self, browser, viewport, **options):
        self.context = browser.new_context(viewport=viewport, **options)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.add_init_script(INIT_SCRIPT)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _console(self, message) -> None:
        url = (message.location or {}).get("url", "")
        if not url.endswith("/favicon.ico"):  # browsers ask for one; these sites have none
            self.console.append(f"{message.type}: {message.text} ({url})")

    def events(self) -> list[dict]:
        return self.page.evaluate("window.__pzEvents")

    def wait_event(self, predicate: str, timeout: int = TIMEOUT_MS) -> dict:
        """The first widget event matching a JS predicate over (event), within the timeout."""
        handle = self.page.wait_for_function(
            f"() => window.__pzEvents.find((event) => {predicate})", timeout=timeout
        )
        return handle.json_value()

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations")

    def shot(self, name: str) -> None:
        """The whole page, and what the first screen shows (easier to look at)."""
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=str(ARTIFACTS / f"{name}-top.png"))

    def axe(self, name: str) -> list[dict]:
        """axe-core's violations on the page as it is now (shadow roots included)."""
        if not AXE.exists():
            pytest.fail(f"{AXE} is missing: run scripts/install-chromium.sh (npm ci)")
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ["violations"]});
                return r.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
                }));
            }"""
        )
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(result, indent=2))
        return result

    def close(self):
        self.context.close()


@pytest.fixture
def tab_factory(browser):
    tabs = []

    def make(viewport=DESKTOP, **options) -> Tab:
        tab = Tab(browser, viewport, **options)
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        tab.close()


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "() => document.scrollingElement.scrollWidth <= window.innerWidth"
        " && document.body.scrollWidth <= window.innerWidth"
    )


def shadow(page, element_id: str, script: str):
    """Run ``script`` (a function of the shadow root) in the page."""
    return page.evaluate(
        f"() => {{ const root = document.getElementById({element_id!r}).shadowRoot;"
        f" return ({script})(root); }}"
    )


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def load_pictures(page, element_id: str) -> list[dict]:
    """Scroll each exercise picture into view (they load lazily) and report how it drew."""
    count = page.locator(f"#{element_id} img.pz-picture").count()
    for n in range(count):
        page.locator(f"#{element_id} img.pz-picture").nth(n).scroll_into_view_if_needed()
    page.wait_for_function(
        f"""() => [...document.getElementById({element_id!r}).shadowRoot
            .querySelectorAll('img.pz-picture')].every((img) => img.complete)"""
    )
    return shadow(
        page,
        element_id,
        """(root) => [...root.querySelectorAll('img.pz-picture')].map((img) => ({
            src: img.getAttribute('src'), alt: img.alt, width: img.naturalWidth,
            shown: img.getBoundingClientRect().width, lazy: img.loading,
            w: img.getAttribute('width'), h: img.getAttribute('height')}))""",
    )


# -- the typical page in a partner's site -----------------------------------------------------


def test_routine_page_on_an_allowed_partner_site(site, tab_factory):
    started = time.monotonic()
    tab = tab_factory(DESKTOP)
    page = tab.page
    page.goto(site["origins"]["clinic"] + "/routine.html")
    event = tab.wait_event("event.type === 'personalizer:rendered'")
    assert event["target"] == "widget" and event["detail"]["triage"] == "none"
    assert event["detail"]["pageId"] and event["detail"]["styles"] == "full"

    widget = page.locator("#widget")
    assert page.evaluate("document.getElementById('widget').shadowRoot.mode") == "open"
    article = widget.locator("article.personalizer-page")
    assert article.count() == 1
    assert article.get_attribute("lang") == "en"
    assert article.get_attribute("role") == "region" and article.get_attribute("aria-label")
    assert widget.locator(".pz-section").count() >= 1
    assert widget.locator(".pz-exercise").count() >= 1
    assert widget.locator(".pz-routine").is_visible()
    assert widget.locator(".pz-commercial").count() == 0
    booking = widget.locator(".pz-cta", has_text=BOOKING_TITLE)
    assert booking.count() == 1
    assert booking.locator("a.pz-cta-link").get_attribute("href") == (
        "https://riverside.example/book"
    )
    text = article.inner_text()
    assert "{{" not in text  # every placeholder was filled in
    assert not DOSE_JARGON.search(text), DOSE_JARGON.search(text)
    # The warning signs are always there, visible, never folded away.
    warnings = widget.locator(".pz-alert.pz-level-general")
    assert warnings.count() == 1 and warnings.is_visible()
    assert "warning signs" in warnings.inner_text().lower()

    # Layout for people: summary, routine, warning signs, exercises, sections, calls to action.
    order = shadow(
        page,
        "widget",
        """(root) => [...root.querySelectorAll('article > *, .pz-exercises > *, .pz-sections > *')]
            .map((e) => ['pz-intro', 'pz-routine', 'pz-alert', 'pz-exercise', 'pz-section',
                         'pz-cta'].find((c) => e.classList.contains(c))).filter(Boolean)""",
    )
    ranks = [
        ["pz-intro", "pz-routine", "pz-alert", "pz-exercise", "pz-section", "pz-cta"].index(kind)
        for kind in order
    ]
    assert order[:2] == ["pz-intro", "pz-routine"], order
    assert ranks == sorted(ranks), order
    # Every routine item links to its exercise, with its dose in words.
    items = widget.locator(".pz-routine li[data-routine-id]")
    assert items.count() >= 1
    for n in range(items.count()):
        item = items.nth(n)
        link = item.locator("a.pz-routine-link")
        target = link.get_attribute("href")
        assert widget.locator(f"[id='{target[1:]}']").count() == 1
        assert item.locator(".pz-routine-dose").inner_text().strip()
    # Each exercise: picture, dose, steps, cautions and ease-off in that order.
    without_picture = []
    for n in range(widget.locator(".pz-exercise").count()):
        exercise = widget.locator(".pz-exercise").nth(n)
        picture, *parts = exercise.evaluate(
            """(e) => ['img.pz-picture', '.pz-dose', '.pz-steps', '.pz-cautions', '.pz-ease-off',
                       '.pz-progression'].map((s) => {
                const found = e.querySelector(s);
                return found ? [...e.querySelectorAll('*')].indexOf(found) : -1; })"""
        )
        assert -1 not in parts and parts == sorted(parts), parts
        if picture == -1:
            without_picture.append(exercise.get_attribute("data-block-id"))
        else:
            assert picture < parts[0]
        assert exercise.locator(".pz-cautions").is_visible()
        assert exercise.locator(".pz-ease-off").is_visible()
        assert exercise.locator(".pz-ease-off").inner_text().startswith("Ease off or stop if")
    # "Why" in plain words: no plugin names.
    whys = " ".join(widget.locator("details.pz-why").all_text_contents())
    for plugin in ("red_flags", "symptom_pattern", "alignment", "education", "routine"):
        assert f"({plugin})" not in whys and plugin + ":" not in whys

    # Clicking a routine link brings its exercise into view (inside the shadow root).
    first = items.first.locator("a")
    target_id = first.get_attribute("href")[1:]
    first.click()
    page.wait_for_function(
        f"""() => {{ const t = document.getElementById('widget').shadowRoot
            .getElementById({target_id!r}); const r = t.getBoundingClientRect();
            return r.top >= -2 && r.top < window.innerHeight; }}"""
    )
    page.evaluate("window.scrollTo(0, 0)")

    # The exercise pictures load from the service and draw.
    pictures = load_pictures(page, "widget")
    assert pictures and all(p["width"] > 0 and p["alt"] and p["lazy"] == "lazy" for p in pictures)
    assert all(p["w"] and p["h"] for p in pictures)
    assert all(p["src"].startswith(site["service"] + "/media/") for p in pictures)

    # The stylesheet loaded into the shadow root and the partner's colour reached it.
    brand = page.evaluate(
        "getComputedStyle(document.getElementById('widget')).getPropertyValue('--pz-brand')"
    )
    assert brand.strip() == BRAND
    border = shadow(
        page, "widget", "(r) => getComputedStyle(r.querySelector('.pz-section')).borderLeftColor"
    )
    assert border == "rgb(10, 110, 92)"

    # Keyboard focus lands in the widget and is visible.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    outline = page.evaluate(
        """() => {
            const focused = document.getElementById('widget').shadowRoot.activeElement;
            const style = focused && getComputedStyle(focused);
            return focused && [focused.tagName, style.outlineStyle, style.outlineWidth];
        }"""
    )
    assert outline and outline[1] == "solid" and outline[2] == "3px", outline

    # A real cross-origin call, answered with CORS for this origin only.
    origin = site["origins"]["clinic"]
    posts = [c for c in site["recorder"].pages_from(origin) if c["method"] == "POST"]
    assert posts and posts[-1]["status"] == 200
    assert posts[-1]["headers"]["Access-Control-Allow-Origin"] == origin

    assert tab.violations() == []
    assert tab.errors == []
    assert not [line for line in tab.console if line.startswith(("error", "warning"))], tab.console
    tab.shot("embed-routine-desktop")
    assert time.monotonic() - started < 20
    assert without_picture == [], "exercises without a picture"


@pytest.mark.parametrize("name", ["emergency", "routine"])
def test_on_a_phone_screen(site, tab_factory, name):
    tab = tab_factory(PHONE)
    page = tab.page
    page.goto(site["origins"]["clinic"] + f"/{name}.html")
    event = tab.wait_event("event.type === 'personalizer:rendered'")
    widget = page.locator("#widget")
    assert widget.is_visible()
    box = widget.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert no_horizontal_scroll(page)
    assert widget.locator("h2").count() >= 1
    assert tab.violations() == [] and tab.errors == []

    if name == "emergency":
        assert event["detail"]["triage"] == "emergency"
        first = widget.locator(".pz-block").first
        assert first.get_attribute("role") == "alert"
        assert "pz-level-emergency" in first.get_attribute("class")
        assert widget.locator(".pz-block").count() == 1  # the alert and nothing else
        assert widget.locator(".pz-exercise, .pz-routine, .pz-cta").count() == 0
        text = first.inner_text()
        assert "000" in text and "Riverside emergency room" in text
        assert "{{" not in widget.locator("article").inner_text()
        # The label is text in the page, not only CSS, and the heading says what to do.
        assert first.locator(".pz-label-text").inner_text().strip().lower() == "emergency"
        assert first.locator("h2").is_visible()
        call = first.locator("a.pz-action-call")
        assert call.count() == 1 and call.get_attribute("href") == "tel:000"
        assert call.bounding_box()["height"] >= 44
    else:
        # The routine starts within the first two screens of the phone.
        top = page.evaluate(
            """() => document.getElementById('widget').shadowRoot.querySelector('.pz-routine')
                .getBoundingClientRect().top + window.scrollY"""
        )
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "phone-routine-top.txt").write_text(f"{top:.0f}\n")
        assert top < 2 * PHONE["height"], top
        pictures = load_pictures(page, "widget")
        assert pictures and all(0 < p["shown"] <= PHONE["width"] for p in pictures)
    tab.shot(f"embed-{name}-phone")


def test_typical_web_page_at_1280_and_360(site, tab_factory):
    """The page of the wire contract's example (without its red flag) as the marketing site's
    visitors get it, through the demo's renderer, at a desktop and a phone width."""
    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        tab = tab_factory(viewport)
        page = tab.page
        page.goto(site["service"] + "/demo")
        tab.wait_event("event.type === 'personalizer:rendered' && event.target === 'result'")
        assert no_horizontal_scroll(page)
        load_pictures(page, "result")
        assert tab.errors == [] and tab.violations() == []
        tab.shot(f"demo-typical-{name}")


# -- when the page cannot be had: the built-in fallback ---------------------------------------


def assert_fallback(tab, element_id: str = "widget", numbers: bool = True) -> str:
    widget = tab.page.locator(f"#{element_id}")
    assert widget.get_attribute("data-personalizer-state") == "error"
    fallback = widget.locator("article.pz-fallback")
    assert fallback.count() == 1 and fallback.is_visible()
    text = fallback.inner_text()
    for sign in WARNING_SIGNS:
        assert sign in text, sign
    assert "Warning signs" in text or "WARNING SIGNS" in text
    if numbers:
        assert widget.locator("a.pz-action-call").get_attribute("href") == "tel:000"
        assert "Riverside emergency room" in text and "02 5550 1234" in text
    assert widget.locator(".pz-exercise, .pz-cta").count() == 0
    return text


def test_origin_no_partner_allows_gets_the_fallback(site, tab_factory):
    tab = tab_factory(DESKTOP)
    page = tab.page
    origin = site["origins"]["foreign"]
    page.goto(origin + "/routine.html")
    event = tab.wait_event("event.type === 'personalizer:error'")
    assert event["target"] == "widget" and event["detail"]["status"] == 0
    assert event["detail"]["fallback"] is True
    assert_fallback(tab, numbers=False)
    # No number configured: the fallback names the emergency number without inventing one.
    assert "your local emergency number" in page.locator("#widget article").inner_text()
    # The preflight got no CORS grant, so the browser never sent the POST.
    calls = site["recorder"].pages_from(origin)
    assert calls and all(c["method"] == "OPTIONS" for c in calls)
    assert all("Access-Control-Allow-Origin" not in c["headers"] for c in calls)
    assert not any(e["type"] == "personalizer:rendered" for e in tab.events())
    tab.shot("embed-foreign-origin")


def test_key_used_from_another_partners_origin_is_refused(site, tab_factory):
    tab = tab_factory(DESKTOP)
    page = tab.page
    origin = site["origins"]["sister"]
    page.goto(origin + "/routine.html")
    event = tab.wait_event("event.type === 'personalizer:error'")
    assert event["detail"]["status"] == 403
    assert "origin" in event["detail"]["message"]
    assert_fallback(tab, numbers=False)
    posts = [c for c in site["recorder"].pages_from(origin) if c["method"] == "POST"]
    assert [c["status"] for c in posts] == [403]
    tab.shot("embed-refused-key")


@pytest.mark.parametrize(
    ("name", "status", "reason"),
    [
        ("wrong-key", 401, "http"),
        ("invalid", 422, "http"),
        ("slow", 0, "timeout"),
        ("down", 0, "network"),
    ],
)
def test_fallback_when_the_page_cannot_be_fetched(site, tab_factory, name, status, reason):
    """Wrong key, an invalid profile, a service slower than data-timeout-ms, a service that
    is down (embed.js itself from the browser's cache, here a route): the visitor sees the
    warning signs and the clinic's numbers, and the page gets personalizer:error."""
    tab = tab_factory(PHONE)
    page = tab.page
    if name == "down":
        page.route(
            site["dead"] + "/embed.js",
            lambda route: route.fulfill(
                status=200, content_type="text/javascript", body=EMBED_JS.read_text()
            ),
        )
    started = time.monotonic()
    page.goto(site["origins"]["clinic"] + f"/{name}.html")
    if name == "slow":
        # A loading state with room for the page, while the service takes its time.
        page.wait_for_function(
            "() => document.getElementById('widget').getAttribute('data-personalizer-state')"
            " === 'loading'"
        )
        loading = page.locator("#widget .pz-loading")
        assert loading.is_visible() and loading.get_attribute("role") == "status"
        assert page.locator("#widget").bounding_box()["height"] >= 200
        tab.shot("embed-loading-phone")
    event = tab.wait_event("event.type === 'personalizer:error'")
    assert event["detail"]["status"] == status and event["detail"]["reason"] == reason
    assert event["detail"]["fallback"] is True
    if name == "invalid":
        assert "symptoms.legs" in json.dumps(event["detail"]["errors"])
    if name == "slow":
        assert time.monotonic() - started < SLOW_S + 1
    assert_fallback(tab)
    assert no_horizontal_scroll(page)
    tab.shot(f"embed-fallback-{name}-phone")


def test_when_embed_js_cannot_load_the_hosts_own_content_shows(site, tab_factory):
    """The service is down and embed.js is not cached: the element's own children (the
    partner's fallback text) stay on show and the partner's script hears the error."""
    tab = tab_factory(PHONE)
    page = tab.page
    page.goto(site["origins"]["clinic"] + "/down.html")
    page.wait_for_function("() => window.__embedFailed === true")
    widget = page.locator("#widget")
    assert widget.get_attribute("data-personalizer-state") == "unavailable"
    assert "call 000 now" in widget.inner_text()
    assert widget.is_visible()
    tab.shot("embed-script-unavailable-phone")


# -- hostile hosts ----------------------------------------------------------------------------


def test_embed_css_refused_by_the_host_csp(site, tab_factory):
    """style-src without the service: embed.css is blocked, the built-in styles still show a
    red emergency alert with its label."""
    tab = tab_factory(PHONE)
    page = tab.page
    page.goto(site["origins"]["clinic"] + "/no-style.html")
    event = tab.wait_event("event.type === 'personalizer:rendered'")
    assert event["detail"]["triage"] == "emergency"
    assert event["detail"]["styles"] == "critical"
    assert any(v.startswith("style-src") and "embed.css" in v for v in tab.violations())
    alert = page.locator("#widget .pz-alert")
    label = alert.locator(".pz-label-text")
    assert label.is_visible() and label.inner_text().strip().lower() == "emergency"
    styles = shadow(
        page,
        "widget",
        """(root) => { const a = getComputedStyle(root.querySelector('.pz-alert'));
            const l = getComputedStyle(root.querySelector('.pz-label-text'));
            return [a.backgroundColor, a.borderTopColor, a.borderTopWidth,
                    l.backgroundColor, l.color, a.fontSize]; }""",
    )
    assert styles == [
        "rgb(253, 236, 234)",
        "rgb(143, 29, 22)",
        "3px",
        "rgb(143, 29, 22)",
        "rgb(255, 255, 255)",
        "16px",
    ], styles
    tab.shot("embed-no-stylesheet-phone")


def test_widget_says_so_when_no_style_can_apply(site, tab_factory):
    """A browser without constructed stylesheets on a host that refuses embed.css: the page
    is still shown with its label in text, and the widget reports the missing styles."""
    tab = tab_factory(PHONE)
    tab.context.add_init_script(
        "Object.defineProperty(ShadowRoot.prototype, 'adoptedStyleSheets',"
        " {get() { return []; }, set() { throw new TypeError('not supported'); }});"
    )
    page = tab.page
    page.goto(site["origins"]["clinic"] + "/no-style.html")
    error = tab.wait_event("event.type === 'personalizer:error'")
    assert error["detail"]["reason"] == "styles" and error["detail"]["fallback"] is False
    rendered = tab.wait_event("event.type === 'personalizer:rendered'")
    assert rendered["detail"]["styles"] == "none"
    assert "Emergency" in page.locator("#widget .pz-label-text").text_content()
    tab.shot("embed-no-styles-phone")


def test_host_root_font_size_does_not_shrink_the_widget(site, tab_factory):
    sizes = {}
    for name in ("routine", "small-root"):
        tab = tab_factory(DESKTOP)
        tab.page.goto(site["origins"]["clinic"] + f"/{name}.html")
        tab.wait_event("event.type === 'personalizer:rendered'")
        sizes[name] = shadow(
            tab.page,
            "widget",
            """(root) => ['.pz-routine-dose', '.pz-body p', 'h2', '.pz-dose', '.pz-why',
                '.pz-label-text', '.pz-intro-text'].map((s) =>
                getComputedStyle(root.querySelector(s)).fontSize)""",
        )
        if name == "small-root":
            assert tab.page.evaluate("getComputedStyle(document.documentElement).fontSize") == (
                "10px"
            )
            tab.shot("embed-small-root-font")
    assert sizes["small-root"] == sizes["routine"]
    assert sizes["routine"][0] == "16px"


def test_heading_level_attribute(site, tab_factory):
    tab = tab_factory(DESKTOP)
    tab.page.goto(site["origins"]["clinic"] + "/heading-3.html")
    tab.wait_event("event.type === 'personalizer:rendered'")
    levels = shadow(
        tab.page,
        "widget",
        "(root) => [...root.querySelectorAll('h1,h2,h3,h4,h5,h6')].map((h) => h.localName)",
    )
    assert levels and levels[0] == "h3" and "h2" not in levels and "h1" not in levels
    # A heading keeps its id, so the routine's links still find the exercises.
    assert tab.page.locator("#widget h3[id^='pz-']").count() >= 2


def test_two_widgets_on_one_page(site, tab_factory):
    tab = tab_factory(DESKTOP, bypass_csp=True)  # so axe can be injected
    page = tab.page
    page.goto(site["origins"]["clinic"] + "/two.html")
    page.wait_for_function(
        "() => window.__pzEvents.filter((e) => e.type === 'personalizer:rendered').length === 2"
    )
    labels = [
        shadow(page, name, "(root) => root.querySelector('article').getAttribute('aria-label')")
        for name in ("first", "second")
    ]
    assert labels[0] != labels[1]
    landmarks = [
        shadow(
            page,
            name,
            "(root) => root.querySelectorAll('[role=region], section[aria-label],"
            " section[aria-labelledby], aside, nav, main, header, footer').length",
        )
        for name in ("first", "second")
    ]
    assert landmarks == [1, 1]
    assert tab.axe("two-widgets") == []
    tab.shot("embed-two-widgets")


@pytest.mark.parametrize("name", ["routine", "emergency"])
def test_axe_on_host_pages(site, tab_factory, name):
    tab = tab_factory(DESKTOP, bypass_csp=True)  # so axe can be injected
    tab.page.goto(site["origins"]["clinic"] + f"/{name}.html")
    tab.wait_event("event.type === 'personalizer:rendered'")
    # Every "why" open too, so axe sees everything a visitor can open.
    shadow(
        tab.page,
        "widget",
        "(root) => root.querySelectorAll('details').forEach((d) => { d.open = true; })",
    )
    assert tab.axe(name) == []


def test_page_with_trusted_types_enforced(site, tab_factory):
    tab = tab_factory(DESKTOP)
    tab.page.goto(site["origins"]["clinic"] + "/trusted-types.html")
    tab.wait_event("event.type === 'personalizer:rendered'")
    assert tab.page.locator("#widget .pz-exercise").count() >= 1
    assert tab.violations() == [] and tab.errors == []


# -- print ------------------------------------------------------------------------------------


def test_printed_page_and_routine_handout(site, tab_factory):
    """The typical page prints on at most 3 A4 pages, the routine handout on at most 2; links
    print their address and no "why" prints."""
    tab = tab_factory(DESKTOP)
    page = tab.page
    page.goto(site["service"] + "/demo")
    tab.wait_event("event.type === 'personalizer:rendered' && event.target === 'result'")
    load_pictures(page, "result")
    page.emulate_media(media="print")
    printed = shadow(
        page,
        "result",
        """(root) => ({
            whys: [...root.querySelectorAll('.pz-why')].filter((e) => e.offsetParent).length,
            buttons: [...root.querySelectorAll('.pz-print')].filter((e) => e.offsetParent).length,
            url: getComputedStyle(root.querySelector('.pz-cta-link'), '::after').content,
            steps: [...root.querySelectorAll('.pz-steps ol')].every((e) => e.offsetHeight > 0),
        })""",
    )
    assert printed["whys"] == 0 and printed["buttons"] == 0
    assert printed["url"].startswith('" (') and "http" in printed["url"]
    assert printed["steps"], "the steps print even when folded on screen"
    ARTIFACTS.mkdir(exist_ok=True)
    full = page.pdf(format="A4", print_background=True)
    (ARTIFACTS / "print-typical.pdf").write_bytes(full)
    shadow(page, "result", "(root) => root.querySelector('article').dataset.print = 'handout'")
    handout = page.pdf(format="A4", print_background=True)
    (ARTIFACTS / "print-handout.pdf").write_bytes(handout)
    counts = {"typical": pdf_pages(full), "handout": pdf_pages(handout)}
    (ARTIFACTS / "print-pages.txt").write_text(json.dumps(counts) + "\n")
    assert 1 <= counts["typical"] <= 3, counts
    assert 1 <= counts["handout"] <= 2, counts
    # The handout keeps the summary, the warning signs, the routine and every picture.
    kept = shadow(
        page,
        "result",
        """(root) => ['.pz-intro', '.pz-level-general', '.pz-routine', 'img.pz-picture',
            '.pz-dose'].map((s) => !!root.querySelector(s)
                && root.querySelector(s).offsetHeight > 0)""",
    )
    assert kept == [True] * 5, kept


# -- the demo ---------------------------------------------------------------------------------


def test_demo_page(site, tab_factory):
    tab = tab_factory(DESKTOP)
    page = tab.page
    response = page.goto(site["service"] + "/demo")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    tab.wait_event("event.type === 'personalizer:rendered' && event.target === 'result'")
    result = page.locator("#result")
    assert result.locator(".pz-exercise").count() >= 1
    assert result.locator("img.pz-picture").count() >= 1
    whys = result.locator("details.pz-why")
    assert whys.count() >= 1
    assert page.evaluate(
        "[...document.getElementById('result').shadowRoot.querySelectorAll('details.pz-why')]"
        ".every((details) => details.open)"
    )
    # The result's headings sit under the demo's own h2.
    assert result.locator("h3").count() >= 3 and result.locator("h2").count() == 0

    # A skip link is the first tab stop and takes the keyboard to the result.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "demo-skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "result-heading"

    # "Not measured" leaves the measurement out instead of sending zero.
    page.get_by_label("Not measured: Pelvic tilt").check()
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#flag-saddle_numbness").check()
    tab.wait_event("event.type === 'personalizer:rendered' && event.detail.triage === 'emergency'")
    first = result.locator(".pz-block").first
    assert first.get_attribute("role") == "alert"
    assert "pz-level-emergency" in first.get_attribute("class")
    assert result.locator(".pz-exercise").count() == 0
    sent = json.loads(page.locator("#profile-json").text_content())
    assert "pelvic_tilt_deg" not in sent["alignment"]
    assert sent["red_flags"] == ["saddle_numbness"]
    assert page.locator("#demo-status").inner_text().startswith("Page ready")
    # The new alert is announced (assertive live region) and brought into view.
    announce = page.locator("#demo-announce")
    assert announce.get_attribute("aria-live") == "assertive"
    assert announce.inner_text().startswith("Emergency:")
    page.wait_for_function(
        """() => { const a = document.getElementById('result').shadowRoot
            .querySelector('.pz-alert'); const r = a.getBoundingClientRect();
            return r.top >= 0 && r.top < window.innerHeight; }"""
    )

    assert tab.violations() == [] and tab.errors == []
    assert not [line for line in tab.console if line.startswith("error")], tab.console
    tab.shot("demo-emergency-desktop")

    phone = tab_factory(PHONE)
    phone.page.goto(site["service"] + "/demo")
    phone.wait_event("event.type === 'personalizer:rendered'")
    assert no_horizontal_scroll(phone.page)
    assert phone.violations() == [] and phone.errors == []
    # On a phone the form comes first; a change brings the result into view.
    phone.page.get_by_role("checkbox", name="Weakness now").check()
    phone.page.wait_for_function(
        """() => { const h = document.getElementById('result-heading');
            const r = h.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }"""
    )
    phone.shot("demo-phone")


def test_axe_on_the_demo(site, tab_factory):
    tab = tab_factory(DESKTOP)  # the demo's CSP allows same-origin scripts: axe is a file here
    page = tab.page
    page.route(
        site["service"] + "/__axe.js",
        lambda route: route.fulfill(status=200, content_type="text/javascript", path=str(AXE)),
    )
    page.goto(site["service"] + "/demo")
    tab.wait_event("event.type === 'personalizer:rendered' && event.target === 'result'")
    page.add_script_tag(url=site["service"] + "/__axe.js")
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map((v) => ({id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5)}))"""
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-demo.json").write_text(json.dumps(found, indent=2))
    assert found == []


# -- the JSON page in the marketing site's own design (examples/json-page) ---------------------


def test_json_page_example(site, tab_factory):
    """examples/json-page builds the page from the JSON with a few lines of plain JavaScript.
    Here it is served from a host origin and given a page the service built for the typical
    profile (as the marketing site's server would fetch it)."""
    client = site["app"].test_client()
    typical = client.post("/v1/pages", json=TYPICAL).get_json()
    emergency = client.post("/v1/pages", json=EMERGENCY).get_json()
    host = site["hosts"]["clinic"]
    for name, data in (("typical", typical), ("emergency", emergency)):
        host.pages[f"/json-page/{name}.json"] = (
            json.dumps(data).encode(),
            "application/json",
            None,
        )
    for name, data, viewport in (
        ("typical", typical, DESKTOP),
        ("typical", typical, PHONE),
        ("emergency", emergency, PHONE),
    ):
        tab = tab_factory(viewport)
        page = tab.page
        page.goto(site["origins"]["clinic"] + f"/json-page/index.html?page={name}.json")
        page.wait_for_selector("#page[data-state=ready]")
        root = page.locator("#page")
        assert root.get_attribute("lang") == "en"
        text = root.inner_text()
        assert data["summary"]["title"] in text
        assert not DOSE_JARGON.search(text)
        if name == "emergency":
            assert root.locator(".alert").count() == 1
            assert root.locator(".exercise, .routine").count() == 0
            assert "Emergency" in root.locator(".alert .label").text_content()
        else:
            assert root.locator(".routine li").count() == len(data["routine"]["items"])
            assert root.locator(".exercise img").count() >= 1
            assert "warning signs" in text.lower()
            for item in data["routine"]["items"]:
                assert item["text"] in text
        assert tab.errors == [] and tab.violations() == []
        assert no_horizontal_scroll(page)
        tab.shot(f"json-page-{name}-{'phone' if viewport == PHONE else 'desktop'}")


# -- a compromised service: the widget's scrub ------------------------------------------------

XSS_VECTORS = [
    '<img src="/none.png" onerror="window.__hit = 1">',
    '<a href=" javascript:window.__hit = 2">x</a>',
    '<a href="JaVaScRiPt:window.__hit = 3">x</a>',
    '<a href="java&#x09;script:window.__hit = 4">x</a>',
    '<a href="&#106;avascript:window.__hit = 5">x</a>',
    '<a href="javascript&colon;window.__hit = 6">x</a>',
    '<a href="vbscript:msgbox(7)">x</a>',
    '<a href="data:text/html,&lt;script&gt;window.__hit = 8&lt;/script&gt;">x</a>',
    "<script>window.__hit = 9</script>",
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="&lt;script&gt;parent.__hit = 10&lt;/script&gt;"></iframe>',
    '<svg><a xlink:href="javascript:window.__hit = 11"><text y="20">x</text></a></svg>',
    '<svg><a><animate attributeName="href" values="javascript:window.__hit = 12"/>'
    '<text y="20">x</text></a></svg>',
    '<svg><a><set attributeName="href" to="javascript:window.__hit = 13"/>'
    '<text y="20">x</text></a></svg>',
    '<svg><animateMotion dur="1s"/><animateTransform attributeName="transform"/>'
    '<discard begin="0s"/></svg>',
    '<svg><foreignObject><img src="/x" onerror="window.__hit = 14"></foreignObject></svg>',
    '<svg><use href="data:image/svg+xml,&lt;svg id=x&gt;&lt;/svg&gt;#x"/></svg>',
    '<svg onload="window.__hit = 15"></svg>',
    '<math><maction actiontype="statusline" xlink:href="javascript:window.__hit = 16">x'
    "</maction></math>",
    '<form action="javascript:window.__hit = 17"><button>go</button></form>',
    '<button formaction="javascript:window.__hit = 18">go</button>',
    '<input autofocus onfocus="window.__hit = 19">',
    '<details open ontoggle="window.__hit = 20"><summary>x</summary></details>',
    '<object data="javascript:window.__hit = 21"></object>',
    '<embed src="javascript:window.__hit = 22">',
    '<video><source onerror="window.__hit = 23"></video>',
    '<img srcset="javascript:window.__hit = 24 1x" alt="">',
    '<base href="javascript:/">',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__hit = 25">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "<style>*{background:url(javascript:window.__hit = 26)}</style>",
    '<div style="background:url(javascript:window.__hit = 27)">x</div>',
    '<template><img src="/x" onerror="window.__hit = 28"></template>',
    '<marquee onstart="window.__hit = 29">x</marquee>',
    '<area href="javascript:window.__hit = 30">',
    '<a href="https://ok.example/">ok</a>',
]
HOSTILE_FRAGMENT = (
    '<article class="personalizer-page" data-page-id="x" data-triage="none"'
    ' data-brand="red;background:url(x)" onmouseover="window.__hit = 100">'
    '<section class="pz-block pz-section" style="position:fixed" onclick="window.__hit = 101">'
    "<h2>Title</h2>" + "\n".join(XSS_VECTORS) + "</section></article>"
)


def answer_pages_with(page, site, fragment: str) -> None:
    """The service's page answers replaced by ``fragment`` (the preflight goes through)."""

    def fulfil(route):
        if route.request.method != "POST":
            route.continue_()
            return
        route.fulfill(
            status=200,
            headers={
                "Content-Type": "text/html; charset=utf-8",
                "Access-Control-Allow-Origin": site["origins"]["clinic"],
            },
            body=fragment,
        )

    page.route(site["service"] + "/v1/pages", fulfil)


def test_widget_scrubs_a_hostile_fragment(site, tab_factory):
    """Even if the service were made to send script, the widget does not insert it: a list of
    known XSS vectors, SVG animation among them."""
    tab = tab_factory(DESKTOP)
    page = tab.page

    answer_pages_with(page, site, HOSTILE_FRAGMENT)
    page.goto(site["origins"]["clinic"] + "/routine.html")
    tab.wait_event("event.type === 'personalizer:rendered'")
    found = page.evaluate(
        """() => {
            const root = document.getElementById('widget').shadowRoot;
            const article = root.querySelector('article');
            const all = [article, ...article.querySelectorAll('*')];
            const unsafe = /^(javascript|vbscript|data):/i;
            return {
                handlers: all.flatMap((e) => [...e.attributes].map((a) => a.name))
                    .filter((name) => name.startsWith('on') || name === 'style'
                            || name === 'srcdoc' || name === 'formaction'),
                urls: all.flatMap((e) => [...e.attributes])
                    .map((a) => a.value.replace(/[\\u0000-\\u0020]/g, ''))
                    .filter((v) => unsafe.test(v) || /javascript:/i.test(v)),
                dropped: root.querySelectorAll(
                    'script, style, iframe, object, embed, form, button, input, base, meta, '
                    + 'template, svg, math, animate, set, link:not([rel=stylesheet])').length,
                foreign: all.filter((e) => e.namespaceURI !== 'http://www.w3.org/1999/xhtml')
                    .length,
                hrefs: all.map((e) => e.getAttribute('href')).filter(Boolean),
                brand: document.getElementById('widget').style.getPropertyValue('--pz-brand'),
            };
        }"""
    )
    page.locator("#widget section").click()
    page.locator("#widget h2").hover()
    for link in page.locator("#widget a:not([href])").all():
        link.click()
    page.wait_for_timeout(300)
    assert found == {
        "handlers": [],
        "urls": [],
        "dropped": 0,
        "foreign": 0,
        "hrefs": ["https://ok.example/"],
        "brand": "",
    }
    assert page.evaluate("window.__hit === undefined")


def test_a_brand_colour_too_light_for_white_text_is_not_used(site, tab_factory):
    """#ffd400 is 1.43:1 against white: the widget keeps its own accent (partners.py refuses
    such a colour at start-up; this is the widget's own guard)."""
    from personalizer import render
    from tests.test_embed import page_v2

    tab = tab_factory(DESKTOP)
    page = tab.page
    body = render.to_html(page_v2(), brand="#ffd400").decode()

    answer_pages_with(page, site, body)
    page.goto(site["origins"]["clinic"] + "/routine.html")
    tab.wait_event("event.type === 'personalizer:rendered'")
    assert (
        page.evaluate("document.getElementById('widget').style.getPropertyValue('--pz-brand')")
        == ""
    )
    background = shadow(
        page,
        "widget",
        "(r) => getComputedStyle(r.querySelector('.pz-free .pz-cta-link')).backgroundColor",
    )
    assert background == "rgb(42, 93, 176)"
    assert any("too light" in line for line in tab.console)


def test_demo_sends_view_and_click_events_only_with_a_visitor_id(site, tab_factory):
    """docs/experiments.md: the demo sends a view event after each page and a click event for
    a call to action, with the visitor id given in the form, and nothing without one."""
    tab = tab_factory(DESKTOP)
    page = tab.page
    sent = []
    page.on(
        "request",
        lambda request: (
            sent.append(json.loads(request.post_data))
            if request.url.endswith("/v1/events")
            else None
        ),
    )
    page.goto(site["service"] + "/demo")
    tab.wait_event("event.type === 'personalizer:rendered' && event.target === 'result'")
    page.wait_for_timeout(300)
    assert sent == [], "no visitor id, no event"
    page.locator("#context-visitor").fill("demo-visitor-1")
    page.locator("#context-visitor").dispatch_event("change")
    with page.expect_request("**/v1/events") as view:
        tab.wait_event("event.type === 'personalizer:rendered' && event.target === 'result'")
    (event,) = json.loads(view.value.post_data)["events"]
    assert event["event"] == "view" and event["visitor_id"] == "demo-visitor-1"
    assert view.value.response().status == 202
    assert event["page_id"]
    with page.expect_request("**/v1/events") as click:
        page.evaluate(
            """() => { const link = document.getElementById('result').shadowRoot
                .querySelector('a.pz-cta-link'); link.addEventListener('click',
                (e) => e.preventDefault()); link.click(); }"""
        )
    (event,) = json.loads(click.value.post_data)["events"]
    assert event["event"] == "cta_click" and event["block_id"]
    assert tab.errors == []


def test_demo_walks_through_the_weeks_with_next_week(site, tab_factory):
    """Issue 18: "Next week" puts what the page returned in its follow_up object into the
    form, as a client keeping it would; "too easy" week after week raises the stage by one
    a week and the page says where the person is."""
    tab = tab_factory(DESKTOP)
    page = tab.page
    page.goto(site["service"] + "/demo")
    tab.wait_event("event.type === 'personalizer:rendered' && event.target === 'result'")
    stages = []
    for _week in range(3):
        page.locator("#next-week").click()
        page.wait_for_function(
            f"() => document.getElementById('follow-weeks').value === '{_week + 1}'"
        )
        tab.wait_event("event.type === 'personalizer:rendered' && event.target === 'result'")
        page.locator("#follow-felt").select_option("too_easy")
        page.locator("#follow-legs").select_option("better")
        tab.wait_event("event.type === 'personalizer:rendered' && event.target === 'result'")
        stages.append(page.locator("#follow-stage").input_value())
    sent = json.loads(page.locator("#profile-json").text_content())
    assert sent["follow_up"]["weeks_on_routine"] == 3
    assert sent["follow_up"]["routine_felt"] == "too_easy"
    assert stages == ["0", "1", "2"], stages
    shown = page.evaluate("document.getElementById('result').shadowRoot.textContent")
    assert "Step 3: " in shown
    assert tab.errors == []
    tab.shot("demo-next-week")
