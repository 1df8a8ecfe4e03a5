/** Chains for workerd tests that need the node to know a chain. */
import { env } from "cloudflare:test";
import { chainFromAddRequest, saveAddedChain } from "../../src/config";

/**
 * Saves a chain as POST /dev/chains would, without its eth_chainId check: a chain whose RPC has
 * stopped answering since it was added (e.g. port 9, where nothing listens). False when known.
 */
export async function addChainWithoutCheck(chainId: number, httpEndpoint = "http://127.0.0.1:9"): Promise<boolean> {
  const chain = chainFromAddRequest({
    chain: `evm:${chainId}`,
    config: { evm: { chain_id: String(chainId), http_endpoint: httpEndpoint, confirmations: 0, poll_range: 500 } },
  });
  return saveAddedChain(env, chain); // false when already known
}
