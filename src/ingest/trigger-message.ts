import type { TriggerData } from "../service/types";

/**
 * A trigger that matched one workflow: the unit of work on the TRIGGERS queue. Queues carry
 * structured-clone data, so bigints and byte arrays travel as they are.
 */
export interface TriggerMessage {
  type: "trigger";
  version: 1;
  serviceId: string;
  workflowId: string;
  /** Same event, same key, whichever path it came by: dedupes poller, webhook and redelivery. */
  eventKey: string;
  data: TriggerData;
  source: "poller" | "webhook" | "manual" | "cron";
  seenAt: number;
}
