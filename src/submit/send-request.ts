import type { Hex } from "viem";

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
   * make sure no one else sent the same thing. Its claim counts only while it is fresh (claimedAt
   * younger than one grace period): a request that reaches the front of the line later is
   * withdrawn unsent, a transaction the pool dropped is cancelled rather than re-sent once the
   * claim is old, and a nonce lost to a transaction it did not sign is reported, not re-sent. In
   * each case the TaskAggregator claims again (asking its peers and the chain) before a new send.
   * Without a guard, dropped bytes are re-sent and a lost nonce is re-sent with a fresh one.
   */
  guardedBy?: string;
  /** When the guard decided to send (ms since the epoch). */
  claimedAt?: number;
  /** The service the transaction is for: its spend per hour is held to SUBMIT_MAX_SPEND_WEI_PER_SERVICE_HOUR. */
  serviceId?: string;
}

/** A final answer: the transaction's nonce is used for good. */
export type SettledOutcome = Extract<SendOutcome, { state: "mined" | "lost" | "withdrawn" }>;

export type SendOutcome =
  /**
   * Not sent, and no nonce taken: the service's spend ceiling for the hour would be exceeded, or the
   * chain refused the transaction for a reason that can pass (the paying key's funds); ask again at retryAt.
   */
  | { state: "held"; reason: string; retryAt: number }
  /** The chain refused the first broadcast for good (e.g. gas over the block limit): nothing was sent, no nonce taken. */
  | { state: "refused"; reason: string }
  /** Its nonce went to a transaction this object did not sign (guarded requests): it can never land, and nothing else was sent. */
  | { state: "lost"; txHash: Hex; nonce: number }
  /**
   * The guard's claim went stale: nothing was sent, or (txHash) the transaction was cancelled by a
   * zero-value transfer to ourselves with its nonce, now mined, so it can never land.
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

/** One signed version of a transaction. */
export interface SentVersion {
  hash: Hex;
  raw: Hex;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  /** When it was signed (ms since the epoch). */
  at: number;
  /** The cancelling transfer (nothing, to ourselves) rather than the request's call. */
  cancel?: true;
}

/** What the ChainSubmitter stores per request (persisted before anything is broadcast). */
export interface RequestRecord {
  request: SendRequest;
  nonce: number;
  /** Every signed version of the transaction, oldest first; the last is the live one. */
  sent: SentVersion[];
  outcome?: SettledOutcome;
  /** When the key's mined count was first seen past our nonce with no receipt of ours. */
  nonceGoneAt?: number;
  /** When the key's pending count was first seen at or below our nonce: not in the pool. */
  missingSince?: number;
}
