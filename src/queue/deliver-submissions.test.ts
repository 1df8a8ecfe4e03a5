import { describe, expect, inject, it } from "vitest";
import { isPeerRefusal, handSubmission } from "./deliver-submissions";

describe("isPeerRefusal", () => {
  it("retries a peer that answered 5xx, 408 or 429, and not one that refused", () => {
    for (const status of [500, 502, 503, 408, 429]) expect(isPeerRefusal(status), String(status)).toBe(false);
    for (const status of [400, 403, 404, 409, 422]) expect(isPeerRefusal(status), String(status)).toBe(true);
  });
});

describe("handSubmission", () => {
  // test/worker/http-server.global.ts: /slow… answers after 3 s, /unavailable… 503, /forbidden… 403, else 200
  const server = `http://127.0.0.1:${inject("httpServerPort")}`;
  const env = { NODE_URL: "http://node-a.example" };

  it("is delivered when the peer takes it, refused for good on a 4xx", async () => {
    expect(await handSubmission(`${server}/ok`, "{}", env, 2_000)).toEqual({ outcome: "delivered", status: 200 });
    expect(await handSubmission(`${server}/forbidden`, "{}", env, 2_000)).toEqual({ outcome: "refused", status: 403 });
  });

  it("is to be tried again when the peer fails or does not answer in time", async () => {
    expect(await handSubmission(`${server}/unavailable`, "{}", env, 2_000)).toEqual({ outcome: "retry", status: 503 });
    const started = Date.now();
    expect(await handSubmission(`${server}/slow`, "{}", env, 300)).toEqual({ outcome: "retry" });
    expect(Date.now() - started).toBeLessThan(2_500);
  });
});
