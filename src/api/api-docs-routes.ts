import { Hono } from "hono";
import type { AppEnv } from "./app";
import { documentRoute, generateOpenApiDocument } from "./api-docs";

/** `GET /api-docs/openapi.json` (generated) and `GET /api-docs`, a small offline try-it page. */
export const apiDocsRoutes = new Hono<AppEnv>()
  .get(
    documentRoute({
      method: "get",
      path: "/api-docs/openapi.json",
      tag: "node",
      summary: "This document: OpenAPI 3.1, generated from the route definitions and their validators",
      responses: { 200: "the OpenAPI document" },
    }),
    (c) => c.json(generateOpenApiDocument(new URL(c.req.url).origin)),
  )
  .get(
    documentRoute({
      method: "get",
      path: "/api-docs",
      tag: "node",
      summary: "An offline page listing every operation, with a form to try each",
      responses: { 200: { description: "the page", contentType: "text/html" } },
    }),
    (c) => c.html(API_DOCS_PAGE),
  )
  .get(
    documentRoute({
      method: "get",
      path: "/swagger-ui",
      tag: "node",
      summary: "Where WAVS serves its API page: redirects to /api-docs",
      responses: { 302: "redirect to /api-docs" },
    }),
    (c) => c.redirect("/api-docs", 302),
  );

// Self-contained (no CDN: the node works offline): lists every operation of the generated
// document, with a form that sends the request and shows the answer.
const API_DOCS_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>wavs-edge API</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:980px}details{border:1px solid #ddd;border-radius:6px;margin:6px 0;padding:6px 10px}
summary{cursor:pointer}.m{display:inline-block;width:60px;font-weight:600}.get{color:#17803d}.post{color:#1d4ed8}.delete{color:#b42318}
textarea,input{font:12px monospace;width:100%;box-sizing:border-box}pre{background:#f4f4f5;padding:8px;overflow:auto;max-height:300px}</style></head>
<body><h1>wavs-edge API</h1><p>Generated from the node's route definitions: <a href="/api-docs/openapi.json">openapi.json</a>.
Bearer token for mutating routes: <input id="token" type="password" placeholder="WAVS_BEARER_TOKEN" style="width:320px"></p><div id="ops">loading…</div>
<script>
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"})[c]);
fetch("/api-docs/openapi.json").then((r) => r.json()).then((doc) => {
  const ops = document.getElementById("ops"); ops.textContent = "";
  for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) {
    const params = (op.parameters || []).filter((p) => p.in === "path" || p.in === "query");
    const el = document.createElement("details");
    el.className = "op";
    el.innerHTML = '<summary><span class="m ' + method + '">' + method.toUpperCase() + '</span><code>' + esc(path) + '</code> — ' + esc(op.summary || "") + '</summary>' +
      params.map((p) => '<label>' + esc(p.in) + ' ' + esc(p.name) + ' <input data-in="' + esc(p.in) + '" data-name="' + esc(p.name) + '"></label>').join("") +
      (op.requestBody ? '<label>body (JSON)<textarea rows="5"></textarea></label>' : "") +
      '<p><button>Send</button></p><pre class="out"></pre>' +
      '<p>Responses: ' + Object.entries(op.responses).map(([s, r]) => '<b>' + s + '</b> ' + esc(r.description)).join(" · ") + '</p>';
    el.querySelector("button").onclick = async () => {
      let url = path; const query = new URLSearchParams();
      for (const input of el.querySelectorAll("input[data-name]")) {
        if (input.dataset.in === "path") url = url.replace("{" + input.dataset.name + "}", encodeURIComponent(input.value));
        else if (input.value) query.set(input.dataset.name, input.value);
      }
      const headers = {}; const token = document.getElementById("token").value;
      if (token) headers.authorization = "Bearer " + token;
      const body = el.querySelector("textarea")?.value;
      if (body) headers["content-type"] = "application/json";
      const res = await fetch(url + (query.size ? "?" + query : ""), { method: method.toUpperCase(), headers, body: body || undefined });
      el.querySelector(".out").textContent = res.status + " " + res.statusText + "\\n" + (await res.text());
    };
    ops.appendChild(el);
  }
});
</script></body></html>`;
