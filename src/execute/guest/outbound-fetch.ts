/**
 * The guest's fetch (what wasi:http's outgoing-handler calls): requests leave through the worker's
 * globalOutbound, the node's OutboundGate. A refusal by the gate becomes a rejected fetch, which
 * the component sees as `error-code::internal-error(<the gate's message>)`.
 */
import { GATE_REFUSAL_HEADER } from "../outbound-policy";

const fetchThroughGate = globalThis.fetch.bind(globalThis);

globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const response = await fetchThroughGate(input, init);
  if (response.status === 403 && response.headers.get(GATE_REFUSAL_HEADER) === "refused") {
    throw new TypeError(await response.text());
  }
  return response;
};
