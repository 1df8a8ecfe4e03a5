import type { AggregatorSettings } from "../aggregate/peers";
import type { Submit } from "./types";

/**
 * What the node does with a workflow's signed results, in words: every node aggregates, and PEERS
 * (not the service JSON) says which nodes. Shown by `GET /services` and the dashboard.
 */
export function describeSubmit(submit: Submit, settings: Pick<AggregatorSettings, "peers">): string {
  if (submit === "none") return "none (results are not submitted)";
  const unprefixed = submit.aggregator.signature_kind.prefix === null ? ", unprefixed signatures" : "";
  const n = settings.peers.length;
  if (n === 0) return `aggregated by this node alone (PEERS is empty)${unprefixed}`;
  return `aggregated by PEERS (${n} node${n === 1 ? "" : "s"})${unprefixed}`;
}
