/**
 * Offchain quorum estimate: the service manager's `validate` (an eth_call, plus the block number
 * for the reference block) was asked on every arriving signature, though most arrive short of the
 * threshold. The threshold the manager last reported (InsufficientQuorum's thresholdWeight) and
 * the weights read when each signer was authenticated tell when asking cannot succeed yet. Only a
 * "not yet" is decided offchain, and a "quorum" only for a node that stands by: the manager
 * still decides every quorum a transaction is sent on, and a task short of quorum asks it again on
 * its recheck alarm, so a threshold that fell meanwhile delays, never loses.
 */

/** Thresholds last reported per submit target (chain:handler), kept in the isolate. */
const thresholds = new Map<string, { weight: bigint; at: number }>();
const MAX_TARGETS = 10_000;

function targetKey(chain: string, handler: string): string {
  return `${chain}:${handler.toLowerCase()}`;
}

/** Remembers the threshold weight a manager reported for this submit target. */
export function noteThreshold(chain: string, handler: string, thresholdWeight: bigint, now = Date.now()): void {
  if (thresholds.size >= MAX_TARGETS) thresholds.clear();
  thresholds.set(targetKey(chain, handler), { weight: thresholdWeight, at: now });
}

/** The threshold weight last reported for this submit target, if any. */
export function knownThreshold(chain: string, handler: string): bigint | undefined {
  return thresholds.get(targetKey(chain, handler))?.weight;
}

/**
 * Whether the manager reported this submit target's threshold within `maxAgeMs`. A task's recheck
 * asks the manager only when it did not: under a burst thousands of tasks wait short of quorum
 * (their own run still queued), and each asking on its recheck was an eth_call storm; one ask per
 * target and recheck period keeps "a threshold that fell delays, never loses".
 */
export function thresholdHeardWithin(chain: string, handler: string, maxAgeMs: number, now = Date.now()): boolean {
  const known = thresholds.get(targetKey(chain, handler));
  return known !== undefined && now - known.at < maxAgeMs;
}

/** The weights' sum (decimal strings, as authenticated), or undefined when one does not read. */
function totalWeight(weights: readonly string[]): bigint | undefined {
  let total = 0n;
  for (const w of weights) {
    if (!/^\d{1,78}$/.test(w)) return undefined;
    total += BigInt(w);
  }
  return total;
}

/**
 * Whether the signatures' weights (decimal strings, as authenticated) are known to fall short of
 * `threshold`, so that asking the manager now would only hear InsufficientQuorum. Unknown
 * threshold or unreadable weight: not known short (ask the manager).
 */
export function knownShortOfQuorum(weights: readonly string[], threshold: bigint | undefined): boolean {
  const total = totalWeight(weights);
  return threshold !== undefined && total !== undefined && total < threshold;
}

/**
 * Whether the weights are known to reach `threshold`. Enough for a node that will only stand by:
 * it sends nothing before it claims, and its submit asks the manager then. Never enough to send.
 */
export function knownAtQuorum(weights: readonly string[], threshold: bigint | undefined): boolean {
  const total = totalWeight(weights);
  return threshold !== undefined && total !== undefined && total >= threshold;
}
