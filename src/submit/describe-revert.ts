import { BaseError, ContractFunctionRevertedError } from "viem";
import { describeError } from "../log";

/**
 * A one-line reason for a failed contract call: the decoded custom error and its arguments when
 * the ABI knows it (call with wavsHandlerAbi, which includes the manager's errors), else viem's
 * short message. Never contains an RPC URL.
 */
export function describeRevert(e: unknown): string {
  if (e instanceof BaseError) {
    const revert = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError && revert.data?.errorName) {
      const args = (revert.data.args ?? []).map((a) => (typeof a === "bigint" ? a.toString() : String(a)));
      return `${revert.data.errorName}(${args.join(", ")})`;
    }
    if (revert instanceof ContractFunctionRevertedError && revert.reason) return revert.reason;
  }
  return describeError(e);
}

/** Whether the failure is the contract saying no (final), rather than the RPC failing (transient). */
export function isContractRevert(e: unknown): boolean {
  return (
    e instanceof BaseError &&
    e.walk((x) => x instanceof ContractFunctionRevertedError) instanceof ContractFunctionRevertedError
  );
}
