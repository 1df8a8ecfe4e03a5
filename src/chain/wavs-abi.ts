import { iWavsServiceHandlerAbi } from "./abi/i-wavs-service-handler";
import { iWavsServiceManagerAbi } from "./abi/i-wavs-service-manager";
import { wavsServiceManagerAbi } from "./abi/wavs-service-manager";

const interfaceErrors = new Set<string>(iWavsServiceManagerAbi.filter((x) => x.type === "error").map((x) => x.name));

/** Errors our WavsServiceManager declares beyond the interface (SignerNotRegistered, …). */
const managerOnlyErrors = wavsServiceManagerAbi.filter(
  (x): x is Extract<(typeof wavsServiceManagerAbi)[number], { type: "error" }> =>
    x.type === "error" && !interfaceErrors.has(x.name),
);

/**
 * What the node calls on a service handler and its manager. The manager's errors surface through
 * the handler's `handleSignedEnvelope`, so one merged ABI decodes both (the interface's errors and
 * those our manager adds).
 */
export const wavsHandlerAbi = [...iWavsServiceHandlerAbi, ...iWavsServiceManagerAbi, ...managerOnlyErrors] as const;
