import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import { missingSubmissions, readBatchAnswer, readFailedRequest, readStatusAnswer, taskStatusUrl } from "./peer-client";

const A = `0x${"aa".repeat(20)}` as Hex;
const B = `0x${"bb".repeat(20)}` as Hex;

describe("readStatusAnswer", () => {
  it("reads a status", () => {
    const status = { status: "submitting", signers: [A] };
    expect(readStatusAnswer(200, status)).toEqual(status);
  });

  it("reads 'no such task' as absent, any other 404 as busy", () => {
    expect(readStatusAnswer(404, { error: { code: "task_not_found", message: "…" } })).toBe("absent");
    expect(readStatusAnswer(404, { error: { code: "not_found" } })).toBe("busy");
    expect(readStatusAnswer(404, undefined)).toBe("busy");
  });

  it("reads its peer rate limit as limited, and a failure while up as busy", () => {
    expect(readStatusAnswer(429, undefined)).toBe("limited");
    expect(readStatusAnswer(503, undefined)).toBe("busy");
    expect(readStatusAnswer(500, { status: "landed" })).toBe("busy");
  });

  it("reads a 200 without a status (not JSON, or another shape) as busy", () => {
    expect(readStatusAnswer(200, undefined)).toBe("busy");
    expect(readStatusAnswer(200, { status: 3 })).toBe("busy");
  });
});

describe("readFailedRequest", () => {
  it("reads no answer in time as busy, a failed connection as down", () => {
    expect(readFailedRequest(new DOMException("timed out", "TimeoutError"))).toBe("busy");
    expect(readFailedRequest(Object.assign(new Error("aborted"), { name: "AbortError" }))).toBe("busy");
    expect(readFailedRequest(new TypeError("fetch failed"))).toBeUndefined();
  });
});

describe("taskStatusUrl", () => {
  it("names the task by event, service, workflow, chain and handler, at the peer's normalised URL", () => {
    const url = taskStatusUrl("HTTP://Node-B:8788/", {
      eventId: `0x${"ee".repeat(20)}`,
      serviceId: "ab".repeat(32),
      workflowId: "default",
      chain: "evm:31337",
      handler: `0x${"11".repeat(20)}`,
      envelope: { eventId: `0x${"ee".repeat(20)}`, ordering: "0x", payload: "0x" },
    });
    expect(url).toBe(
      `http://node-b:8788/aggregator/tasks/0x${"ee".repeat(20)}?service=${"ab".repeat(32)}&workflow=default&chain=evm%3A31337&handler=0x${"11".repeat(20)}`,
    );
  });
});

describe("missingSubmissions", () => {
  const target = {
    eventId: `0x${"ee".repeat(20)}` as Hex,
    serviceId: "ab".repeat(32),
    workflowId: "default",
    chain: "evm:31337",
    handler: `0x${"11".repeat(20)}` as Hex,
    envelope: {
      eventId: `0x${"ee".repeat(20)}` as Hex,
      ordering: `0x${"00".repeat(12)}` as Hex,
      payload: "0x0102" as Hex,
    },
  };
  const C = `0x${"cc".repeat(20)}` as Hex;

  it("hands on the submissions the peer lacks, whatever the case of its signer list, and only those it can rebuild", () => {
    const signatures = {
      [A]: { signature: "0x01" as Hex, weight: "1", at: 1, json: '{"a":1}' },
      [B]: { signature: "0x02" as Hex, weight: "1", at: 1, json: '{"b":1}' },
      [C]: { signature: "0x03" as Hex, weight: "1", at: 1 },
    };
    const task = { target, signatures };
    expect(missingSubmissions(task, [A.toUpperCase().replace("0X", "0x") as Hex])).toEqual([[B, '{"b":1}']]);
    expect(missingSubmissions(task, [A, B])).toEqual([]);
  });

  it("rebuilds a compact signer's Submission JSON from the task's envelope and shared input", () => {
    const input =
      '{"trigger_action":{"config":{},"data":{"Raw":[]}},"operator_response":{"ordering":null,"event_id_salt":[7]}}';
    const task = { target, input, signatures: { [C]: { signature: "0x03" as Hex, weight: "1", at: 1 } } };
    const [[signer, json]] = missingSubmissions(task, []) as [[Hex, string]];
    expect(signer).toBe(C);
    expect(JSON.parse(json)).toMatchObject({
      operator_response: { payload: [1, 2], ordering: null, event_id_salt: [7] },
      envelope: target.envelope,
      envelope_signature: { data: [3], kind: { prefix: "eip191" } },
    });
  });
});

describe("readBatchAnswer", () => {
  it("reads each item's status in order when the peer answered them all", () => {
    const results = [
      { status: 202, body: {} },
      { status: 422, body: {} },
    ];
    expect(readBatchAnswer(200, { results }, 2)).toEqual({ statuses: [202, 422] });
  });

  it("takes a peer without the route (404 not_found, 405) as one to hand them one by one", () => {
    expect(readBatchAnswer(404, { error: { code: "not_found" } }, 2)).toBe("unsupported");
    expect(readBatchAnswer(405, undefined, 2)).toBe("unsupported");
  });

  it("answers the whole request's status otherwise; an answer it cannot read is a 502 to try again", () => {
    expect(readBatchAnswer(429, undefined, 2)).toEqual({ status: 429 });
    expect(readBatchAnswer(413, { error: { code: "body_too_large" } }, 2)).toEqual({ status: 413 });
    expect(readBatchAnswer(200, { results: [{ status: 202 }] }, 2)).toEqual({ status: 502 });
    expect(readBatchAnswer(200, { results: [{ status: "x" }, { status: 202 }] }, 2)).toEqual({ status: 502 });
  });
});
