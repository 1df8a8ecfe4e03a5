import { DurableObject } from "cloudflare:workers";
import { BaseError, keccak256, RpcRequestError, type Hex, type LocalAccount } from "viem";
import { chainByKey, type ChainSettings } from "../config";
import { publicClientFor } from "../chain/rpc";
import { describeError, log } from "../log";
import { parseSubmitterCredential } from "../sign/signing-keys";
import { aggregatorSettings } from "../aggregate/peers";
import { readReceipt } from "./read-receipt";
import { capFees, checkSpend, SPEND_WINDOW_MS, spendingLimits, type SpendEntry } from "./spending-limits";
import { WavsError } from "../util/errors";

/** One transaction to send, named by the caller so that asking twice sends once. */
export interface SendRequest {
  requestId: string;
  chain: string;
  to: Hex;
  data: Hex;
  /** Gas limit (the caller's estimate × 1.25). */
  gas: bigint;
  /** A fixed gas price (the aggregator component's); else EIP-1559 fees from the chain. */
  gasPrice?: bigint;
  /**
   * The TaskAggregator (Durable Object id) that claimed this transaction, for a caller that must
   * make sure no one else sent the same thing. Then this object asks it to confirm its claim
   * before any broadcast made on stale knowledge (a first one after waiting in line, re-sending
   * bytes the pool dropped), and a nonce lost to a transaction it did not sign is reported, not
   * re-sent. Without a guard, a lost nonce is re-sent with a fresh one.
   */
  guardedBy?: string;
  /** When the guard decided to send (ms since the epoch): an older decision is confirmed again. */
  claimedAt?: number;
  /** The service the transaction is for: its spend per hour is held to SUBMIT_MAX_SPEND_WEI_PER_SERVICE_HOUR. */
  serviceId?: string;
}

export type SendOutcome =
  /** Not sent: the service's spend ceiling for the hour would be exceeded; ask again at retryAt. The nonce is free again. */
  | { state: "held"; reason: string; retryAt: number }
  /** The chain refused the first broadcast (e.g. insufficient funds for the fee): nothing was sent, the nonce is free again. */
  | { state: "refused"; reason: string }
  /** Its nonce went to a transaction this object did not sign (guarded requests): it can never land, and nothing else was sent. */
  | { state: "lost"; txHash: Hex; nonce: number }
  /**
   * The guard no longer confirmed its claim: nothing was sent, or (txHash) the transaction was
   * cancelled by a zero-value transfer to ourselves with its nonce, now mined, so it can never land.
   */
  | { state: "withdrawn"; txHash?: Hex; nonce?: number }
  /** `cancelling`: the live transaction is the cancelling transfer, not yet mined. */
  | { state: "pending"; txHash: Hex; nonce: number; replacements: number; cancelling?: boolean }
  | {
      state: "mined";
      txHash: Hex;
      success: boolean;
      blockNumber: bigint;
      gasUsed: bigint;
      nonce: number;
      replacements: number;
    };

interface RequestRecord {
  request: SendRequest;
  nonce: number;
  /** Every signed version of the transaction, oldest first; the last is the live one. */
  sent: { hash: Hex; raw: Hex; maxFeePerGas: string; maxPriorityFeePerGas: string; at: number; cancel?: true }[];
  outcome?: Extract<SendOutcome, { state: "mined" | "lost" | "withdrawn" }>;
  /** When the key's nonce count was first seen past ours with no receipt of ours (see NONCE_GONE_CONFIRM_MS). */
  nonceGoneAt?: number;
}

/**
 * How long the key's nonce must stay used with no receipt of ours before our transaction counts as
 * lost. The count and the receipt can come from views a moment apart (anvil's automine updates the
 * count first; an RPC behind a load balancer): bench:e2e saw a transaction reported lost 7 ms after
 * it was mined, and a re-send there would be a second transaction.
 */
const NONCE_GONE_CONFIRM_MS = 3_000;

/** The cancelling transaction: a plain transfer of nothing to ourselves. */
const CANCEL_GAS = 21_000n;

/** How long a transaction may stay unmined before it is replaced with bumped fees. */
const DEFAULT_STUCK_AFTER_MS = 30_000;
/** Each replacement raises both fees by a quarter (nodes require ≥ 10 %). */
const BUMP_NUMERATOR = 5n;
const BUMP_DENOMINATOR = 4n;
/** Replacements stop at this multiple of the first fees. */
const FEE_CAP_MULTIPLE = 8n;

/**
 * One per (chain, submitting key): serialises that key's transactions. It persists the next nonce
 * and every signed transaction (hash and raw bytes) before broadcasting, so a restart re-broadcasts
 * or finds the receipt instead of sending again; it replaces a stuck transaction with bumped fees up
 * to a cap, and when the nonce was consumed by a transaction it did not sign (the same key used
 * elsewhere) it re-sends with a fresh nonce. A guarded request (see SendRequest.guardedBy) whose
 * claim is no longer confirmed is withdrawn; once signed, its nonce is filled by a cancelling
 * transfer, so the key never stalls behind a gap and the old bytes can never land.
 */
export class ChainSubmitter extends DurableObject<Env> {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs fn after every earlier call has finished: one nonce decision at a time. */
  private serialise<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  /**
   * Sends the request's transaction once (a repeated requestId returns the same transaction).
   * @throws when the chain refuses the transaction for a reason other than its nonce
   */
  send(request: SendRequest): Promise<SendOutcome> {
    return this.serialise(async () => {
      const existing = await this.ctx.storage.get<RequestRecord>(`req:${request.requestId}`);
      if (existing) return this.inspect(existing);
      // The line may have been long (a saturated node): what the guard decided may be stale.
      // Half a grace period: well before any standby could decide that the guard's node is gone.
      const stale =
        request.claimedAt !== undefined && Date.now() - request.claimedAt > aggregatorSettings(this.env).graceMs / 2;
      if (stale && !(await this.claimConfirmed(request))) {
        log("info", "claim withdrawn before sending", { subsys: "submit", request_id: request.requestId });
        return { state: "withdrawn" };
      }
      const chain = await chainByKey(this.env, request.chain);
      const record: RequestRecord = { request, nonce: await this.takeNonce(chain), sent: [] };
      try {
        await this.signAndBroadcast(chain, record);
      } catch (e) {
        if (e instanceof SpendHeldError) {
          // Nothing was stored or sent: give the nonce back (calls are serialised).
          if ((await this.ctx.storage.get<number>("next-nonce")) === record.nonce + 1)
            await this.ctx.storage.put("next-nonce", record.nonce);
          log("warn", "transaction held: the service's spend ceiling", {
            subsys: "submit",
            request_id: request.requestId,
            service_id: request.serviceId,
            reason: e.message,
          });
          return { state: "held", reason: e.message, retryAt: e.retryAt };
        }
        if (!isNodeRefusal(e)) throw e; // maybe sent (a timeout): the stored record finds out later
        // The node answered no: the transaction is nowhere, so forget it and give the nonce back
        // (calls are serialised, so nobody took a later one meanwhile).
        await this.ctx.storage.delete(`req:${request.requestId}`);
        if ((await this.ctx.storage.get<number>("next-nonce")) === record.nonce + 1)
          await this.ctx.storage.put("next-nonce", record.nonce);
        const reason = describeError(e);
        log("warn", "transaction refused by the chain", {
          subsys: "submit",
          request_id: request.requestId,
          error: reason,
        });
        return { state: "refused", reason };
      }
      return this.inspect(record);
    });
  }

  /** Where the request's transaction stands; replaces it when stuck. @throws on RPC failure */
  check(requestId: string): Promise<SendOutcome | undefined> {
    return this.serialise(async () => {
      const record = await this.ctx.storage.get<RequestRecord>(`req:${requestId}`);
      return record && this.inspect(record);
    });
  }

  /** Asks the request's guard whether it still holds its claim. @throws when it cannot tell (retried) */
  private async claimConfirmed(request: SendRequest): Promise<boolean> {
    if (!request.guardedBy) return true;
    const guard = this.env.TASK_AGGREGATOR.get(this.env.TASK_AGGREGATOR.idFromString(request.guardedBy));
    return guard.confirmClaim();
  }

  private account(): LocalAccount {
    return parseSubmitterCredential(this.env.WAVS_AGGREGATOR_EVM_CREDENTIAL);
  }

  /** The next nonce: the larger of ours and the chain's pending count (someone else may use the key). */
  private async takeNonce(chain: ChainSettings): Promise<number> {
    const client = publicClientFor(chain);
    const onchain = await client.getTransactionCount({ address: this.account().address, blockTag: "pending" });
    const stored = (await this.ctx.storage.get<number>("next-nonce")) ?? 0;
    const nonce = Math.max(stored, onchain);
    await this.ctx.storage.put("next-nonce", nonce + 1);
    return nonce;
  }

  /**
   * Signs the next version of the transaction (the first; a fee bump of the live one; or the
   * cancelling transfer, which outbids the live one), persists it, then broadcasts it.
   */
  private async signAndBroadcast(
    chain: ChainSettings,
    record: RequestRecord,
    version: "first" | "bump" | "cancel" = "first",
  ): Promise<void> {
    const client = publicClientFor(chain);
    const { request } = record;
    const limits = spendingLimits(this.env);
    let maxFeePerGas: bigint;
    let maxPriorityFeePerGas: bigint;
    const last = record.sent.at(-1);
    if (version !== "first" && last) {
      const bump = (fee: string) => (BigInt(fee) * BUMP_NUMERATOR) / BUMP_DENOMINATOR + 1n;
      // A replacement stays under the cap; a cancellation must outbid whatever is out there.
      const cap = (fee: string, first: string) =>
        version === "cancel" ? bump(fee) : min(bump(fee), BigInt(first) * FEE_CAP_MULTIPLE);
      const first = record.sent[0]!;
      maxFeePerGas = cap(last.maxFeePerGas, first.maxFeePerGas);
      maxPriorityFeePerGas = cap(last.maxPriorityFeePerGas, first.maxPriorityFeePerGas);
      // A bump stays under the operator's price ceiling. A cancellation (21,000 gas) does not: it
      // must outbid the live bytes, or they could land after a standby's transaction.
      if (version === "bump")
        ({ maxFeePerGas, maxPriorityFeePerGas } = capFees(limits, { maxFeePerGas, maxPriorityFeePerGas }));
      if (maxFeePerGas <= BigInt(last.maxFeePerGas)) return; // at the cap: wait, do not spam
    } else if (request.gasPrice !== undefined) {
      // The caller checked it against the ceiling (exceedsCeiling) before asking.
      maxFeePerGas = maxPriorityFeePerGas = request.gasPrice;
    } else {
      ({ maxFeePerGas, maxPriorityFeePerGas } = capFees(limits, await client.estimateFeesPerGas()));
    }
    const cancel = version === "cancel" || last?.cancel === true;
    // What this version may cost at the most, beyond what the live one already committed.
    const committed = cancel
      ? 0n
      : request.gas * maxFeePerGas - (last && !last.cancel ? request.gas * BigInt(last.maxFeePerGas) : 0n);
    const spendKey = request.serviceId ? `spend:${request.serviceId}` : undefined;
    let spend: SpendEntry[] = [];
    if (spendKey && committed > 0n) {
      const now = Date.now();
      spend = ((await this.ctx.storage.get<SpendEntry[]>(spendKey)) ?? []).filter((e) => now - e.at < SPEND_WINDOW_MS);
      const verdict = checkSpend(limits, spend, committed, now);
      if (!verdict.ok && version === "first") throw new SpendHeldError(verdict.reason, verdict.retryAt);
      if (!verdict.ok) return; // a bump waits for the window, like one at the fee cap
    }
    const self = this.account().address;
    const raw = await this.account().signTransaction({
      type: "eip1559",
      chainId: Number(chain.chain_id),
      nonce: record.nonce,
      ...(cancel ? { to: self, value: 0n, gas: CANCEL_GAS } : { to: request.to, data: request.data, gas: request.gas }),
      maxFeePerGas,
      maxPriorityFeePerGas,
    });
    const hash = keccak256(raw);
    record.sent.push({
      hash,
      raw,
      maxFeePerGas: maxFeePerGas.toString(),
      maxPriorityFeePerGas: maxPriorityFeePerGas.toString(),
      at: Date.now(),
      ...(cancel ? { cancel: true as const } : {}),
    });
    // Persisted before it leaves: after a restart the hash is known and nothing is signed twice blind.
    await this.ctx.storage.put(`req:${request.requestId}`, record);
    if (spendKey && committed > 0n)
      await this.ctx.storage.put(spendKey, [...spend, { at: Date.now(), wei: committed.toString() }]);
    await this.broadcast(chain, raw);
    log(
      "info",
      version === "cancel" ? "transaction cancelled" : version === "bump" ? "transaction replaced" : "transaction sent",
      {
        subsys: "submit",
        request_id: request.requestId,
        tx_hash: hash,
        nonce: record.nonce,
      },
    );
  }

  private async broadcast(chain: ChainSettings, raw: Hex): Promise<void> {
    try {
      await publicClientFor(chain).sendRawTransaction({ serializedTransaction: raw });
    } catch (e) {
      const message = describeError(e).toLowerCase();
      // Already in the pool, or mined meanwhile: inspect() sorts it out from the receipts.
      if (message.includes("already known") || message.includes("nonce too low") || message.includes("replacement"))
        return;
      throw e;
    }
  }

  /**
   * Receipts first; then a consumed nonce (reported, or re-sent), a transaction gone from the pool
   * (the same bytes again once the guard confirms, else cancelled) or a stuck one (bumped).
   */
  private async inspect(record: RequestRecord): Promise<SendOutcome> {
    if (record.outcome) return record.outcome;
    const chain = await chainByKey(this.env, record.request.chain);
    const client = publicClientFor(chain);
    const found = await this.findReceipt(client, record);
    if (found) return found;
    const live = record.sent.at(-1)!;
    const mined = await client.getTransactionCount({ address: this.account().address, blockTag: "latest" });
    // Our transaction may have been mined between the receipt lookups and the count: look again.
    if (mined > record.nonce && (await this.findReceipt(client, record))) return record.outcome!;
    if (mined > record.nonce) record.nonceGoneAt ??= Date.now();
    if (mined > record.nonce && Date.now() - record.nonceGoneAt! < NONCE_GONE_CONFIRM_MS) {
      await this.ctx.storage.put(`req:${record.request.requestId}`, record); // pending: look again later
    } else if (mined > record.nonce && record.request.guardedBy) {
      log("warn", "nonce consumed elsewhere; reported as lost", {
        subsys: "submit",
        request_id: record.request.requestId,
        nonce: record.nonce,
      });
      record.outcome = { state: "lost", txHash: live.hash, nonce: record.nonce };
      await this.ctx.storage.put(`req:${record.request.requestId}`, record);
      return record.outcome;
    } else if (mined > record.nonce) {
      // The nonce went to a transaction we did not sign: ours can never land. Send again, fresh nonce.
      log("warn", "nonce consumed elsewhere; re-sending", {
        subsys: "submit",
        request_id: record.request.requestId,
        nonce: record.nonce,
      });
      record.nonce = await this.takeNonce(chain);
      record.sent = [];
      record.nonceGoneAt = undefined;
      await this.signAndBroadcast(chain, record);
    } else if (!(await client.getTransaction({ hash: live.hash }).catch(() => undefined))) {
      // Dropped from the pool (or never arrived). Meanwhile a standby may have taken over: the
      // same bytes go out again only if the guard still holds its claim.
      if (live.cancel || (await this.claimConfirmed(record.request))) await this.broadcast(chain, live.raw);
      else await this.signAndBroadcast(chain, record, "cancel");
    } else if (Date.now() - live.at > this.stuckAfterMs()) {
      await this.signAndBroadcast(chain, record, "bump");
    }
    const current = record.sent.at(-1)!;
    return {
      state: "pending",
      txHash: current.hash,
      nonce: record.nonce,
      replacements: Math.max(0, record.sent.length - 1),
      ...(current.cancel ? { cancelling: true } : {}),
    };
  }

  private async findReceipt(
    client: ReturnType<typeof publicClientFor>,
    record: RequestRecord,
  ): Promise<SendOutcome | undefined> {
    for (const sent of [...record.sent].reverse()) {
      const receipt = await readReceipt(client, sent.hash);
      if (receipt && sent.cancel) {
        log("info", "cancelling transaction mined", {
          subsys: "submit",
          request_id: record.request.requestId,
          tx_hash: sent.hash,
          nonce: record.nonce,
        });
        record.outcome = { state: "withdrawn", txHash: sent.hash, nonce: record.nonce };
        await this.ctx.storage.put(`req:${record.request.requestId}`, record);
        return record.outcome;
      }
      if (receipt) {
        record.outcome = {
          state: "mined",
          txHash: sent.hash,
          success: receipt.status === "success",
          blockNumber: receipt.blockNumber,
          gasUsed: receipt.gasUsed,
          nonce: record.nonce,
          replacements: Math.max(0, record.sent.length - 1),
        };
        await this.ctx.storage.put(`req:${record.request.requestId}`, record);
        return record.outcome;
      }
    }
    return undefined;
  }

  private stuckAfterMs(): number {
    const raw = (this.env as unknown as Record<string, string | undefined>).TX_STUCK_AFTER_MS;
    const n = Number(raw?.trim() || DEFAULT_STUCK_AFTER_MS);
    return Number.isInteger(n) && n > 0 ? n : DEFAULT_STUCK_AFTER_MS;
  }
}

/** The service's spend ceiling would be exceeded: nothing signed, stored or sent. */
class SpendHeldError extends WavsError {
  override name = "SpendHeldError";
  constructor(
    message: string,
    readonly retryAt: number,
  ) {
    super("spend_held", message, { retryable: true });
  }
}

/** The RPC node answered with an error (as opposed to not answering, when the transaction may have gone out). */
function isNodeRefusal(e: unknown): boolean {
  return e instanceof BaseError && e.walk((x) => x instanceof RpcRequestError) instanceof RpcRequestError;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
