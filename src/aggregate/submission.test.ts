import { bytesToHex } from "viem";
import { describe, expect, it } from "vitest";
import { mnemonicToAccount } from "viem/accounts";
import { buildEnvelope, recoverEnvelopeSigner, signEnvelope } from "../sign/envelope";
import { parseLosslessJson } from "../service/lossless-json";
import type { TriggerData } from "../service/types";
import { computeEventId, encodeTriggerDataSalt } from "../service/event-id";
import { readAggregatorInput } from "./aggregator-input";
import {
  encodeSubmission,
  MAX_SUBMISSION_PAYLOAD,
  readSubmission,
  rebuildSubmissionJson,
  type SubmissionJson,
  submissionSchema,
} from "./submission";

const account = mnemonicToAccount("test test test test test test test test test test test junk");
const serviceId = "76d41ff256803de151fce2ed99d145cf985af50e6def0809072e9f68932f5d11";

/** The event id every operator derives for `data` in the "default" workflow (no salt). */
const eventIdOf = (data: TriggerData) => computeEventId(serviceId, "default", encodeTriggerDataSalt(data));

async function signedSubmission(prefix: "eip191" | null = "eip191") {
  const payload = new TextEncoder().encode('{"y":144}');
  const envelope = buildEnvelope(eventIdOf({ Cron: { trigger_time: 2n ** 63n } }), payload, 2n ** 60n);
  const signature = await signEnvelope(account, envelope, prefix);
  const json = encodeSubmission({
    action: {
      config: { service_id: serviceId, workflow_id: "default", trigger: "manual" },
      data: { Cron: { trigger_time: 2n ** 63n } },
    },
    response: { payload, ordering: 7n, event_id_salt: null },
    envelope,
    signature,
    prefix,
  });
  return { json, envelope, signature };
}

describe("WAVS Submission JSON", () => {
  it("round-trips: event id without 0x, bytes as number arrays, a tagged secp256k1 signature", async () => {
    const { json, envelope, signature } = await signedSubmission();
    const raw = parseLosslessJson(json) as SubmissionJson;
    expect(raw.event_id).toBe(envelope.eventId.slice(2));
    expect(raw.envelope_signature.algorithm).toBe("secp256k1");
    expect(raw.envelope_signature.data).toHaveLength(65);
    expect(raw.envelope_signature.kind).toEqual({ algorithm: "secp256k1", prefix: "eip191" });
    expect(json).toContain('"trigger_time":9223372036854775808');
    const parsed = readSubmission(submissionSchema.parse(raw));
    const { input, ...rest } = parsed;
    expect(rest).toEqual({
      serviceId,
      workflowId: "default",
      eventId: envelope.eventId,
      envelope,
      signature,
      prefix: "eip191",
    });
    // The whole rebuilt from the envelope, the input and the signature is the JSON that came.
    expect(rebuildSubmissionJson(envelope, input, signature, "eip191")).toBe(json);
    expect(input).not.toContain("payload");
    expect(await recoverEnvelopeSigner(parsed.envelope, parsed.signature)).toBe(account.address);
  });

  it("carries signature_kind.prefix null, and the unprefixed signature recovers only without the prefix", async () => {
    const { json, envelope, signature } = await signedSubmission(null);
    const raw = parseLosslessJson(json) as SubmissionJson;
    expect(raw.envelope_signature.kind).toEqual({ algorithm: "secp256k1", prefix: null });
    const parsed = readSubmission(submissionSchema.parse(raw));
    expect(parsed.prefix).toBeNull();
    expect(await recoverEnvelopeSigner(envelope, signature, null)).toBe(account.address);
    expect(await recoverEnvelopeSigner(envelope, signature, "eip191")).not.toBe(account.address);
  });

  it("keeps u64 trigger data and ordering above 2^53 exact through to the aggregator component's input", async () => {
    // 2^63 + 1 and 2^60 + 1 have no exact double: JSON.parse would round both.
    const payload = new TextEncoder().encode('{"y":144}');
    const envelope = buildEnvelope(eventIdOf({ Cron: { trigger_time: 2n ** 63n + 1n } }), payload, 2n ** 60n + 1n);
    const json = encodeSubmission({
      action: {
        config: { service_id: serviceId, workflow_id: "default", trigger: "manual" },
        data: { Cron: { trigger_time: 2n ** 63n + 1n } },
      },
      response: { payload, ordering: 2n ** 60n + 1n, event_id_salt: null },
      envelope,
      signature: await signEnvelope(account, envelope),
      prefix: "eip191",
    });
    expect(json).toContain('"trigger_time":9223372036854775809');
    const parsed = readSubmission(submissionSchema.parse(parseLosslessJson(json)));
    expect(parsed.input).toContain('"trigger_time":9223372036854775809');
    expect(parsed.input).toContain('"ordering":1152921504606846977');
    expect(rebuildSubmissionJson(envelope, parsed.input, parsed.signature, "eip191")).toBe(json);
    const input = readAggregatorInput(parsed.input, {
      serviceId,
      workflowId: "default",
      trigger: "manual",
      eventId: parsed.eventId,
      payload: envelope.payload,
    });
    expect(input.response.payload).toEqual(payload);
    expect(input.action.data).toEqual({ Cron: { trigger_time: 2n ** 63n + 1n } });
    expect(input.response.ordering).toBe(2n ** 60n + 1n);
  });

  it("takes a payload of MAX_SUBMISSION_PAYLOAD bytes and refuses one byte more", async () => {
    const raw = parseLosslessJson((await signedSubmission()).json) as SubmissionJson;
    const withPayload = (n: number) => ({
      ...raw,
      operator_response: { ...raw.operator_response, payload: new Array(n).fill(7) },
    });
    expect(submissionSchema.safeParse(withPayload(MAX_SUBMISSION_PAYLOAD)).success).toBe(true);
    expect(submissionSchema.safeParse(withPayload(MAX_SUBMISSION_PAYLOAD + 1)).success).toBe(false);
  });

  it("refuses unknown fields, wrong lengths and inconsistent ids", async () => {
    const raw = parseLosslessJson((await signedSubmission()).json) as SubmissionJson;
    expect(submissionSchema.safeParse({ ...raw, extra: 1 }).success).toBe(false);
    expect(
      submissionSchema.safeParse({ ...raw, envelope_signature: { ...raw.envelope_signature, data: [1, 2] } }).success,
    ).toBe(false);
    expect(submissionSchema.safeParse({ ...raw, envelope: { ...raw.envelope, eventId: "0x12" } }).success).toBe(false);
    expect(() => readSubmission(submissionSchema.parse({ ...raw, event_id: "02".repeat(20) }))).toThrow(/event_id/);
    expect(() =>
      readSubmission(submissionSchema.parse({ ...raw, operator_response: { ...raw.operator_response, payload: [1] } })),
    ).toThrow(/payload/);
  });

  it("refuses an event id its service, workflow and trigger data do not derive, as event_id_mismatch", async () => {
    const raw = parseLosslessJson((await signedSubmission()).json) as SubmissionJson;
    // Another event's id (its trigger fired at another time) over this one's trigger data.
    const other = bytesToHex(eventIdOf({ Cron: { trigger_time: 1n } }));
    const moved = { ...raw, event_id: other.slice(2), envelope: { ...raw.envelope, eventId: other } };
    expect(() => readSubmission(submissionSchema.parse(moved))).toThrow(
      expect.objectContaining({ code: "event_id_mismatch", status: 422 }),
    );
    // The same event presented as another workflow's.
    const otherWorkflow = {
      ...raw,
      trigger_action: { ...raw.trigger_action, config: { ...raw.trigger_action.config, workflow_id: "other" } },
    };
    expect(() => readSubmission(submissionSchema.parse(otherWorkflow))).toThrow(
      expect.objectContaining({ code: "event_id_mismatch" }),
    );
  });
});
