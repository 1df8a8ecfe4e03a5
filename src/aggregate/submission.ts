/**
 * WAVS's Submission JSON: what an operator sends to the aggregating nodes for one event.
 * `{trigger_action, operator_response, event_id, envelope, envelope_signature}` where bytes are
 * JSON arrays of numbers (serde's Vec<u8>), the envelope's fields are 0x hex (alloy) and the
 * signature is `{"algorithm":"secp256k1","data":[…65 bytes],"kind":{"algorithm":"secp256k1","prefix":"eip191"|null}}`
 * (the workflow's signature_kind; null signs the bare envelope hash).
 */
import { bytesToHex, hexToBytes, type Hex } from "viem";
import { z } from "zod";
import { parseLosslessJson, stringifyLosslessJson } from "../service/lossless-json";
import { u64 } from "../service/service-json";
import type { TriggerAction, WasmResponse } from "../service/types";
import type { Envelope, SignaturePrefix } from "../sign/envelope";
import { WavsError } from "../util/errors";
import { checkEventId } from "./check-event-id";

const byteArray = z.array(z.number().int().min(0).max(255)).max(1 << 20);

/** The largest operator payload a submission may carry (bytes); the peer route's body limit allows for it. */
export const MAX_SUBMISSION_PAYLOAD = 512 * 1024;

/**
 * The largest body POST /aggregator/submissions (and …/batch) takes: a Submission JSON carries its
 * payload twice (an array of numbers, up to 4 bytes a byte, and hex, 2), so a payload of
 * MAX_SUBMISSION_PAYLOAD takes 3 MiB, and 1 MiB more is left for the trigger data, the salt and the rest.
 */
export const MAX_SUBMISSION_BODY = MAX_SUBMISSION_PAYLOAD * 6 + (1 << 20);

/** The most submissions one POST /aggregator/submissions/batch carries (within MAX_SUBMISSION_BODY). */
export const MAX_BATCH_SUBMISSIONS = 64;
const hex = (bytes?: number) =>
  z
    .string()
    .regex(
      bytes === undefined ? /^0x([0-9a-fA-F]{2})*$/ : new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`),
      bytes === undefined ? "0x hex bytes" : `0x and ${bytes * 2} hex digits`,
    )
    .transform((s) => s.toLowerCase() as Hex);

export const submissionSchema = z.strictObject({
  trigger_action: z.strictObject({
    config: z.strictObject({
      service_id: z.string().regex(/^[0-9a-f]{64}$/, "service ids are 64 lowercase hex digits"),
      workflow_id: z.string().regex(/^[a-z0-9_-]{3,36}$/, "workflow ids are 3–36 of [a-z0-9_-]"),
      trigger: z.unknown(),
    }),
    // The trigger data stays opaque here: the signature covers the envelope, not the trigger.
    data: z.unknown(),
  }),
  operator_response: z.strictObject({
    payload: byteArray.max(MAX_SUBMISSION_PAYLOAD, `payloads are at most ${MAX_SUBMISSION_PAYLOAD} bytes`),
    ordering: u64.nullable(),
    event_id_salt: byteArray.nullable(),
  }),
  event_id: z.string().regex(/^(0x)?[0-9a-fA-F]{40}$/, "event ids are 20 bytes of hex"),
  envelope: z.strictObject({ eventId: hex(20), ordering: hex(12), payload: hex() }),
  envelope_signature: z.strictObject({
    algorithm: z.literal("secp256k1"),
    data: byteArray.length(65, "secp256k1 signatures are 65 bytes"),
    kind: z.strictObject({ algorithm: z.literal("secp256k1"), prefix: z.literal("eip191").nullable() }),
  }),
});

export type SubmissionJson = z.input<typeof submissionSchema>;

/** What the aggregator keeps from a validated submission. */
export interface ParsedSubmission {
  serviceId: string;
  workflowId: string;
  eventId: Hex;
  envelope: Envelope;
  signature: Hex;
  /** How the signature was made (`kind.prefix`); absent in submissions stored before it was kept: "eip191". */
  prefix?: SignaturePrefix;
  /**
   * The rest of the Submission JSON (submissionInput): with the envelope and the signature it
   * rebuilds the whole (rebuildSubmissionJson) for a peer that lacks it or the aggregator component.
   */
  input: string;
}

/**
 * What a Submission JSON holds besides its envelope and signature: `trigger_action` and the operator
 * response's `ordering` and `event_id_salt` (its payload is the envelope's, checked equal), written
 * losslessly. A TaskAggregator keeps it once per task (per signer only when it differs), so a large
 * payload is stored once as the envelope's hex instead of once per signer as an array of numbers.
 */
export interface SubmissionInput {
  trigger_action: unknown;
  operator_response: { ordering: unknown; event_id_salt: unknown };
}

/** The SubmissionInput of a validated body, as lossless JSON. */
export function submissionInput(
  body: Pick<z.output<typeof submissionSchema>, "trigger_action" | "operator_response">,
): string {
  const { ordering, event_id_salt } = body.operator_response;
  return stringifyLosslessJson({ trigger_action: body.trigger_action, operator_response: { ordering, event_id_salt } });
}

/**
 * WAVS's Submission JSON rebuilt from what a task keeps: the envelope, a signer's SubmissionInput
 * (lossless JSON), its signature and signature_kind prefix. Bytes as arrays of numbers and the
 * event id without 0x, as encodeSubmission writes them; u64 values exact.
 * @throws SyntaxError when `input` is not JSON (never written by this node)
 */
export function rebuildSubmissionJson(
  envelope: Envelope,
  input: string,
  signature: Hex,
  prefix: SignaturePrefix,
): string {
  const rest = parseLosslessJson(input) as unknown as SubmissionInput;
  return stringifyLosslessJson({
    trigger_action: rest.trigger_action,
    operator_response: {
      payload: hexToBytes(envelope.payload),
      ordering: rest.operator_response.ordering,
      event_id_salt: rest.operator_response.event_id_salt,
    },
    event_id: envelope.eventId.slice(2),
    envelope,
    envelope_signature: {
      algorithm: "secp256k1",
      data: hexToBytes(signature),
      kind: { algorithm: "secp256k1", prefix },
    },
  });
}

/**
 * A submission body that contradicts itself or does not parse: refused for good (422), as
 * `invalid_body`, or `event_id_mismatch` when its event id is not the one it derives.
 */
export class SubmissionError extends WavsError {
  override name = "SubmissionError";
  constructor(message: string, code: "invalid_body" | "event_id_mismatch" = "invalid_body", details?: unknown) {
    super(code, message, { status: 422, ...(details !== undefined ? { details } : {}) });
  }
}

/**
 * Checks a parsed body's internal consistency: the event id matches the envelope's and is the one
 * its service, workflow and salt (or trigger data) derive (check-event-id.ts), and the envelope's
 * payload is the operator response's payload. The body must have been parsed with
 * parseLosslessJson: JSON.parse rounds u64 trigger data above 2^53 (a Cron trigger_time) before
 * peers and the aggregator component read it back from `input`.
 * @throws SubmissionError naming the mismatch
 */
export function readSubmission(body: z.output<typeof submissionSchema>): ParsedSubmission {
  const eventId = (body.event_id.startsWith("0x") ? body.event_id : `0x${body.event_id}`).toLowerCase() as Hex;
  if (eventId !== body.envelope.eventId) throw new SubmissionError("event_id differs from envelope.eventId");
  if (bytesToHex(Uint8Array.from(body.operator_response.payload)) !== body.envelope.payload) {
    throw new SubmissionError("envelope.payload differs from operator_response.payload");
  }
  const salt = body.operator_response.event_id_salt;
  const derived = checkEventId({
    serviceId: body.trigger_action.config.service_id,
    workflowId: body.trigger_action.config.workflow_id,
    eventId,
    triggerData: body.trigger_action.data,
    salt: salt === null ? null : Uint8Array.from(salt),
  });
  if (!derived.ok)
    throw new SubmissionError(
      derived.message,
      derived.code,
      derived.expected ? { event_id: eventId, derived: derived.expected } : undefined,
    );
  return {
    serviceId: body.trigger_action.config.service_id,
    workflowId: body.trigger_action.config.workflow_id,
    eventId,
    envelope: body.envelope,
    signature: bytesToHex(Uint8Array.from(body.envelope_signature.data)),
    prefix: body.envelope_signature.kind.prefix,
    // Written back losslessly: it is what peers and the aggregator component read.
    input: submissionInput(body),
  };
}

/** Serialises one signed response as WAVS's Submission JSON (u64s exact). */
export function encodeSubmission(p: {
  action: TriggerAction;
  response: WasmResponse;
  envelope: Envelope;
  signature: Hex;
  /** The workflow's signature_kind.prefix the signature was made with. */
  prefix: SignaturePrefix;
}): string {
  return stringifyLosslessJson({
    trigger_action: p.action,
    operator_response: p.response,
    event_id: p.envelope.eventId.slice(2),
    envelope: p.envelope,
    envelope_signature: {
      algorithm: "secp256k1",
      data: hexToBytes(p.signature),
      kind: { algorithm: "secp256k1", prefix: p.prefix },
    },
  });
}
