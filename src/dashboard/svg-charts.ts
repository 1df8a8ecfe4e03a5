/** Inline SVG charts (no scripts, no CDN: the dashboard works offline). */

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** Horizontal bars, one per label; values drawn to scale with the largest. */
export function renderBarChart(title: string, bars: { label: string; value: number; note?: string }[], unit = ""): string {
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
