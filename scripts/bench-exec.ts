/**
 * npm run bench:exec — component execution through the node's runtime, inside local workerd (the
 * exec Worker, cli/exec-worker/exec-worker.ts), beside the same component's bare `run` in plain Node,
 * measured in the same run. Prints one JSON line per figure:
 *
 * - for the component (default build/components/square.wasm; `-- FILE` for another): cold start
 *   (upload → first result, transpile and new isolate included) with its stages, the first run of
 *   a component whose artifacts were prepared at upload, transpile time, warm latency through
 *   `runOperatorComponent` (median, p99) beside the bare run (median, p99) and their ratio and
 *   difference, executions per second (one at a time, and 8 in flight);
 * - the same cold-start figures for a generated ~300 KB component (scripts/lib/sized-component.ts),
 *   the size the cold-start target is stated for.
 *
 * Workers' clocks tick in whole milliseconds, so warm runs through the runtime are timed in batches
 * of BATCH (default 10) and the median and p99 are over batch means; the bare run is timed per
 * call with performance.now().
 * Usage: npm run bench:exec [-- FILE] (ITERATIONS env, default 500; BATCH, default 10).
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withExecWorker } from "../cli/commands/exec";
import type { BenchRequest, BenchResponse } from "../cli/exec-worker/exec-protocol";
import { buildSizedComponent } from "./lib/sized-component";

const file = process.argv[2] ?? "build/components/square.wasm";
const iterations = Number(process.env.ITERATIONS ?? 500);
const batch = Number(process.env.BATCH ?? 10);
const SIZED_BYTES = 300_000;
const input = `0x${Buffer.from('{"x":12}').toString("hex")}` as const;

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const ms = (v: number): number => +v.toFixed(3);

interface BareRun {
  instantiateMs: number;
  firstRunMs: number;
  samplesMs: number[];
  payload: string;
}

/** The bare run in a Node child with extended-const enabled (see scripts/lib/bare-run.ts). */
function runBare(path: string, count: number): Promise<BareRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ["--experimental-wasm-extended-const", "--import", "tsx", "scripts/lib/bare-run.ts", path, input, String(count)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolvePromise(JSON.parse(stdout) as BareRun) : reject(new Error(`bare run exited with ${code}`)),
    );
  });
}

const bytes = await readFile(file);
const sized = await buildSizedComponent(SIZED_BYTES);
const dir = await mkdtemp(join(tmpdir(), "wavs-edge-bench-"));
const sizedFile = join(dir, "sized-300k.wasm");
await writeFile(sizedFile, sized);

try {
  const request = (component: Uint8Array, n: number): BenchRequest => ({
    bench: true,
    component: `0x${Buffer.from(component).toString("hex")}`,
    input,
    iterations: n,
    batch,
    concurrency: 8,
  });
  const [main, small] = await withExecWorker({}, async (send) => [
    (await send(request(bytes, iterations))) as BenchResponse,
    (await send(request(sized, batch * 10))) as BenchResponse,
  ]);
  // After workerd is gone, so the two do not share the CPU.
  const bare = await runBare(file, iterations);

  const line = (component: string, size: number, o: Record<string, unknown>) =>
    console.log(JSON.stringify({ bench: "exec", component, bytes: size, ...o }));
  for (const [name, r] of [
    [file, main],
    [`generated ${SIZED_BYTES / 1000} KB WAT component`, small],
  ] as const) {
    line(name, r.size, {
      figure: "cold_start_ms",
      value: r.coldMs,
      stages_ms: { upload: r.uploadMs, ...r.coldStagesMs },
      note: "upload → first result: store, transpile (artifacts written to R2 meanwhile), new isolate, instantiate, run",
    });
    line(name, r.size, { figure: "transpile_ms", value: r.transpileMs });
    line(name, r.size, {
      figure: "cold_start_prepared_ms",
      value: r.preparedColdMs,
      stages_ms: r.preparedStagesMs,
      note: "first run in a new isolate when the artifacts were prepared at upload: artifact read, new isolate, instantiate, run",
    });
  }

  // The bare run timed as the runtime is (means of batches), and per call.
  const bareBatchMeans: number[] = [];
  for (let i = 0; i + batch <= bare.samplesMs.length; i += batch) {
    bareBatchMeans.push(bare.samplesMs.slice(i, i + batch).reduce((a, b) => a + b, 0) / batch);
  }
  const warmMedian = quantile(main.batchMeansMs, 0.5);
  const bareMedian = quantile(bareBatchMeans, 0.5);
  line(file, main.size, {
    figure: "warm_latency_ms",
    median: ms(warmMedian),
    p99: ms(quantile(main.batchMeansMs, 0.99)),
    mean: ms(main.warmTotalMs / iterations),
    iterations,
    instantiations: main.instantiations,
    guest_run_mean: ms(main.guestRunTotalMs / iterations),
    note: `through runOperatorComponent (load, RPC to the component's isolate, reused instance); median and p99 over means of ${batch} sequential runs (Workers' clocks tick in whole ms); guest_run_mean: the export alone inside the isolate`,
  });
  line(file, main.size, {
    figure: "bare_run_ms",
    median: ms(bareMedian),
    p99: ms(quantile(bareBatchMeans, 0.99)),
    per_call_median: ms(quantile(bare.samplesMs, 0.5)),
    per_call_p99: ms(quantile(bare.samplesMs, 0.99)),
    mean: ms(bare.samplesMs.reduce((a, b) => a + b, 0) / bare.samplesMs.length),
    iterations,
    instantiate_ms: ms(bare.instantiateMs),
    first_run_ms: ms(bare.firstRunMs),
    note: `the same component's run called directly in plain Node 20 (--experimental-wasm-extended-const), jco-transpiled with the node's options, one instance; median and p99 over means of ${batch} calls as for the runtime, per_call_* from per-call performance.now()`,
  });
  line(file, main.size, {
    figure: "warm_breakdown_ms",
    through_runtime: ms(warmMedian),
    load_and_call: ms(quantile(main.breakdownBatchMeansMs.loadAndCall!, 0.5)),
    rpc_and_guest: ms(quantile(main.breakdownBatchMeansMs.rpcAndGuest!, 0.5)),
    guest_run_mean: ms(main.guestRunTotalMs / iterations),
    bare_run: ms(bareMedian),
    note: "medians of batch means: through_runtime = runOperatorComponent; load_and_call = loader stub, entrypoint and host per call with a prebuilt GuestCall; rpc_and_guest = one stub and host reused; guest_run_mean = the export inside the isolate",
  });
  line(file, main.size, {
    figure: "warm_overhead",
    ratio: ms(warmMedian / bareMedian),
    difference_ms: ms(warmMedian - bareMedian),
    target_difference_ms: 0.3,
    note: "warm median through the runtime over (and minus) the bare run's median",
  });
  line(file, main.size, {
    figure: "executions_per_second",
    sequential: +((iterations * 1000) / main.warmTotalMs).toFixed(1),
    concurrent_8: +((iterations * 1000) / main.concurrentMs).toFixed(1),
    note: "one node (one workerd), one component, one workflow: its calls are serialised on one instance",
  });
  if (main.payload !== bare.payload) {
    throw new Error(
      `the runtime answered ${JSON.stringify(main.payload)}, the bare run ${JSON.stringify(bare.payload)}`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
