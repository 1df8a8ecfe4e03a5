import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { sql } from "drizzle-orm";

/** Registered services, the service JSON kept verbatim (lossless) as WAVS serialises it. */
export const services = sqliteTable("services", {
  id: text("id").primaryKey(), // ServiceId: 64 hex, no 0x
  managerChain: text("manager_chain").notNull(),
  managerAddress: text("manager_address").notNull(), // lowercase 0x…
  json: text("json").notNull(),
  status: text("status", { enum: ["active", "paused"] }).notNull(),
  // Paused on this node by its operator (POST /services/pause), whatever the service JSON says; an
  // upgrade of the service JSON keeps it.
  pausedByOperator: integer("paused_by_operator", { mode: "boolean" }).notNull().default(false),
  registeredAt: integer("registered_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * One signing key per service, derived at m/44'/60'/0'/0/{hd_index}. WAVS hands indexes out in
 * memory and forgets them on restart; here they are persisted, so a service keeps its key forever.
 */
export const signingKeys = sqliteTable("signing_keys", {
  serviceId: text("service_id").primaryKey(),
  hdIndex: integer("hd_index").notNull().unique(),
  evmAddress: text("evm_address").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** What the poller and webhooks look up: which workflows listen to which contract event. */
export const evmTriggers = sqliteTable(
  "evm_triggers",
  {
    serviceId: text("service_id").notNull(),
    workflowId: text("workflow_id").notNull(),
    chain: text("chain").notNull(),
    address: text("address").notNull(), // lowercase
    eventHash: text("event_hash").notNull(), // lowercase topic0
  },
  (t) => [
    primaryKey({ columns: [t.serviceId, t.workflowId] }),
    index("evm_triggers_by_event").on(t.chain, t.address, t.eventHash),
  ],
);

/** Next block the poller reads on each chain. Moves only after matched events are enqueued. */
export const chainCursors = sqliteTable("chain_cursors", {
  chain: text("chain").primaryKey(),
  nextBlock: integer("next_block").notNull(),
  /** Set while block next_block is done only up to this log index (a service upgrade inside it). */
  afterLogIndex: integer("after_log_index"),
  updatedAt: integer("updated_at").notNull(),
});

/** Events already turned into tasks, keyed by chain, block hash, tx hash and log index. */
export const seenEvents = sqliteTable("seen_events", {
  eventKey: text("event_key").primaryKey(),
  seenAt: integer("seen_at").notNull(),
  doneAt: integer("done_at"),
});

/** One row per (event id, workflow) the node executed, with its latest status. */
export const tasks = sqliteTable(
  "tasks",
  {
    eventId: text("event_id").primaryKey(), // 0x + 40 hex
    serviceId: text("service_id").notNull(),
    workflowId: text("workflow_id").notNull(),
    status: text("status", {
      enum: ["executing", "signed", "submitted", "landed", "failed"],
    }).notNull(),
    txHash: text("tx_hash"),
    error: text("error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("tasks_by_service").on(t.serviceId, t.workflowId, t.createdAt)],
);

/** The task's timeline: every step with its time, for `GET /tasks/{event_id}`. */
export const taskSteps = sqliteTable(
  "task_steps",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    eventId: text("event_id").notNull(),
    step: text("step").notNull(),
    at: integer("at").notNull(),
    detail: text("detail"), // JSON
  },
  (t) => [index("task_steps_by_event").on(t.eventId, t.at)],
);

/** Service JSON saved through `POST /dev/services`, addressed by its sha256. */
export const savedServices = sqliteTable("saved_services", {
  hash: text("hash").primaryKey(),
  json: text("json").notNull(),
  savedAt: integer("saved_at").notNull(),
});

/** Chains added at run time with `POST /dev/chains` (the CHAINS var holds the deployed ones). */
export const chains = sqliteTable("chains", {
  key: text("key").primaryKey(), // evm:<chain id>
  config: text("config").notNull(), // JSON: ChainSettings, RPC URLs included (never served back whole)
  addedAt: integer("added_at").notNull(),
});

/** Webhook deliveries already accepted, so a replayed delivery is refused. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    source: text("source").notNull(),
    deliveryId: text("delivery_id").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.deliveryId] })],
);

/** Events refused before any signing: forged, reorged or otherwise not on the canonical chain. */
export const droppedEvents = sqliteTable(
  "dropped_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    source: text("source").notNull(), // e.g. webhook:alchemy
    chain: text("chain").notNull(),
    eventKey: text("event_key").notNull(), // chain:blockHash:txHash:logIndex
    reason: text("reason").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("dropped_events_by_time").on(t.at)],
);

/**
 * Per cron workflow: the time (ns since the epoch, as text: u64) up to which its schedule has been
 * handled. Moves only after the due tick is enqueued, so no tick fires twice and none is lost.
 */
export const cronCursors = sqliteTable(
  "cron_cursors",
  {
    serviceId: text("service_id").notNull(),
    workflowId: text("workflow_id").notNull(),
    afterNs: text("after_ns").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.serviceId, t.workflowId] })],
);

/**
 * Service upgrades seen on chain (ServiceURIUpdated) and what became of each. A failed upgrade never
 * holds the poller: a transient failure waits here for a retry with backoff (`retrying`), a change
 * the operator must approve waits with its fetched JSON (`awaiting_approval`), a newer upgrade of the
 * same service supersedes both. One row per log.
 */
export const serviceUpgrades = sqliteTable(
  "service_upgrades",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    serviceId: text("service_id").notNull(),
    chain: text("chain").notNull(),
    managerAddress: text("manager_address").notNull(), // lowercase 0x…
    uri: text("uri").notNull(),
    eventKey: text("event_key").notNull().unique(), // the ServiceURIUpdated log
    status: text("status", {
      enum: ["retrying", "awaiting_approval", "applied", "refused", "superseded", "gave_up"],
    }).notNull(),
    /** The fetched service JSON, kept while it awaits approval. */
    json: text("json"),
    /** JSON list of the changes that need approval. */
    changes: text("changes"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    /** Why the last attempt failed or the upgrade was refused (never a secret). */
    error: text("error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("service_upgrades_by_status").on(t.status, t.nextAttemptAt),
    index("service_upgrades_by_service").on(t.serviceId),
  ],
);

/**
 * The paying key's balance per chain, as the poller last read it (at most once per poll): /metrics
 * and the alert rules read it from here, so a scrape never costs an RPC call.
 */
export const payerBalances = sqliteTable("payer_balances", {
  chain: text("chain").primaryKey(),
  address: text("address").notNull(), // lowercase 0x…
  balanceWei: text("balance_wei").notNull(), // decimal: wei exceed JS numbers
  readAt: integer("read_at").notNull(),
});

/**
 * Alerts the node raised (src/alerts/): one row per firing, resolved in place. At most one open row
 * per key (the partial unique index), so isolates racing to raise the same alert raise it once.
 */
export const alerts = sqliteTable(
  "alerts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** The condition's identity, e.g. `low_balance:evm:1` or `failure_rate:<service id>`. */
    key: text("key").notNull(),
    rule: text("rule").notNull(),
    severity: text("severity", { enum: ["warning", "critical"] }).notNull(),
    summary: text("summary").notNull(),
    labels: text("labels").notNull(), // JSON object of strings
    startedAt: integer("started_at").notNull(),
    /** Last evaluation that still saw the condition. */
    seenAt: integer("seen_at").notNull(),
    resolvedAt: integer("resolved_at"),
  },
  (t) => [
    uniqueIndex("alerts_open_key").on(t.key).where(sql`resolved_at IS NULL`),
    index("alerts_by_start").on(t.startedAt),
  ],
);

/** One message per alert transition (firing, resolved) and configured sink, delivered with retries. */
export const alertNotifications = sqliteTable(
  "alert_notifications",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    alertId: integer("alert_id").notNull(),
    kind: text("kind", { enum: ["firing", "resolved"] }).notNull(),
    sink: text("sink", { enum: ["webhook", "slack", "discord"] }).notNull(),
    createdAt: integer("created_at").notNull(),
    /** A sender holds the row until then (a crashed sender's claim lapses). */
    claimedUntil: integer("claimed_until"),
    attempts: integer("attempts").notNull().default(0),
    deliveredAt: integer("delivered_at"),
    /** Set when the attempts ran out. */
    gaveUpAt: integer("gave_up_at"),
    /** Why the last attempt failed (status or error kind; never the sink's URL). */
    lastError: text("last_error"),
  },
  (t) => [index("alert_notifications_pending").on(t.deliveredAt, t.gaveUpAt, t.id)],
);

/** Messages that ran out of retries, recorded by the dead-letter queues' consumer. */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    queue: text("queue").notNull(),
    /** What the message was about (service, workflow, event), JSON; never its payload bytes. */
    summary: text("summary").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("dead_letters_by_time").on(t.at)],
);

/** A lease per periodic job, so overlapping scheduled runs in several isolates run it one at a time. */
export const leases = sqliteTable("leases", {
  name: text("name").primaryKey(),
  heldUntil: integer("held_until").notNull(),
});
