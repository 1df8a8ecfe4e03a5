import { iWavsServiceHandlerAbi } from "./abi/i-wavs-service-handler";
import { iWavsServiceManagerAbi } from "./abi/i-wavs-service-manager";

/**
 * What the node calls on a service handler and its manager. The manager's errors surface through
 * the handler's `handleSignedEnvelope`, so one merged ABI decodes both.
 */
export const wavsHandlerAbi = [...iWavsServiceHandlerAbi, ...iWavsServiceManagerAbi] as const;
