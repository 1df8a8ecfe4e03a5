import { DurableObject } from "cloudflare:workers";
import { encodeFunctionData, type Hex } from "viem";
import { publicClientFor } from "../chain/rpc";
import { wavsHandlerAbi } from "../chain/wavs-abi";
import { chainByKey } from "../config";
import { openDb } from "../db/client";
import { appendTaskSteps, type TaskUpdate } from "../db/tasks";
import { describeError, log } from "../log";
import { prefixOrDefault, recoverEnvelopeSigner } from "../sign/envelope";
import { parseSubmitterCredential } from "../sign/signing-keys";
import type { SendOutcome } from "../submit/chain-submitter";
import { describeRevert, isContractRevert } from "../submit/describe-revert";
import { forgetAcceptedQuorum } from "../submit/accepted-quorum";
import { checkQuorum, findRejectedSigners } from "../submit/submit-envelope";
import { readHandlerManager } from "../submit/submit-target";
import { exceedsCeiling, spendingLimits } from "../submit/spending-limits";
import { aggregatorSettings, otherPeers } from "./peers";
import {
  knownAtQuorum,
  knownShortOfQuorum,
  knownThreshold,
  noteThreshold,
  thresholdHeardWithin,
} from "./quorum-estimate";
import { buildSignatureData } from "./signature-data";
import { holdsOwnSignature, TimelineWriter } from "./timeline-writes";
import { askTaskStatus, missingSubmissions, peerCaller, postSubmission, pushLanded } from "./peer-client";
import { checkSignatureForm } from "./signature-form";
import {
  fromStored,
  statusOf,
  toClaiming,
  toCollecting,
  toFailed,
  toLanded,
  toStandby,
  toSubmitting,
  type AggregationState,
  type AggregationStatus,
  type Claiming,
  type Collecting,
  type PeerWatch,
  type SignedSubmission,
  type Standby,
  type Submitting,
} from "./task-state";
import {
  claimNeedsConfirming,
  claimStillHeld,
  judgeClaim,
  judgePeerSend,
  judgeStandby,
  placeFor,
  readPeerAnswers,
  yieldClaim,
  type PeerView,
} from "./takeover-decision";
import {
  alarmWork,
  collectingPollAt,
  judgeSend,
  judgeSettle,
  reclaim,
  SUBMIT_RESUME_MS,
  type SendVerdict,
} from "./task-timers";
import { callSubmitCallback } from "./submit-callback";
import { takeSignature, type AddSubmissionResult } from "./take-signature";
import { findLanding, landedOnchain, revertReason, sendFate } from "./task-chain";

export type { AggregationPhase, AggregationStatus, SignedSubmission } from "./task-state";
export type { AddSubmissionResult } from "./take-signature";

/**
 * Collects the signatures for one (event id, submit target), persisted in the object's storage.
 * Once the service manager says the quorum is met (validate preflight), the node ranked first for
 * the event submits through its ChainSubmitter; the others stand by and submit only if every node
 * ranked before them is gone after their grace period. A landed task is burned for TASK_BURN_SECONDS:
 * redeliveries do nothing. Every transition is stored before the action it leads to.
 *
 * This class does the I/O (storage, alarm, timeline, RPC, peers) around pure decisions: the state
 * by phase in task-state.ts, a signature taken in take-signature.ts, the alarm's dispatch and a
 * send's outcome in task-timers.ts, claims and takeovers in takeover-decision.ts; the peers are
 * asked through peer-client.ts and the chain read through task-chain.ts.
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
      const form = checkSignatureForm(submission.signature);
      if (!form.ok)
        return {
          accepted: false,
          code: "invalid_signature",
          message: `signature rule ${form.rule}: ${form.message}`,
        } as const;
      let recovered: Hex;
      try {
        recovered = await recoverEnvelopeSigner(
          submission.envelope,
          submission.signature,
          prefixOrDefault(submission.prefix),
        );
      } catch {
        return { accepted: false, code: "invalid_signature", message: "the signature is malformed" } as const;
      }
      if (recovered.toLowerCase() !== submission.signer.toLowerCase()) {
        return {
          accepted: false,
          code: "invalid_signature",
          message: "the signature was not made by the claimed signer",
        } as const;
      }
      const verdict = takeSignature(await this.load(), submission, recovered, Date.now());
      if (verdict.kind === "refuse") return verdict.refusal;
      if (verdict.kind === "burned") return { accepted: true, ...statusOf(verdict.state), burned: true };
      const state = verdict.next;
      // State and alarm in one storage commit (nothing between them waits on other I/O).
      await this.save(state);
      if (state.phase === "collecting") await this.ctx.storage.setAlarm(Date.now());
      await this.step(
        state,
        "signature_received",
        {},
        { signer: recovered, weight: submission.weight, signers: Object.keys(state.signatures).length },
      );
      return { accepted: true, ...statusOf(state) };
    });
  }

  /** The task's status, or undefined when this node never saw it (or the burn window passed). */
  async getStatus(): Promise<AggregationStatus | undefined> {
    const state = await this.load();
    return state && statusOf(state);
  }

  /**
   * A peer says the task landed in `txHash` (POST /aggregator/landed). Adopted only when this node
   * holds the task short of landing and not sending a transaction of its own (that one's fate
   * is followed as usual), and only once its own RPC shows the transaction as a successful
   * handleSignedEnvelope for this event on this handler: a notice is a hint, never proof.
   * @returns what became of the notice @throws on RPC failure (the caller's fallback poll covers it)
   */
  noteLanded(txHash: Hex, peer: string): Promise<"adopted" | "unknown" | "ignored" | "unverified"> {
    return this.serialise(async () => {
      const state = await this.load();
      if (!state) return "unknown";
      if (state.phase === "landed" || state.phase === "submitting") return "ignored";
      if (!(await landedOnchain(this.env, state.target, txHash, { checkEvent: true }))) return "unverified";
      await this.adoptLanding(state, peer, txHash);
      return "adopted";
    });
  }

  /**
   * Asked before a transaction is handed over on an old decision (a slow preflight): whether this
   * task still holds its claim. It does while it is submitting and no peer has landed, claims or
   * submits the task, none that gave no status may be doing so, and the chain shows no landing.
   * Read-only. @throws when a peer or the chain cannot be read (the caller retries)
   */
  private async confirmClaim(): Promise<boolean> {
    const state = await this.load();
    if (state?.phase !== "submitting") return false;
    const others = otherPeers(aggregatorSettings(this.env));
    if (others.length === 0) return true;
    const view = await this.pollPeers(state, others);
    if (!claimStillHeld(view)) {
      log("info", "claim no longer confirmed", {
        subsys: "aggregate",
        event_id: state.target.eventId,
        competing: view.competing,
        unsettled: view.unsettled,
        landed_by: view.landed?.peer,
      });
      return false;
    }
    return (await this.findLandingOnchain(state)) === undefined;
  }

  /** Timers: new signatures to count, a standby's grace period, a submitting task's receipt poll, the end of the burn window. */
  override async alarm(): Promise<void> {
    await this.serialise(async () => {
      const state = await this.load();
      if (!state) return;
      try {
        const work = alarmWork(state, Date.now());
        if (work === "callback") await this.runSubmitCallback(state);
        else if (work === "takeover" && state.phase === "standby") await this.considerTakingOver(state);
        else if (work === "claim" && state.phase === "claiming") await this.claim(state);
        else if (work === "follow" && state.phase === "submitting") await this.followTransaction(state);
        else if (work === "forget") await this.ctx.storage.deleteAll();
        else if (work === "evaluate-new" && state.phase === "collecting") await this.evaluateNewSignatures(state);
        else if (work === "evaluate-again" && state.phase === "collecting") await this.evaluateOrAskAround(state);
      } catch (e) {
        // Transient (RPC, peer): try again shortly; the state says where we were.
        log("warn", "aggregation step will retry", {
          subsys: "aggregate",
          event_id: state.target.eventId,
          error: describeError(e),
        });
        await this.ctx.storage.setAlarm(Date.now() + aggregatorSettings(this.env).retryMs);
      }
    });
  }

  private async load(): Promise<AggregationState | undefined> {
    return fromStored(await this.ctx.storage.get("state"), Date.now());
  }

  private async save(state: AggregationState) {
    await this.ctx.storage.put("state", state);
  }

  /** The task's timeline rows and row, written as timeline-writes.ts says (set by the first step). */
  private timeline?: TimelineWriter;

  private async step(state: AggregationState, step: string, update: TaskUpdate, detail: Record<string, unknown>) {
    const { eventId, serviceId, workflowId } = state.target;
    const db = openDb(this.env.DB);
    this.timeline ??= new TimelineWriter((rows, change) =>
      appendTaskSteps(db, { eventId, serviceId, workflowId }, rows, change),
    );
    // This node's own signature is handed over only after its run recorded the task as signed
    // (consume-triggers.ts): saying "signed" again would be a D1 write per task and node for nothing.
    // Not after a lost attempt: the row may say "submitted" from an instance before this one.
    if (!this.timeline.knowsRow() && update.status === "signed" && !state.lostAttempts) {
      if (await holdsOwnSignature(db, this.env.WAVS_SIGNING_MNEMONIC, state)) {
        this.timeline.assumeWritten({ status: "signed" });
      }
    }
    await this.timeline.record(step, update, detail);
  }

  /**
   * Signatures arrived since the last evaluation: preflight the set now. Should that fail (RPC
   * down) or fall short, the recheck alarm evaluates again: no signature waits forever.
   */
  private async evaluateNewSignatures(state: Collecting): Promise<void> {
    state.evaluateNow = false;
    await this.save(state);
    await this.ctx.storage.setAlarm(Date.now() + aggregatorSettings(this.env).recheckMs);
    await this.evaluate(state);
  }

  /**
   * A task still short of quorum when its alarm fires: evaluated again (the manager asked unless it
   * reported the target's threshold within a recheck period), and if still short, its
   * peers are asked whether it landed. A node that was down or frozen while its peers landed the
   * event may never get their submissions (their deliveries ran out of retries), and would
   * otherwise collect forever. Asked again with a growing interval, up to COLLECTING_POLL_MAX_MS.
   */
  private async evaluateOrAskAround(evaluated: Collecting): Promise<void> {
    const { chain, handler } = evaluated.target;
    const askManager = !thresholdHeardWithin(chain, handler, aggregatorSettings(this.env).recheckMs);
    const state = await this.evaluate(evaluated, { askManager });
    if (state.phase !== "collecting") return;
    const settings = aggregatorSettings(this.env);
    const others = otherPeers(settings);
    if (others.length === 0) return;
    const { landed } = await this.pollPeers(state, others);
    if (landed) {
      await this.adoptLanding(state, landed.peer, landed.txHash);
      return;
    }
    state.collectingPolls = (state.collectingPolls ?? 0) + 1;
    await this.save(state);
    await this.ctx.storage.setAlarm(collectingPollAt(Date.now(), settings.recheckMs, state.collectingPolls));
  }

  /**
   * Preflights validate; on quorum, submits (rank 0) or stands by for its turn. Unless
   * `askManager`, a set known short of the threshold the manager last reported is not asked about
   * (quorum-estimate.ts): the recheck alarm asks.
   */
  private async evaluate(state: Collecting, opts: { askManager?: boolean } = {}): Promise<AggregationState> {
    // Every signature dropped: nothing to ask the manager (validate reverts on an empty set).
    if (Object.keys(state.signatures).length === 0) return state;
    const { chain: chainKey, handler } = state.target;
    const weights = Object.values(state.signatures).map((s) => s.weight);
    const threshold = knownThreshold(chainKey, handler);
    if (!opts.askManager && knownShortOfQuorum(weights, threshold)) {
      await this.step(
        state,
        "waiting_for_quorum",
        { status: "signed" },
        {
          signers: weights.length,
          signer_weight: weights.reduce((a, w) => a + BigInt(w), 0n),
          threshold_weight: threshold,
          estimated: true,
        },
      );
      return state;
    }
    // A node ranked after the first only stands by on its quorum, so the offchain estimate serves:
    // were it ever to send, its claim's submit asks the manager first.
    const settings = aggregatorSettings(this.env);
    const { rank, ranking } = placeFor(state.target.eventId, settings);
    if (rank > 0 && !opts.askManager && knownAtQuorum(weights, threshold)) {
      state.rank = rank;
      await this.step(
        state,
        "quorum_reached",
        { status: "signed" },
        { signers: Object.keys(state.signatures), rank, ...(ranking.length ? { ranking } : {}), estimated: true },
      );
      return this.standBy(state);
    }
    const chain = await chainByKey(this.env, state.target.chain);
    let quorum: Awaited<ReturnType<typeof checkQuorum>>;
    try {
      quorum = await checkQuorum(chain, state.target.handler, state.target.envelope, (block) =>
        buildSignatureData(
          Object.fromEntries(Object.entries(state.signatures).map(([k, v]) => [k, v.signature])),
          block,
        ),
      );
    } catch (e) {
      // An RPC error is transient. The manager refusing the set for another reason than quorum:
      // drop the signatures it refuses on their own and go on with the rest; final only when
      // no single signature is to blame.
      if (!isContractRevert(e)) throw e;
      if (await this.dropRejectedSignatures(state)) return this.evaluate(state);
      return this.fail(state, describeRevert(e));
    }
    if (!quorum.ok) {
      if (quorum.thresholdWeight !== undefined) noteThreshold(chainKey, handler, quorum.thresholdWeight);
      await this.step(
        state,
        "waiting_for_quorum",
        { status: "signed" },
        {
          signers: Object.keys(state.signatures).length,
          signer_weight: quorum.signerWeight,
          threshold_weight: quorum.thresholdWeight,
        },
      );
      return state;
    }
    state.rank = rank;
    await this.step(
      state,
      "quorum_reached",
      { status: "signed" },
      {
        signers: quorum.signatureData.signers,
        rank: state.rank,
        ...(ranking.length ? { ranking } : {}),
      },
    );
    if (state.rank === 0) return this.claim(state);
    return this.standBy(state);
  }

  /** At quorum, ranked after the first: waits a grace period per node ranked before it (considerTakingOver). */
  private async standBy(state: Collecting): Promise<Standby> {
    const standby = toStandby(state);
    await this.save(standby);
    await this.ctx.storage.setAlarm(Date.now() + aggregatorSettings(this.env).graceMs);
    return standby;
  }

  /**
   * Says "claiming" to anyone who asks, then looks at every peer: a landing (verified onchain) is
   * adopted; a peer that is claiming or submitting too makes us yield and stand by (when two nodes
   * claim at once, each sees the other's claim, so at most one goes on; a yielded rank 0 retakes
   * after its grace periods); otherwise, after a last look at the chain, we submit.
   */
  private async claim(from: AggregationState): Promise<AggregationState> {
    const settings = aggregatorSettings(this.env);
    const state = toClaiming(from);
    await this.save(state);
    // Evicted before deciding: the alarm claims again.
    await this.ctx.storage.setAlarm(Date.now() + settings.graceMs);
    const others = otherPeers(settings);
    const view = await this.pollPeers(state, others);
    const verdict = judgeClaim(view, others.length > 0);
    if (verdict.kind === "adopt") return this.adoptLanding(state, verdict.peer, verdict.txHash);
    if (verdict.kind === "yield") {
      const standby = yieldClaim(state, view, Date.now());
      await this.save(standby);
      await this.ctx.storage.setAlarm(Date.now() + settings.graceMs);
      await this.step(standby, "claim_yielded", {}, { rank: standby.rank, competing: verdict.competing });
      return standby;
    }
    if (verdict.kind === "defer") {
      // Stay claiming (so that a peer claiming unseen yields if it looks at us); look again later.
      await this.save(state);
      log("info", "a peer gave no status; claim deferred", {
        subsys: "aggregate",
        event_id: state.target.eventId,
        unsettled: verdict.unsettled,
      });
      return state; // the alarm set above claims again
    }
    // A peer that landed it may be gone before telling anyone: the chain has the last word.
    const onchain = verdict.searchChainFirst ? await this.findLandingOnchain(state) : undefined;
    if (onchain) return this.adoptLanding(state, "chain", onchain);
    return this.submit(state, Date.now());
  }

  /**
   * After the grace period: any peer that has landed the task ends it for us too; a node ranked
   * before us that answers is alive and keeps us waiting (one answering "no such task yet" for up to
   * ABSENT_CHECKS_TOLERATED grace periods), and so does any peer claiming or submitting, or giving
   * no status while presumed up (PEER_SILENCE_GRACE_PERIODS). Only after
   * SILENT_CHECKS_BEFORE_TAKEOVER grace periods in which none of that held do we look whether what
   * any peer (ranked before or after us) reported sending can still land: such a transaction is
   * watched until it lands (adopted) or can no longer land (reverted, or its nonce went to another
   * transaction); then the chain is searched for a landing; only then do we claim.
   */
  private async considerTakingOver(asked: Standby): Promise<AggregationState> {
    const settings = aggregatorSettings(this.env);
    const { before } = placeFor(asked.target.eventId, settings);
    const view = await this.pollPeers(asked, otherPeers(settings), before);
    const { next: state, forward, verdict } = judgeStandby(asked, view, { now: Date.now(), ...settings });
    if (verdict.kind === "adopt") return this.adoptLanding(state, verdict.peer, verdict.txHash);
    // A node ranked before us still collecting may have lost submissions (its queue, a restart):
    // hand it the ones we hold, so that it can submit rather than wait for us to take over.
    for (const { peer, signers } of forward) await this.forwardMissing(state, peer, signers);
    await this.save(state);
    if (verdict.kind === "wait") {
      await this.ctx.storage.setAlarm(verdict.at);
      return state;
    }
    const watch = watchOf(state, Date.now());
    for (const [peer, tx] of verdict.sends) {
      const fate = await sendFate(this.env, state.target, tx);
      const { missing, verdict: sendVerdict } = judgePeerSend(fate, watch.missingTxChecks?.[tx.txHash] ?? 0);
      if (sendVerdict === "adopt") return this.adoptLanding(state, peer, tx.txHash);
      watch.missingTxChecks = { ...watch.missingTxChecks, [tx.txHash]: missing };
      await this.save(state);
      if (sendVerdict === "gone") {
        log("warn", "a silent peer's transaction is gone from the pool; counting it dead", {
          subsys: "aggregate",
          event_id: state.target.eventId,
          peer,
          tx_hash: tx.txHash,
          checks: missing,
        });
        continue;
      }
      if (sendVerdict === "wait") {
        // Slow, not dead: it may still land, and a second transaction would be a double.
        log("info", "a silent peer's transaction may still land; waiting", {
          subsys: "aggregate",
          event_id: state.target.eventId,
          peer,
          tx_hash: tx.txHash,
        });
        await this.ctx.storage.setAlarm(Date.now() + settings.graceMs);
        return state;
      }
    }
    // The node before us may have landed it and died before recording it: look at the chain first.
    const onchain = await this.findLandingOnchain(state);
    if (onchain) return this.adoptLanding(state, "chain", onchain);
    log("warn", "taking over the submission", {
      subsys: "aggregate",
      event_id: state.target.eventId,
      rank: state.rank,
      ranked_before: before,
    });
    await this.step(state, "taking_over", {}, { rank: state.rank, ranked_before: before });
    return this.claim(state);
  }

  /**
   * Asks peers for their view of the task (takeover-decision.ts reads the answers); a landing one
   * reports counts only once our RPC confirms it. Notes in the task's watch who showed a sign of
   * life (saved by the caller). `before`: the nodes ranked before us.
   */
  private async pollPeers(state: AggregationState, peers: string[], before: string[] = []): Promise<PeerView> {
    const caller = peerCaller(this.env);
    const answers = await Promise.all(
      peers.map(async (peer) => ({ peer, answer: await askTaskStatus(peer, state.target, caller) })),
    );
    let landed: { peer: string; txHash: Hex } | undefined;
    for (const { peer, answer } of answers) {
      if (typeof answer !== "object" || answer.status !== "landed" || !answer.txHash) continue;
      if (await landedOnchain(this.env, state.target, answer.txHash)) {
        landed = { peer, txHash: answer.txHash };
        break;
      }
    }
    const now = Date.now();
    const watch = watchOf(state, now);
    const graceMs = aggregatorSettings(this.env).graceMs;
    const view = readPeerAnswers(answers, { before, watch, now, graceMs, landed });
    watch.heardFrom = view.heardFrom;
    return view;
  }

  /** Hands a peer the submissions it lacks (unreachable now: the next grace period tries again). */
  private async forwardMissing(state: AggregationState, peer: string, theirs: Hex[]): Promise<void> {
    const caller = peerCaller(this.env);
    for (const [signer, json] of missingSubmissions(state, theirs)) {
      const status = await postSubmission(peer, json, caller);
      if (status === undefined) continue;
      log("info", "forwarded a submission to a peer", {
        subsys: "aggregate",
        event_id: state.target.eventId,
        peer,
        signer,
        status,
      });
    }
  }

  /**
   * Asks the manager about each signature alone and drops those it refuses (a signer deregistered
   * since intake, a form that slipped in), remembered so that a redelivery is not counted again.
   * @returns whether any was dropped @throws on RPC failure
   */
  private async dropRejectedSignatures(state: AggregationState): Promise<boolean> {
    const chain = await chainByKey(this.env, state.target.chain);
    const client = publicClientFor(chain);
    const [manager, latest] = await Promise.all([
      readHandlerManager(chain, state.target.handler),
      client.getBlockNumber(),
    ]);
    const signatures = Object.fromEntries(Object.entries(state.signatures).map(([k, v]) => [k, v.signature])) as Record<
      Hex,
      Hex
    >;
    const rejected = await findRejectedSigners(
      chain,
      manager,
      state.target.envelope,
      signatures,
      Number(latest > 0n ? latest - 1n : 0n),
    );
    if (rejected.length === 0) return false;
    for (const { signer, reason } of rejected) {
      const key = (Object.keys(state.signatures) as Hex[]).find((k) => k.toLowerCase() === signer.toLowerCase())!;
      state.dropped = { ...state.dropped, [key]: { signature: state.signatures[key]!.signature, reason } };
      delete state.signatures[key];
    }
    await this.save(state);
    for (const { signer, reason } of rejected) {
      log("warn", "signature dropped: the service manager refuses it", {
        subsys: "aggregate",
        event_id: state.target.eventId,
        signer,
        reason,
      });
      await this.step(
        state,
        "signature_dropped",
        {},
        { signer, reason, signers: Object.keys(state.signatures).length },
      );
    }
    return true;
  }

  private async adoptLanding(from: AggregationState, peer: string, txHash: Hex): Promise<AggregationState> {
    const state = toLanded(from, txHash, Date.now() + aggregatorSettings(this.env).burnMs);
    await this.save(state);
    await this.ctx.storage.setAlarm(state.burnUntil);
    await this.step(state, "landed_by_peer", { status: "landed", txHash }, { peer, tx_hash: txHash });
    // Found on the chain, maybe sent by a node gone since: its peers may not know yet.
    if (peer === "chain") this.tellPeersLanded(state, txHash);
    await this.runSubmitCallback(state);
    return state;
  }

  /**
   * Tells the other aggregating nodes once that the task landed (peer-client.ts), off the task's
   * own steps: nothing here waits for a peer.
   */
  private tellPeersLanded(state: AggregationState, txHash: Hex): void {
    if (otherPeers(aggregatorSettings(this.env)).length === 0) return;
    const { serviceId, workflowId, eventId, chain, handler } = state.target;
    this.ctx.waitUntil(
      pushLanded(this.env, [
        { service_id: serviceId, workflow_id: workflowId, event_id: eventId, chain, handler, tx_hash: txHash },
      ]),
    );
  }

  /** Looks for a landing on the chain (task-chain.ts), noting how far it searched in the task's watch (saved by the caller). */
  private async findLandingOnchain(state: AggregationState): Promise<Hex | undefined> {
    const watch = watchOf(state, Date.now());
    const found = await findLanding(this.env, state.target, {
      triggerBlock: state.triggerBlock,
      searchedThrough: watch.searchedThrough,
    });
    if ("landed" in found) return found.landed;
    watch.searchedThrough = found.searchedThrough;
    return undefined;
  }

  /** Builds SignatureData, simulates (decoding reverts), and hands the transaction to the ChainSubmitter. */
  private async submit(from: Claiming | Submitting, claimedAt?: number): Promise<AggregationState> {
    const { target } = from;
    const chain = await chainByKey(this.env, target.chain);
    const client = publicClientFor(chain);
    const account = parseSubmitterCredential(this.env.WAVS_AGGREGATOR_EVM_CREDENTIAL);
    const state = toSubmitting(from, {
      submitterKey: `${target.chain}:${account.address.toLowerCase()}`,
      requestId: `${target.eventId}:${target.chain}:${target.handler.toLowerCase()}${from.lostAttempts ? `:${from.lostAttempts}` : ""}`,
      from: account.address.toLowerCase() as Hex,
      claimedAt: claimedAt ?? (from.phase === "submitting" ? from.claimedAt : 0),
    });
    await this.save(state);
    // If anything below throws, the alarm resumes from "submitting" (the request id keeps it to one tx).
    await this.ctx.storage.setAlarm(Date.now() + SUBMIT_RESUME_MS);

    let quorum: Awaited<ReturnType<typeof checkQuorum>>;
    try {
      quorum = await checkQuorum(chain, target.handler, target.envelope, (block) =>
        buildSignatureData(
          Object.fromEntries(Object.entries(state.signatures).map(([k, v]) => [k, v.signature])),
          block,
        ),
      );
    } catch (e) {
      if (!isContractRevert(e)) throw e; // RPC trouble: the alarm set above resumes from "submitting"
      return this.countAgainWithout(state, e);
    }
    if (!quorum.ok) {
      // Operators deregistered meanwhile: go back to collecting.
      const collecting = toCollecting(state);
      await this.save(collecting);
      return collecting;
    }
    const args = [target.envelope, quorum.signatureData] as const;
    let gas: bigint;
    try {
      gas = await client.estimateContractGas({
        account,
        address: target.handler,
        abi: wavsHandlerAbi,
        functionName: "handleSignedEnvelope",
        args,
      });
    } catch (e) {
      // The preflight may have reused an acceptance seconds old: never again for this envelope.
      if (isContractRevert(e)) forgetAcceptedQuorum(target.chain, target.handler, target.envelope);
      // Short of quorum now: as above.
      if (isContractRevert(e) && describeRevert(e).startsWith("InsufficientQuorum(")) {
        const collecting = toCollecting(state);
        await this.save(collecting);
        return collecting;
      }
      if (isContractRevert(e)) return this.countAgainWithout(state, e);
      throw e; // RPC trouble: the alarm set above resumes from "submitting"
    }
    // The operator's ceilings (spending-limits.ts): a transaction over them is not sent.
    const over = exceedsCeiling(spendingLimits(this.env), {
      gas: (gas * 125n) / 100n,
      ...(state.gasPrice !== undefined ? { gasPrice: BigInt(state.gasPrice) } : {}),
    });
    if (over) return this.fail(state, `not sent: ${over}`);
    // The ChainSubmitter withdraws unsent a claim older than a grace period (a standby may have
    // taken over): after a slow preflight, look at the peers and the chain again first, with room
    // to spare for the look itself.
    const looked = Date.now();
    if (claimNeedsConfirming(state.claimedAt, looked, aggregatorSettings(this.env).graceMs)) {
      if (!(await this.confirmClaim())) return this.carryOut(state, reclaim(state, { state: "withdrawn" }));
      state.claimedAt = looked;
      await this.save(state);
    }
    const submitter = this.env.CHAIN_SUBMITTER.get(this.env.CHAIN_SUBMITTER.idFromName(state.submitterKey));
    const outcome = (await submitter.send({
      requestId: state.requestId,
      guardedBy: this.ctx.id.toString(),
      claimedAt: state.claimedAt,
      chain: target.chain,
      to: target.handler,
      data: encodeFunctionData({ abi: wavsHandlerAbi, functionName: "handleSignedEnvelope", args }),
      gas: (gas * 125n) / 100n,
      ...(state.gasPrice !== undefined ? { gasPrice: BigInt(state.gasPrice) } : {}),
      serviceId: target.serviceId,
    })) as SendOutcome;
    const verdict = judgeSend(state, outcome, Date.now());
    if (verdict.kind !== "sent") return this.carryOut(state, verdict);
    await this.save(verdict.next);
    await this.step(
      verdict.next,
      "tx_sent",
      { status: "submitted", txHash: verdict.outcome.txHash },
      { tx_hash: verdict.outcome.txHash, nonce: verdict.outcome.nonce, gas_limit: (gas * 125n) / 100n },
    );
    return this.settle(verdict.next, verdict.outcome);
  }

  /**
   * The manager refused the set between quorum and sending (a signer deregistered meanwhile): the
   * signatures it refuses on their own are dropped and the rest counted again, as collecting
   * (nothing was handed to the ChainSubmitter yet). Fails the task only when no single signature
   * is to blame. @throws on RPC failure (the alarm resumes from "submitting")
   */
  private async countAgainWithout(state: Submitting, revert: unknown): Promise<AggregationState> {
    if (!(await this.dropRejectedSignatures(state))) return this.fail(state, describeRevert(revert));
    const collecting = toCollecting(state);
    await this.save(collecting);
    return this.evaluate(collecting);
  }

  /** Asks the ChainSubmitter again (a restart lands here too: the request id makes it idempotent). */
  private async followTransaction(state: Submitting): Promise<AggregationState> {
    const submitter = this.env.CHAIN_SUBMITTER.get(this.env.CHAIN_SUBMITTER.idFromName(state.submitterKey));
    const outcome = (await submitter.check(state.requestId)) as SendOutcome | undefined;
    if (!outcome) return this.submit(state); // stored intent, never handed over: hand it over now
    const verdict = judgeSend(state, outcome, Date.now());
    if (verdict.kind !== "sent") return this.carryOut(state, verdict);
    if (verdict.changed) {
      await this.save(verdict.next);
      const { outcome: sent } = verdict;
      await this.step(
        verdict.next,
        sent.state === "pending" && sent.cancelling ? "tx_cancelling" : "tx_replaced",
        { txHash: sent.txHash },
        { tx_hash: sent.txHash, replacements: sent.replacements },
      );
    }
    return this.settle(verdict.next, verdict.outcome);
  }

  /**
   * Nothing went out: refused for good (failed); held (the spend ceiling, the paying key's funds:
   * the task stays submitting, so its peers keep waiting for it and no second transaction goes
   * out, and asks again later; the timeline says why); or it can never land (its nonce went to one
   * we did not sign, or the claim was withdrawn: a standby may have taken over meanwhile, so rather
   * than re-send blindly, claim again: peers and the chain are asked first).
   */
  private async carryOut(
    state: Submitting,
    verdict: Exclude<SendVerdict, { kind: "sent" }>,
  ): Promise<AggregationState> {
    if (verdict.kind === "fail") return this.fail(state, verdict.error);
    if (verdict.kind === "hold") {
      await this.step(state, "tx_held", {}, { reason: verdict.reason, retry_at: verdict.retryAt });
      await this.ctx.storage.setAlarm(verdict.at);
      return state;
    }
    await this.save(verdict.next);
    await this.step(verdict.next, verdict.step, {}, verdict.detail);
    return this.claim(verdict.next);
  }

  /** A sent transaction: looked at again shortly while pending; a revert fails the task; a success lands it. */
  private async settle(
    submitting: Submitting,
    outcome: Extract<SendOutcome, { state: "pending" | "mined" }>,
  ): Promise<AggregationState> {
    const verdict = judgeSettle(outcome, Date.now());
    if (verdict.kind === "poll") {
      await this.ctx.storage.setAlarm(verdict.at);
      return submitting;
    }
    if (verdict.kind === "reverted") {
      const reason = await revertReason(this.env, submitting, verdict.blockNumber);
      return this.fail(submitting, `transaction ${verdict.txHash} reverted: ${reason}`);
    }
    const state = toLanded(submitting, outcome.txHash, Date.now() + aggregatorSettings(this.env).burnMs);
    await this.save(state);
    await this.ctx.storage.setAlarm(state.burnUntil);
    await this.step(
      state,
      "landed",
      { status: "landed", txHash: outcome.txHash },
      {
        tx_hash: outcome.txHash,
        block_number: outcome.state === "mined" ? outcome.blockNumber : undefined,
        gas_used: outcome.state === "mined" ? outcome.gasUsed : undefined,
        replacements: outcome.replacements,
      },
    );
    log("info", "envelope landed", { subsys: "aggregate", event_id: state.target.eventId, tx_hash: outcome.txHash });
    this.tellPeersLanded(state, outcome.txHash);
    await this.runSubmitCallback(state);
    return state;
  }

  private async fail(from: AggregationState, error: string): Promise<AggregationState> {
    const state = toFailed(from, error);
    await this.save(state);
    await this.step(state, "submit_failed", { status: "failed", error }, { error });
    log("error", "submission failed", { subsys: "aggregate", event_id: state.target.eventId, error });
    await this.runSubmitCallback(state);
    return state;
  }

  /**
   * Calls the aggregator component's handle-submit-callback once with the transaction hash or the
   * error (owed since the state said so). A transient failure retries from the alarm; a component
   * that fails is recorded and not called again.
   */
  private async runSubmitCallback(state: AggregationState): Promise<void> {
    const callback = state.callback;
    if (!callback || callback.done) return;
    try {
      await callSubmitCallback(this.env, state, callback.txResult, (step, detail) =>
        this.step(state, step, {}, detail),
      );
    } catch (e) {
      log("warn", "submit callback will retry", {
        subsys: "aggregate",
        event_id: state.target.eventId,
        error: describeError(e),
      });
      await this.ctx.storage.setAlarm(Date.now() + aggregatorSettings(this.env).retryMs);
      return;
    }
    callback.done = true;
    await this.save(state);
    if (state.phase === "landed" && state.burnUntil) await this.ctx.storage.setAlarm(state.burnUntil);
  }
}

/** The task's peer watch, started now if the peers were never asked. */
function watchOf(state: AggregationState, now: number): PeerWatch {
  state.watch ??= { since: now, heardFrom: {} };
  return state.watch;
}
