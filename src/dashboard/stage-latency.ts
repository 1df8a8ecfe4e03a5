/** The pipeline's stages as the task timeline records them: [name, from step, to step]. */
export const STAGES = [
  ["execute", null, "executed"],
  ["quorum", "executed", "quorum_reached"],
  ["submit", "quorum_reached", "tx_sent"],
  ["confirm", "tx_sent", "landed"],
] as const;

export type StepRow = { eventId: string; step: string; at: number; detail: string | null };
export type StageLatency = { stage: string; count: number; p50: number; p95: number; max: number };

/**
 * Per-stage latency in ms over the given tasks' steps. "execute" is the component's own duration
 * (recorded in the executed step); the others are the time between two steps of one task.
 */
export function computeStageLatencies(rows: StepRow[]): StageLatency[] {
  const byEvent = new Map<string, StepRow[]>();
  for (const r of rows) byEvent.set(r.eventId, [...(byEvent.get(r.eventId) ?? []), r]);
  return STAGES.map(([stage, from, to]) => {
    const samples: number[] = [];
    for (const steps of byEvent.values()) {
      const end = steps.find((s) => s.step === to);
      if (!end) continue;
      if (from === null) {
        const ms = end.detail ? Number((JSON.parse(end.detail) as { duration_ms?: unknown }).duration_ms) : NaN;
        if (Number.isFinite(ms)) samples.push(ms);
      } else {
        const start = steps.find((s) => s.step === from);
        if (start) samples.push(Math.max(0, end.at - start.at));
      }
    }
    samples.sort((a, b) => a - b);
    const pick = (q: number) =>
      samples.length ? samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]! : 0;
    return { stage, count: samples.length, p50: pick(0.5), p95: pick(0.95), max: samples.at(-1) ?? 0 };
  });
}
