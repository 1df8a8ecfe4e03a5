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
