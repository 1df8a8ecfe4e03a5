/**
 * The ChainSubmitter never acts on a stale claim: a request whose claim is older than a grace
 * period when it reaches the submitter is withdrawn, with no nonce taken and nothing stored (its
 * TaskAggregator claims again, asking peers and the chain). Cancelling signed bytes and the whole
 * takeover are exercised against anvil in test/node/aggregation-exactly-once.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const request = (guardedBy: string, claimedAt: number) => ({
  requestId: `guard-test:${claimedAt}`,
  chain: "evm:31337",
  to: "0x00000000000000000000000000000000000000c0" as const,
  data: "0x" as const,
  gas: 100_000n,
  guardedBy,
  claimedAt,
});

describe("a ChainSubmitter guarded by a TaskAggregator", () => {
  it("withdraws a stale request whose TaskAggregator holds no claim, sending and storing nothing", async () => {
    const guard = env.TASK_AGGREGATOR.idFromName("a task this node never claimed");
    const submitter = env.CHAIN_SUBMITTER.get(env.CHAIN_SUBMITTER.idFromName("evm:31337:guard-test"));
    const stale = request(guard.toString(), Date.now() - 60 * 60_000);
    expect(await submitter.send(stale)).toEqual({ state: "withdrawn" });
    expect(await submitter.check(stale.requestId)).toBeUndefined();
    // No nonce was taken: the key has no gap to fill.
    expect(await runInDurableObject(submitter, (_, state) => state.storage.get("next-nonce"))).toBeUndefined();
  });
});
