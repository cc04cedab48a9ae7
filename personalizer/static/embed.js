/*
 * personalizer embed: shows a personalized page about lumbar spinal stenosis inside a
 * partner's own page.
 *
 *   <script src="https://SERVICE/embed.js" async></script>
 *   <div data-personalizer data-key="pk_..." data-profile='{"symptoms": {...}}'
 *        data-emergency-number="911" data-urgent-number="555 0100"></div>
 *
 * Plain ES2017, no dependencies, no eval, no inline script or style: it works under a strict
 * Content-Security-Policy (script-src, connect-src, img-src and style-src of the service
 * origin). Each [data-personalizer] element gets an open shadow root holding the widget's
 * critical styles (a constructed stylesheet, so they apply even when the host's CSP refuses
 * embed.css), the service's stylesheet and the page fragment returned by POST /v1/pages
 * (Accept: text/html).
 *
 * Data attributes (all optional): data-key, data-profile (JSON), data-heading-level (1-6,
 * default 2), data-timeout-ms (default 8000), data-label (the region's name), and for the
 * built-in fallback data-emergency-number, data-emergency-service, data-urgent-number,
 * data-urgent-service.
 *
 * JS API:
 *   Personalizer.render(element, profile, {key, openWhy, headingLevel, timeoutMs})
 *     -> Promise<{pageId, triage, styles}>
 *   Personalizer.scan([root])                             -> Promise<Array>
 * Events on the element (they bubble):
 *   personalizer:rendered  detail {pageId, triage, styles}
 *   personalizer:error     detail {status, message, errors, reason, fallback}
 */
(function () {
  "use strict";

  if (window.Personalizer && window.Personalizer.version) {
    return; // the script was included twice; the first copy does the work
  }

  var BRAND = /^#[0-9a-fA-F]{6}$/;
  var STYLE_TIMEOUT_MS = 3000;
  var DEFAULT_TIMEOUT_MS = 8000;
  /* Elements that never come in with a fragment. The service sends no inline SVG or MathML
     (pictures are <img>), so both are dropped whole, with their animation elements. */
  var DROP_ELEMENTS = [
    "script", "style", "link", "meta", "base", "iframe", "frame", "frameset", "object",
    "embed", "applet", "param", "form", "input", "button", "textarea", "select", "option",
    "template", "portal", "svg", "math", "animate", "set", "animatemotion",
    "animatetransform", "discard", "foreignobject", "handler", "listener", "use",
  ];
  var DROP_ATTRIBUTES = ["style", "srcdoc", "formaction", "action", "ping", "background"];
  var UNSAFE_URL = /^(javascript|vbscript|data|livescript|mocha):/i;
  var DIALABLE = /^\+?[0-9][0-9 ()-]{1,18}$/;
  var WARNING_SIGNS = [
    "numbness between the legs or around the bottom",
    "new bladder or bowel or sexual-function change",
    "sudden or new leg weakness or foot drop",
    "new severe pain in both legs",
  ];

  /* Applies even when embed.css cannot load: sizes, alerts with their label, the fallback.
     In a cascade layer, so embed.css (unlayered) wins wherever both say something. */
  var CRITICAL_CSS = [
    "@layer pz-critical{",
    ":host{--pz-critical:on;display:block;box-sizing:border-box;max-width:100%;color:#1f2328;",
    "font-size:16px;line-height:1.5;overflow-wrap:break-word}",
    ":host([data-personalizer-state=loading]){min-height:240px}",
    "*,*::before,*::after{box-sizing:border-box}",
    ".personalizer-page{display:flex;flex-direction:column;gap:16px;max-width:760px;",
    "font-size:16px;line-height:1.5}",
    ".pz-block{padding:16px;border:1px solid #c9d1d9;border-left:6px solid ",
    "var(--pz-brand,#2a5db0);border-radius:8px;background:#fff}",
    "h1,h2,h3,h4,h5,h6{margin:0 0 8px;font-size:20px;line-height:1.3}",
    "p,ul,ol{margin:0 0 12px}",
    ".pz-alert{border:3px solid #8f1d16;border-left-width:10px;background:#fdf0ef;color:#3b0b07}",
    ".pz-level-emergency{background:#fdecea;color:#4a0d09}",
    ".pz-level-urgent{border-color:#8a4600;background:#fff3e0;color:#3d1f00}",
    ".pz-level-assess{border-color:#6b5400;background:#fff9e0;color:#2e2400}",
    ".pz-label{margin:0 0 8px}",
    ".pz-label-text{display:inline-block;padding:2px 8px;border:2px solid currentColor;",
    "border-radius:4px;font-size:14px;font-weight:700;text-transform:uppercase}",
    ".pz-level-emergency .pz-label-text{background:#8f1d16;border-color:#8f1d16;color:#fff}",
    ".pz-alert a{color:inherit}",
    ".pz-action{display:inline-block;min-height:44px;padding:10px 16px;margin:0 8px 8px 0;",
    "border:2px solid currentColor;border-radius:6px;font-weight:700}",
    ".pz-actions{padding:0;list-style:none}",
    ".pz-picture{display:block;width:100%;max-width:360px;height:auto}",
    ".pz-visually-hidden{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;",
    "clip:rect(0 0 0 0);white-space:nowrap}",
    ".pz-loading{display:flex;align-items:center;min-height:240px;padding:16px;",
    "border:1px dashed #c9d1d9;border-radius:8px;color:#57606a}",
    "@media print{.pz-why,.pz-print,.pz-loading{display:none!important}}",
    "}",
  ].join("");

  var trustedHtml = null;
  var criticalSheet = null;

  function findScript() {
    if (document.currentScript && document.currentScript.src) {
      return document.currentScript;
    }
    var scripts = document.querySelectorAll("script[src]");
    for (var i = scripts.length - 1; i >= 0; i -= 1) {
      var url = new URL(scripts[i].src, document.baseURI);
      if (/\/embed\.js$/.test(url.pathname)) {
        return scripts[i];
      }
    }
    return null;
  }

  var script = findScript();
  var base = new URL(".", script ? new URL(script.src, document.baseURI) : location.href).href;
  var states = new WeakMap();
  var scanned = new WeakSet();

  function PersonalizerError(status, message, errors, reason) {
    var error = new Error(message);
    error.name = "PersonalizerError";
    error.status = status;
    error.errors = errors || null;
    error.reason = reason || (status ? "http" : "network");
    return error;
  }

  /* Pages with require-trusted-types-for 'script' must list "personalizer" in trusted-types.
     The fragment was sanitized by the service; scrub() below checks it again anyway. */
  function toHtml(text) {
    if (trustedHtml === null) {
      trustedHtml = false;
      if (window.trustedTypes && window.trustedTypes.createPolicy) {
        try {
          trustedHtml = window.trustedTypes.createPolicy("personalizer", {
            createHTML: function (value) {
              return value;
            },
          });
        } catch (error) {
          trustedHtml = false; // the page's CSP does not allow our policy name
        }
      }
    }
    return trustedHtml ? trustedHtml.createHTML(text) : text;
  }

  /* Defence in depth for pages without a strict CSP: no script, no handler, no inline style,
     no SVG or MathML (so no animation that could set an href), and no javascript: (or
     vbscript:, data:) URL in any attribute can come in with the fragment. */
  function scrub(article) {
    var all = Array.prototype.slice.call(article.querySelectorAll("*"));
    all.forEach(function (element) {
      var name = (element.localName || "").toLowerCase();
      var foreign = element.namespaceURI !== document.documentElement.namespaceURI;
      if (DROP_ELEMENTS.indexOf(name) !== -1 || foreign) {
        element.remove();
      }
    });
    [article].concat(Array.prototype.slice.call(article.querySelectorAll("*"))).forEach(
      function (element) {
        Array.prototype.slice.call(element.attributes).forEach(function (attribute) {
          var name = attribute.name.toLowerCase();
          var value = attribute.value.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
          if (
            name.indexOf("on") === 0 ||
            DROP_ATTRIBUTES.indexOf(name) !== -1 ||
            UNSAFE_URL.test(value) ||
            (name === "srcset" && /(javascript|vbscript|data):/i.test(value))
          ) {
            element.removeAttribute(attribute.name);
          }
        });
      },
    );
    return article;
  }

  function stateOf(host) {
    var state = states.get(host);
    if (!state) {
      state = {
        seq: 0,
        controller: null,
        brandSet: false,
        root: null,
        styled: null,
        sheet: "pending",
      };
      states.set(host, state);
    }
    return state;
  }

  function adoptCritical(root) {
    try {
      if (criticalSheet === null) {
        criticalSheet = new CSSStyleSheet();
        criticalSheet.replaceSync(CRITICAL_CSS);
      }
      root.adoptedStyleSheets = [criticalSheet];
      return true;
    } catch (error) {
      criticalSheet = false; // no constructable stylesheets in this browser
      return false;
    }
  }

  /* The shadow root with our styles in it; the stylesheet starts loading at once. */
  function prepareRoot(host, state) {
    if (state.root) {
      return state.root;
    }
    var root = host.shadowRoot || host.attachShadow({ mode: "open" });
    adoptCritical(root);
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL("embed.css", base).href;
    state.styled = new Promise(function (resolve) {
      link.addEventListener(
        "load",
        function () {
          state.sheet = "loaded";
          resolve();
        },
        { once: true },
      );
      link.addEventListener(
        "error",
        function () {
          state.sheet = "failed";
          resolve();
        },
        { once: true },
      );
      setTimeout(resolve, STYLE_TIMEOUT_MS);
    });
    root.textContent = "";
    root.appendChild(link);
    state.root = root;
    return root;
  }

  function clearContent(root) {
    var children = Array.prototype.slice.call(root.childNodes);
    children.forEach(function (node) {
      if (!(node.nodeName === "LINK" && node.rel === "stylesheet")) {
        root.removeChild(node);
      }
    });
  }

  function withDefaults(profile) {
    if (profile === null || typeof profile !== "object" || Array.isArray(profile)) {
      throw PersonalizerError(0, "the profile must be an object", null, "profile");
    }
    var body = Object.assign({}, profile);
    var context = body.context;
    if (context === undefined) {
      body.context = { channel: "clinic" };
    } else if (context && typeof context === "object" && context.channel === undefined) {
      body.context = Object.assign({ channel: "clinic" }, context);
    }
    return body;
  }

  function emit(host, name, detail) {
    host.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: detail }));
  }

  function headingLevel(host, options) {
    var level = Number(
      options.headingLevel !== undefined
        ? options.headingLevel
        : host.getAttribute("data-heading-level") || 2,
    );
    return level >= 1 && level <= 6 ? Math.floor(level) : 2;
  }

  function timeoutOf(host, options) {
    var ms = Number(
      options.timeoutMs !== undefined
        ? options.timeoutMs
        : host.getAttribute("data-timeout-ms") || DEFAULT_TIMEOUT_MS,
    );
    return ms > 0 ? ms : DEFAULT_TIMEOUT_MS;
  }

  /* The fragment's headings start at h2; move them so the first is h<level>. */
  function shiftHeadings(article, level) {
    var shift = level - 2;
    if (!shift) {
      return;
    }
    article.querySelectorAll("h1, h2, h3, h4, h5, h6").forEach(function (heading) {
      var to = Math.min(6, Math.max(1, Number(heading.localName.charAt(1)) + shift));
      var replacement = document.createElement("h" + to);
      Array.prototype.forEach.call(heading.attributes, function (attribute) {
        replacement.setAttribute(attribute.name, attribute.value);
      });
      while (heading.firstChild) {
        replacement.appendChild(heading.firstChild);
      }
      heading.replaceWith(replacement);
    });
  }

  /* One landmark per widget, and each widget's region gets its own name. */
  function nameRegion(host, article) {
    var wanted = host.getAttribute("data-label") || article.getAttribute("aria-label");
    if (!wanted) {
      wanted = "Advice for your back";
    }
    var taken = {};
    document.querySelectorAll("[data-personalizer]").forEach(function (other) {
      var region = other !== host && other.shadowRoot;
      var named = region && region.querySelector(".personalizer-page[aria-label]");
      if (named) {
        taken[named.getAttribute("aria-label")] = true;
      }
    });
    var label = wanted;
    for (var n = 2; taken[label]; n += 1) {
      label = wanted + " (" + n + ")";
    }
    article.setAttribute("role", "region");
    article.setAttribute("aria-label", label);
    if (!article.getAttribute("lang")) {
      article.setAttribute("lang", document.documentElement.lang || "en");
    }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function callLink(number, service, className) {
    if (number && DIALABLE.test(number)) {
      var link = el("a", className, "Call " + number);
      link.href = "tel:" + number.replace(/[^0-9+]/g, "");
      return link;
    }
    return el("span", className + " pz-action-text", service);
  }

  /* Shown whenever the page cannot be fetched: the warning signs and the partner's numbers. */
  function fallbackArticle(host) {
    var emergencyNumber = host.getAttribute("data-emergency-number") || "";
    var emergencyService =
      host.getAttribute("data-emergency-service") || "the nearest emergency department";
    var urgentNumber = host.getAttribute("data-urgent-number") || "";
    var urgentService = host.getAttribute("data-urgent-service") || "your doctor";
    var call = emergencyNumber || "your local emergency number";

    var article = el("article", "personalizer-page pz-fallback");
    article.setAttribute("data-triage", "unknown");
    article.setAttribute("aria-label", "Advice for your back");
    article.setAttribute("lang", "en");
    var block = el("section", "pz-block pz-alert pz-level-general");
    block.setAttribute("data-block-id", "warning-signs");
    var label = el("p", "pz-label");
    label.appendChild(el("span", "pz-label-text", "Warning signs"));
    label.appendChild(el("span", "pz-visually-hidden", ":"));
    block.appendChild(label);
    block.appendChild(el("h2", "", "Call " + call + " now if you get any of these signs"));
    var list = el("ul");
    WARNING_SIGNS.forEach(function (sign) {
      list.appendChild(el("li", "", sign.charAt(0).toUpperCase() + sign.slice(1)));
    });
    block.appendChild(list);
    block.appendChild(
      el(
        "p",
        "",
        "Or go to " +
          emergencyService +
          " now. If leg weakness or numbness is slowly getting worse, or you can walk much " +
          "less far than before, see " +
          urgentService +
          " today or within a day or two" +
          (urgentNumber ? " (" + urgentNumber + ")." : "."),
      ),
    );
    var actions = el("ul", "pz-actions");
    var first = el("li");
    first.appendChild(callLink(emergencyNumber, "Call " + call, "pz-action pz-action-call"));
    actions.appendChild(first);
    if (urgentNumber) {
      var second = el("li");
      second.appendChild(callLink(urgentNumber, urgentService + ": " + urgentNumber, "pz-action"));
      actions.appendChild(second);
    }
    block.appendChild(actions);
    block.appendChild(
      el(
        "p",
        "pz-fallback-note",
        "Your personal advice could not be loaded just now. Please try again later.",
      ),
    );
    article.appendChild(block);
    return article;
  }

  function showFallback(host, state, options) {
    clearContent(state.root);
    var article = fallbackArticle(host);
    shiftHeadings(article, headingLevel(host, options || {}));
    nameRegion(host, article);
    state.root.appendChild(article);
  }

  function showLoading(host, state) {
    clearContent(state.root);
    var loading = el("div", "pz-loading", "Loading your advice\u2026");
    loading.setAttribute("role", "status");
    state.root.appendChild(loading);
  }

  function fail(host, state, error, options) {
    showFallback(host, state, options);
    host.setAttribute("data-personalizer-state", "error");
    host.removeAttribute("aria-busy");
    if (window.console) {
      console.warn("[personalizer] " + (error.status || "") + " " + error.message);
    }
    emit(host, "personalizer:error", {
      status: error.status,
      message: error.message,
      errors: error.errors,
      reason: error.reason,
      fallback: true,
    });
    throw error;
  }

  async function readError(response) {
    var message = response.statusText || "request failed";
    var errors = null;
    try {
      var body = await response.json();
      if (body && typeof body.message === "string") {
        message = body.message;
      }
      errors = (body && body.errors) || null;
    } catch (ignored) {
      /* not JSON: keep the status text */
    }
    return PersonalizerError(response.status, message, errors, "http");
  }

  /* Contrast of white text on a #rrggbb colour (WCAG 2 relative luminance). */
  function contrastOnWhite(hex) {
    var channels = [1, 3, 5].map(function (at) {
      var c = parseInt(hex.slice(at, at + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
    return 1.05 / (luminance + 0.05);
  }

  function applyBrand(host, state, article) {
    var brand = article.getAttribute("data-brand");
    if (brand && BRAND.test(brand) && contrastOnWhite(brand) < 4.5) {
      if (window.console) {
        console.warn("[personalizer] brand colour " + brand + " is too light for white text");
      }
      brand = null; // the default accent keeps links and the button readable
    }
    if (brand && BRAND.test(brand)) {
      host.style.setProperty("--pz-brand", brand);
      state.brandSet = true;
    } else if (state.brandSet) {
      host.style.removeProperty("--pz-brand");
      state.brandSet = false;
    }
  }

  /* Which of our styles apply: "full" (embed.css), "critical" (only the built-in rules), or
     "none" (neither: the page shows unstyled, and the widget says so). */
  function stylesApplied(article) {
    var style = getComputedStyle(article);
    if (style.getPropertyValue("--pz-sheet").trim() === "full") {
      return "full";
    }
    var host = article.getRootNode().host;
    if (host && getComputedStyle(host).getPropertyValue("--pz-critical").trim() === "on") {
      return "critical";
    }
    return "none";
  }

  /* Links to a part of the page (the routine's links to each exercise) scroll inside the
     shadow root, which the browser's own fragment navigation cannot reach. */
  function wireLinks(root, article) {
    article.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[href^='#']");
      if (!link) {
        return;
      }
      var target = root.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
      if (target) {
        event.preventDefault();
        target.scrollIntoView({ block: "start" });
        if (target.hasAttribute("tabindex")) {
          target.focus({ preventScroll: true });
        }
      }
    });
    var routine = article.querySelector(".pz-routine");
    if (routine && typeof window.print === "function") {
      var holder = el("p");
      var button = el("button", "pz-print", "Print this routine");
      button.type = "button";
      button.addEventListener("click", function () {
        article.setAttribute("data-print", "handout");
        window.addEventListener(
          "afterprint",
          function () {
            article.removeAttribute("data-print");
          },
          { once: true },
        );
        window.print();
      });
      holder.appendChild(button);
      routine.appendChild(holder);
    }
  }

  async function render(host, profile, options) {
    if (!(host instanceof Element)) {
      throw new TypeError("Personalizer.render needs an element");
    }
    options = options || {};
    scanned.add(host);
    var state = stateOf(host);
    var root = prepareRoot(host, state);
    var seq = (state.seq += 1);
    if (state.controller) {
      state.controller.abort();
    }
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    state.controller = controller;
    host.setAttribute("aria-busy", "true");
    host.setAttribute("data-personalizer-state", "loading");
    if (!root.querySelector("article")) {
      showLoading(host, state);
    }

    var superseded = function () {
      var error = new Error("a newer render replaced this one");
      error.name = "AbortError";
      return error;
    };

    var body;
    try {
      body = JSON.stringify(withDefaults(profile));
    } catch (error) {
      return fail(
        host,
        state,
        error.name === "PersonalizerError" ? error : PersonalizerError(0, error.message),
        options,
      );
    }
    var key = options.key !== undefined ? options.key : host.getAttribute("data-key");
    var headers = { Accept: "text/html", "Content-Type": "application/json" };
    if (key) {
      headers["X-Personalizer-Key"] = key;
    }

    var timedOut = false;
    var timer = setTimeout(function () {
      timedOut = true;
      if (controller) {
        controller.abort();
      }
    }, timeoutOf(host, options));
    var response;
    var text;
    try {
      response = await fetch(new URL("v1/pages", base).href, {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        cache: "no-store",
        headers: headers,
        body: body,
        signal: controller ? controller.signal : undefined,
      });
      if (seq !== state.seq) {
        throw superseded();
      }
      text = response.ok ? await response.text() : null;
      var refused = response.ok ? null : await readError(response);
      if (seq !== state.seq) {
        throw superseded();
      }
      if (refused) {
        clearTimeout(timer);
        return fail(host, state, refused, options);
      }
    } catch (error) {
      clearTimeout(timer);
      if (timedOut && seq === state.seq) {
        return fail(
          host,
          state,
          PersonalizerError(0, "the service did not answer in time", null, "timeout"),
          options,
        );
      }
      if (seq !== state.seq || error.name === "AbortError") {
        throw superseded();
      }
      if (error.name === "PersonalizerError") {
        throw error;
      }
      return fail(host, state, PersonalizerError(0, "the service could not be reached"), options);
    }
    clearTimeout(timer);

    var template = document.createElement("template");
    try {
      template.innerHTML = toHtml(text);
    } catch (error) {
      return fail(
        host,
        state,
        PersonalizerError(0, "the page's CSP refused the content", null, "csp"),
        options,
      );
    }
    var article = template.content.querySelector("article.personalizer-page");
    if (!article) {
      return fail(
        host,
        state,
        PersonalizerError(response.status, "unexpected response", null, "content"),
        options,
      );
    }
    scrub(article);
    // The warning signs are on every page: shown always, but not announced as news each time.
    article.querySelectorAll(".pz-alert.pz-level-general[role=alert]").forEach(function (alert) {
      alert.removeAttribute("role");
    });
    shiftHeadings(article, headingLevel(host, options));
    if (options.openWhy) {
      article.querySelectorAll("details.pz-why").forEach(function (details) {
        details.open = true;
      });
    }
    await state.styled;
    if (seq !== state.seq) {
      throw superseded();
    }
    clearContent(root);
    applyBrand(host, state, article);
    nameRegion(host, article);
    root.appendChild(article);
    wireLinks(root, article);
    host.removeAttribute("aria-busy");
    host.setAttribute("data-personalizer-state", "rendered");
    var styles = stylesApplied(article);
    var detail = {
      pageId: article.getAttribute("data-page-id"),
      triage: article.getAttribute("data-triage"),
      styles: styles,
    };
    if (styles === "none") {
      if (window.console) {
        console.warn("[personalizer] the widget's styles could not be applied");
      }
      emit(host, "personalizer:error", {
        status: 0,
        message: "the widget's styles could not be applied",
        errors: null,
        reason: "styles",
        fallback: false,
      });
    } else if (styles === "critical" && window.console) {
      console.warn("[personalizer] embed.css did not load; showing the built-in styles");
    }
    emit(host, "personalizer:rendered", detail);
    return detail;
  }

  function profileOf(host) {
    var raw = host.getAttribute("data-profile");
    if (!raw) {
      return {};
    }
    try {
      return JSON.parse(raw);
    } catch (error) {
      return undefined;
    }
  }

  function scan(scope) {
    var found = (scope || document).querySelectorAll("[data-personalizer]");
    var jobs = [];
    Array.prototype.forEach.call(found, function (host) {
      if (scanned.has(host)) {
        return;
      }
      scanned.add(host);
      var profile = profileOf(host);
      var job;
      if (profile === undefined) {
        var state = stateOf(host);
        prepareRoot(host, state);
        job = Promise.resolve().then(function () {
          return fail(
            host,
            state,
            PersonalizerError(0, "data-profile is not valid JSON", null, "profile"),
            {},
          );
        });
      } else {
        job = render(host, profile);
      }
      jobs.push(
        job.catch(function () {
          return null; // already logged and sent as a personalizer:error event
        }),
      );
    });
    return Promise.all(jobs);
  }

  window.Personalizer = Object.freeze({
    version: "2",
    base: base,
    render: render,
    scan: scan,
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      scan();
    });
  } else {
    scan();
  }
})();
