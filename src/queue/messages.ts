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

/** One signed submission on its way to one peer aggregator (SUBMISSIONS queue). */
export interface SubmissionMessage {
  type: "submission";
  version: 1;
  /** The peer's base URL. */
  peer: string;
  serviceId: string;
  workflowId: string;
  eventId: string;
  /** WAVS's Submission JSON, exactly as POSTed. */
  body: string;
}
