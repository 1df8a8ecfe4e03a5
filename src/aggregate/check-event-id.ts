import { bytesToHex, type Hex } from "viem";
import type { TriggerData } from "../service/types";
import { computeEventId, encodeTriggerDataSalt } from "../service/event-id";
import { triggerDataSchema } from "./trigger-data-schema";

/** Whether a submission's event id is the one its service, workflow and salt derive. */
export type EventIdCheck =
  | { ok: true }
  | { ok: false; code: "event_id_mismatch" | "invalid_body"; message: string; expected?: Hex };

/**
 * Recomputes a submission's event id as every operator derives it: RIPEMD-160(service id ‖
 * workflow id ‖ salt), the salt being the response's event_id_salt or else the bincode of the
 * trigger data. The id names the task, so it is never taken on trust: a submission under another
 * event's id (made-up trigger data, another workflow's) would otherwise open that event's task
 * first, and the honest signatures for it would then be refused as a different envelope.
 */
export function checkEventId(p: {
  serviceId: string;
  workflowId: string;
  eventId: Hex;
  triggerData: unknown;
  salt: Uint8Array | null;
}): EventIdCheck {
  let salt = p.salt;
  if (salt === null) {
    const data = triggerDataSchema.safeParse(p.triggerData);
    if (!data.success) {
      const issue = data.error.issues[0]!;
      return {
        ok: false,
        code: "invalid_body",
        message: `trigger_action.data${issue.path.length ? `.${issue.path.join(".")}` : ""}: ${issue.message}`,
      };
    }
    try {
      salt = encodeTriggerDataSalt(data.data as TriggerData);
    } catch (e) {
      return { ok: false, code: "invalid_body", message: `trigger_action.data: ${(e as Error).message}` };
    }
  }
  const expected = bytesToHex(computeEventId(p.serviceId, p.workflowId, salt));
  if (expected === p.eventId.toLowerCase()) return { ok: true };
  return {
    ok: false,
    code: "event_id_mismatch",
    message: `event_id is not the one the service, workflow and ${p.salt === null ? "trigger data" : "event_id_salt"} derive`,
    expected,
  };
}
