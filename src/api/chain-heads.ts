import { publicClientFor } from "../chain/rpc";
import { nodeChains } from "../config";

/** A dead RPC must not stall a page or a scrape: heads not known by then count as down. */
const HEAD_TIMEOUT_MS = 3_000;

/** Each configured chain's head block, or null when its RPC did not answer in time. */
export async function readChainHeads(env: Env): Promise<{ chain: string; head: bigint | null }[]> {
  return Promise.all(
    (await nodeChains(env)).map(async (chain) => {
      const head = await Promise.race([
        publicClientFor(chain).getBlockNumber().catch(() => null),
        new Promise<null>((r) => setTimeout(() => r(null), HEAD_TIMEOUT_MS)),
      ]);
      return { chain: chain.key, head };
    }),
  );
}
