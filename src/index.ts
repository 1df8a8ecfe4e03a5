import { createApp } from "./api/app";
import { runScheduled } from "./ingest/chain-poller";
import type { TriggerMessage } from "./ingest/trigger-message";
import type { SubmissionMessage } from "./queue/messages";
import { consumeTriggers } from "./queue/consume-triggers";
import { deliverSubmissions } from "./queue/deliver-submissions";
import { recordDeadLetters } from "./queue/record-dead-letters";

export { AggregatorTimers } from "./aggregate/aggregator-timers";
export { TaskAggregator } from "./aggregate/task-aggregator";
export { ChainSubmitter } from "./submit/chain-submitter";
export { ServiceKeyValue } from "./execute/keyvalue/service-key-value";
export { ChainPoller } from "./ingest/chain-poller";
export { OutboundGate } from "./execute/outbound-gate";

const app = createApp();

export default {
  fetch: app.fetch,

  /**
   * Cron: poll every chain for trigger events from its persisted cursor and fire due cron workflows,
   * or, with POLL_INTERVAL_MS set, keep the ChainPoller's alarm (which does that more often) armed.
   */
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduled(env));
  },

  /**
   * TRIGGERS: execute, sign, aggregate. SUBMISSIONS: deliver signed submissions to peers. The
   * dead-letter queues: record what ran out of retries (the dead-letter alert counts them).
   */
  async queue(batch, env) {
    if (batch.queue.endsWith("-dlq")) await recordDeadLetters(batch, env);
    else if (batch.queue.startsWith("wavs-edge-submissions"))
      await deliverSubmissions(batch as MessageBatch<SubmissionMessage>, env);
    else await consumeTriggers(batch as MessageBatch<TriggerMessage>, env);
  },
} satisfies ExportedHandler<Env, TriggerMessage | SubmissionMessage>;
