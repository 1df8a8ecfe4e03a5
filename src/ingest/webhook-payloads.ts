import { z } from "zod";
import type { Hex } from "viem";
import { WavsError } from "../util/errors";

/** What a webhook claims happened: a log and where. Verified against the node's RPC before use. */
export interface ClaimedLog {
  address: Hex;
  topics: Hex[];
  data: Hex;
  blockNumber: bigint;
  blockHash: Hex;
  transactionHash: Hex;
  logIndex: number;
}

export type WebhookFormat = "generic" | "alchemy" | "quicknode";

export class WebhookPayloadError extends WavsError {
  override name = "WebhookPayloadError";
  constructor(message: string) {
    super("invalid_payload", message, { status: 422 });
  }
}

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, "must be 0x hex");
const hash32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte 0x hash");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address");
/** JSON-RPC quantities are hex strings; indexers also send plain numbers or decimal strings. */
const quantity = z
  .union([z.string().regex(/^0x[0-9a-fA-F]+$/), z.string().regex(/^\d+$/), z.number().int().min(0)])
  .transform((v) => BigInt(v));

/** A standard JSON-RPC log object (eth_getLogs / receipts). Unknown fields are allowed. */
const rpcLog = z.looseObject({
  address,
  topics: z.array(hash32).max(4),
  data: hex,
  blockNumber: quantity,
  blockHash: hash32,
  transactionHash: hash32,
  logIndex: quantity,
  removed: z.boolean().optional(),
});

const genericBody = z.union([z.array(rpcLog), z.looseObject({ logs: z.array(rpcLog) })]);

/** Alchemy custom (GraphQL) webhook: logs under event.data.block.logs or block.transactions[].logs. */
const alchemyLog = z.looseObject({
  data: hex,
  topics: z.array(hash32).max(4),
  index: quantity,
  account: z.looseObject({ address }),
  transaction: z.looseObject({ hash: hash32 }).optional(),
});
const alchemyBody = z.looseObject({
  id: z.string().min(1).max(200),
  createdAt: z.string(),
  type: z.string(),
  event: z.looseObject({
    data: z.looseObject({
      block: z.looseObject({
        hash: hash32.optional(),
        number: quantity.optional(),
        logs: z.array(alchemyLog).optional(),
        transactions: z.array(z.looseObject({ hash: hash32, logs: z.array(alchemyLog).optional() })).optional(),
      }),
    }),
  }),
});

/**
 * QuickNode Streams: the `logs` dataset sends standard JSON-RPC logs, batched as a list (or a list
 * of per-block lists); the `receipts` dataset sends receipts that carry `logs`. Both are accepted,
 * bare or wrapped in `{data: …}`.
 */
function flattenQuickNode(body: unknown): unknown[] {
  const root =
    body && typeof body === "object" && !Array.isArray(body) && "data" in body
      ? (body as { data: unknown }).data
      : body;
  const out: unknown[] = [];
  const visit = (v: unknown, depth: number) => {
    if (depth > 3) throw new WebhookPayloadError("QuickNode payload nests too deeply");
    if (Array.isArray(v)) for (const item of v) visit(item, depth + 1);
    else if (v && typeof v === "object" && "logs" in v && Array.isArray((v as { logs: unknown }).logs))
      visit((v as { logs: unknown[] }).logs, depth + 1);
    else if (v !== null && v !== undefined) out.push(v);
  };
  visit(root, 0);
  return out;
}

function fail(result: { error: z.ZodError }, format: WebhookFormat): never {
  const issue = result.error.issues[0]!;
  throw new WebhookPayloadError(`${format} payload: ${issue.path.join(".") || "body"}: ${issue.message}`);
}

/** Delivery metadata some providers carry in the body (Alchemy: id and createdAt). */
export interface ParsedWebhook {
  logs: ClaimedLog[];
  deliveryId?: string;
  createdAt?: number;
}

/**
 * The logs a webhook body claims, in one shape.
 * @throws WebhookPayloadError naming the bad field
 */
export function parseWebhookBody(format: WebhookFormat, body: unknown): ParsedWebhook {
  if (format === "alchemy") {
    const parsed = alchemyBody.safeParse(body);
    if (!parsed.success) fail(parsed, format);
    const block = parsed.data.event.data.block;
    if (!block.hash || block.number === undefined) {
      if ((block.logs?.length ?? 0) + (block.transactions?.length ?? 0) > 0) {
        throw new WebhookPayloadError("alchemy payload: the GraphQL query must select block { hash number }");
      }
    }
    const fromLog = (l: z.output<typeof alchemyLog>, txHash: string | undefined): ClaimedLog => {
      if (!txHash) throw new WebhookPayloadError("alchemy payload: each log needs transaction { hash }");
      return {
        address: l.account.address.toLowerCase() as Hex,
        topics: l.topics.map((t) => t.toLowerCase() as Hex),
        data: l.data.toLowerCase() as Hex,
        blockNumber: block.number!,
        blockHash: block.hash!.toLowerCase() as Hex,
        transactionHash: txHash.toLowerCase() as Hex,
        logIndex: Number(l.index),
      };
    };
    const logs = [
      ...(block.logs ?? []).map((l) => fromLog(l, l.transaction?.hash)),
      ...(block.transactions ?? []).flatMap((tx) => (tx.logs ?? []).map((l) => fromLog(l, tx.hash))),
    ];
    const createdAt = Date.parse(parsed.data.createdAt);
    return { logs, deliveryId: parsed.data.id, ...(Number.isNaN(createdAt) ? {} : { createdAt }) };
  }
  let logs: z.output<typeof rpcLog>[];
  if (format === "quicknode") {
    const parsed = z.array(rpcLog).safeParse(flattenQuickNode(body));
    if (!parsed.success) fail(parsed, format);
    logs = parsed.data;
  } else {
    const parsed = genericBody.safeParse(body);
    if (!parsed.success) fail(parsed, format);
    logs = Array.isArray(parsed.data) ? parsed.data : parsed.data.logs;
  }
  return {
    logs: logs
      .filter((l) => l.removed !== true)
      .map((l) => ({
        address: l.address.toLowerCase() as Hex,
        topics: l.topics.map((t) => t.toLowerCase() as Hex),
        data: l.data.toLowerCase() as Hex,
        blockNumber: l.blockNumber,
        blockHash: l.blockHash.toLowerCase() as Hex,
        transactionHash: l.transactionHash.toLowerCase() as Hex,
        logIndex: Number(l.logIndex),
      })),
  };
}
