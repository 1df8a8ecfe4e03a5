/** What the aggregation tests share: polling, the operators' devnet keys and hand-made submissions. */
import { createPublicClient, decodeFunctionData, http, type Address, type Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { wavsHandlerAbi } from "../../src/chain/wavs-abi";
import { buildEnvelope, signEnvelope, type Envelope } from "../../src/sign/envelope";
import { computeEventId } from "../../src/service/event-id";
import { DEVNET_OPERATOR_MNEMONICS, type RunningDevnet } from "../../devnet/index";

/** Calls `fn` until `ok` holds for its answer (errors count as not yet).
 * @throws Error with the last answer after `timeoutMs` */
export async function eventually<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 60_000,
  intervalMs = 300,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch {}
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

/** The signing key node i registered: its public devnet mnemonic at the hd index that matches. */
export function operatorKey(devnet: RunningDevnet["devnet"], i = 0) {
  const want = devnet.nodes[i]!.signing_address.toLowerCase();
  for (let index = 0; index < 8; index++) {
    const account = mnemonicToAccount(DEVNET_OPERATOR_MNEMONICS[i]!, { addressIndex: index });
    if (account.address.toLowerCase() === want) return account;
  }
  throw new Error(`no key for node ${i}`);
}

/**
 * A hand-made event of the devnet's workflow: the event id a response with event_id_salt
 * `[saltByte]` derives (nodes recompute it, so it cannot be made up).
 */
export function saltedEventId(devnet: RunningDevnet["devnet"], saltByte: number): Uint8Array {
  return computeEventId(devnet.service.id, devnet.service.workflow_id, Uint8Array.of(saltByte));
}

/** Signs `payload` under the event id of salt `[eventByte]` (saltedEventId) with node 0's key and POSTs
 * it to node 0 as WAVS's Submission JSON (a manual trigger of the devnet's service). */
export async function postSignedSubmission(
  devnet: RunningDevnet["devnet"],
  eventByte: number,
  payload: Hex,
): Promise<{ res: Response; envelope: Envelope }> {
  const envelope = buildEnvelope(saltedEventId(devnet, eventByte), Buffer.from(payload.slice(2), "hex"), null);
  const signature = await signEnvelope(operatorKey(devnet), envelope);
  const bytes = (h: Hex) => Array.from(Buffer.from(h.slice(2), "hex"));
  const res = await fetch(`${devnet.nodes[0]!.url}/aggregator/submissions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      trigger_action: {
        config: { service_id: devnet.service.id, workflow_id: devnet.service.workflow_id, trigger: "manual" },
        data: { Raw: [] },
      },
      operator_response: { payload: bytes(payload), ordering: null, event_id_salt: [eventByte] },
      event_id: envelope.eventId.slice(2),
      envelope,
      envelope_signature: {
        algorithm: "secp256k1",
        data: bytes(signature),
        kind: { algorithm: "secp256k1", prefix: "eip191" },
      },
    }),
  });
  return { res, envelope };
}

/** Every transaction sent to the devnet's handler (or `handler`), read from the chain itself, by the envelope's event id (lower case). */
export async function readHandlerTxsByEvent(
  devnet: RunningDevnet["devnet"],
  handler: Address = devnet.contracts.submit,
): Promise<Map<string, Hex[]>> {
  const client = createPublicClient({ transport: http(devnet.chain.rpc_url) });
  const latest = await client.getBlockNumber();
  const byEvent = new Map<string, Hex[]>();
  for (let n = 0n; n <= latest; n++) {
    const block = await client.getBlock({ blockNumber: n, includeTransactions: true });
    for (const tx of block.transactions) {
      if (tx.to?.toLowerCase() !== handler.toLowerCase()) continue;
      const call = decodeFunctionData({ abi: wavsHandlerAbi, data: tx.input });
      const eventId = (call.args![0] as { eventId: Hex }).eventId.toLowerCase();
      byEvent.set(eventId, [...(byEvent.get(eventId) ?? []), tx.hash]);
    }
  }
  return byEvent;
}

/** Every transaction sent to the devnet's handler for one event, from the chain itself. */
export async function readHandlerTxs(devnet: RunningDevnet["devnet"], eventId: string): Promise<Hex[]> {
  return (await readHandlerTxsByEvent(devnet)).get(eventId.toLowerCase()) ?? [];
}
