import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  BaseError,
  ContractFunctionRevertedError,
  concat,
  createPublicClient,
  createWalletClient,
  decodeAbiParameters,
  encodeAbiParameters,
  encodeFunctionData,
  getAbiItem,
  http,
  keccak256,
  parseEventLogs,
  toHex,
  type Address,
  type Hex,
  zeroAddress,
  type PublicClient,
} from "viem";
import type { HDAccount } from "viem/accounts";
import { anvil as anvilChain } from "viem/chains";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileContracts } from "../../scripts/build-contracts";
import { anvilAccount, startAnvil, type StartAnvilReturnType } from "../../devnet/index";
import { addTrigger, deployContracts, triggerInfoParameters, type DeployContractsReturnType } from "../../devnet/index";
import { iWavsServiceManagerAbi } from "../../src/chain/abi/i-wavs-service-manager";
import { simpleSubmitAbi } from "../../devnet/index";
import { simpleTriggerAbi } from "../../devnet/index";
import { wavsServiceManagerAbi } from "../../src/chain/abi/wavs-service-manager";

// Errors raised in the manager surface through the handler's call: decode them with both ABIs.
const submitAbi = [...simpleSubmitAbi, ...wavsServiceManagerAbi.filter((item) => item.type === "error")];

const envelopeParameter = getAbiItem({ abi: iWavsServiceManagerAbi, name: "validate" }).inputs[0];
const dataWithIdParameters = getAbiItem({ abi: simpleSubmitAbi, name: "getDataWithId" }).outputs;

type Envelope = { eventId: Hex; ordering: Hex; payload: Hex };
type SignatureData = { signers: Address[]; signatures: Hex[]; referenceBlock: number };

const deployer = anvilAccount(0);
// Three operators with weight 1; their signing keys are anvil accounts 1–3, the operator addresses 5–7.
const signingKeys = [1, 2, 3].map((i) => anvilAccount(i));
const operatorAddresses = [5, 6, 7].map((i) => anvilAccount(i).address);
const outsider = anvilAccount(4);
const loneSigner = anvilAccount(8);

let anvil: StartAnvilReturnType;
let client: PublicClient;
let contracts: DeployContractsReturnType;

beforeAll(async () => {
  anvil = await startAnvil();
  client = createPublicClient({ chain: anvilChain, transport: http(anvil.rpcUrl) });
  contracts = await deployContracts({
    rpcUrl: anvil.rpcUrl,
    deployer,
    operators: signingKeys.map((key, i) => ({
      signingAddress: key.address,
      operator: operatorAddresses[i],
      weight: 1,
    })),
    threshold: { numerator: 3, denominator: 4 },
    serviceUri: "https://example.com/service.json",
  });
});

afterAll(async () => {
  await anvil?.stop();
});

function walletFor(account: HDAccount) {
  return createWalletClient({ account, chain: anvilChain, transport: http(anvil.rpcUrl) });
}

function byAddress(a: { address: Address }, b: { address: Address }): number {
  return BigInt(a.address) < BigInt(b.address) ? -1 : 1;
}

function envelopeFor(triggerId: bigint, data: string): Envelope {
  return {
    eventId: keccak256(toHex(`${triggerId}:${data}`)).slice(0, 42) as Hex,
    ordering: toHex(0, { size: 12 }),
    payload: encodeAbiParameters(dataWithIdParameters, [{ triggerId, data: toHex(data) }]),
  };
}

/**
 * Signs as a node does: EIP-191 over keccak256(abi.encode(envelope)) (or, with prefix null, that
 * hash itself), signers ascending.
 */
async function sign(
  envelope: Envelope,
  accounts: HDAccount[],
  prefix: "eip191" | null = "eip191",
): Promise<SignatureData> {
  const hash = keccak256(encodeAbiParameters([envelopeParameter], [envelope]));
  const sorted = [...accounts].sort(byAddress);
  return {
    signers: sorted.map((a) => a.address),
    signatures: await Promise.all(
      sorted.map((a) => (prefix === "eip191" ? a.signMessage({ message: { raw: hash } }) : a.sign({ hash }))),
    ),
    referenceBlock: Number(await client.getBlockNumber()) - 1,
  };
}

/** The custom error a call reverted with. */
async function revertOf(call: Promise<unknown>): Promise<{ name: string; args: readonly unknown[] }> {
  try {
    await call;
  } catch (error) {
    const reverted = error instanceof BaseError ? error.walk((e) => e instanceof ContractFunctionRevertedError) : null;
    if (reverted instanceof ContractFunctionRevertedError && reverted.data) {
      return { name: reverted.data.errorName, args: reverted.data.args ?? [] };
    }
    throw error;
  }
  throw new Error("expected the call to revert");
}

/** Just the name of the custom error a call reverted with. */
async function errorNameOf(call: Promise<unknown>): Promise<string> {
  return (await revertOf(call)).name;
}

function validate(serviceManager: Address, envelope: Envelope, signatureData: SignatureData) {
  return client.readContract({
    address: serviceManager,
    abi: wavsServiceManagerAbi,
    functionName: "validate",
    args: [envelope, signatureData],
  });
}

function simulateSubmit(envelope: Envelope, signatureData: SignatureData) {
  return client.simulateContract({
    account: deployer,
    address: contracts.submit,
    abi: submitAbi,
    functionName: "handleSignedEnvelope",
    args: [envelope, signatureData],
  });
}

async function submit(submitAddress: Address, envelope: Envelope, signatureData: SignatureData) {
  const hash = await walletFor(deployer).writeContract({
    address: submitAddress,
    abi: submitAbi,
    functionName: "handleSignedEnvelope",
    args: [envelope, signatureData],
  });
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  expect(receipt.status).toBe("success");
  return receipt;
}

describe("generated ABI modules", () => {
  it("match a fresh compile of contracts/ byte for byte: the Worker's ABIs apart from the devnet's contracts", () => {
    const files = compileContracts();
    expect([...files.keys()].sort()).toEqual([
      "devnet/contracts/simple-submit.ts",
      "devnet/contracts/simple-trigger.ts",
      "devnet/contracts/wavs-service-manager.ts",
      "src/chain/abi/i-wavs-service-handler.ts",
      "src/chain/abi/i-wavs-service-manager.ts",
      "src/chain/abi/wavs-service-manager.ts",
    ]);
    for (const [file, text] of files) {
      expect(readFileSync(join(import.meta.dirname, "../..", file), "utf8"), file).toBe(text);
      // the Worker's bundle carries ABIs only; the devnet deploys from its own modules
      if (file.startsWith("src/")) expect(text, file).not.toContain("Bytecode");
      else expect(text, file).toContain("Bytecode");
    }
  });
});

describe("SimpleTrigger", () => {
  it("numbers triggers from 1 and emits NewTrigger with the abi-encoded TriggerInfo", async () => {
    const add = (data: Uint8Array | string) =>
      addTrigger({ rpcUrl: anvil.rpcUrl, account: outsider, trigger: contracts.trigger, data });
    const first = await add("hello");
    const second = await add(new Uint8Array([1, 2, 3]));
    expect(first.triggerId).toBe(1n);
    expect(second.triggerId).toBe(2n);

    const receipt = await client.getTransactionReceipt({ hash: first.txHash });
    expect(receipt.blockNumber).toBe(first.blockNumber);
    const [log] = parseEventLogs({ abi: simpleTriggerAbi, eventName: "NewTrigger", logs: receipt.logs });
    const [info] = decodeAbiParameters(triggerInfoParameters, log!.args.triggerData);
    expect(info).toEqual({ triggerId: 1n, creator: outsider.address, data: toHex("hello") });

    const stored = await client.readContract({
      address: contracts.trigger,
      abi: simpleTriggerAbi,
      functionName: "getTrigger",
      args: [2n],
    });
    expect(stored).toEqual({ triggerId: 2n, creator: outsider.address, data: "0x010203" });
  });

  it("takes 0x-prefixed strings as hex", async () => {
    const { triggerId } = await addTrigger({
      rpcUrl: anvil.rpcUrl,
      account: outsider,
      trigger: contracts.trigger,
      data: "0xbeef",
    });
    const stored = await client.readContract({
      address: contracts.trigger,
      abi: simpleTriggerAbi,
      functionName: "getTrigger",
      args: [triggerId],
    });
    expect(stored.data).toBe("0xbeef");
  });
});

describe("WavsServiceManager and SimpleSubmit", () => {
  const submitted = { abi: simpleSubmitAbi } as const;
  const manager = { abi: wavsServiceManagerAbi } as const;

  it("accept an envelope signed by a quorum and store it per trigger id", async () => {
    const envelope = envelopeFor(7n, "result seven");
    const signatureData = await sign(envelope, signingKeys);
    const read = { ...submitted, address: contracts.submit, args: [7n] } as const;

    await validate(contracts.serviceManager, envelope, signatureData);
    expect(await client.readContract({ ...read, functionName: "isValidTriggerId" })).toBe(false);

    await submit(contracts.submit, envelope, signatureData);

    expect(await client.readContract({ ...read, functionName: "isValidTriggerId" })).toBe(true);
    expect(await client.readContract({ ...read, functionName: "getDataWithId" })).toEqual({
      triggerId: 7n,
      data: toHex("result seven"),
    });
    expect(await client.readContract({ ...read, functionName: "getSignedData" })).toEqual({
      data: toHex("result seven"),
      signatureData,
      envelope,
    });
    expect(
      await client.readContract({ ...submitted, address: contracts.submit, functionName: "getServiceManager" }),
    ).toBe(contracts.serviceManager);
  });

  it("expose the operator set through WAVS's getters", async () => {
    const at = { ...manager, address: contracts.serviceManager } as const;
    const weightOf = (operator: Address) =>
      client.readContract({ ...at, functionName: "getOperatorWeight", args: [operator] });
    const operatorOf = (key: Address) =>
      client.readContract({ ...at, functionName: "getLatestOperatorForSigningKey", args: [key] });
    expect(await weightOf(operatorAddresses[0]!)).toBe(1n);
    expect(await weightOf(outsider.address)).toBe(0n);
    expect(await operatorOf(signingKeys[0]!.address)).toBe(operatorAddresses[0]);
    expect(await operatorOf(outsider.address)).toBe(zeroAddress);
    expect(await client.readContract({ ...at, functionName: "getTotalWeight" })).toBe(3n);
    expect(await client.readContract({ ...at, functionName: "getThresholdWeight" })).toBe(3n);
    expect(await client.readContract({ ...at, functionName: "getQuorumThreshold" })).toEqual([3n, 4n]);
    expect(await client.readContract({ ...at, functionName: "getServiceURI" })).toBe(
      "https://example.com/service.json",
    );
  });

  it("reject signers that are not strictly ascending", async () => {
    const envelope = envelopeFor(8n, "x");
    const sorted = await sign(envelope, signingKeys);
    const swap = <T>([a, b, c]: readonly T[]) => [b!, a!, c!];
    const unsorted = { ...sorted, signers: swap(sorted.signers), signatures: swap(sorted.signatures) };
    expect(await revertOf(validate(contracts.serviceManager, envelope, unsorted))).toEqual({
      name: "InvalidSignatureOrder",
      args: [],
    });
    expect(await errorNameOf(simulateSubmit(envelope, unsorted))).toBe("InvalidSignatureOrder");
  });

  it("reject a duplicate signer", async () => {
    const envelope = envelopeFor(8n, "x");
    const signed = await sign(envelope, signingKeys);
    const twice = <T>([a, b]: readonly T[]) => [a!, a!, b!];
    const duplicated = { ...signed, signers: twice(signed.signers), signatures: twice(signed.signatures) };
    expect(await errorNameOf(validate(contracts.serviceManager, envelope, duplicated))).toBe("InvalidSignatureOrder");
  });

  it("reject a signer that is not a registered signing key", async () => {
    const envelope = envelopeFor(8n, "x");
    const signed = await sign(envelope, [...signingKeys, outsider]);
    expect(await errorNameOf(validate(contracts.serviceManager, envelope, signed))).toBe("SignerNotRegistered");
    expect(await errorNameOf(simulateSubmit(envelope, signed))).toBe("SignerNotRegistered");
  });

  it("reject signatures that do not recover to their signer", async () => {
    const envelope = envelopeFor(8n, "x");
    const signed = await sign(envelope, signingKeys);
    const [first, second, third] = signed.signatures as [Hex, Hex, Hex];

    const swapped = { ...signed, signatures: [second, first, third] };
    expect(await errorNameOf(validate(contracts.serviceManager, envelope, swapped))).toBe("InvalidSignature");

    const payload = encodeAbiParameters(dataWithIdParameters, [{ triggerId: 8n, data: toHex("y") }]);
    const tampered = { ...envelope, payload };
    expect(await errorNameOf(validate(contracts.serviceManager, tampered, signed))).toBe("InvalidSignature");
    expect(await errorNameOf(simulateSubmit(tampered, signed))).toBe("InvalidSignature");

    const badV = { ...signed, signatures: [concat([first.slice(0, 130) as Hex, "0x1d"]), second, third] };
    expect(await errorNameOf(validate(contracts.serviceManager, envelope, badV))).toBe("InvalidSignature");
  });

  it("reject malformed signature lists with InvalidSignatureLength", async () => {
    const envelope = envelopeFor(8n, "x");
    const signed = await sign(envelope, signingKeys);
    const [first, ...rest] = signed.signatures as [Hex, ...Hex[]];
    const cases: SignatureData[] = [
      { ...signed, signers: [], signatures: [] },
      { ...signed, signatures: rest },
      { ...signed, signatures: [first.slice(0, 130) as Hex, ...rest] },
    ];
    for (const signatureData of cases) {
      expect(await errorNameOf(validate(contracts.serviceManager, envelope, signatureData))).toBe(
        "InvalidSignatureLength",
      );
    }
  });

  it("reject a quorum short of the threshold with InsufficientQuorum(signer, threshold, total)", async () => {
    const envelope = envelopeFor(9n, "two of three");
    const signed = await sign(envelope, signingKeys.slice(0, 2));
    // 2 * 4 < 3 * 3: two of three weight-1 operators miss a 3/4 quorum, which needs weight 3.
    const expected = { name: "InsufficientQuorum", args: [2n, 3n, 3n] };
    expect(await revertOf(validate(contracts.serviceManager, envelope, signed))).toEqual(expected);
    expect(await revertOf(simulateSubmit(envelope, signed))).toEqual(expected);
  });

  it("reject a reference block that is not in the past", async () => {
    const envelope = envelopeFor(8n, "x");
    const signed = await sign(envelope, signingKeys);
    const latest = Number(await client.getBlockNumber());
    for (const referenceBlock of [latest + 1, 2 ** 32 - 1]) {
      const call = validate(contracts.serviceManager, envelope, { ...signed, referenceBlock });
      expect(await errorNameOf(call)).toBe("InvalidSignatureBlock");
    }
  });

  it("let only the owner set the service URI, emitting ServiceURIUpdated", async () => {
    const at = { ...manager, address: contracts.serviceManager } as const;
    const byOutsider = client.simulateContract({
      ...at,
      account: outsider,
      functionName: "setServiceURI",
      args: ["https://evil.example"],
    });
    expect(await revertOf(byOutsider)).toEqual({ name: "OwnableUnauthorizedAccount", args: [outsider.address] });

    const wallet = walletFor(deployer);
    const hash = await wallet.writeContract({ ...at, functionName: "setServiceURI", args: ["ipfs://new"] });
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    const [event] = parseEventLogs({ abi: iWavsServiceManagerAbi, eventName: "ServiceURIUpdated", logs: receipt.logs });
    expect(event?.args.serviceURI).toBe("ipfs://new");
    expect(await client.readContract({ ...at, functionName: "getServiceURI" })).toBe("ipfs://new");
  });
});

describe("WavsServiceManager for signature_kind.prefix null", () => {
  it("verifies signatures over the bare envelope hash and refuses EIP-191 ones; the default manager the reverse", async () => {
    const unprefixed = await deployContracts({
      rpcUrl: anvil.rpcUrl,
      deployer,
      operators: signingKeys.map((key) => ({ signingAddress: key.address, weight: 1 })),
      threshold: { numerator: 3, denominator: 4 },
      signaturePrefix: null,
    });
    const read = (address: Address) =>
      client.readContract({ address, abi: wavsServiceManagerAbi, functionName: "unprefixedSignatures" });
    expect(await read(unprefixed.serviceManager)).toBe(true);
    expect(await read(contracts.serviceManager)).toBe(false);

    const envelope = envelopeFor(9n, "bare");
    const bare = await sign(envelope, signingKeys, null);
    const eip191 = await sign(envelope, signingKeys, "eip191");
    await validate(unprefixed.serviceManager, envelope, bare);
    expect(await errorNameOf(validate(unprefixed.serviceManager, envelope, eip191))).toBe("InvalidSignature");
    expect(await errorNameOf(validate(contracts.serviceManager, envelope, bare))).toBe("InvalidSignature");
    await validate(contracts.serviceManager, envelope, eip191);
  });
});

describe("WavsServiceManager administration", () => {
  it("registers, re-keys and removes operators, keeping the total weight", async () => {
    const { serviceManager } = await deployContracts({
      rpcUrl: anvil.rpcUrl,
      deployer,
      operators: [],
      threshold: { numerator: 2, denominator: 3 },
    });
    const manager = { address: serviceManager, abi: wavsServiceManagerAbi } as const;
    const wallet = walletFor(deployer);
    type SetOperatorArgs = readonly [operator: Address, signingKey: Address, weight: bigint];
    const setOperator = async (args: SetOperatorArgs) => {
      const hash = await wallet.writeContract({ ...manager, functionName: "setOperator", args });
      await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    };
    const simulateSetOperator = (account: HDAccount, args: SetOperatorArgs) =>
      client.simulateContract({ ...manager, account, functionName: "setOperator", args });
    const operatorOf = (key: Address) =>
      client.readContract({ ...manager, functionName: "getLatestOperatorForSigningKey", args: [key] });
    const keyOf = (operator: Address) =>
      client.readContract({ ...manager, functionName: "getLatestOperatorSigningKey", args: [operator] });
    const weightOf = (operator: Address) =>
      client.readContract({ ...manager, functionName: "getOperatorWeight", args: [operator] });
    const totalWeight = () => client.readContract({ ...manager, functionName: "getTotalWeight" });

    const [op, other] = operatorAddresses as [Address, Address];
    const [keyA, keyB] = signingKeys as [HDAccount, HDAccount];

    // No operators: nothing can reach a quorum.
    const envelope = envelopeFor(1n, "x");
    const signed = await sign(envelope, [keyA]);
    expect((await revertOf(validate(serviceManager, envelope, signed))).name).toBe("InsufficientQuorumZero");

    await setOperator([op, keyA.address, 5n]);
    await setOperator([op, keyB.address, 7n]); // re-key and re-weight
    expect(await operatorOf(keyA.address)).toBe(zeroAddress);
    expect(await operatorOf(keyB.address)).toBe(op);
    expect(await keyOf(op)).toBe(keyB.address);
    expect(await weightOf(op)).toBe(7n);
    expect(await totalWeight()).toBe(7n);

    expect(await revertOf(simulateSetOperator(deployer, [other, keyB.address, 1n]))).toEqual({
      name: "SigningKeyInUse",
      args: [keyB.address, op],
    });
    expect((await revertOf(simulateSetOperator(outsider, [other, keyA.address, 1n]))).name).toBe(
      "OwnableUnauthorizedAccount",
    );

    await setOperator([op, keyB.address, 0n]); // weight 0 removes
    expect(await weightOf(op)).toBe(0n);
    expect(await operatorOf(keyB.address)).toBe(zeroAddress);
    expect(await keyOf(op)).toBe(zeroAddress);
    expect(await totalWeight()).toBe(0n);
  });

  it("validates quorum parameters and emits QuorumThresholdUpdated", async () => {
    const manager = { address: contracts.serviceManager, abi: wavsServiceManagerAbi } as const;
    for (const args of [
      [0n, 1n],
      [2n, 1n],
      [1n, 0n],
      [1n, 2n ** 64n],
    ] as const) {
      const call = client.simulateContract({ ...manager, account: deployer, functionName: "setQuorumThreshold", args });
      expect(await errorNameOf(call)).toBe("InvalidQuorumParameters");
    }
    const { result, request } = await client.simulateContract({
      ...manager,
      account: deployer,
      functionName: "setQuorumThreshold",
      args: [3n, 4n],
    });
    expect(result).toBeUndefined();
    const hash = await walletFor(deployer).writeContract(request);
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    const [event] = parseEventLogs({
      abi: iWavsServiceManagerAbi,
      eventName: "QuorumThresholdUpdated",
      logs: receipt.logs,
    });
    expect(event?.args).toEqual({ numerator: 3n, denominator: 4n });
  });
});

describe("gas", () => {
  // SimpleSubmit keeps the whole SignedData per trigger id (as WAVS's does), so storage dominates
  // handleSignedEnvelope; validate itself costs about 9k gas per extra signature.
  it("handleSignedEnvelope and validate stay within budget for one and three signatures", async () => {
    const single = await deployContracts({
      rpcUrl: anvil.rpcUrl,
      deployer,
      operators: [{ signingAddress: loneSigner.address, weight: 1 }],
      threshold: { numerator: 2, denominator: 3 },
    });
    const cases = [
      { contracts: single, signers: [loneSigner], handleBudget: 450_000n, validateBudget: 40_000n },
      { contracts, signers: signingKeys, handleBudget: 700_000n, validateBudget: 60_000n },
    ];
    for (const { contracts: deployed, signers, handleBudget, validateBudget } of cases) {
      const envelope = envelopeFor(100n, "gas");
      const signatureData = await sign(envelope, signers);
      // validate is a view; estimate it as if sent in a transaction of its own.
      const validateGas = await client.estimateGas({
        account: deployer,
        to: deployed.serviceManager,
        data: encodeFunctionData({
          abi: wavsServiceManagerAbi,
          functionName: "validate",
          args: [envelope, signatureData],
        }),
      });
      const receipt = await submit(deployed.submit, envelope, signatureData);
      expect(validateGas).toBeLessThan(validateBudget);
      expect(receipt.gasUsed).toBeLessThan(handleBudget);
    }
  });
});
