/**
 * `npm test`'s vitest step: the workerd files and the node files side by side, in two vitest
 * processes. In one process vitest runs them one group after the other (the workerd group must be
 * one worker: its files share one runtime), and the node files, which mostly wait on devnets,
 * left half the machine idle meanwhile. The node files start once the workerd runtime is up (its
 * first file reported): two runtimes starting beside devnets on a loaded 2-core machine missed
 * vitest's fixed 90 s start timeout. Arguments (`npm test -- <filter>`) run one plain `vitest run`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** How long the node files wait at most for the workerd runtime's first file. */
const HEAD_START_MAX_MS = 120_000;

const args = process.argv.slice(2);
const children: ChildProcess[] = [];

function vitest(vitestArgs: string[], onLine: (line: string) => void = () => {}): Promise<number> {
  const child = spawn(process.execPath, ["node_modules/vitest/vitest.mjs", "run", ...vitestArgs], {
    stdio: ["ignore", "pipe", "pipe"],
    env: process.env,
  });
  children.push(child);
  // Whole lines, so the two processes' reports interleave line by line, never mid-line.
  for (const [stream, out] of [
    [child.stdout!, process.stdout],
    [child.stderr!, process.stderr],
  ] as const) {
    createInterface({ input: stream }).on("line", (line) => {
      out.write(`${line}\n`);
      onLine(line);
    });
  }
  return new Promise((resolve) => {
    child.on("error", (e) => {
      console.error(`run-tests: could not start vitest: ${e.message}`);
      resolve(1);
    });
    child.on("close", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

// Our children die with us (Ctrl-C, a CI timeout).
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    for (const c of children) c.kill(signal);
    process.exit(1);
  });

if (args.length > 0) {
  process.exit(await vitest(args));
}

let startNodeFiles = () => {};
const workerdUp = new Promise<void>((resolve) => (startNodeFiles = resolve));
// vitest's per-file line: " ✓  workers  test/…" (or × for a failed file)
const workers = vitest(["--project", "workers"], (line) => {
  if (/[✓×].*\bworkers\b/.test(line)) startNodeFiles();
});
const started = Date.now();
const seconds = () => `${Math.round((Date.now() - started) / 1000)} s`;
const workersDone = workers.then((code) => ({ code, at: seconds() }));
await Promise.race([workerdUp, workers, new Promise((r) => setTimeout(r, HEAD_START_MAX_MS))]);
const nodeStartedAt = seconds();
const nodeDone = vitest(["--project", "node"]).then((code) => ({ code, at: seconds() }));
const [w, n] = await Promise.all([workersDone, nodeDone]);
// One line with both outcomes and when each ended, for a log that interleaves two reports.
console.log(
  `run-tests: workerd files exit ${w.code} at ${w.at}; node files (started at ${nodeStartedAt}) exit ${n.code} at ${n.at}`,
);
process.exit(w.code !== 0 || n.code !== 0 ? 1 : 0);
