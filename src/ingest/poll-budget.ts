/**
 * Messages one poller run enqueues per chain unless POLL_MAX_MESSAGES says otherwise: a long
 * backfill or a burst of matching logs spreads over several runs instead of flooding the queue
 * (Cloudflare Queues takes about 5,000 messages a second per queue; miniflare's local broker
 * refuses about 10,000 pending at once) or a run's subrequest budget (one sendBatch per 100).
 */
export const DEFAULT_POLL_MAX_MESSAGES = 5_000;

/**
 * The per-run message cap from POLL_MAX_MESSAGES (unset or empty: the default).
 * @throws Error when it is not a whole number ≥ 1
 */
export function pollMaxMessages(raw: string | undefined): number {
  const text = raw?.trim() ?? "";
  if (text === "") return DEFAULT_POLL_MAX_MESSAGES;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error("POLL_MAX_MESSAGES must be a whole number ≥ 1");
  return n;
}

/**
 * The last block of [from, to] whose messages, with all before it, fit in `budget`; `counts` holds
 * each block's message count (blocks absent hold none). The cut is always at a block boundary, so
 * the cursor can stop after it and the next run start at the block after. A block holding more
 * than the whole cap still goes in full when the run has sent nothing yet (`mustProgress`), so a
 * run always moves; otherwise the cut falls just before it, or `from − 1` when nothing fits.
 */
export function lastBlockWithinBudget(
  from: bigint,
  to: bigint,
  counts: ReadonlyMap<bigint, number>,
  budget: number,
  mustProgress: boolean,
): bigint {
  let used = 0;
  for (const block of [...counts.keys()]
    .filter((b) => b >= from && b <= to)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const n = counts.get(block)!;
    if (n === 0) continue;
    if (used + n > budget && !(used === 0 && mustProgress)) return block - 1n;
    used += n;
  }
  return to;
}
