#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so a fresh clone works after `npm ci` with no build step.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../cli/main.ts");
process.exitCode = await runCli(process.argv.slice(2));
