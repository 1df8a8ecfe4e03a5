#!/usr/bin/env node
// Runs the CLI: its bundle (build/cli/, written by `npm run build`) while every source it was built
// from is unchanged, else the TypeScript through tsx, so a fresh clone or an edited tree works after
// `npm ci` with no build step (tsx's loader only costs each start ~1.5 s of CPU).
// It stops on SIGINT/SIGTERM/SIGHUP or when its parent dies (cli/lifecycle.ts), and exits as soon
// as the command is done: handles a library leaves open (wrangler, viem) never keep it alive.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const root = new URL("../", import.meta.url);

/** Whether build/cli/ was bundled from the sources as they are now (sha256 of each). */
function bundleIsCurrent() {
  try {
    const { files } = JSON.parse(readFileSync(new URL("build/cli/inputs.json", root), "utf8"));
    const entries = Object.entries(files);
    return (
      entries.length > 0 &&
      entries.every(
        ([path, sha256]) =>
          createHash("sha256")
            .update(readFileSync(new URL(path, root)))
            .digest("hex") === sha256,
      )
    );
  } catch {
    return false; // not built, or a source is gone
  }
}

let lifecycle;
let main;
if (bundleIsCurrent()) {
  lifecycle = () => import("../build/cli/lifecycle.mjs");
  main = () => import("../build/cli/main.mjs");
} else {
  const { register } = await import("tsx/esm/api");
  register();
  lifecycle = () => import("../cli/lifecycle.ts");
  main = () => import("../cli/main.ts");
}
const { installLifecycle } = await lifecycle();
installLifecycle();
const { runCli } = await main();
process.exit(await runCli(process.argv.slice(2)));
