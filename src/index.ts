import { createApp } from "./api/app";
import { pollChains } from "./ingest/poll-chains";
import type { TriggerMessage } from "./queue/messages";
import { consumeTriggers } from "./queue/consume-triggers";

export { TaskAggregator } from "./aggregate/task-aggregator";

const app = createApp();

export default {
  fetch: app.fetch,

  /** Cron: poll every chain for trigger events from its persisted cursor. */
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(pollChains(env));
  },

  /** TRIGGERS consumer: execute, sign, aggregate. */
  async queue(batch, env) {
    await consumeTriggers(batch as MessageBatch<TriggerMessage>, env);
  },
} satisfies ExportedHandler<Env, TriggerMessage>;
