// The API document, readable (issue #12): every operation of /docs/openapi.json by tag, with its parameters, body and
// answers. Our own small page: no build step, nothing from a CDN.
"use strict";

(async () => {
  const root = document.getElementById("operations");
  const doc = await (await fetch("/docs/openapi.json")).json();
  const E = MapDepot.element.bind(MapDepot);
  document.getElementById("intro").textContent = `${doc.info.title} ${doc.info.version}: ${doc.info.summary} ${doc.info.description}`;
  const reference = (schema) => (schema && schema.$ref ? schema.$ref.split("/").pop() : schema ? (schema.type || "object") : "");
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete", "head"].includes(method)) continue;
      const tag = (operation.tags || ["other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push({ path, method, operation, shared: item.parameters || [] });
    }
  }
  root.replaceChildren();
  for (const [tag, operations] of byTag) {
    root.append(E("h2", {}, tag));
    for (const { path, method, operation, shared } of operations) {
      const parameters = [...shared, ...(operation.parameters || [])].map((p) => p.$ref ? doc.components.parameters[p.$ref.split("/").pop()] : p);
      const body = operation.requestBody && operation.requestBody.content && Object.values(operation.requestBody.content)[0];
      root.append(E("section", { class: "operation", id: operation.operationId },
        E("h3", {}, E("code", {}, `${method.toUpperCase()} ${path}`), operation["x-mapdepot-extension"] ? " (MapDepot extension)" : ""),
        E("p", {}, operation.summary || ""),
        operation.description ? E("p", { class: "hint" }, operation.description) : "",
        parameters.length ? E("p", {}, "Parameters: ", ...parameters.map((p) => E("code", {}, `${p.name} (${p.in}${p.required ? ", required" : ""}) `))) : "",
        body ? E("p", {}, "Body: ", E("code", {}, reference(body.schema))) : "",
        E("p", {}, "Answers: ", ...Object.entries(operation.responses || {}).map(([code, response]) =>
          E("code", { title: (response.description || (response.$ref || "").split("/").pop()) }, `${code} `)))));
    }
  }
})();
