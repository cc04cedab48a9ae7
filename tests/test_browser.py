"""The partner embed in a real browser (Debian's chromium, driven by Playwright).

The service runs on one loopback port; host pages, each with a strict Content-Security-Policy
(scripts, connections and styles from the service origin only, no inline script), are served
from other loopback ports, so every widget call is a real cross-origin request with a CORS
preflight:

- ``clinic``: an origin the partner allows; a routine and an emergency profile.
- ``sister``: an origin another partner allows; the key is refused with 403.
- ``foreign``: an origin no partner allows; the browser's CORS preflight stops the call.

Screenshots of every scenario go to ``test-artifacts/`` (git-ignored). When chromium is not
installed these tests fail (never skip) and say to run ``scripts/install-chromium.sh``.
"""

from __future__ import annotations

import copy
import html
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from werkzeug.serving import WSGIRequestHandler, make_server

from personalizer.partners import new_key
from tests.conftest import EXAMPLE_PROFILE, base_config
from tests.test_embed import embed_app

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
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TIMEOUT_MS = 10_000
HOSTS = ("clinic", "sister", "foreign")
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

BOOKING_TITLE = "Book a visit at Riverside"
BRAND = "#0a6e5c"
ROUTINE = {**copy.deepcopy(EXAMPLE_PROFILE), "red_flags": []}
del ROUTINE["context"]  # the widget sends channel "clinic" when the profile names none
EMERGENCY = {
    "symptoms": {"legs": "both", "numbness": True, "weakness": True},
    "red_flags": ["saddle_numbness"],
}

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


class QuietWSGIHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class HostPages(BaseHTTPRequestHandler):
    """A partner's site: the pages in ``self.server.pages``, with the CSP of the server."""

    def do_GET(self):
        page = self.server.pages.get(self.path.split("?")[0])
        if page is None:
            self.send_error(404)
            return
        body, mimetype, *extra_csp = page
        self.send_response(200)
        self.send_header("Content-Type", f"{mimetype}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", "; ".join([self.server.csp, *extra_csp]))
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


def host_page(service: str, title: str, key: str, profile: dict) -> bytes:
    attribute = html.escape(json.dumps(profile), quote=True)
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(title)}</title>
  <link rel="stylesheet" href="/host.css">
  <script src="{service}/embed.js" async></script>
</head>
<body>
  <header><h1>{html.escape(title)}</h1></header>
  <main>
    <p>Here is the advice prepared from your posture assessment.</p>
    <div id="widget" data-personalizer data-key="{html.escape(key)}"
         data-profile="{attribute}"></div>
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


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The service and three host sites, each on its own loopback port; all shut down after."""
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

    app = embed_app(base_config(PARTNERS_FILE=str(path)))
    recorder = Recorder(app.wsgi_app)
    app.wsgi_app = recorder
    service = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietWSGIHandler)
    service_origin = f"http://127.0.0.1:{service.server_port}"

    csp = (
        f"default-src 'none'; script-src {service_origin}; connect-src {service_origin}; "
        f"style-src 'self' {service_origin}; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )
    key = riverside[0]
    pages = {
        "/routine.html": host_page(service_origin, "Riverside Spine Clinic", key, ROUTINE),
        "/emergency.html": host_page(service_origin, "Riverside Spine Clinic", key, EMERGENCY),
    }
    for server in hosts.values():
        server.csp = csp
        server.pages = {"/host.css": (HOST_CSS, "text/css")}
        server.pages.update({p: (body, "text/html") for p, body in pages.items()})
    # The strictest kind of page: DOM sinks take only values from a named Trusted Types policy.
    hosts["clinic"].pages["/trusted-types.html"] = (
        pages["/routine.html"],
        "text/html",
        "require-trusted-types-for 'script'; trusted-types personalizer",
    )

    threads = [_start(service)] + [_start(server) for server in hosts.values()]
    try:
        yield {"service": service_origin, "origins": origins, "recorder": recorder}
    finally:
        for server in [service, *hosts.values()]:
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

    def __init__(self, browser, viewport):
        self.context = browser.new_context(viewport=viewport)
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

    def wait_event(self, predicate: str) -> dict:
        """The first widget event matching a JS predicate over (event), within the timeout."""
        handle = self.page.wait_for_function(
            f"() => window.__pzEvents.find((event) => {predicate})", timeout=TIMEOUT_MS
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

    def close(self):
        self.context.close()


@pytest.fixture
def tab_factory(browser):
    tabs = []

    def make(viewport=DESKTOP) -> Tab:
        tab = Tab(browser, viewport)
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


# -- scenarios --------------------------------------------------------------------------------


def test_routine_page_on_an_allowed_partner_site(site, tab_factory):
    started = time.monotonic()
    tab = tab_factory(DESKTOP)
    page = tab.page
    page.goto(site["origins"]["clinic"] + "/routine.html")
    event = tab.wait_event("event.type === 'personalizer:rendered'")
    assert event["target"] == "widget" and event["detail"]["triage"] == "none"
    assert event["detail"]["pageId"]

    widget = page.locator("#widget")
    assert page.evaluate("document.getElementById('widget').shadowRoot.mode") == "open"
    assert widget.locator("article.personalizer-page").count() == 1
    assert widget.locator(".pz-section").count() >= 1
    assert widget.locator(".pz-exercise").count() >= 1
    assert widget.locator(".pz-routine").is_visible()
    assert widget.locator(".pz-commercial").count() == 0
    booking = widget.locator(".pz-cta", has_text=BOOKING_TITLE)
    assert booking.count() == 1
    assert booking.locator("a.pz-cta-link").get_attribute("href") == (
        "https://riverside.example/book"
    )
    assert widget.locator("h2").count() >= 4
    assert "{{" not in widget.inner_text()  # every placeholder was filled in
    blocks = widget.locator(".pz-block:not(.pz-routine)")
    assert widget.locator("details.pz-why").count() == blocks.count()

    # The stylesheet loaded into the shadow root and the partner's colour reached it.
    brand = page.evaluate(
        "getComputedStyle(document.getElementById('widget')).getPropertyValue('--pz-brand')"
    )
    assert brand.strip() == BRAND
    border = page.evaluate(
        "getComputedStyle(document.getElementById('widget').shadowRoot"
        ".querySelector('.pz-section')).borderLeftColor"
    )
    assert border == "rgb(10, 110, 92)"

    # Keyboard focus lands in the widget and is visible.
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
    assert not [line for line in tab.console if line.startswith("error")], tab.console
    tab.shot("embed-routine-desktop")
    assert time.monotonic() - started < 15


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
        assert widget.locator("[role=alert]").count() >= 1
        assert widget.locator(".pz-exercise").count() == 0
        assert widget.locator(".pz-routine").count() == 0
        assert widget.locator(".pz-commercial").count() == 0
        assert "000" in first.inner_text() and "Riverside emergency room" in first.inner_text()
        assert "{{" not in widget.inner_text()
        # The alert does not rely on colour alone: a text label and a heading.
        label = page.evaluate(
            "getComputedStyle(document.getElementById('widget').shadowRoot"
            ".querySelector('.pz-alert'), '::before').content"
        )
        assert "Emergency" in label
        assert first.locator("h2").is_visible()
    tab.shot(f"embed-{name}-phone")


def test_origin_no_partner_allows_gets_nothing(site, tab_factory):
    tab = tab_factory(DESKTOP)
    page = tab.page
    origin = site["origins"]["foreign"]
    page.goto(origin + "/routine.html")
    event = tab.wait_event("event.type === 'personalizer:error'")
    assert event["target"] == "widget" and event["detail"]["status"] == 0
    widget = page.locator("#widget")
    assert widget.locator(".pz-block").count() == 0
    assert widget.locator("article").count() == 0
    assert page.evaluate("document.getElementById('widget').shadowRoot.textContent.trim()") == ""
    assert widget.get_attribute("data-personalizer-state") == "error"
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
    widget = page.locator("#widget")
    assert widget.locator(".pz-block").count() == 0
    assert page.evaluate("document.getElementById('widget').shadowRoot.textContent.trim()") == ""
    posts = [c for c in site["recorder"].pages_from(origin) if c["method"] == "POST"]
    assert [c["status"] for c in posts] == [403]
    tab.shot("embed-refused-key")


def test_demo_page(site, tab_factory):
    tab = tab_factory(DESKTOP)
    page = tab.page
    response = page.goto(site["service"] + "/demo")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    tab.wait_event("event.type === 'personalizer:rendered' && event.target === 'result'")
    result = page.locator("#result")
    assert result.locator(".pz-exercise").count() >= 1
    whys = result.locator("details.pz-why")
    assert whys.count() >= 1
    assert page.evaluate(
        "[...document.getElementById('result').shadowRoot.querySelectorAll('details.pz-why')]"
        ".every((details) => details.open)"
    )

    # "Not measured" leaves the measurement out instead of sending zero.
    page.get_by_label("Not measured: Pelvic tilt").check()
    page.get_by_role("checkbox", name="Numbness in the saddle area").check()
    page.get_by_role("button", name="Show the page").click()
    tab.wait_event("event.type === 'personalizer:rendered' && event.detail.triage === 'emergency'")
    first = result.locator(".pz-block").first
    assert first.get_attribute("role") == "alert"
    assert "pz-level-emergency" in first.get_attribute("class")
    assert result.locator(".pz-exercise").count() == 0
    sent = json.loads(page.locator("#profile-json").text_content())
    assert "pelvic_tilt_deg" not in sent["alignment"]
    assert sent["red_flags"] == ["saddle_numbness"]
    assert page.locator("#demo-status").inner_text().startswith("Page ready")

    assert tab.violations() == [] and tab.errors == []
    assert not [line for line in tab.console if line.startswith("error")], tab.console
    tab.shot("demo-emergency-desktop")

    phone = tab_factory(PHONE)
    phone.page.goto(site["service"] + "/demo")
    phone.wait_event("event.type === 'personalizer:rendered'")
    assert no_horizontal_scroll(phone.page)
    assert phone.violations() == [] and phone.errors == []
    phone.shot("demo-phone")


def test_page_with_trusted_types_enforced(site, tab_factory):
    tab = tab_factory(DESKTOP)
    tab.page.goto(site["origins"]["clinic"] + "/trusted-types.html")
    tab.wait_event("event.type === 'personalizer:rendered'")
    assert tab.page.locator("#widget .pz-exercise").count() >= 1
    assert tab.violations() == [] and tab.errors == []


HOSTILE_FRAGMENT = """<article class="personalizer-page" data-page-id="x" data-triage="none"
 data-brand="red;background:url(x)" onmouseover="window.__hit = 1">
<section class="pz-block pz-section" style="position:fixed" onclick="window.__hit = 2">
<h2>Title</h2><img src="/none.png" onerror="window.__hit = 3">
<a href=" javascript:window.__hit = 4">link</a><a href="https://ok.example/">ok</a>
<script>window.__hit = 5</script><iframe src="https://evil.example/"></iframe>
<svg><a xlink:href="javascript:window.__hit = 6"><text>x</text></a></svg>
</section></article>"""


def test_widget_scrubs_a_hostile_fragment(site, tab_factory):
    """Even if the service were made to send script, the widget does not insert it."""
    tab = tab_factory(DESKTOP)
    page = tab.page

    def hostile(route):
        if route.request.method != "POST":
            route.continue_()
            return
        route.fulfill(
            status=200,
            headers={
                "Content-Type": "text/html; charset=utf-8",
                "Access-Control-Allow-Origin": site["origins"]["clinic"],
            },
            body=HOSTILE_FRAGMENT,
        )

    page.route(site["service"] + "/v1/pages", hostile)
    page.goto(site["origins"]["clinic"] + "/routine.html")
    tab.wait_event("event.type === 'personalizer:rendered'")
    found = page.evaluate(
        """() => {
            const root = document.getElementById('widget').shadowRoot;
            const article = root.querySelector('article');
            const all = [article, ...article.querySelectorAll('*')];
            return {
                handlers: all.flatMap((e) => [...e.attributes].map((a) => a.name))
                    .filter((name) => name.startsWith('on') || name === 'style'),
                dropped: root.querySelectorAll('script, iframe').length,
                hrefs: all.map((e) => e.getAttribute('href') || e.getAttribute('xlink:href'))
                    .filter(Boolean),
                brand: document.getElementById('widget').style.getPropertyValue('--pz-brand'),
                hit: window.__hit === undefined,
            };
        }"""
    )
    page.locator("#widget section").click()
    page.locator("#widget h2").hover()
    assert found == {
        "handlers": [],
        "dropped": 0,
        "hrefs": ["https://ok.example/"],
        "brand": "",
        "hit": True,
    }
    assert page.evaluate("window.__hit === undefined")
