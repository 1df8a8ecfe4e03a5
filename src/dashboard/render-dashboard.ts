import type { DashboardData } from "./collect-dashboard";
import { escapeHtml as e, renderBarChart, renderPerMinuteChart, renderTimeline } from "./svg-charts";

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1c1e21}
header{background:#1f2a44;color:#fff;padding:12px 24px}header h1{margin:0;font-size:18px}
main{padding:16px 24px;display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(460px,1fr))}
section{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px #0002}
section.wide{grid-column:1/-1}h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:4px 6px;border-bottom:1px solid #eee;vertical-align:middle}
code{font-size:12px}.muted{color:#667}.ok{color:#17803d}.bad{color:#b42318}
.status{padding:1px 6px;border-radius:8px;font-size:12px;background:#eef}.status.landed{background:#dcfce7}.status.failed{background:#fee2e2}
svg .bar{fill:#3b82f6}svg .lbl,svg .val{font-size:12px;fill:#333}svg .ttl{font-size:13px;font-weight:600;fill:#111}
svg .axis{stroke:#ccd}svg .dot{fill:#3b82f6}svg .dot.fail{fill:#dc2626}
svg .landed{fill:#16a34a}svg .failed{fill:#dc2626}
.alert{border-left:4px solid #d97706;padding:4px 8px;margin:4px 0;background:#fffbeb}.alert.critical{border-color:#b42318;background:#fef2f2}
.alert.resolved{border-color:#17803d;background:#f0fdf4}
`;

/**
 * Refreshes the page's parts in place from /dashboard.json (no reload, no flicker): a part is
 * replaced only when its HTML changed. No framework, no CDN.
 */
const REFRESH_SCRIPT = `(()=>{const ms=Number(document.body.dataset.refreshMs)||5000;const last={};
async function tick(){try{const r=await fetch("/dashboard.json",{headers:{accept:"application/json"}});
if(r.ok){const d=await r.json();for(const[k,html]of Object.entries(d.sections)){const el=document.querySelector('[data-part="'+k+'"]');
if(el&&last[k]!==html){el.innerHTML=html;last[k]=html;}}document.body.dataset.updatedAt=d.generated_at;}}catch(e){}
setTimeout(tick,ms);}tick();})();`;

const short = (s: string, n = 10) => (s.length > n + 2 ? `${s.slice(0, n)}…` : s);

/** The dashboard's parts by name (each a `[data-part]` element's inner HTML), for the page and for /dashboard.json. */
export function renderDashboardParts(d: DashboardData, now = Date.now()): Record<string, string> {
  const services = d.services.length
    ? `<table id="services"><tr><th>service</th><th>workflow</th><th>trigger</th><th>component</th><th>submit</th></tr>${d.services
        .flatMap((s) =>
          s.workflows.map(
            (w, i) =>
              `<tr>${i === 0 ? `<td rowspan="${s.workflows.length}"><b>${e(s.name)}</b> <span class="status">${e(s.status)}</span><br><code class="muted">${e(short(s.id, 16))}</code><br><code class="muted">${e(s.manager)}</code></td>` : ""}` +
              `<td>${e(w.id)}</td><td>${e(w.trigger)}</td><td><code>${e(short(w.component, 12))}</code></td><td>${e(w.submit)}</td></tr>`,
          ),
        )
        .join("")}</table>`
    : `<p class="muted">No services registered yet. Register one with <code>POST /services</code> or <code>wavs-edge deploy-service</code>.</p>`;

  const taskRows = d.tasks.length
    ? `<table id="tasks"><tr><th>event</th><th>workflow</th><th>status</th><th>timeline</th><th>age</th></tr>${d.tasks
        .map(
          (t) =>
            `<tr><td><a href="/tasks/${e(t.eventId)}"><code>${e(short(t.eventId, 12))}</code></a></td><td>${e(t.workflowId)}</td>` +
            `<td><span class="status ${e(t.status)}">${e(t.status)}</span>${t.error ? `<br><span class="bad">${e(short(t.error, 60))}</span>` : ""}</td>` +
            `<td>${renderTimeline(t.steps)}<br><span class="muted">${e(t.steps.map((s) => s.step).join(" → "))}</span></td>` +
            `<td class="muted">${e(formatAge(now - t.createdAt))}</td></tr>`,
        )
        .join("")}</table>`
    : `<p class="muted">No tasks yet.</p>`;

  const chains = d.chains.length
    ? `<table id="chains"><tr><th>chain</th><th>RPC</th><th>head</th><th>next block</th><th>lag</th></tr>${d.chains
        .map((c) => {
          const lag = c.head !== null && c.nextBlock !== null ? Math.max(0, c.head - c.nextBlock + 1) : null;
          return `<tr><td>${e(c.chain)}</td><td class="${c.head === null ? "bad" : "ok"}">${c.head === null ? "down" : "up"}</td><td>${c.head ?? "—"}</td><td>${c.nextBlock ?? "—"}</td><td>${lag ?? "—"}</td></tr>`;
        })
        .join("")}</table>`
    : `<p class="muted">No chains configured.</p>`;

  const upgrades = d.upgrades.length
    ? `<table id="upgrades"><tr><th>upgrade</th><th>service</th><th>status</th><th>what</th><th>age</th></tr>${d.upgrades
        .map(
          (u) =>
            `<tr><td>${u.id}</td><td><code>${e(short(u.serviceId, 12))}</code></td><td><span class="status ${u.status === "refused" || u.status === "gave_up" ? "failed" : ""}">${e(u.status)}</span></td>` +
            `<td>${u.changes.map((c) => e(c)).join("<br>")}${u.error ? `<span class="bad">${e(short(u.error, 120))}</span>` : ""}` +
            `${u.status === "awaiting_approval" ? `<br><span class="muted">approve: <code>wavs-edge upgrades approve ${u.id}</code> or <code>POST /services/upgrades/${u.id}/approve</code></span>` : ""}</td>` +
            `<td class="muted">${e(formatAge(now - u.at))}</td></tr>`,
        )
        .join("")}</table>`
    : `<p class="muted">No service upgrade is pending or refused.</p>`;

  const latency = renderBarChart(
    "Per-stage latency, p50 (ms)",
    d.latencies.map((l) => ({
      label: l.stage,
      value: l.p50,
      note: `${l.stage}: p50 ${l.p50} ms, p95 ${l.p95} ms, max ${l.max} ms over ${l.count} tasks`,
    })),
    " ms",
  );
  const errors = renderBarChart(
    "Errors by stage",
    d.errors.length ? d.errors.map((x) => ({ label: x.step, value: x.count })) : [{ label: "none", value: 0 }],
  );
  const statuses = renderBarChart(
    "Tasks by status",
    d.statusCounts.map((s) => ({ label: s.status, value: s.count })),
  );

  const alertLine = (a: DashboardData["alerts"]["active"][number]) =>
    `<div class="alert ${a.status === "resolved" ? "resolved" : e(a.severity)}" data-key="${e(a.key)}"><b>${e(a.rule)}</b> <span class="status">${e(a.status === "resolved" ? "resolved" : a.severity)}</span> ${e(a.summary)} ` +
    `<span class="muted">since ${e(formatAge(now - a.started_at))}${a.resolved_at !== null ? `, resolved ${e(formatAge(now - a.resolved_at))}` : ""}</span></div>`;
  const alerts =
    (d.alerts.active.length ? d.alerts.active.map(alertLine).join("") : `<p class="ok">No alert is firing.</p>`) +
    (d.alerts.recent.length
      ? `<details><summary class="muted">recently resolved (${d.alerts.recent.length})</summary>${d.alerts.recent.map(alertLine).join("")}</details>`
      : "");
  const activity = renderPerMinuteChart("Tasks landed (green) and failed (red) per minute, last hour", d.perMinute);

  return {
    header: `${d.services.length} service(s) · ${d.tasks.length} recent task(s) · ${d.alerts.active.length} alert(s) firing`,
    alerts: `<h2>Alerts</h2>${alerts}`,
    services: `<h2>Services and workflows</h2>${services}`,
    activity: `<h2>Activity</h2>${activity}`,
    latency: `<h2>Latency</h2>${latency}<p class="muted">${e(d.latencies.map((l) => `${l.stage} p95 ${l.p95} ms`).join(" · "))}</p>`,
    errors: `<h2>Errors</h2>${errors}${statuses}`,
    chains: `<h2>Chains and cursors</h2>${chains}`,
    upgrades: `<h2>Service upgrades</h2>${upgrades}`,
    tasks: `<h2>Recent tasks</h2>${taskRows}`,
  };
}

/**
 * The dashboard page: plain HTML and inline SVG, active alerts at the top; a small inline script
 * refreshes its parts every `refreshMs` from /dashboard.json.
 */
export function renderDashboard(d: DashboardData, refreshMs: number, now = Date.now()): string {
  const p = renderDashboardParts(d, now);
  // Parts holding a table of the same name get a prefixed id (the table keeps its own).
  const part = (name: string, cls = "wide") =>
    `<section id="${["services", "chains", "upgrades", "tasks"].includes(name) ? `part-${name}` : name}" class="${cls}" data-part="${name}">${p[name]}</section>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>wavs-edge node</title><style>${STYLE}</style></head>
<body data-refresh-ms="${refreshMs}"><header><h1>wavs-edge node</h1><span class="muted" style="color:#c9d3ea"><span data-part="header">${p.header}</span> · <a style="color:#c9d3ea" href="/alerts">alerts</a> · <a style="color:#c9d3ea" href="/metrics">metrics</a> · <a style="color:#c9d3ea" href="/config">config</a></span></header>
<main>
${part("alerts")}
${part("services")}
${part("activity")}
${part("latency", "")}
${part("errors", "")}
${part("chains")}
${part("upgrades")}
${part("tasks")}
</main><script>${REFRESH_SCRIPT}</script></body></html>`;
}

function formatAge(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  return `${Math.round(ms / 3_600_000)} h ago`;
}
