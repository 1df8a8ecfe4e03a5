import { zeroAddress, type Hex } from "viem";
import { publicClientFor } from "../chain/rpc";
import { wavsServiceManagerAbi } from "../chain/abi/wavs-service-manager";
import type { ChainSettings } from "../config";
import { recentHead } from "../submit/recent-head";

export type SignerStanding =
  | { registered: true; operator: Hex; weight: bigint }
  | { registered: false; reason: string };

/**
 * A standing is read at a recent block (recentHead: at most 1 s old). A standing read at block B
 * never goes stale (it is B's state); only which block counts as recent ages. Three
 * signers' submissions per event each cost two eth_calls per node otherwise (18 per event on three
 * nodes); at 20 events per second they now cost two per signer per second.
 */
const MAX_ENTRIES = 10_000;
const standings = new Map<string, Promise<SignerStanding>>();

/**
 * Looks the signing key up in the service manager: its latest operator and that operator's weight,
 * read at a recent block and kept per (manager, signer, block) in the isolate. A signer found
 * unregistered there is looked up again at the latest block before it is refused: a refusal is
 * final, and the signer may have registered in the newest block.
 * @throws on RPC failure (retryable)
 */
export async function readSignerStanding(chain: ChainSettings, manager: Hex, signer: Hex): Promise<SignerStanding> {
  const block = await recentHead(chain);
  const key = `${chain.key}:${manager.toLowerCase()}:${signer.toLowerCase()}:${block}`;
  let standing = standings.get(key);
  if (!standing) {
    if (standings.size >= MAX_ENTRIES) standings.clear();
    standing = readStandingAt(chain, manager, signer, block);
    standings.set(key, standing);
    standing.catch(() => standings.delete(key));
  }
  const found = await standing;
  return found.registered ? found : readStandingAt(chain, manager, signer, undefined);
}

async function readStandingAt(
  chain: ChainSettings,
  manager: Hex,
  signer: Hex,
  blockNumber: bigint | undefined,
): Promise<SignerStanding> {
  const client = publicClientFor(chain);
  const at = blockNumber === undefined ? {} : { blockNumber };
  const operator = await client.readContract({
    address: manager,
    abi: wavsServiceManagerAbi,
    functionName: "getLatestOperatorForSigningKey",
    args: [signer],
    ...at,
  });
  if (operator === zeroAddress) return { registered: false, reason: "the signer is not a registered signing key" };
  const weight = await client.readContract({
    address: manager,
    abi: wavsServiceManagerAbi,
    functionName: "getOperatorWeight",
    args: [operator],
    ...at,
  });
  if (weight === 0n) return { registered: false, reason: "the signer's operator has no weight" };
  return { registered: true, operator, weight };
}
