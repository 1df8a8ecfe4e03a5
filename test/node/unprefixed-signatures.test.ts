/**
 * `signature_kind.prefix: null` end to end, as WAVS: two operators' nodes sign the bare keccak256
 * of the encoded envelope, hand the signatures to each other (Submission JSON with kind.prefix
 * null), and a manager that verifies unprefixed signatures accepts the quorum onchain.
 */
import { privateKeyToAccount } from "viem/accounts";
import { createPublicClient, http, recoverAddress, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addTrigger } from "../../devnet/index";
import { startDevnet, type RunningDevnet } from "../../devnet/index";
import { waitForResult } from "../../devnet/index";
import { simpleSubmitAbi } from "../../devnet/index";
import { wavsServiceManagerAbi } from "../../src/chain/abi/wavs-service-manager";
import { hashEnvelope } from "../../src/sign/envelope";

let running: RunningDevnet;

beforeAll(async () => {
  // Two operators, quorum 2/3: both signatures (one of them from a peer) must verify unprefixed.
  running = await startDevnet({
    anvilPort: 0,
    nodePort: 0,
    operators: 2,
    signaturePrefix: null,
    pollIntervalMs: 1_000,
  });
}, 240_000);
afterAll(async () => {
  await running?.stop();
});

describe("signature_kind.prefix null", () => {
  it("lands a result whose signatures are over the bare envelope hash", async () => {
    const { devnet } = running;
    const client = createPublicClient({ transport: http(devnet.chain.rpc_url) });
    expect(
      await client.readContract({
        address: devnet.contracts.service_manager,
        abi: wavsServiceManagerAbi,
        functionName: "unprefixedSignatures",
      }),
    ).toBe(true);

    const { triggerId } = await addTrigger({
      rpcUrl: devnet.chain.rpc_url,
      account: privateKeyToAccount(devnet.accounts.trigger_private_key),
      trigger: devnet.contracts.trigger,
      data: new TextEncoder().encode('{"x":12}'),
    });
    const result = await waitForResult({
      rpcUrl: devnet.chain.rpc_url,
      submit: devnet.contracts.submit,
      triggerId,
      timeoutMs: 90_000,
    });
    expect(result.data).toBe('{"y":144}');

    const signed = await client.readContract({
      address: devnet.contracts.submit,
      abi: simpleSubmitAbi,
      functionName: "getSignedData",
      args: [triggerId],
    });
    const hash = hashEnvelope(signed.envelope);
    const signers = await Promise.all(
      signed.signatureData.signatures.map((signature: Hex) => recoverAddress({ hash, signature })),
    );
    expect(signers).toEqual(signed.signatureData.signers);
    expect(signers.map((s) => s.toLowerCase()).sort()).toEqual(
      devnet.nodes.map((n) => n.signing_address.toLowerCase()).sort(),
    );
  });
});
