import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";

const run = promisify(execFile);
const outdir = await mkdtemp(join(tmpdir(), "wavs-edge-dist-"));
afterAll(() => rm(outdir, { recursive: true, force: true }));

it("bundles for `wrangler deploy` offline", async () => {
  const { stdout } = await run(
    process.execPath,
    ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--outdir", outdir],
    { env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" } },
  );
  expect(stdout).toContain("--dry-run: exiting now.");
  // Every binding the pipeline needs is declared.
  for (const binding of ["TASK_AGGREGATOR", "TRIGGERS", "DB", "COMPONENTS", "LOADER"]) {
    expect(stdout).toContain(binding);
  }
  expect(await readdir(outdir)).toContain("index.js");
});
