import { DurableObject } from "cloudflare:workers";
import { BaseError, keccak256, RpcRequestError, TransactionNotFoundError, type LocalAccount } from "viem";
import { aggregatorSettings } from "../aggregate/peers";
import { publicClientFor } from "../chain/rpc";
import { chainByKey, type ChainSettings } from "../config";
import { describeError, log } from "../log";
import { parseSubmitterCredential } from "../sign/signing-keys";
import { CoalescedRun } from "./coalesced-run";
import { readReceipt } from "./read-receipt";
import type { RequestRecord, SendOutcome, SendRequest, SentVersion } from "./send-request";
import { capFees, checkSpend, SPEND_WINDOW_MS, type SpendEntry, spendingLimits } from "./spending-limits";
import { submitterSettings } from "./submitter-settings";
import {
  type ChainView,
  committedWei,
  decideTransaction,
  type Fees,
  nextFees,
  outcomeOf,
  type TxStep,
} from "./transaction-decisions";

// The aggregator imports the request and outcome types from here.
export type { SendOutcome, SendRequest } from "./send-request";

/** The cancelling transaction: a plain transfer of nothing to ourselves. */
const CANCEL_GAS = 21_000n;
/** Times a first send whose nonce the chain calls taken is given a fresh one, at most. */
const NONCE_RETRIES = 3;
/** The object's own sweep runs this often at least while anything is unsettled (callers' checks run it sooner). */
const ALARM_MIN_MS = 1_000;

type Refusal = "funds" | "fee" | "nonce" | "gap" | "other";

/**
 * One per (chain, submitting key): that key's transactions, several in flight at once. Only what
 * must be ordered waits in line (the `line`): handing out the nonce (the chain's count is read on
 * first use, after a restart, or when a send says the nonce is taken), signing, persisting, and the
 * broadcast. Fees are read outside it (cached SUBMIT_FEE_TTL_MS), and receipts are looked for by
 * one sweep of every unsettled transaction at a time (a nonce count, then a receipt only for the
 * mined), shared by concurrent checks and reused for SUBMIT_SWEEP_MS; the object's alarm sweeps
 * too while anything is unsettled, so a restart re-broadcasts or finds the receipt without being
 * asked. What the sweep saw decides each transaction's next step (transaction-decisions.ts):
 * persisted before broadcast, nothing is ever signed twice blind; a stuck one is replaced with
 * bumped fees up to a cap; one out of the pool goes out again, or, when its guard's claim is stale,
 * its nonce is filled by a cancelling transfer (the key never stalls behind a gap and the old bytes
 * can never land); a nonce consumed by a transaction it did not sign is reported (guarded) or
 * re-sent with a fresh one. A send the chain refuses takes nothing: the broadcast is the last step
 * in line, so no later nonce was handed out and the nonce is simply given back.
 */
export class ChainSubmitter extends DurableObject<Env> {
  private line: Promise<unknown> = Promise.resolve();
  /** The next nonce to hand out, as stored under "next-nonce". */
  private nextNonce = 0;
  /** Whether the chain's count was read since this instance started. */
  private nonceSynced = false;
  /** Unsettled records by request id (stored under `req:`, listed under `flight:`). */
  private readonly inflight = new Map<string, RequestRecord>();
  private readonly sweeper = new CoalescedRun(() => this.sweep());
  /** Records a sweep found without a receipt: later sweeps read the key's count before their receipts. */
  private readonly seenUnmined = new Set<string>();
  private fees?: { at: number; fees: Promise<Fees> };
  private signer?: { credential: string; account: LocalAccount };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.nextNonce = (await ctx.storage.get<number>("next-nonce")) ?? 0;
      const keys = [...(await ctx.storage.list({ prefix: "flight:" })).keys()].map((k) => `req:${k.slice(7)}`);
      for (let i = 0; i < keys.length; i += 128) {
        const records = await ctx.storage.get<RequestRecord>(keys.slice(i, i + 128));
        for (const record of records.values()) this.inflight.set(record.request.requestId, record);
      }
    });
  }

  /**
   * Sends the request's transaction once (a repeated requestId answers for the same transaction).
   * @throws when the broadcast failed without an answer (it may have gone out: checks find out)
   */
  async send(request: SendRequest): Promise<SendOutcome> {
    const known = await this.record(request.requestId);
    if (known) return this.current(known);
    if (!this.claimFresh(request)) return this.withdrawUnsent(request);
    const chain = await chainByKey(this.env, request.chain);
    // Fees need no order: read (or reused) before the line.
    const fees =
      request.gasPrice !== undefined
        ? { maxFeePerGas: request.gasPrice, maxPriorityFeePerGas: request.gasPrice } // checked by the caller
        : capFees(spendingLimits(this.env), await this.currentFees(chain));
    const first = await this.inLine(() => this.sendFirst(chain, request, fees));
    if ("outcome" in first) return first.outcome;
    // Mined already on a fast chain (anvil's automine): the first sweep after the broadcast says so.
    await this.sweeper.after(first.mark).catch(() => {});
    return outcomeOf(first.record);
  }

  /**
   * Where the request's transaction stands, from a sweep at most SUBMIT_SWEEP_MS old.
   * @throws on RPC failure
   */
  async check(requestId: string): Promise<SendOutcome | undefined> {
    const record = await this.record(requestId);
    if (!record) return undefined;
    return this.current(record);
  }

  /** Sweeps while anything is unsettled, asked or not (after a restart, nobody may ask). */
  override async alarm(): Promise<void> {
    try {
      await this.sweeper.fresh(0);
    } catch (e) {
      log("warn", "receipt sweep will retry", { subsys: "submit", error: describeError(e) });
    }
    await this.armAlarm();
  }

  private async current(record: RequestRecord): Promise<SendOutcome> {
    if (!record.outcome) await this.sweeper.fresh(submitterSettings(this.env).sweepMs);
    return outcomeOf(record);
  }

  private async record(requestId: string): Promise<RequestRecord | undefined> {
    const known = this.inflight.get(requestId);
    if (known) return known;
    const stored = await this.ctx.storage.get<RequestRecord>(`req:${requestId}`);
    // Unsettled but not listed (written before the flight: index existed): the sweeps take it on.
    if (stored && !stored.outcome) this.inflight.set(requestId, stored);
    return stored;
  }

  /** Runs fn after every earlier holder of the line: one nonce decision at a time. */
  private inLine<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.line.then(fn, fn);
    this.line = run.catch(() => {});
    return run;
  }

  /**
   * The line's part of a first send: the guard's claim still fresh, the spend ceiling, the nonce,
   * then sign, persist, broadcast.
   */
  private async sendFirst(
    chain: ChainSettings,
    request: SendRequest,
    fees: Fees,
  ): Promise<{ outcome: SendOutcome } | { record: RequestRecord; mark: number }> {
    const id = request.requestId;
    const existing = await this.record(id);
    if (existing) return { outcome: outcomeOf(existing) };
    if (!this.claimFresh(request)) return { outcome: this.withdrawUnsent(request) };
    const spendKey = request.serviceId ? `spend:${request.serviceId}` : undefined;
    const spend = spendKey ? await this.spendWindow(spendKey) : [];
    const committed = request.gas * fees.maxFeePerGas;
    if (spendKey) {
      const verdict = checkSpend(spendingLimits(this.env), spend, committed, Date.now());
      if (!verdict.ok) {
        log("warn", "transaction held: the service's spend ceiling", {
          subsys: "submit",
          request_id: id,
          service_id: request.serviceId,
          reason: verdict.reason,
        });
        return { outcome: { state: "held", reason: verdict.reason, retryAt: verdict.retryAt } };
      }
    }
    for (let attempt = 0; ; attempt++) {
      const nonce = await this.takeNonce(chain);
      const record: RequestRecord = { request, nonce, sent: [] };
      record.sent.push(await this.sign(chain, record, fees, false));
      // Persisted before it leaves, in one write: after a restart the hash is known, nothing is
      // signed twice blind, and the nonce is never handed out again.
      this.nextNonce = nonce + 1;
      await this.ctx.storage.put<unknown>({
        [`req:${id}`]: record,
        [`flight:${id}`]: nonce,
        "next-nonce": this.nextNonce,
        ...(spendKey ? { [spendKey]: [...spend, { at: Date.now(), wei: committed.toString() }] } : {}),
      });
      let refusal: Refusal | undefined;
      try {
        await this.broadcast(chain, record.sent[0]!.raw, true);
      } catch (e) {
        refusal = refusalOf(e);
        if (refusal === undefined) {
          this.inflight.set(id, record); // maybe sent: the sweep finds out
          throw e;
        }
        // The node said no: the transaction is nowhere. Take it back; the line is ours, so no
        // later nonce was handed out meanwhile.
        this.nextNonce = nonce;
        await this.ctx.storage.delete([`req:${id}`, `flight:${id}`]);
        await this.ctx.storage.put<unknown>({ "next-nonce": nonce, ...(spendKey ? { [spendKey]: spend } : {}) });
        const reason = describeRefusal(e);
        if (refusal === "nonce" && attempt < NONCE_RETRIES) {
          this.nonceSynced = false; // the key was used elsewhere: read the chain's count again
          log("info", "nonce taken on the chain; reading the key's count again", {
            subsys: "submit",
            request_id: id,
            nonce,
          });
          continue;
        }
        if (refusal === "fee") this.fees = undefined;
        log("warn", "transaction refused by the chain", { subsys: "submit", request_id: id, error: reason, refusal });
        if (refusal === "other" || refusal === "nonce") return { outcome: { state: "refused", reason } };
        const retryAt = Date.now() + submitterSettings(this.env).refusedRetryMs;
        return { outcome: { state: "held", reason: `the chain refused the transaction: ${reason}`, retryAt } };
      }
      this.inflight.set(id, record);
      log("info", "transaction sent", { subsys: "submit", request_id: id, tx_hash: record.sent[0]!.hash, nonce });
      await this.armAlarm();
      return { record, mark: this.sweeper.mark() };
    }
  }

  /** The next nonce: on first use in this instance, the larger of ours and the chain's pending count. */
  private async takeNonce(chain: ChainSettings): Promise<number> {
    if (!this.nonceSynced) {
      const onchain = await publicClientFor(chain).getTransactionCount({
        address: this.account().address,
        blockTag: "pending",
      });
      this.nextNonce = Math.max(this.nextNonce, onchain);
      this.nonceSynced = true;
    }
    return this.nextNonce;
  }

  /** EIP-1559 fees from the chain, reused for SUBMIT_FEE_TTL_MS (one read in flight; a failed one is not kept). */
  private currentFees(chain: ChainSettings): Promise<Fees> {
    const ttl = submitterSettings(this.env).feeTtlMs;
    if (this.fees && Date.now() - this.fees.at < ttl) return this.fees.fees;
    const fees = publicClientFor(chain).estimateFeesPerGas();
    const entry = { at: Date.now(), fees };
    this.fees = entry;
    fees.catch(() => {
      if (this.fees === entry) this.fees = undefined;
    });
    return fees;
  }

  private async sign(chain: ChainSettings, record: RequestRecord, fees: Fees, cancel: boolean): Promise<SentVersion> {
    const { request } = record;
    const self = this.account();
    const raw = await self.signTransaction({
      type: "eip1559",
      chainId: Number(chain.chain_id),
      nonce: record.nonce,
      ...(cancel
        ? { to: self.address, value: 0n, gas: CANCEL_GAS }
        : { to: request.to, data: request.data, gas: request.gas }),
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    return {
      hash: keccak256(raw),
      raw,
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
      at: Date.now(),
      ...(cancel ? { cancel: true as const } : {}),
    };
  }

  /**
   * Sends signed bytes. "Already known" is success; for a re-send, so is a nonce the chain calls
   * used (mined meanwhile: the sweep sorts it out from the receipts).
   * @throws the RPC error otherwise
   */
  private async broadcast(chain: ChainSettings, raw: `0x${string}`, first = false): Promise<void> {
    try {
      await publicClientFor(chain).sendRawTransaction({ serializedTransaction: raw });
    } catch (e) {
      const message = errorText(e);
      if (message.includes("already known")) return;
      if (!first && (message.includes("nonce too low") || message.includes("replacement"))) return;
      throw e;
    }
  }

  /**
   * Looks at every unsettled transaction once: the receipt first for each not yet seen unmined
   * (on a fast chain it is there at the first look, and the key's counts are not needed); then,
   * for the rest, the key's mined count, the receipt of each whose nonce is mined, and the pending
   * count when any is still unmined; then each record's next step.
   * @throws when the counts cannot be read
   */
  private async sweep(): Promise<void> {
    const records = [...this.inflight.values()].sort((a, b) => a.nonce - b.nonce);
    if (records.length === 0) return;
    const chain = await chainByKey(this.env, records[0]!.request.chain);
    const client = publicClientFor(chain);
    const address = this.account().address;
    const receipts = await Promise.all(
      records.map((r) =>
        this.seenUnmined.has(r.request.requestId) ? Promise.resolve(undefined) : findReceipt(client, r),
      ),
    );
    const unsettled = records.filter((_, i) => receipts[i] === undefined);
    // Read only when some record has no receipt: a settled one's step needs no count.
    const minedCount = unsettled.length > 0 ? await client.getTransactionCount({ address, blockTag: "latest" }) : 0;
    for (const [i, r] of records.entries())
      if (receipts[i] === undefined && r.nonce < minedCount) receipts[i] = await findReceipt(client, r);
    for (const [i, r] of records.entries()) if (receipts[i] === undefined) this.seenUnmined.add(r.request.requestId);
    const unmined = records.some((r, i) => r.nonce >= minedCount && !receipts[i]);
    const pendingCount = unmined ? await client.getTransactionCount({ address, blockTag: "pending" }) : undefined;
    // Only those the pending count leaves out are looked up in the pool (none, mostly).
    const inPool = await Promise.all(
      records.map((r) =>
        pendingCount !== undefined && r.nonce >= pendingCount ? isInPool(client, r) : Promise.resolve(undefined),
      ),
    );
    const { stuckAfterMs } = submitterSettings(this.env);
    for (const [i, record] of records.entries()) {
      const receipt = receipts[i];
      // The RPC failed: never read that as "not mined" or "not in the pool".
      if (receipt === "unknown" || inPool[i] === "unknown") continue;
      const marks = `${record.nonceGoneAt}/${record.missingSince}`;
      const view: ChainView = { now: Date.now(), minedCount, pendingCount, receipt, inPool: inPool[i] };
      const step = decideTransaction(record, view, { stuckAfterMs, mayRebroadcast: this.claimFresh(record.request) });
      try {
        await this.perform(chain, record, step);
        if (step.do === "wait" && marks !== `${record.nonceGoneAt}/${record.missingSince}`)
          await this.ctx.storage.put(`req:${record.request.requestId}`, record);
      } catch (e) {
        // One transaction's trouble (a refused bump, an RPC hiccup) must not hold up the others.
        log("warn", "transaction step will retry", {
          subsys: "submit",
          request_id: record.request.requestId,
          step: step.do,
          error: describeError(e),
        });
      }
    }
    await this.armAlarm();
  }

  private async perform(chain: ChainSettings, record: RequestRecord, step: TxStep): Promise<void> {
    const id = record.request.requestId;
    switch (step.do) {
      case "wait":
        return;
      case "settle":
        if (step.outcome.state === "withdrawn")
          log("info", "cancelling transaction mined", {
            subsys: "submit",
            request_id: id,
            tx_hash: step.outcome.txHash,
            nonce: record.nonce,
          });
        return this.settle(record, step.outcome);
      case "report-lost":
        log("warn", "nonce consumed elsewhere; reported as lost", {
          subsys: "submit",
          request_id: id,
          nonce: record.nonce,
        });
        return this.settle(record, { state: "lost", txHash: record.sent.at(-1)!.hash, nonce: record.nonce });
      case "rebroadcast":
        await this.ctx.storage.put(`req:${id}`, record); // its missingSince: one attempt per window
        log("info", "transaction out of the pool; sent again", {
          subsys: "submit",
          request_id: id,
          nonce: record.nonce,
        });
        return this.broadcast(chain, record.sent.at(-1)!.raw);
      case "resend":
        return this.inLine(() => this.resend(chain, record));
      case "bump":
      case "cancel":
        return this.inLine(() => this.replace(chain, record, step.do as "bump" | "cancel"));
    }
  }

  private async settle(record: RequestRecord, outcome: NonNullable<RequestRecord["outcome"]>): Promise<void> {
    const id = record.request.requestId;
    record.outcome = outcome;
    record.nonceGoneAt = record.missingSince = undefined;
    await this.ctx.storage.put(`req:${id}`, record);
    await this.ctx.storage.delete(`flight:${id}`);
    this.inflight.delete(id);
    this.seenUnmined.delete(id);
  }

  /**
   * A new version of the live transaction with its nonce: the same call with fees raised (bump), or
   * the cancelling transfer, which outbids it. Nothing at the fee cap, or over the spend ceiling
   * (a bump waits for the window, like one at the cap).
   */
  private async replace(chain: ChainSettings, record: RequestRecord, version: "bump" | "cancel"): Promise<void> {
    if (record.outcome) return;
    const limits = spendingLimits(this.env);
    const fees = nextFees(record, version, limits);
    if (!fees) return;
    const cancel = version === "cancel" || record.sent.at(-1)!.cancel === true;
    const committed = committedWei(record, fees, cancel);
    const spendKey = record.request.serviceId && committed > 0n ? `spend:${record.request.serviceId}` : undefined;
    const spend = spendKey ? await this.spendWindow(spendKey) : [];
    if (spendKey && !checkSpend(limits, spend, committed, Date.now()).ok) return;
    const id = record.request.requestId;
    const signed = await this.sign(chain, record, fees, cancel);
    record.sent.push(signed);
    await this.ctx.storage.put<unknown>({
      [`req:${id}`]: record,
      ...(spendKey ? { [spendKey]: [...spend, { at: Date.now(), wei: committed.toString() }] } : {}),
    });
    try {
      await this.broadcast(chain, signed.raw);
    } catch (e) {
      if (refusalOf(e) === undefined) throw e; // maybe out: it is the live version now
      // Refused (the key's funds, most likely): this version is nowhere; the live one stays.
      record.sent.pop();
      await this.ctx.storage.put<unknown>({ [`req:${id}`]: record, ...(spendKey ? { [spendKey]: spend } : {}) });
      throw e;
    }
    log("info", version === "cancel" ? "transaction cancelled" : "transaction replaced", {
      subsys: "submit",
      request_id: id,
      tx_hash: signed.hash,
      nonce: record.nonce,
    });
  }

  /** An unguarded request whose nonce went elsewhere: the same call with a fresh nonce. */
  private async resend(chain: ChainSettings, record: RequestRecord): Promise<void> {
    if (record.outcome) return;
    const id = record.request.requestId;
    const fresh: RequestRecord = { request: record.request, nonce: await this.takeNonce(chain), sent: [] };
    fresh.sent.push(
      await this.sign(chain, fresh, capFees(spendingLimits(this.env), await this.currentFees(chain)), false),
    );
    this.nextNonce = fresh.nonce + 1;
    await this.ctx.storage.put<unknown>({ [`req:${id}`]: fresh, "next-nonce": this.nextNonce });
    log("warn", "nonce consumed elsewhere; re-sending", { subsys: "submit", request_id: id, nonce: fresh.nonce });
    try {
      await this.broadcast(chain, fresh.sent[0]!.raw, true);
    } catch (e) {
      if (refusalOf(e) === undefined) {
        this.inflight.set(id, fresh);
        throw e;
      }
      // Refused: nothing went out; the old record stays, and the next sweep decides again.
      this.nextNonce = fresh.nonce;
      await this.ctx.storage.put<unknown>({ [`req:${id}`]: record, "next-nonce": fresh.nonce });
      if (refusalOf(e) === "nonce") this.nonceSynced = false;
      throw e;
    }
    this.inflight.set(id, fresh);
  }

  /** A request whose claim went stale on its way here (a long line): a standby may have taken over. */
  private withdrawUnsent(request: SendRequest): SendOutcome {
    log("info", "claim withdrawn before sending", { subsys: "submit", request_id: request.requestId });
    return { state: "withdrawn" };
  }

  /** Whether the request's guard (if any) decided to send less than a grace period ago. */
  private claimFresh(request: SendRequest): boolean {
    if (!request.guardedBy) return true;
    // A standby takes over only after the guard's node gave no sign of life for three grace
    // periods (PEER_SILENCE_GRACE_PERIODS) and two silent looks more: one grace period is well before.
    return Date.now() - (request.claimedAt ?? 0) <= aggregatorSettings(this.env).graceMs;
  }

  private async spendWindow(key: string): Promise<SpendEntry[]> {
    const now = Date.now();
    return ((await this.ctx.storage.get<SpendEntry[]>(key)) ?? []).filter((e) => now - e.at < SPEND_WINDOW_MS);
  }

  /** Keeps the object's alarm set while anything is unsettled. */
  private async armAlarm(): Promise<void> {
    if (this.inflight.size === 0 || (await this.ctx.storage.getAlarm()) !== null) return;
    await this.ctx.storage.setAlarm(Date.now() + Math.max(ALARM_MIN_MS, submitterSettings(this.env).sweepMs));
  }

  /** The paying key, derived once per credential (a mnemonic's derivation is slow). */
  private account(): LocalAccount {
    const credential = this.env.WAVS_AGGREGATOR_EVM_CREDENTIAL;
    if (this.signer?.credential !== credential)
      this.signer = { credential, account: parseSubmitterCredential(credential) };
    return this.signer.account;
  }
}

/**
 * The receipt of whichever of the record's versions was mined (newest first), undefined when none
 * has one, "unknown" when the RPC failed.
 */
async function findReceipt(
  client: ReturnType<typeof publicClientFor>,
  record: RequestRecord,
): Promise<ChainView["receipt"] | "unknown"> {
  try {
    for (const sent of [...record.sent].reverse()) {
      const receipt = await readReceipt(client, sent.hash);
      if (receipt)
        return {
          hash: sent.hash,
          success: receipt.status === "success",
          blockNumber: receipt.blockNumber,
          gasUsed: receipt.gasUsed,
        };
    }
    return undefined;
  } catch {
    return "unknown";
  }
}

/** Whether the RPC node knows the record's live version (pending or queued), "unknown" when it failed. */
async function isInPool(
  client: ReturnType<typeof publicClientFor>,
  record: RequestRecord,
): Promise<boolean | "unknown"> {
  try {
    await client.getTransaction({ hash: record.sent.at(-1)!.hash });
    return true;
  } catch (e) {
    return e instanceof TransactionNotFoundError ? false : "unknown";
  }
}

/** The error's whole text, lower case (viem keeps the node's own words in `details`). */
function errorText(e: unknown): string {
  if (e instanceof BaseError) return `${e.shortMessage} ${e.details} ${e.message}`.toLowerCase();
  return String(e instanceof Error ? e.message : e).toLowerCase();
}

/**
 * Why the RPC node refused a transaction, or undefined when it did not answer (it may have gone
 * out): "funds" and "fee" can pass (held, asked again), "nonce" means the key was used elsewhere,
 * "gap" a nonce ahead of the chain's (the sweep re-sends what is missing below it).
 */
function refusalOf(e: unknown): Refusal | undefined {
  if (!(e instanceof BaseError && e.walk((x) => x instanceof RpcRequestError) instanceof RpcRequestError))
    return undefined;
  const text = errorText(e);
  if (text.includes("insufficient funds")) return "funds";
  if (text.includes("nonce too low") || text.includes("replacement transaction underpriced")) return "nonce";
  if (text.includes("nonce too high")) return "gap";
  if (text.includes("base fee") || text.includes("underpriced") || text.includes("fee too low")) return "fee";
  return "other";
}

/** The node's own reason for a refusal (viem's short message alone says only "Transaction creation failed"). */
function describeRefusal(e: unknown): string {
  const details = e instanceof BaseError ? e.details : undefined;
  return details ? `${describeError(e)} ${describeError(details)}` : describeError(e);
}
