/*
 * personalizer embed: shows a personalized page about lumbar spinal stenosis inside a
 * partner's own page.
 *
 *   <script src="https://SERVICE/embed.js" async></script>
 *   <div data-personalizer data-key="pk_..." data-profile='{"symptoms": {...}}'></div>
 *
 * Plain ES2017, no dependencies, no eval, no inline script or style: it works under a strict
 * Content-Security-Policy (script-src, connect-src and style-src of the service origin).
 * Each [data-personalizer] element gets an open shadow root holding the service's stylesheet
 * and the page fragment returned by POST /v1/pages (Accept: text/html).
 *
 * JS API:
 *   Personalizer.render(element, profile, {key, openWhy}) -> Promise<{pageId, triage}>
 *   Personalizer.scan([root])                             -> Promise<Array>
 * Events on the element (they bubble):
 *   personalizer:rendered  detail {pageId, triage}
 *   personalizer:error     detail {status, message, errors}
 */
(function () {
  "use strict";

  if (window.Personalizer && window.Personalizer.version) {
    return; // the script was included twice; the first copy does the work
  }

  var BRAND = /^#[0-9a-fA-F]{6}$/;
  var STYLE_TIMEOUT_MS = 3000;
  var DROP_ELEMENTS = "script, style, link, meta, base, iframe, frame, object, embed, form";
  var URL_ATTRIBUTES = ["href", "src", "action", "formaction", "xlink:href", "srcset"];
  var UNSAFE_URL = /^(javascript|vbscript|data):/i;
  var trustedHtml = null;

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

  function PersonalizerError(status, message, errors) {
    var error = new Error(message);
    error.name = "PersonalizerError";
    error.status = status;
    error.errors = errors || null;
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
     no javascript: URL can come in with the fragment. */
  function scrub(article) {
    article.querySelectorAll(DROP_ELEMENTS).forEach(function (element) {
      element.remove();
    });
    [article].concat(Array.prototype.slice.call(article.querySelectorAll("*"))).forEach(
      function (element) {
        Array.prototype.slice.call(element.attributes).forEach(function (attribute) {
          var name = attribute.name.toLowerCase();
          var value = attribute.value.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
          if (
            name.indexOf("on") === 0 ||
            name === "style" ||
            (URL_ATTRIBUTES.indexOf(name) !== -1 && UNSAFE_URL.test(value))
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
      state = { seq: 0, controller: null, brandSet: false, root: null, styled: null };
      states.set(host, state);
    }
    return state;
  }

  /* The shadow root with our stylesheet in it; the stylesheet starts loading at once. */
  function prepareRoot(host, state) {
    if (state.root) {
      return state.root;
    }
    var root = host.shadowRoot || host.attachShadow({ mode: "open" });
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL("embed.css", base).href;
    state.styled = new Promise(function (resolve) {
      link.addEventListener("load", resolve, { once: true });
      link.addEventListener("error", resolve, { once: true });
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
      throw PersonalizerError(0, "the profile must be an object");
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

  function fail(host, state, error) {
    clearContent(state.root);
    host.setAttribute("data-personalizer-state", "error");
    host.removeAttribute("aria-busy");
    if (window.console) {
      console.warn("[personalizer] " + (error.status || "") + " " + error.message);
    }
    emit(host, "personalizer:error", {
      status: error.status,
      message: error.message,
      errors: error.errors,
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
    return PersonalizerError(response.status, message, errors);
  }

  function applyBrand(host, state, article) {
    var brand = article.getAttribute("data-brand");
    if (brand && BRAND.test(brand)) {
      host.style.setProperty("--pz-brand", brand);
      state.brandSet = true;
    } else if (state.brandSet) {
      host.style.removeProperty("--pz-brand");
      state.brandSet = false;
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

    var superseded = function () {
      var error = new Error("a newer render replaced this one");
      error.name = "AbortError";
      return error;
    };

    var body;
    try {
      body = JSON.stringify(withDefaults(profile));
    } catch (error) {
      return fail(host, state, error.status === 0 ? error : PersonalizerError(0, error.message));
    }
    var key = options.key !== undefined ? options.key : host.getAttribute("data-key");
    var headers = { Accept: "text/html", "Content-Type": "application/json" };
    if (key) {
      headers["X-Personalizer-Key"] = key;
    }

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
        return fail(host, state, refused);
      }
    } catch (error) {
      if (seq !== state.seq || error.name === "AbortError") {
        throw superseded();
      }
      if (error.name === "PersonalizerError") {
        throw error;
      }
      return fail(host, state, PersonalizerError(0, "the service could not be reached"));
    }

    var template = document.createElement("template");
    try {
      template.innerHTML = toHtml(text);
    } catch (error) {
      return fail(host, state, PersonalizerError(0, "the page's CSP refused the content"));
    }
    var article = template.content.querySelector("article.personalizer-page");
    if (!article) {
      return fail(host, state, PersonalizerError(response.status, "unexpected response"));
    }
    scrub(article);
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
    root.appendChild(article);
    host.removeAttribute("aria-busy");
    host.setAttribute("data-personalizer-state", "rendered");
    var detail = {
      pageId: article.getAttribute("data-page-id"),
      triage: article.getAttribute("data-triage"),
    };
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
          return fail(host, state, PersonalizerError(0, "data-profile is not valid JSON"));
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
    version: "1",
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
