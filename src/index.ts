import { createApp } from "./api/app";
import { runCronTriggers } from "./ingest/fire-cron-triggers";
import { pollChains } from "./ingest/poll-chains";
import type { SubmissionMessage, TriggerMessage } from "./queue/messages";
import { consumeTriggers } from "./queue/consume-triggers";
import { deliverSubmissions } from "./queue/deliver-submissions";

export { TaskAggregator } from "./aggregate/task-aggregator";
export { ChainSubmitter } from "./submit/chain-submitter";
export { ServiceKeyValue } from "./execute/keyvalue/service-key-value";

const app = createApp();

export default {
  fetch: app.fetch,

  /** Cron: poll every chain for trigger events from its persisted cursor; fire due cron workflows. */
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(Promise.all([pollChains(env), runCronTriggers(env)]));
  },

  /** TRIGGERS: execute, sign, aggregate. SUBMISSIONS: deliver signed submissions to peers. */
  async queue(batch, env) {
    if (batch.queue.startsWith("wavs-edge-submissions")) await deliverSubmissions(batch as MessageBatch<SubmissionMessage>);
    else await consumeTriggers(batch as MessageBatch<TriggerMessage>, env);
  },
} satisfies ExportedHandler<Env, TriggerMessage | SubmissionMessage>;
