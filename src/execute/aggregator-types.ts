/**
 * The aggregator world (wavs:aggregator@2.6.0) in the node's own shapes: what an aggregator
 * component is given and what it may ask for.
 */
import type { Hex, TriggerAction, WasmResponse } from "../service/types";

/** One operator's response to aggregate, and the id of the envelope it belongs to. */
export interface AggregatorInput {
  action: TriggerAction;
  response: WasmResponse;
  /** 20 bytes; what the component's `host.get-event-id()` answers */
  eventId: Hex;
}

/** What an aggregator component asks the node to do next. */
export type AggregatorAction =
  /** call handle-timer-callback with the same input after the delay */
  | { timer: { delay_ms: number } }
  /** submit the quorum's envelope to `address` on `chain`; gas_price in wei, null for the node's estimate */
  | { submit: { evm: { chain: string; address: Hex; gas_price: bigint | null } } };

/** Which aggregator export to call. */
export type AggregatorCall =
  | { fn: "process-input"; input: AggregatorInput }
  | { fn: "handle-timer-callback"; input: AggregatorInput }
  | { fn: "handle-submit-callback"; input: AggregatorInput; txResult: { ok: Hex } | { err: string } };
