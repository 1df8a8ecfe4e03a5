/**
 * The JSON the CLI (`wavs-edge exec`, cli/commands/exec.ts) and scripts/bench-exec.ts post to the
 * exec Worker (cli/exec-worker/exec-worker.ts). Types only, so Node code can share them without
 * pulling the Worker's sources into its program.
 */
import type { Hex } from "viem";
import type { AllowedHttpHosts } from "../../src/service/types";

/** One exec request (JSON; bytes as 0x hex). */
export interface ExecRequest {
  world: "operator" | "aggregator";
  component: Hex;
  data: { raw: Hex } | { cron: string } | { block_interval: string } | { evm_event: Hex };
  config: Record<string, string>;
  envKeys: string[];
  timeLimitSeconds: number | null;
  /** narrowed by `--allowed-http-hosts` / `--file-system`; absent: every permission (as `wavs-cli exec`) */
  permissions?: { allowedHttpHosts?: AllowedHttpHosts; fileSystem?: boolean };
}

/** What the exec Worker answers: the run's responses (or aggregator actions) and logs, or why it failed. */
export type ExecResponse =
  | {
      ok: true;
      digest: string;
      responses?: { payload: Hex; ordering: string | null; event_id_salt: Hex | null }[];
      actions?: unknown[];
      logs: string[];
      durationMs: number;
      transpileMs?: number;
    }
  | { ok: false; kind: string; message: string; logs: string[] };

/** scripts/bench-exec.ts: timings of one component inside this Worker. */
export interface BenchRequest {
  bench: true;
  component: Hex;
  input: Hex;
  /** warm runs measured, in batches of `batch` */
  iterations: number;
  batch: number;
  concurrency: number;
}

export interface BenchResponse {
  size: number;
  digest: string;
  /** upload (validate, digest, R2) → first result, transpile and new isolate included */
  coldMs: number;
  uploadMs: number;
  transpileMs: number | null;
  /** stage times of the cold run (see RunDebug.stagesMs) */
  coldStagesMs: Record<string, number>;
  /** the same component under another digest, its artifacts prepared beforehand (as an upload
   * that transpiles in the background would leave them): first run in a new isolate */
  preparedColdMs: number;
  preparedStagesMs: Record<string, number>;
  /** per-run mean of each batch of `batch` sequential warm runs */
  batchMeansMs: number[];
  warmTotalMs: number;
  /** the export itself inside the dynamic worker, summed over the warm runs */
  guestRunTotalMs: number;
  /** per-run means of batches of warm calls that skip parts of the path (see bench()) */
  breakdownBatchMeansMs: Record<string, number[]>;
  /** warm runs that created an instance (0 when every call reused it) */
  instantiations: number;
  concurrentMs: number;
  payload: string;
}
