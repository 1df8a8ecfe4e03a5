import type { Hex } from "viem";
import { publicClientFor } from "../chain/rpc";
import { wavsHandlerAbi } from "../chain/wavs-abi";
import type { ChainSettings } from "../config";

/**
 * Why a submit target is not the service's to use, or undefined when it is: the handler must be
 * on the chain of the service's registered manager and answer that very manager from
 * getServiceManager(). Otherwise a component could point the operator's paying key at any
 * contract, and the quorum preflight would ask a manager of its own choosing.
 */
export function checkSubmitTarget(
  target: { chain: string; handler: Hex },
  handlerManager: Hex,
  serviceManager: { chain: string; address: string },
): string | undefined {
  if (target.chain !== serviceManager.chain) {
    return `the handler is on ${target.chain}, the service's manager on ${serviceManager.chain}`;
  }
  if (handlerManager.toLowerCase() !== serviceManager.address.toLowerCase()) {
    return `handler ${target.handler} answers service manager ${handlerManager.toLowerCase()}, not the service's ${serviceManager.address.toLowerCase()}`;
  }
  return undefined;
}

/** How long a handler's getServiceManager() answer is reused (a handler behind a proxy may change it). */
const MANAGER_TTL_MS = 10 * 60_000;
const managers = new Map<string, { manager: Hex; at: number }>();

/**
 * The handler's getServiceManager(), read once per isolate and TTL.
 * @throws on RPC failure or a revert (not a handler)
 */
export async function readHandlerManager(chain: ChainSettings, handler: Hex): Promise<Hex> {
  const key = `${chain.key}:${handler.toLowerCase()}`;
  const hit = managers.get(key);
  if (hit && Date.now() - hit.at < MANAGER_TTL_MS) return hit.manager;
  const manager = (await publicClientFor(chain).readContract({
    address: handler,
    abi: wavsHandlerAbi,
    functionName: "getServiceManager",
  })) as Hex;
  if (managers.size > 10_000) managers.clear();
  managers.set(key, { manager, at: Date.now() });
  return manager;
}
