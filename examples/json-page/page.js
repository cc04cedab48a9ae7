/*
 * The JSON page (POST /v1/pages, contract v2) rendered in the site's own design with plain
 * JavaScript: no framework, no dose wording or joins of our own, everything comes from the
 * page. See docs/integrating.md. The page is fetched from ?page=<file> (default page.json):
 * on a real site your server calls the service and hands the JSON to this code.
 */
(function () {
  "use strict";

  // A small helper: an element with a class and text (never HTML from strings).
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  // Block bodies (`html`) are sanitized by the service; parse them inertly and append.
  function body(html) {
    var template = document.createElement("template");
    template.innerHTML = html || "";
    var div = el("div", "body");
    div.appendChild(template.content);
    return div;
  }

  function why(block) {
    var reasons = (block.why || []).map(function (w) { return w.reason; });
    return el("p", "why", reasons.length ? "Why this is here: " + reasons.join("; ") + "." : "");
  }

  function alert(block) {
    var box = el("section", "alert level-" + block.level);
    var actions = el("p", "actions");
    (block.actions || []).forEach(function (action) {
      var link = el("a", "button " + action.kind, action.label);
      link.href = action.href;
      actions.appendChild(link);
    });
    box.append(el("p", "label", block.label), el("h2", "", block.title));
    // Act-now alerts put their actions (a tel: link first) right under the heading.
    var now = block.level === "emergency" || block.level === "urgent";
    box.append(now ? actions : body(block.html), now ? body(block.html) : actions);
    return box;
  }

  function routine(page) {
    var box = el("section", "routine");
    box.appendChild(el("h2", "", "Your routine: about " + page.routine.minutes + " minutes a day"));
    var list = el("ol");
    page.routine.items.forEach(function (item) {
      var li = el("li");
      var link = el("a", "", item.title);
      link.href = "#" + item.id;
      li.append(link, el("span", "dose", item.text)); // the dose in words, days included
      list.appendChild(li);
    });
    box.appendChild(list);
    return box;
  }

  function exercise(block) {
    var box = el("section", "exercise");
    box.id = block.id;
    box.appendChild(el("h2", "", block.title));
    (block.media || []).slice(0, 1).forEach(function (picture) {
      var img = el("img");
      img.src = picture.url;
      img.alt = picture.alt;
      img.width = picture.width;
      img.height = picture.height;
      img.loading = "lazy";
      box.appendChild(img);
    });
    box.append(el("p", "summary", block.summary), el("p", "dose", block.dose.text));
    var steps = el("ol", "steps");
    block.steps.forEach(function (step) { steps.appendChild(el("li", "", step)); });
    // `html` opens with the same steps as a list, then tips: keep the tips.
    var tips = body(block.html);
    var list = tips.querySelector("ol");
    if (list && list.children.length === block.steps.length) list.remove();
    var cautions = el("ul", "cautions");
    block.cautions.forEach(function (c) { cautions.appendChild(el("li", "", c)); });
    box.append(steps, tips, cautions, el("p", "ease-off", block.ease_off));
    box.append(el("p", "progression", "When it feels easy: " + block.progression), why(block));
    return box;
  }

  function section(block) {
    var box = el("section", block.kind === "cta" ? "cta" + (block.commercial ? " paid" : "") : "section");
    if (block.kind === "cta" && block.commercial) box.appendChild(el("p", "label", "Paid: our own service"));
    box.append(el("h2", "", block.title), body(block.html));
    if (block.kind === "cta") {
      var link = el("a", "button", block.title);
      link.href = block.href;
      box.appendChild(el("p")).appendChild(link);
    }
    box.appendChild(why(block));
    return box;
  }

  function render(page, root) {
    root.textContent = "";
    root.lang = page.lang || "en";
    var blocks = page.blocks;
    var kind = function (k) { return blocks.filter(function (b) { return b.kind === k; }); };
    var alerts = kind("alert");
    root.append(el("h1", "", page.summary.title), el("p", "intro", page.summary.text));
    alerts.filter(function (b) { return b.level !== "general"; }).forEach(function (b) { root.appendChild(alert(b)); });
    if (page.routine && page.routine.items.length) root.appendChild(routine(page));
    alerts.filter(function (b) { return b.level === "general"; }).forEach(function (b) { root.appendChild(alert(b)); });
    kind("exercise").forEach(function (b) { root.appendChild(exercise(b)); });
    kind("section").forEach(function (b) { root.appendChild(section(b)); });
    // Free next steps first; our paid offers after them, marked as paid.
    kind("cta").sort(function (a, b) { return a.commercial - b.commercial; })
      .forEach(function (b) { root.appendChild(section(b)); });
    root.dataset.state = "ready";
  }

  var root = document.getElementById("page");
  var source = new URLSearchParams(location.search).get("page") || "page.json";
  fetch(source)
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (page) { render(page, root); })
    .catch(function () {
      root.textContent = "Your page could not be loaded. If you get numbness between the legs, a bladder or bowel change or sudden leg weakness, call your emergency number now.";
      root.dataset.state = "error";
    });
})();
