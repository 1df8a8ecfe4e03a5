import type { AlertSettings } from "./alert-settings";

/** What the rules look at, read from D1 and the chains by collect-alert-snapshot.ts. */
export type AlertSnapshot = {
  now: number;
  chains: { chain: string; head: number | null; nextBlock: number | null; confirmations: number }[];
  /** The paying key's balance per chain, as the poller last read it. */
  balances: { chain: string; address: string; wei: bigint; readAt: number }[];
  /** Transactions sent and not yet confirmed (tasks in `submitted`), oldest first. */
  pendingTxs: { eventId: string; serviceId: string; sentAt: number }[];
  /** Per service, tasks started in the window and how many of them failed. */
  serviceTasks: { serviceId: string; total: number; failed: number }[];
  /** Dead-lettered messages in the window, per queue. */
  deadLetters: { queue: string; count: number }[];
  /** Services whose latest upgrade was refused or given up. */
  refusedUpgrades: { serviceId: string; upgradeId: number; status: string }[];
};

export type AlertRule =
  | "low_balance"
  | "tx_stuck"
  | "chain_down"
  | "chain_lagging"
  | "failure_rate"
  | "dead_letters"
  | "upgrade_refused";

/** A condition that holds now; the key says which alert it is (one open alert per key). */
export type AlertCondition = {
  key: string;
  rule: AlertRule;
  severity: "warning" | "critical";
  summary: string;
  labels: Record<string, string>;
};

const ETH = 10n ** 18n;
/** Wei as ether with up to 6 decimals, for people. */
export function formatEther(wei: bigint): string {
  const whole = wei / ETH;
  const frac = ((wei % ETH) * 1_000_000n) / ETH;
  return frac === 0n ? `${whole}` : `${whole}.${frac.toString().padStart(6, "0").replace(/0+$/, "")}`;
}

/** Every condition that holds in the snapshot under the settings (pure: no clock, no I/O). */
export function evaluateAlertRules(s: AlertSnapshot, settings: AlertSettings): AlertCondition[] {
  const out: AlertCondition[] = [];

  for (const b of s.balances) {
    const threshold = settings.lowBalanceWei.get(b.chain) ?? settings.lowBalanceWei.get("*");
    if (threshold === undefined || b.wei >= threshold) continue;
    out.push({
      key: `low_balance:${b.chain}`,
      rule: "low_balance",
      severity: b.wei === 0n ? "critical" : "warning",
      summary: `paying key ${b.address} on ${b.chain} holds ${formatEther(b.wei)} ETH, below ${formatEther(threshold)}`,
      labels: { chain: b.chain, address: b.address, balance_wei: String(b.wei), threshold_wei: String(threshold) },
    });
  }

  const stuck = s.pendingTxs.filter((t) => s.now - t.sentAt > settings.txStuckMs);
  if (stuck.length > 0) {
    const oldest = stuck.reduce((a, b) => (a.sentAt <= b.sentAt ? a : b));
    out.push({
      key: "tx_stuck",
      rule: "tx_stuck",
      severity: "critical",
      summary: `${stuck.length} transaction(s) unconfirmed for over ${Math.round(settings.txStuckMs / 1000)} s; oldest for task ${oldest.eventId}, ${Math.round((s.now - oldest.sentAt) / 1000)} s`,
      labels: { count: String(stuck.length), event_id: oldest.eventId, service_id: oldest.serviceId },
    });
  }

  for (const c of s.chains) {
    if (c.head === null) {
      out.push({
        key: `chain_down:${c.chain}`,
        rule: "chain_down",
        severity: "critical",
        summary: `no RPC of ${c.chain} answers`,
        labels: { chain: c.chain },
      });
      continue;
    }
    if (c.nextBlock === null) continue;
    const lag = Math.max(0, c.head - c.nextBlock + 1 - c.confirmations);
    if (lag > settings.chainLagBlocks) {
      out.push({
        key: `chain_lagging:${c.chain}`,
        rule: "chain_lagging",
        severity: "warning",
        summary: `the poller trails ${c.chain} by ${lag} blocks beyond its ${c.confirmations} confirmations (head ${c.head}, next ${c.nextBlock})`,
        labels: { chain: c.chain, lag_blocks: String(lag) },
      });
    }
  }

  for (const t of s.serviceTasks) {
    if (t.total < settings.failureMinTasks || t.failed === 0) continue;
    const rate = t.failed / t.total;
    if (rate <= settings.failureRate) continue;
    out.push({
      key: `failure_rate:${t.serviceId}`,
      rule: "failure_rate",
      severity: rate >= 1 ? "critical" : "warning",
      summary: `service ${t.serviceId}: ${t.failed} of ${t.total} tasks failed in the last ${Math.round(settings.windowMs / 60_000)} min (${Math.round(rate * 100)}% > ${Math.round(settings.failureRate * 100)}%)`,
      labels: { service_id: t.serviceId, failed: String(t.failed), total: String(t.total) },
    });
  }

  const dead = s.deadLetters.reduce((n, d) => n + d.count, 0);
  if (dead > settings.deadLettersMax) {
    out.push({
      key: "dead_letters",
      rule: "dead_letters",
      severity: "warning",
      summary: `${dead} message(s) dead-lettered in the last ${Math.round(settings.windowMs / 60_000)} min (${s.deadLetters
        .filter((d) => d.count > 0)
        .map((d) => `${d.queue} ${d.count}`)
        .join(", ")})`,
      labels: { count: String(dead) },
    });
  }

  for (const u of s.refusedUpgrades) {
    out.push({
      key: `upgrade_refused:${u.serviceId}`,
      rule: "upgrade_refused",
      severity: "warning",
      summary: `service ${u.serviceId}: upgrade ${u.upgradeId} ${u.status === "gave_up" ? "was given up" : "was refused"}; the service runs its previous version`,
      labels: { service_id: u.serviceId, upgrade_id: String(u.upgradeId), status: u.status },
    });
  }
  return out;
}

/** Which open alerts clear and which conditions start: the diff between the two, by key. */
export function planAlertTransitions<A extends { key: string }>(
  open: A[],
  holding: AlertCondition[],
): { start: AlertCondition[]; clear: A[] } {
  const openKeys = new Set(open.map((a) => a.key));
  const holdingKeys = new Set(holding.map((c) => c.key));
  return { start: holding.filter((c) => !openKeys.has(c.key)), clear: open.filter((a) => !holdingKeys.has(a.key)) };
}
