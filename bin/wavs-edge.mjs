#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so a fresh clone works after `npm ci` with no build step.
// It stops on SIGINT/SIGTERM/SIGHUP or when its parent dies (cli/lifecycle.ts), and exits as soon
// as the command is done: handles a library leaves open (wrangler, viem) never keep it alive.
import { register } from "tsx/esm/api";

register();
const { installLifecycle } = await import("../cli/lifecycle.ts");
installLifecycle();
const { runCli } = await import("../cli/main.ts");
process.exit(await runCli(process.argv.slice(2)));
