/*
 * The demo page: reads the form into a profile (DESIGN section 2) and renders it through
 * window.Personalizer (embed.js), with every "Why this is here" opened.
 * A measurement marked "not measured" and an empty number field are left out of the profile.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 300;
  var form = document.getElementById("profile-form");
  var result = document.getElementById("result");
  var status = document.getElementById("demo-status");
  var sent = document.getElementById("profile-json");
  var announce = document.getElementById("demo-announce");
  var heading = document.getElementById("result-heading");
  var timer = null;
  var reveal = false; // bring the result into view after this render (not while dragging)
  var focusResult = false; // move focus to it (after "Show the page")
  var lastTriage = null;

  function setPath(target, path, value) {
    var parts = path.split(".");
    var node = target;
    for (var i = 0; i < parts.length - 1; i += 1) {
      node[parts[i]] = node[parts[i]] || {};
      node = node[parts[i]];
    }
    node[parts[parts.length - 1]] = value;
  }

  function readProfile() {
    var profile = { alignment: {}, symptoms: {}, red_flags: [], context: {} };
    var lists = { "symptoms.worse_with": [], "symptoms.eased_by": [], red_flags: [] };
    Array.prototype.forEach.call(form.elements, function (control) {
      var name = control.name;
      if (!name || control.disabled) {
        return;
      }
      if (Object.prototype.hasOwnProperty.call(lists, name)) {
        if (control.checked) {
          lists[name].push(control.value);
        }
      } else if (control.type === "checkbox") {
        setPath(profile, name, control.checked);
      } else if (control.type === "range" || control.type === "number") {
        if (control.value !== "") {
          setPath(profile, name, Number(control.value));
        }
      } else if (control.value !== "") {
        setPath(profile, name, control.value);
      }
    });
    Object.keys(lists).forEach(function (name) {
      setPath(profile, name, lists[name]);
    });
    // An untouched follow-up box is no follow-up: a first visit.
    var follow = profile.follow_up || {};
    if (Object.keys(follow).length === 1 && follow.flare_up === false) {
      delete profile.follow_up;
    }
    return profile;
  }

  /* "Next week": what the page returned in its follow_up object goes into the form, as a
     client keeping it would send it back (DESIGN section 4b). */
  function nextWeek() {
    var profile = readProfile();
    return fetch("/v1/pages", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(profile),
    })
      .then(function (response) {
        return response.ok ? response.json() : Promise.reject(response);
      })
      .then(function (page) {
        var keep = page.follow_up || {};
        document.getElementById("follow-weeks").value = keep.weeks_on_routine;
        document.getElementById("follow-stage").value = keep.stage;
        document.getElementById("follow-walking").value =
          keep.previous_walking_tolerance_min === undefined
            ? ""
            : keep.previous_walking_tolerance_min;
        say("Week " + keep.weeks_on_routine + ": say how last week went, then look again.");
        reveal = true;
        return render();
      });
  }

  function showOutputs() {
    form.querySelectorAll("output[for]").forEach(function (output) {
      var input = document.getElementById(output.htmlFor.value);
      output.textContent = input.disabled ? "not measured" : input.value;
    });
  }

  function say(text) {
    status.textContent = text;
  }

  var LEVEL_WORDS = {
    emergency: "Emergency",
    urgent: "Urgent",
    assess: "Get checked soon",
  };

  /* The first alert of the page that says what to do, for the announcement. */
  function alertOf(page) {
    var root = result.shadowRoot;
    var alert = root && root.querySelector(".pz-alert:not(.pz-level-general)");
    var title = alert && alert.querySelector("h1, h2, h3, h4, h5, h6");
    return alert ? { element: alert, title: title ? title.textContent : "" } : null;
  }

  function show(page) {
    var alert = alertOf(page);
    var changed = page.triage !== lastTriage;
    lastTriage = page.triage;
    if (alert) {
      // Announced each time the alert (re)appears, assertively.
      announce.textContent = "";
      announce.textContent = (LEVEL_WORDS[page.triage] || "Alert") + ": " + alert.title;
    } else {
      announce.textContent = "";
    }
    var target = alert ? alert.element : heading;
    if (reveal || (alert && changed)) {
      var box = target.getBoundingClientRect();
      var visible = box.top >= 0 && box.top < window.innerHeight - 80;
      if (!visible) {
        target.scrollIntoView({ block: "start" });
      }
    }
    if (focusResult) {
      heading.focus({ preventScroll: true });
    }
    reveal = false;
    focusResult = false;
  }

  function render() {
    clearTimeout(timer);
    timer = null;
    if (!form.checkValidity()) {
      form.reportValidity();
      say("Some answers are out of range; fix them to see the page.");
      return Promise.resolve(null);
    }
    var profile = readProfile();
    sent.textContent = JSON.stringify(profile, null, 2);
    say("Building the page...");
    return window.Personalizer.render(result, profile, { openWhy: true }).then(
      function (page) {
        say("Page ready. Triage level: " + page.triage + ".");
        show(page);
        track("view", null, profile);
        return page;
      },
      function (error) {
        if (error.name !== "AbortError") {
          var fields = error.errors ? " " + Object.keys(error.errors).join(", ") : "";
          say("The service answered " + (error.status || "nothing") + ": " + error.message + fields);
          reveal = false;
          focusResult = false;
        }
        return null;
      },
    );
  }

  /* Outcome events (docs/experiments.md): sent only when the form has a visitor id, so the
     demo shows what a marketing site sends; the service keeps only a keyed hash of the id. */
  function track(event, blockId, profile) {
    var visitor = (profile || readProfile()).context.visitor_id;
    var root = result.shadowRoot && result.shadowRoot.querySelector("[data-page-id]");
    if (!visitor || !root) {
      return;
    }
    var entry = { page_id: root.getAttribute("data-page-id"), visitor_id: visitor, event: event };
    if (blockId) {
      entry.block_id = blockId;
    }
    fetch("/v1/events", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ events: [entry] }),
      keepalive: true,
    }).catch(function () {});
  }

  result.addEventListener("personalizer:rendered", function () {
    var root = result.shadowRoot;
    if (root && !root.__tracked) {
      root.__tracked = true;
      root.addEventListener("click", function (event) {
        var link = event.target.closest && event.target.closest("a.pz-cta-link");
        var block = link && link.closest("[data-block-id]");
        if (block) {
          track("cta_click", block.getAttribute("data-block-id"));
        }
      });
    }
  });

  function later() {
    clearTimeout(timer);
    timer = setTimeout(render, DEBOUNCE_MS);
  }

  form.querySelectorAll("[data-unmeasured-for]").forEach(function (box) {
    var slider = document.getElementById(box.getAttribute("data-unmeasured-for"));
    slider.disabled = box.checked; // a reload may restore the box checked
    box.addEventListener("change", function () {
      slider.disabled = box.checked;
      showOutputs();
    });
  });
  form.addEventListener("input", function () {
    showOutputs();
    later();
  });
  form.addEventListener("change", function () {
    reveal = true;
    later();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    reveal = true;
    focusResult = true;
    render();
  });

  document.getElementById("next-week").addEventListener("click", nextWeek);

  showOutputs();
  render();
})();
