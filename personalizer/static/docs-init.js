/*
 * /docs: starts Swagger UI (served by the service from the swagger-ui-bundle package) on the
 * service's own OpenAPI document. No inline script, no network beyond the service: the
 * online validator is off and so is configuration from the query string.
 */
(function () {
  "use strict";

  function start() {
    var root = document.getElementById("swagger-ui");
    window.ui = window.SwaggerUIBundle({
      url: root.getAttribute("data-spec-url"),
      domNode: root,
      deepLinking: true,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      validatorUrl: null,
      queryConfigEnabled: false,
      tryItOutEnabled: false,
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
