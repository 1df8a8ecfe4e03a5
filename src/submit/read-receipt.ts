import { TransactionReceiptNotFoundError, type Hex, type TransactionReceipt } from "viem";
import type { publicClientFor } from "../chain/rpc";

/**
 * The transaction's receipt, or undefined when the node has none (not mined, or unknown).
 * Only that answer means "not mined": an RPC failure read the same way made a mined transaction
 * look lost (and a landing elsewhere look absent) under load, and led to a second transaction.
 * @throws on any other RPC failure
 */
export async function readReceipt(
  client: ReturnType<typeof publicClientFor>,
  hash: Hex,
): Promise<TransactionReceipt | undefined> {
  try {
    return await client.getTransactionReceipt({ hash });
  } catch (e) {
    if (e instanceof TransactionReceiptNotFoundError) return undefined;
    throw e;
  }
}
