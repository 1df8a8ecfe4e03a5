import { DurableObject } from "cloudflare:workers";
import { decodeFunctionData, encodeFunctionData, type Hex } from "viem";
import { publicClientFor } from "../chain/rpc";
import { wavsHandlerAbi } from "../chain/wavs-abi";
import { chainByKey } from "../config";
import { openDb } from "../db/client";
import { recordTaskStep } from "../db/tasks";
import { describeError, log } from "../log";
import { recoverEnvelopeSigner, type Envelope } from "../sign/envelope";
import { parseSubmitterCredential } from "../sign/signing-keys";
import type { SendOutcome } from "../submit/chain-submitter";
import { describeRevert, isContractRevert } from "../submit/describe-revert";
import { checkQuorum } from "../submit/submit-envelope";
import { aggregatorSettings, normalizeNodeUrl, rankAggregators } from "./peers";
import { buildSignatureData } from "./signature-data";

/** One operator's signed result for one event and one submit target, already authenticated. */
export interface SignedSubmission {
  eventId: Hex;
  serviceId: string;
  workflowId: string;
  chain: string;
  handler: Hex;
  envelope: Envelope;
  signer: Hex;
  signature: Hex;
  /** The signer's operator weight in the service manager when it was authenticated. */
  weight: string;
  /** The Submission JSON it came as (handed on to a peer that lacks it). */
  json?: string;
}

export type AggregationPhase = "collecting" | "standby" | "submitting" | "landed" | "failed";

/** What a TaskAggregator answers about itself (also to peers at GET /aggregator/tasks/…). */
export interface AggregationStatus {
  status: AggregationPhase;
  signers: Hex[];
  txHash?: Hex;
  error?: string;
  /** Set on an answer to a submission that arrived after the task landed. */
  burned?: boolean;
}

export type AddSubmissionResult =
  | ({ accepted: true } & AggregationStatus)
  | { accepted: false; code: "envelope_mismatch" | "invalid_signature" | "target_mismatch"; message: string };

interface AggregationState {
  target: Omit<SignedSubmission, "signer" | "signature" | "weight">;
  signatures: Record<Hex, { signature: Hex; weight: string; at: number; json?: string }>;
  phase: AggregationPhase;
  /** Submission order among aggregating nodes for this event (0 submits first). */
  rank?: number;
  /** ChainSubmitter request, persisted before it is asked to send: a restart asks again, never twice. */
  requestId?: string;
  submitterKey?: string;
  txHash?: Hex;
  error?: string;
  burnUntil?: number;
  /** Consecutive grace periods in which no node ranked before us answered as alive. */
  silentChecks?: number;
}

/** A standby takes over only after this many silent grace periods: a slow peer is not a dead one. */
const SILENT_CHECKS_BEFORE_TAKEOVER = 2;

/** How often a submitting aggregator looks at its transaction. */
const RECEIPT_POLL_MS = 1_000;

/**
 * Collects the signatures for one (event id, submit target), persisted in the object's storage.
 * Once the service manager says the quorum is met (validate preflight), the node ranked first for
 * the event submits through its ChainSubmitter; the others stand by and submit only if every node
 * ranked before them is gone after their grace period. A landed task is burned for TASK_BURN_SECONDS:
 * redeliveries do nothing. Every transition is stored before the action it leads to.
 */
export class TaskAggregator extends DurableObject<Env> {
  private tail: Promise<unknown> = Promise.resolve();

  /** One step at a time per task: interleaved awaits must not both decide to submit. */
  private serialise<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  /** Adds a signature (a newer one from the same signer replaces the older) and moves the task on. */
  addSubmission(submission: SignedSubmission): Promise<AddSubmissionResult> {
    return this.serialise(async () => {
      let recovered: Hex;
      try {
        recovered = await recoverEnvelopeSigner(submission.envelope, submission.signature);
      } catch {
        return { accepted: false, code: "invalid_signature", message: "the signature is malformed" } as const;
      }
      if (recovered.toLowerCase() !== submission.signer.toLowerCase()) {
        return { accepted: false, code: "invalid_signature", message: "the signature was not made by the claimed signer" } as const;
      }
      let state = await this.load();
      if (!state) {
        const { signer: _s, signature: _sig, weight: _w, json: _j, ...target } = submission;
        state = { target, signatures: {}, phase: "collecting" };
      } else if (!sameEnvelope(state.target.envelope, submission.envelope)) {
        return { accepted: false, code: "envelope_mismatch", message: "the envelope differs from the one this task started with" } as const;
      } else if (state.target.serviceId !== submission.serviceId || state.target.workflowId !== submission.workflowId) {
        return { accepted: false, code: "target_mismatch", message: "the task belongs to another service or workflow" } as const;
      }
      if (state.phase === "landed") return { accepted: true, ...this.statusOf(state), burned: true };

      state.signatures[recovered] = { signature: submission.signature, weight: submission.weight, at: Date.now(), json: submission.json };
      await this.save(state);
      await this.step(state, "signature_received", {}, { signer: recovered, weight: submission.weight, signers: Object.keys(state.signatures).length });
      if (state.phase === "collecting") {
        // Should the preflight below fail (RPC down), the alarm evaluates again: no signature waits forever.
        await this.ctx.storage.setAlarm(Date.now() + 10_000);
        await this.evaluate(state);
      }
      return { accepted: true, ...this.statusOf(state) };
    });
  }

  /** The task's status, or undefined when this node never saw it (or the burn window passed). */
  async getStatus(): Promise<AggregationStatus | undefined> {
    const state = await this.load();
    return state && this.statusOf(state);
  }

  /** Timers: a standby's grace period, a submitting task's receipt poll, the end of the burn window. */
  override async alarm(): Promise<void> {
    await this.serialise(async () => {
      const state = await this.load();
      if (!state) return;
      try {
        if (state.phase === "standby") await this.considerTakingOver(state);
        else if (state.phase === "submitting") await this.followTransaction(state);
        else if (state.phase === "landed" && Date.now() >= (state.burnUntil ?? 0)) await this.ctx.storage.deleteAll();
        else if (state.phase === "collecting" && Object.keys(state.signatures).length > 0) await this.evaluate(state);
      } catch (e) {
        // Transient (RPC, peer): try again shortly; the state says where we were.
        log("warn", "aggregation step will retry", { subsys: "aggregate", event_id: state.target.eventId, error: describeError(e) });
        await this.ctx.storage.setAlarm(Date.now() + 2_000);
      }
    });
  }

  private async load() {
    return this.ctx.storage.get<AggregationState>("state");
  }

  private async save(state: AggregationState) {
    await this.ctx.storage.put("state", state);
  }

  private statusOf(state: AggregationState): AggregationStatus {
    return {
      status: state.phase,
      signers: Object.keys(state.signatures) as Hex[],
      ...(state.txHash ? { txHash: state.txHash } : {}),
      ...(state.error ? { error: state.error } : {}),
    };
  }

  private async step(
    state: AggregationState,
    step: string,
    update: Parameters<typeof recordTaskStep>[3],
    detail: Record<string, unknown>,
  ) {
    const { eventId, serviceId, workflowId } = state.target;
    await recordTaskStep(openDb(this.env.DB), { eventId, serviceId, workflowId }, step, update, detail);
  }

  /** Preflights validate; on quorum, submits (rank 0) or stands by for its turn. */
  private async evaluate(state: AggregationState): Promise<void> {
    const chain = await chainByKey(this.env, state.target.chain);
    let quorum: Awaited<ReturnType<typeof checkQuorum>>;
    try {
      quorum = await checkQuorum(chain, state.target.handler, state.target.envelope, (block) =>
        buildSignatureData(Object.fromEntries(Object.entries(state.signatures).map(([k, v]) => [k, v.signature])), block),
      );
    } catch (e) {
      // The manager refusing the signatures for another reason than quorum is final; an RPC error is not.
      if (isContractRevert(e)) return this.fail(state, describeRevert(e));
      throw e;
    }
    if (!quorum.ok) {
      await this.step(state, "waiting_for_quorum", { status: "signed" }, {
        signers: Object.keys(state.signatures).length,
        signer_weight: quorum.signerWeight,
        threshold_weight: quorum.thresholdWeight,
      });
      return;
    }
    const settings = aggregatorSettings(this.env);
    const ranking = settings.peers.length ? rankAggregators(state.target.eventId, settings.peers) : [];
    state.rank = settings.peers.length ? ranking.indexOf(settings.selfUrl) : 0;
    await this.step(state, "quorum_reached", { status: "signed" }, {
      signers: quorum.signatureData.signers,
      rank: state.rank,
      ...(ranking.length ? { ranking } : {}),
    });
    if (state.rank === 0) {
      // A node that comes back late may find the task already landed by a standby: adopt it.
      const { landed, submitting } = await this.pollPeers(state, settings.peers.filter((p) => p !== settings.selfUrl));
      if (landed) return this.adoptLanding(state, landed.peer, landed.txHash);
      // A standby took over while we were away and its transaction is alive: never a second one.
      if (!submitting) {
        // A peer that landed it may be gone before telling anyone: the chain has the last word.
        const onchain = settings.peers.length > 1 ? await this.findLandingOnchain(state) : undefined;
        if (onchain) return this.adoptLanding(state, "chain", onchain);
        return this.submit(state);
      }
    }
    state.phase = "standby";
    await this.save(state);
    await this.ctx.storage.setAlarm(Date.now() + settings.graceMs);
  }

  /**
   * After the grace period: any peer that has landed the task ends it for us too; a node ranked
   * before us that is alive (collecting, standing by, submitting) keeps us waiting; if none is, we
   * submit.
   */
  private async considerTakingOver(state: AggregationState): Promise<void> {
    const settings = aggregatorSettings(this.env);
    const ranking = rankAggregators(state.target.eventId, settings.peers);
    const before = ranking.slice(0, ranking.indexOf(settings.selfUrl));
    const { landed, alive, submitting, collecting } = await this.pollPeers(state, settings.peers.filter((p) => p !== settings.selfUrl), before);
    if (landed) return this.adoptLanding(state, landed.peer, landed.txHash);
    // A node ranked before us still collecting may have lost submissions (its queue, a restart):
    // hand it the ones we hold, so that it can submit rather than wait for us to take over.
    for (const { peer, signers } of collecting) await this.forwardMissing(state, peer, signers);
    state.silentChecks = alive || submitting ? 0 : (state.silentChecks ?? 0) + 1;
    await this.save(state);
    if (state.silentChecks < SILENT_CHECKS_BEFORE_TAKEOVER) {
      await this.ctx.storage.setAlarm(Date.now() + settings.graceMs);
      return;
    }
    // The node before us may have landed it and died before recording it: look at the chain first.
    const onchain = await this.findLandingOnchain(state);
    if (onchain) return this.adoptLanding(state, "chain", onchain);
    log("warn", "taking over the submission", { subsys: "aggregate", event_id: state.target.eventId, rank: state.rank, ranked_before: before });
    await this.step(state, "taking_over", {}, { rank: state.rank, ranked_before: before });
    await this.submit(state);
  }

  /** Asks peers for their view of the task: a landing verified onchain, and whether any of `watch` is alive. */
  private async pollPeers(
    state: AggregationState,
    peers: string[],
    watch: string[] = [],
  ): Promise<{ landed?: { peer: string; txHash: Hex }; alive: boolean; submitting: boolean; collecting: { peer: string; signers: Hex[] }[] }> {
    const answers = await Promise.all(peers.map(async (peer) => ({ peer, status: await this.askPeer(peer, state) })));
    let alive = false;
    let submitting = false;
    const collecting: { peer: string; signers: Hex[] }[] = [];
    for (const { peer, status } of answers) {
      if (!status) continue;
      if (status.status === "landed" && status.txHash && (await this.landedOnchain(state, status.txHash))) {
        return { landed: { peer, txHash: status.txHash }, alive: true, submitting: false, collecting: [] };
      }
      if (status.status === "submitting") submitting = true;
      if (watch.includes(peer) && status.status !== "failed") alive = true;
      if (watch.includes(peer) && status.status === "collecting") collecting.push({ peer, signers: status.signers ?? [] });
    }
    return { alive, submitting, collecting };
  }

  private async forwardMissing(state: AggregationState, peer: string, theirs: Hex[]): Promise<void> {
    const known = new Set(theirs.map((s) => s.toLowerCase()));
    const missing = Object.entries(state.signatures).filter(([signer, s]) => s.json && !known.has(signer.toLowerCase()));
    for (const [signer, s] of missing) {
      try {
        const res = await fetch(`${normalizeNodeUrl(peer)}/aggregator/submissions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: s.json,
          signal: AbortSignal.timeout(10_000),
        });
        await res.body?.cancel();
        log("info", "forwarded a submission to a peer", { subsys: "aggregate", event_id: state.target.eventId, peer, signer, status: res.status });
      } catch {
        // Unreachable now: the next grace period tries again.
      }
    }
  }

  private async adoptLanding(state: AggregationState, peer: string, txHash: Hex): Promise<void> {
    const settings = aggregatorSettings(this.env);
    state.phase = "landed";
    state.txHash = txHash;
    state.burnUntil = Date.now() + settings.burnMs;
    await this.save(state);
    await this.step(state, "landed_by_peer", { status: "landed", txHash }, { peer, tx_hash: txHash });
    await this.ctx.storage.setAlarm(state.burnUntil);
  }

  private async askPeer(peer: string, state: AggregationState): Promise<AggregationStatus | undefined> {
    const { eventId, chain, handler } = state.target;
    const url = `${normalizeNodeUrl(peer)}/aggregator/tasks/${eventId}?chain=${encodeURIComponent(chain)}&handler=${handler}`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) return undefined;
      const body = (await res.json()) as AggregationStatus;
      return typeof body?.status === "string" ? body : undefined;
    } catch {
      return undefined; // down or unreachable: not alive
    }
  }

  /**
   * A successful handleSignedEnvelope for this event among the handler's transactions in the last
   * TAKEOVER_LOOKBACK_BLOCKS blocks (default 256). Only run before a takeover, which is rare.
   */
  private async findLandingOnchain(state: AggregationState): Promise<Hex | undefined> {
    const client = publicClientFor(await chainByKey(this.env, state.target.chain));
    const raw = (this.env as unknown as Record<string, string | undefined>).TAKEOVER_LOOKBACK_BLOCKS;
    const lookback = BigInt(Number.isInteger(Number(raw)) && Number(raw) > 0 ? Number(raw) : 256);
    const latest = await client.getBlockNumber();
    const handler = state.target.handler.toLowerCase();
    const eventId = state.target.eventId.toLowerCase();
    for (let top = latest; top >= 0n && latest - top < lookback; top -= 8n) {
      const numbers: bigint[] = [];
      for (let n = top; n > top - 8n && n >= 0n && latest - n < lookback; n--) numbers.push(n);
      const blocks = await Promise.all(numbers.map((blockNumber) => client.getBlock({ blockNumber, includeTransactions: true })));
      for (const block of blocks) {
        for (const tx of block.transactions) {
          if (tx.to?.toLowerCase() !== handler) continue;
          let id: string | undefined;
          try {
            const call = decodeFunctionData({ abi: wavsHandlerAbi, data: tx.input });
            if (call.functionName === "handleSignedEnvelope") id = (call.args[0] as Envelope).eventId.toLowerCase();
          } catch {
            continue; // some other call to the handler
          }
          if (id === eventId && (await this.landedOnchain(state, tx.hash))) return tx.hash;
        }
      }
    }
    return undefined;
  }

  private async landedOnchain(state: AggregationState, txHash: Hex): Promise<boolean> {
    const client = publicClientFor(await chainByKey(this.env, state.target.chain));
    const receipt = await client.getTransactionReceipt({ hash: txHash }).catch(() => undefined);
    return receipt?.status === "success" && receipt.to?.toLowerCase() === state.target.handler.toLowerCase();
  }

  /** Builds SignatureData, simulates (decoding reverts), and hands the transaction to the ChainSubmitter. */
  private async submit(state: AggregationState): Promise<void> {
    const { target } = state;
    const chain = await chainByKey(this.env, target.chain);
    const client = publicClientFor(chain);
    const account = parseSubmitterCredential(this.env.WAVS_AGGREGATOR_EVM_CREDENTIAL);
    state.submitterKey = `${target.chain}:${account.address.toLowerCase()}`;
    state.requestId = `${target.eventId}:${target.chain}:${target.handler.toLowerCase()}`;
    state.phase = "submitting";
    await this.save(state);
    // If anything below throws, the alarm resumes from "submitting" (the request id keeps it to one tx).
    await this.ctx.storage.setAlarm(Date.now() + 5_000);

    const quorum = await checkQuorum(chain, target.handler, target.envelope, (block) =>
      buildSignatureData(Object.fromEntries(Object.entries(state.signatures).map(([k, v]) => [k, v.signature])), block),
    );
    if (!quorum.ok) {
      // Operators deregistered meanwhile: go back to collecting.
      state.phase = "collecting";
      await this.save(state);
      return;
    }
    const args = [target.envelope, quorum.signatureData] as const;
    let gas: bigint;
    try {
      gas = await client.estimateContractGas({ account, address: target.handler, abi: wavsHandlerAbi, functionName: "handleSignedEnvelope", args });
    } catch (e) {
      if (isContractRevert(e)) return this.fail(state, describeRevert(e));
      throw e; // RPC trouble: the alarm set above resumes from "submitting"
    }
    const submitter = this.env.CHAIN_SUBMITTER.get(this.env.CHAIN_SUBMITTER.idFromName(state.submitterKey));
    const outcome = (await submitter.send({
      requestId: state.requestId,
      chain: target.chain,
      to: target.handler,
      data: encodeFunctionData({ abi: wavsHandlerAbi, functionName: "handleSignedEnvelope", args }),
      gas: (gas * 125n) / 100n,
    })) as SendOutcome;
    state.txHash = outcome.txHash;
    await this.save(state);
    await this.step(state, "tx_sent", { status: "submitted", txHash: outcome.txHash }, { tx_hash: outcome.txHash, nonce: outcome.nonce, gas_limit: (gas * 125n) / 100n });
    await this.settle(state, outcome);
  }

  /** Asks the ChainSubmitter again (a restart lands here too: the request id makes it idempotent). */
  private async followTransaction(state: AggregationState): Promise<void> {
    if (!state.requestId || !state.submitterKey) return this.submit(state);
    const submitter = this.env.CHAIN_SUBMITTER.get(this.env.CHAIN_SUBMITTER.idFromName(state.submitterKey));
    const outcome = (await submitter.check(state.requestId)) as SendOutcome | undefined;
    if (!outcome) return this.submit(state); // stored intent, never handed over: hand it over now
    if (outcome.txHash !== state.txHash) {
      state.txHash = outcome.txHash;
      await this.save(state);
      await this.step(state, "tx_replaced", { txHash: outcome.txHash }, { tx_hash: outcome.txHash, replacements: outcome.replacements });
    }
    await this.settle(state, outcome);
  }

  private async settle(state: AggregationState, outcome: SendOutcome): Promise<void> {
    if (outcome.state === "pending") {
      await this.ctx.storage.setAlarm(Date.now() + RECEIPT_POLL_MS);
      return;
    }
    if (!outcome.success) {
      const reason = await this.revertReason(state, outcome.blockNumber);
      return this.fail(state, `transaction ${outcome.txHash} reverted: ${reason}`);
    }
    const settings = aggregatorSettings(this.env);
    state.phase = "landed";
    state.txHash = outcome.txHash;
    state.burnUntil = Date.now() + settings.burnMs;
    await this.save(state);
    await this.step(state, "landed", { status: "landed", txHash: outcome.txHash }, {
      tx_hash: outcome.txHash,
      block_number: outcome.blockNumber,
      gas_used: outcome.gasUsed,
      replacements: outcome.replacements,
    });
    await this.ctx.storage.setAlarm(state.burnUntil);
    log("info", "envelope landed", { subsys: "aggregate", event_id: state.target.eventId, tx_hash: outcome.txHash });
  }

  /** Replays the call at the block before the reverted one to read the reason. */
  private async revertReason(state: AggregationState, blockNumber: bigint): Promise<string> {
    const client = publicClientFor(await chainByKey(this.env, state.target.chain));
    const account = parseSubmitterCredential(this.env.WAVS_AGGREGATOR_EVM_CREDENTIAL);
    try {
      await client.simulateContract({
        account,
        address: state.target.handler,
        abi: wavsHandlerAbi,
        functionName: "handleSignedEnvelope",
        args: [state.target.envelope, buildSignatureData(Object.fromEntries(Object.entries(state.signatures).map(([k, v]) => [k, v.signature])), Number(blockNumber) - 2)],
        blockNumber: blockNumber - 1n,
      });
      return "unknown reason";
    } catch (e) {
      return describeRevert(e);
    }
  }

  private async fail(state: AggregationState, error: string): Promise<void> {
    state.phase = "failed";
    state.error = error;
    await this.save(state);
    await this.step(state, "submit_failed", { status: "failed", error }, { error });
    log("error", "submission failed", { subsys: "aggregate", event_id: state.target.eventId, error });
  }
}

function sameEnvelope(a: Envelope, b: Envelope): boolean {
  return (
    a.eventId.toLowerCase() === b.eventId.toLowerCase() &&
    a.ordering.toLowerCase() === b.ordering.toLowerCase() &&
    a.payload.toLowerCase() === b.payload.toLowerCase()
  );
}
