/**
 * The devnet: anvil, the demo contracts and N wavs-edge nodes under `wrangler dev`. What
 * `wavs-edge devnet` (and `npm start`) runs, and the harness the node tests import, all from here.
 */
export * from "./anvil";
export * from "./deploy-contracts";
export * from "./devnet";
export * from "./json-rpc-log";
export * from "./node-process";
export * from "./wait-for-result";
export { simpleSubmitAbi, simpleSubmitBytecode } from "./contracts/simple-submit";
export { simpleTriggerAbi, simpleTriggerBytecode } from "./contracts/simple-trigger";
export { wavsServiceManagerAbi, wavsServiceManagerBytecode } from "./contracts/wavs-service-manager";
