import { DurableObject } from "cloudflare:workers";
import type { Hex } from "viem";
import { chainByKey } from "../config";
import { openDb } from "../db/client";
import { recordTaskStep } from "../db/tasks";
import { describeError, log } from "../log";
import { recoverEnvelopeSigner, type Envelope } from "../sign/envelope";
import { parseSubmitterCredential } from "../sign/signing-keys";
import { checkQuorum, submitSignedEnvelope } from "../submit/submit-envelope";
import { buildSignatureData } from "./signature-data";

/** One operator's signed result for one event and one submit target. */
export interface SignedSubmission {
  eventId: Hex;
  serviceId: string;
  workflowId: string;
  chain: string;
  handler: Hex;
  envelope: Envelope;
  signer: Hex;
  signature: Hex;
}

export type AggregationStatus =
  | { status: "collecting"; signers: number; reason?: string }
  | { status: "submitting"; txHash?: Hex }
  | { status: "landed"; txHash: Hex }
  | { status: "failed"; error: string };

interface AggregationState {
  first: Omit<SignedSubmission, "signer" | "signature">;
  signatures: Record<Hex, Hex>;
  status: AggregationStatus;
}

/**
 * Collects signatures for one (event id, submit target), persisted in the object's storage, and
 * submits once when the service manager says the quorum is met.
 */
export class TaskAggregator extends DurableObject<Env> {
  /** Adds a signature (a newer one from the same signer replaces the older) and tries to submit. */
  async addSubmission(submission: SignedSubmission): Promise<AggregationStatus> {
    const recovered = await recoverEnvelopeSigner(submission.envelope, submission.signature);
    if (recovered.toLowerCase() !== submission.signer.toLowerCase()) {
      throw new Error("the signature was not made by the claimed signer");
    }
    let state = await this.ctx.storage.get<AggregationState>("state");
    if (!state) {
      const { signer: _signer, signature: _signature, ...first } = submission;
      state = { first, signatures: {}, status: { status: "collecting", signers: 0 } };
    } else if (!sameEnvelope(state.first.envelope, submission.envelope)) {
      throw new Error("the envelope differs from the one this task started with");
    }
    if (state.status.status === "landed" || state.status.status === "submitting") return state.status;

    state.signatures[recovered] = submission.signature;
    state.status = { status: "collecting", signers: Object.keys(state.signatures).length };
    await this.ctx.storage.put("state", state);
    return this.trySubmit(state);
  }

  async getStatus(): Promise<AggregationStatus | undefined> {
    return (await this.ctx.storage.get<AggregationState>("state"))?.status;
  }

  private async trySubmit(state: AggregationState): Promise<AggregationStatus> {
    const { first } = state;
    const task = { eventId: first.eventId, serviceId: first.serviceId, workflowId: first.workflowId };
    const db = openDb(this.env.DB);
    const chain = await chainByKey(this.env, first.chain);

    const quorum = await checkQuorum(chain, first.handler, first.envelope, (block) =>
      buildSignatureData(state.signatures, block),
    );
    if (!quorum.ok) {
      state.status = { status: "collecting", signers: Object.keys(state.signatures).length, reason: quorum.reason };
      await this.ctx.storage.put("state", state);
      await recordTaskStep(db, task, "waiting_for_quorum", { status: "signed" }, {
        signers: Object.keys(state.signatures).length,
        signer_weight: quorum.signerWeight,
        threshold_weight: quorum.thresholdWeight,
      });
      return state.status;
    }

    // Claim the submission before the first await that sends anything: a concurrent addSubmission
    // sees "submitting" and returns, so one object never sends two transactions.
    state.status = { status: "submitting" };
    await this.ctx.storage.put("state", state);
    await recordTaskStep(db, task, "quorum_reached", { status: "signed" }, { signers: quorum.signatureData.signers });

    try {
      const receipt = await submitSignedEnvelope({
        chain,
        account: parseSubmitterCredential(this.env.WAVS_AGGREGATOR_EVM_CREDENTIAL),
        handler: first.handler,
        envelope: first.envelope,
        signatureData: quorum.signatureData,
        onSent: async (txHash) => {
          state.status = { status: "submitting", txHash };
          await this.ctx.storage.put("state", state);
          await recordTaskStep(db, task, "tx_sent", { status: "submitted", txHash }, { tx_hash: txHash });
        },
      });
      state.status = { status: "landed", txHash: receipt.txHash };
      await this.ctx.storage.put("state", state);
      await recordTaskStep(db, task, "landed", { status: "landed", txHash: receipt.txHash }, {
        tx_hash: receipt.txHash,
        block_number: receipt.blockNumber,
        gas_used: receipt.gasUsed,
      });
      log("info", "envelope landed", { subsys: "aggregate", event_id: first.eventId, tx_hash: receipt.txHash });
      return state.status;
    } catch (e) {
      const error = describeError(e);
      state.status = { status: "failed", error };
      await this.ctx.storage.put("state", state);
      await recordTaskStep(db, task, "submit_failed", { status: "failed", error }, { error });
      log("error", "submission failed", { subsys: "aggregate", event_id: first.eventId, error });
      return state.status;
    }
  }
}

function sameEnvelope(a: Envelope, b: Envelope): boolean {
  return (
    a.eventId.toLowerCase() === b.eventId.toLowerCase() &&
    a.ordering.toLowerCase() === b.ordering.toLowerCase() &&
    a.payload.toLowerCase() === b.payload.toLowerCase()
  );
}
