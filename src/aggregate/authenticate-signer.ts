import { zeroAddress, type Hex } from "viem";
import { publicClientFor } from "../chain/rpc";
import { wavsServiceManagerAbi } from "../chain/abi/wavs-service-manager";
import type { ChainSettings } from "../config";
import { awaitShared, SHARED_READ_PATIENCE_MS } from "../util/await-shared";
import { integerVar, parsedOncePerIsolate } from "../util/settings-vars";

export type SignerStanding =
  | { registered: true; operator: Hex; weight: bigint }
  | { registered: false; reason: string };

/**
 * How long a registered standing is reused (SIGNER_STANDING_TTL_MS, ms; 0 reads it for every
 * submission). A standing is only an estimate: the manager's `validate` decides at quorum and at
 * submit, and drops a signer deregistered meanwhile. Cached per block, it was read again with
 * every block (two eth_calls per signer per node per event under load).
 */
export const signerStandingTtlMs = parsedOncePerIsolate(["SIGNER_STANDING_TTL_MS"], (vars) =>
  integerVar(vars, "SIGNER_STANDING_TTL_MS", 5_000, 0, 60_000),
);

const MAX_ENTRIES = 10_000;
const standings = new Map<string, { at: number; standing: Promise<SignerStanding> }>();

/**
 * Looks the signing key up in the service manager at the latest block: its latest operator and
 * that operator's weight, through the isolate's cache (reuseStanding).
 * @throws on RPC failure (retryable)
 */
export function readSignerStanding(
  chain: ChainSettings,
  manager: Hex,
  signer: Hex,
  ttlMs: number,
): Promise<SignerStanding> {
  const key = `${chain.key}:${manager.toLowerCase()}:${signer.toLowerCase()}`;
  return reuseStanding(key, ttlMs, () => readStanding(chain, manager, signer));
}

/**
 * A registered standing is kept under `key` for `ttlMs` (concurrent lookups share one read, waited
 * for at most SHARED_READ_PATIENCE_MS: await-shared.ts); an unregistered one, or a failed read,
 * never is, so a refusal always rests on a fresh look at the latest block (the signer may have
 * registered in the newest one).
 */
export function reuseStanding(
  key: string,
  ttlMs: number,
  read: () => Promise<SignerStanding>,
): Promise<SignerStanding> {
  const hit = standings.get(key);
  if (hit && Date.now() - hit.at < ttlMs)
    return awaitShared(hit.standing, SHARED_READ_PATIENCE_MS, () => readAndKeep(key, read));
  return readAndKeep(key, read);
}

function readAndKeep(key: string, read: () => Promise<SignerStanding>): Promise<SignerStanding> {
  if (standings.size >= MAX_ENTRIES) standings.clear();
  const standing = read();
  const entry = { at: Date.now(), standing };
  standings.set(key, entry);
  const forget = () => {
    if (standings.get(key) === entry) standings.delete(key);
  };
  standing.then((s) => s.registered || forget(), forget);
  return standing;
}

async function readStanding(chain: ChainSettings, manager: Hex, signer: Hex): Promise<SignerStanding> {
  const client = publicClientFor(chain);
  const operator = await client.readContract({
    address: manager,
    abi: wavsServiceManagerAbi,
    functionName: "getLatestOperatorForSigningKey",
    args: [signer],
  });
  if (operator === zeroAddress) return { registered: false, reason: "the signer is not a registered signing key" };
  const weight = await client.readContract({
    address: manager,
    abi: wavsServiceManagerAbi,
    functionName: "getOperatorWeight",
    args: [operator],
  });
  if (weight === 0n) return { registered: false, reason: "the signer's operator has no weight" };
  return { registered: true, operator, weight };
}
