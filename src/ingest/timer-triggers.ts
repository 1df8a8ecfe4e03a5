import type { TriggerMessage } from "./trigger-message";
import { isServiceActive, type RegisteredService } from "../service/service-registry";
import type { Service } from "../service/types";
import { parseCronSchedule, previousCronTick, nextCronTick, type CronSchedule } from "../service/cron-schedule";

/** A workflow fired every `nBlocks` blocks of `chain`. */
export interface BlockIntervalWorkflow {
  serviceId: string;
  workflowId: string;
  chain: string;
  nBlocks: number;
  startBlock: bigint | null;
  endBlock: bigint | null;
}

/** A workflow fired on a cron schedule; times in nanoseconds since the epoch. */
export interface CronWorkflow {
  serviceId: string;
  workflowId: string;
  schedule: CronSchedule;
  startTime: bigint | null;
  endTime: bigint | null;
}

const NS_PER_SECOND = 1_000_000_000n;

/** The block-interval and cron workflows of active services (paused services fire nothing). */
export function listTimerWorkflows(services: readonly RegisteredService[]): {
  blocks: BlockIntervalWorkflow[];
  crons: CronWorkflow[];
} {
  const blocks: BlockIntervalWorkflow[] = [];
  const crons: CronWorkflow[] = [];
  for (const registered of services) {
    if (!isServiceActive(registered)) continue;
    const { id, service } = registered;
    for (const [workflowId, wf] of Object.entries(service.workflows)) {
      if (typeof wf.trigger !== "object") continue;
      if ("block_interval" in wf.trigger) {
        const t = wf.trigger.block_interval;
        blocks.push({
          serviceId: id,
          workflowId,
          chain: t.chain,
          nBlocks: t.n_blocks,
          startBlock: t.start_block,
          endBlock: t.end_block,
        });
      } else if ("cron" in wf.trigger) {
        const t = wf.trigger.cron;
        // Registered service JSON was validated, so the schedule parses.
        crons.push({
          serviceId: id,
          workflowId,
          schedule: parseCronSchedule(t.schedule),
          startTime: t.start_time,
          endTime: t.end_time,
        });
      }
    }
  }
  return { blocks, crons };
}

/**
 * Heights in [from, to] where the workflow fires: h ≥ start, h ≤ end, (h − start) % n == 0 (WAVS's
 * alignment); start == end fires once. Without a start_block WAVS anchors at the height it happened
 * to see first, which differs between operators; we anchor at 0 so every operator fires at the same
 * heights and so derives the same event ids.
 */
export function blockIntervalHeights(
  wf: Pick<BlockIntervalWorkflow, "nBlocks" | "startBlock" | "endBlock">,
  from: bigint,
  to: bigint,
): bigint[] {
  const n = BigInt(wf.nBlocks);
  const start = wf.startBlock ?? 0n;
  const lo = from > start ? from : start;
  const hi = wf.endBlock !== null && wf.endBlock < to ? wf.endBlock : to;
  const heights: bigint[] = [];
  for (let h = lo + ((n - ((lo - start) % n)) % n); h <= hi; h += n) heights.push(h);
  return heights;
}

/** One message per (height, workflow) in [from, to], keyed by chain, height, service and workflow. */
export function buildBlockIntervalMessages(
  chain: string,
  from: bigint,
  to: bigint,
  workflows: readonly BlockIntervalWorkflow[],
  now = Date.now(),
): TriggerMessage[] {
  return workflows
    .filter((wf) => wf.chain === chain)
    .flatMap((wf) =>
      blockIntervalHeights(wf, from, to).map((height) => ({
        type: "trigger" as const,
        version: 1 as const,
        serviceId: wf.serviceId,
        workflowId: wf.workflowId,
        eventKey: `${chain}:block:${height}:${wf.serviceId}:${wf.workflowId}`,
        data: { BlockInterval: { chain, block_height: height } },
        source: "poller" as const,
        seenAt: now,
      })),
    );
}

/**
 * The scheduled time (ns) the workflow fires for when the clock moves from `afterNs` (exclusive) to
 * `nowNs` (inclusive): the latest tick in that window within [start_time, end_time], or undefined.
 * Ticks missed while the node was not running collapse into this one; it carries the scheduled time,
 * not the clock, so every operator derives the same event id for it.
 */
export function dueCronTime(
  wf: Pick<CronWorkflow, "schedule" | "startTime" | "endTime">,
  afterNs: bigint,
  nowNs: bigint,
): bigint | undefined {
  const until = wf.endTime !== null && wf.endTime < nowNs ? wf.endTime : nowNs;
  if (until <= afterNs) return undefined;
  const tick = previousCronTick(wf.schedule, Number(until / NS_PER_SECOND));
  if (tick === undefined) return undefined;
  const tickNs = BigInt(tick) * NS_PER_SECOND;
  if (tickNs <= afterNs || (wf.startTime !== null && tickNs < wf.startTime)) return undefined;
  return tickNs;
}

/** When (ns) the workflow next fires after `nowNs`, or undefined when it never will again. */
export function nextCronTime(
  wf: Pick<CronWorkflow, "schedule" | "startTime" | "endTime">,
  nowNs: bigint,
): bigint | undefined {
  const from = wf.startTime !== null && wf.startTime - 1n > nowNs ? wf.startTime - 1n : nowNs;
  // Ticks are whole seconds strictly after floor(from), so never before start_time.
  const tick = nextCronTick(wf.schedule, Number(from / NS_PER_SECOND));
  if (tick === undefined) return undefined;
  const ns = BigInt(tick) * NS_PER_SECOND;
  return wf.endTime !== null && ns > wf.endTime ? undefined : ns;
}

/** The message for a cron workflow's tick, keyed by service, workflow and scheduled time. */
export function buildCronMessage(wf: CronWorkflow, triggerTimeNs: bigint, now = Date.now()): TriggerMessage {
  return {
    type: "trigger",
    version: 1,
    serviceId: wf.serviceId,
    workflowId: wf.workflowId,
    eventKey: `cron:${triggerTimeNs}:${wf.serviceId}:${wf.workflowId}`,
    data: { Cron: { trigger_time: triggerTimeNs } },
    source: "cron",
    seenAt: now,
  };
}
