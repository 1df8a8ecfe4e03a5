import { sql } from "drizzle-orm";
import type { Address } from "viem";
import type { ChainSettings } from "../config";
import type { Db } from "../db/client";
import { payerBalances } from "../db/schema";
import { parseSubmitterCredential } from "../sign/signing-keys";
import { publicClientFor } from "./rpc";

/** A slow RPC must not hold the poll: the balance is read again next poll. */
const BALANCE_TIMEOUT_MS = 3_000;
/** An unchanged balance is written again only after this long, so a quiet chain costs no D1 write per poll. */
const UNCHANGED_REWRITE_MS = 60_000;

let payer: { credential: string; address: Address | undefined } | undefined;

/** The paying key's address (WAVS_AGGREGATOR_EVM_CREDENTIAL), derived once per isolate; undefined when unset or invalid. */
export function payerAddress(env: Pick<Env, "WAVS_AGGREGATOR_EVM_CREDENTIAL">): Address | undefined {
  const credential = env.WAVS_AGGREGATOR_EVM_CREDENTIAL ?? "";
  if (payer?.credential !== credential) {
    let address: Address | undefined;
    try {
      address = credential ? parseSubmitterCredential(credential).address : undefined;
    } catch {
      address = undefined; // the submitter reports a bad credential where it is used
    }
    payer = { credential, address };
  }
  return payer.address;
}

/** Per isolate: what this isolate last wrote per chain, to skip rewriting an unchanged balance. */
const written = new Map<string, { address: string; wei: bigint; at: number }>();

/**
 * Reads the paying key's balance on the chain (bounded by BALANCE_TIMEOUT_MS) and records it in D1
 * for /metrics and the alert rules; the poller calls it once per chain per poll.
 * @returns the balance in wei
 * @throws when the RPC fails or times out, or D1 does (the caller logs it; polling goes on)
 */
export async function recordPayerBalance(
  db: Db,
  chain: ChainSettings,
  address: Address,
  now = Date.now(),
): Promise<bigint> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const wei = await Promise.race([
    publicClientFor(chain).getBalance({ address }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the RPC did not answer within ${BALANCE_TIMEOUT_MS / 1000} s`)),
        BALANCE_TIMEOUT_MS,
      );
    }),
  ]).finally(() => timer !== undefined && clearTimeout(timer));
  const last = written.get(chain.key);
  const lower = address.toLowerCase();
  if (last && last.address === lower && last.wei === wei && now - last.at < UNCHANGED_REWRITE_MS) return wei;
  const row = { address: lower, balanceWei: wei.toString(), readAt: now };
  await db
    .insert(payerBalances)
    .values({ chain: chain.key, ...row })
    .onConflictDoUpdate({ target: payerBalances.chain, set: row, setWhere: sql`${payerBalances.readAt} <= ${now}` });
  written.set(chain.key, { address: lower, wei, at: now });
  return wei;
}
