/** Inline SVG charts (no scripts, no CDN: the dashboard works offline). */

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** Horizontal bars, one per label; values drawn to scale with the largest. */
export function renderBarChart(
  title: string,
  bars: { label: string; value: number; note?: string }[],
  unit = "",
): string {
  const width = 420;
  const rowH = 26;
  const labelW = 110;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const rows = bars
    .map((b, i) => {
      const w = Math.round(((width - labelW - 90) * b.value) / max);
      const y = i * rowH + 24;
      return (
        `<text x="0" y="${y + 14}" class="lbl">${escapeHtml(b.label)}</text>` +
        `<rect x="${labelW}" y="${y}" width="${w}" height="18" rx="3" class="bar" data-value="${b.value}"><title>${escapeHtml(b.note ?? String(b.value))}</title></rect>` +
        `<text x="${labelW + w + 6}" y="${y + 14}" class="val">${escapeHtml(formatNumber(b.value))}${unit}</text>`
      );
    })
    .join("");
  const height = bars.length * rowH + 30;
  return `<svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><text x="0" y="14" class="ttl">${escapeHtml(title)}</text>${rows}</svg>`;
}

/** One task's steps on a time line, offsets from its first step. */
export function renderTimeline(steps: { step: string; at: number }[], width = 360): string {
  if (steps.length === 0) return "";
  const t0 = steps[0]!.at;
  const span = Math.max(1, steps.at(-1)!.at - t0);
  const dots = steps
    .map((s) => {
      const x = 6 + Math.round(((width - 12) * (s.at - t0)) / span);
      const failed = s.step.endsWith("_failed");
      return `<circle cx="${x}" cy="9" r="5" class="${failed ? "dot fail" : "dot"}"><title>${escapeHtml(s.step)} +${s.at - t0} ms</title></circle>`;
    })
    .join("");
  return `<svg class="timeline" viewBox="0 0 ${width} 18" width="${width}" height="18"><line x1="6" y1="9" x2="${width - 6}" y2="9" class="axis"/>${dots}</svg>`;
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/**
 * Columns per minute, landed (green) under failed (red), scaled to the busiest minute; each column
 * carries its counts in data attributes and a tooltip.
 */
export function renderPerMinuteChart(
  title: string,
  minutes: { minute: number; landed: number; failed: number }[],
): string {
  const width = 620;
  const plotH = 100;
  const colW = Math.floor((width - 40) / Math.max(1, minutes.length));
  const max = Math.max(1, ...minutes.map((m) => m.landed + m.failed));
  const cols = minutes
    .map((m, i) => {
      const x = 30 + i * colW;
      const hl = Math.round((plotH * m.landed) / max);
      const hf = Math.round((plotH * m.failed) / max);
      const time = new Date(m.minute).toISOString().slice(11, 16);
      return (
        `<g class="minute" data-landed="${m.landed}" data-failed="${m.failed}"><title>${time} UTC: ${m.landed} landed, ${m.failed} failed</title>` +
        `<rect x="${x}" y="${20 + plotH - hl}" width="${colW - 1}" height="${hl}" class="landed"/>` +
        `<rect x="${x}" y="${20 + plotH - hl - hf}" width="${colW - 1}" height="${hf}" class="failed"/></g>`
      );
    })
    .join("");
  const first = minutes[0] ? new Date(minutes[0].minute).toISOString().slice(11, 16) : "";
  const axis =
    `<line x1="30" y1="${20 + plotH}" x2="${width - 10}" y2="${20 + plotH}" class="axis"/>` +
    `<text x="0" y="28" class="lbl">${max}</text><text x="0" y="${20 + plotH}" class="lbl">0</text>` +
    `<text x="30" y="${plotH + 36}" class="lbl">${first} UTC</text><text x="${width - 40}" y="${plotH + 36}" class="lbl">now</text>`;
  return `<svg role="img" aria-label="${escapeHtml(title)}" class="per-minute" viewBox="0 0 ${width} ${plotH + 42}" width="${width}" height="${plotH + 42}"><text x="0" y="14" class="ttl">${escapeHtml(title)}</text>${axis}${cols}</svg>`;
}
