/**
 * Before a chain added at run time is saved, each of its RPC endpoints must be an allowed address
 * and answer `eth_chainId` with the id its key names: a typo or a hostile endpoint would otherwise
 * feed the poller another chain's logs.
 */
import { fetchBounded } from "../service/sources/bounded-fetch";
import { WavsError } from "../util/errors";
import { redactRpcUrl } from "./rpc";

/** Deadline for one endpoint's eth_chainId answer. */
export const CHAIN_ID_TIMEOUT_MS = 10_000;
const MAX_RPC_ANSWER_BYTES = 64 * 1024;

/**
 * @throws WavsError 422 `chain_id_mismatch`, 502 `chain_unreachable` (not a chain id); ServiceError
 *   422 `chain_not_allowed` (scheme or private address), 502 `chain_unreachable` (no answer, an error)
 */
export async function checkRpcChainId(rpcUrl: string, expectedChainId: string, allowPrivate: boolean): Promise<void> {
  const what = `RPC endpoint ${redactRpcUrl(rpcUrl)}`;
  // fetch() refuses URLs with credentials: send them as Basic auth, as viem does.
  const url = new URL(rpcUrl);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (url.username || url.password) {
    headers.authorization = `Basic ${btoa(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`)}`;
    url.username = "";
    url.password = "";
  }
  const bytes = await fetchBounded(url.href, {
    maxBytes: MAX_RPC_ANSWER_BYTES,
    timeoutMs: CHAIN_ID_TIMEOUT_MS,
    code: "chain",
    what,
    allowPrivate,
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
  });
  let result: unknown;
  try {
    result = (JSON.parse(new TextDecoder().decode(bytes)) as { result?: unknown }).result;
  } catch {}
  if (typeof result !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(result)) {
    throw new WavsError("chain_unreachable", `${what} did not answer eth_chainId with a chain id`, {
      status: 502,
      retryable: true,
    });
  }
  const actual = BigInt(result).toString();
  if (actual !== expectedChainId) {
    throw new WavsError("chain_id_mismatch", `${what} is chain ${actual}, not ${expectedChainId}`, { status: 422 });
  }
}
