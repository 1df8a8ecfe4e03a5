/**
 * One signed submission on its way to one peer aggregator (SUBMISSIONS queue). A body larger than
 * INLINE_SUBMISSION_BYTES goes by reference (`bodyKey`, an R2 object of its own) instead: a queue
 * message holds at most 128 KB, and a batch sent at once 256 KB.
 */
export interface SubmissionMessage {
  type: "submission";
  version: 1;
  /** The peer's base URL. */
  peer: string;
  serviceId: string;
  workflowId: string;
  eventId: string;
  /** WAVS's Submission JSON, exactly as POSTed (when it is small). */
  body?: string;
  /** Else the R2 key (COMPONENTS bucket) it waits under, deleted once the message is done with. */
  bodyKey?: string;
}
