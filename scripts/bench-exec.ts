/**
 * npm run bench:exec — component execution through the node's runtime, inside local workerd (the
 * exec Worker, src/execute/exec-worker.ts). Prints one JSON line per figure for a component
 * (default build/components/square.wasm; `-- FILE` for another):
 * cold start (upload → first result, transpile included), transpile time, warm latency
 * (median, p99, mean), executions per second one at a time and with 8 in flight.
 * Usage: npm run bench:exec [-- FILE] (ITERATIONS env, default 300).
 */
import { readFile } from "node:fs/promises";
import { withExecWorker } from "../src/cli/commands/exec";

const file = process.argv[2] ?? "build/components/square.wasm";
const iterations = Number(process.env.ITERATIONS ?? 300);
const component = `0x${(await readFile(file)).toString("hex")}`;
const input = `0x${Buffer.from('{"x":12}').toString("hex")}`;

const r = (await withExecWorker({}, (send) => send({ bench: true, component, input, iterations, concurrency: 8 }))) as {
  size: number;
  coldMs: number;
  transpileMs: number | null;
  samples: number[];
  warmTotalMs: number;
  concurrentMs: number;
};
const sorted = [...r.samples].sort((a, b) => a - b);
const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const line = (o: Record<string, unknown>) => console.log(JSON.stringify({ bench: "exec", component: file, bytes: r.size, ...o }));
line({ figure: "cold_start_ms", value: r.coldMs, note: "upload → first result, transpile and new isolate included" });
line({ figure: "transpile_ms", value: r.transpileMs });
line({ figure: "warm_latency_ms", median: at(0.5), p99: at(0.99), mean: +(r.warmTotalMs / iterations).toFixed(3), iterations, note: "through runOperatorComponent; Workers clocks tick only across I/O, so per-run values are whole milliseconds and the mean is the precise figure" });
line({ figure: "executions_per_second", sequential: +((iterations * 1000) / r.warmTotalMs).toFixed(1), concurrent_8: +((iterations * 1000) / r.concurrentMs).toFixed(1) });
line({ figure: "bare_run_ms", value: null, note: "not measured: QuickJS components need wasm features Node 20 lacks, and inside workerd a synchronous run cannot be timed" });
