/**
 * POST /aggregator/submissions/batch: several Submission JSONs in one request, each answered as
 * POST /aggregator/submissions would answer it alone, in the order given.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { mnemonicToAccount } from "viem/accounts";
import { encodeSubmission, MAX_BATCH_SUBMISSIONS } from "../../src/aggregate/submission";
import { computeEventId } from "../../src/service/event-id";
import { buildEnvelope, signEnvelope } from "../../src/sign/envelope";

const account = mnemonicToAccount("test test test test test test test test test test test junk");

/** A well-formed, signed submission of a service this node does not know. */
async function strangerSubmission(): Promise<string> {
  const serviceId = "cd".repeat(32);
  const payload = new TextEncoder().encode("hi");
  const envelope = buildEnvelope(computeEventId(serviceId, "default", Uint8Array.of(1)), payload, null);
  return encodeSubmission({
    action: {
      config: { service_id: serviceId, workflow_id: "default", trigger: "manual" },
      data: { Raw: new Uint8Array() },
    },
    response: { payload, ordering: null, event_id_salt: Uint8Array.of(1) },
    envelope,
    signature: await signEnvelope(account, envelope),
    prefix: "eip191",
  });
}

const postBatch = (body: string) =>
  SELF.fetch("http://node/aggregator/submissions/batch", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });

describe("POST /aggregator/submissions/batch", () => {
  it("answers each item on its own, in order: a malformed one 422, one of an unknown service 404", async () => {
    const res = await postBatch(`{"submissions":[{"nope":1},${await strangerSubmission()}]}`);
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: { status: number; body: { error: { code: string } } }[] };
    expect(results.map((r) => [r.status, r.body.error.code])).toEqual([
      [422, "invalid_body"],
      [404, "unknown_service"],
    ]);
  });

  it("refuses the request as a whole when it is not a list of 1 to MAX_BATCH_SUBMISSIONS", async () => {
    expect((await postBatch('{"submissions":[]}')).status).toBe(422);
    expect(
      (await postBatch(JSON.stringify({ submissions: new Array(MAX_BATCH_SUBMISSIONS + 1).fill({}) }))).status,
    ).toBe(422);
    expect((await postBatch("{")).status).toBe(400);
  });
});
