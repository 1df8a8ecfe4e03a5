import { SELF } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { addChainWithoutCheck } from "./chain-fixtures";

// Strangers may ask /health, /metrics and / as often as they like: the chain is read at most once
// per HEAD_REUSE_MS (per isolate), not once per request.
describe("chain heads behind /health, /metrics and /", () => {
  it("reads a chain's head once for many requests, and reports it", async () => {
    const base = `http://127.0.0.1:${inject("httpServerPort")}`;
    expect(await addChainWithoutCheck(4646, `${base}/rpc/heads`)).toBe(true);
    const calls = async () => Number(await (await fetch(`${base}/rpc-count/heads`)).text());

    for (let i = 0; i < 5; i++) {
      const health = await SELF.fetch("http://node/health");
      expect(
        ((await health.json()) as { pollers: Record<string, { latest_block?: number }> }).pollers["evm:4646"]
          ?.latest_block,
      ).toBe(16);
      const metrics = await (await SELF.fetch("http://node/metrics")).text();
      expect(metrics).toContain('wavs_chain_head_block{chain="evm:4646"} 16');
      expect((await SELF.fetch("http://node/")).status).toBe(200);
    }
    expect(await calls()).toBe(1);
  });
});
