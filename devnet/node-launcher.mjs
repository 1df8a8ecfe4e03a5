/**
 * Runs one wavs-edge node: `wrangler dev` through wrangler's own API, with the DevTools inspector
 * off. The CLI always attaches an inspector (and a proxy worker and a debug log file entry per
 * message it relays), which cost two to three times the node's own CPU under load: the devnet
 * has no debugger to serve. Spawned by node-process.ts with one JSON argument:
 * { config, port, persist, envFile, vars }. Prints "Ready on <url>" once wrangler listens there
 * (the runtime starts a few seconds later: node-process.ts waits for GET / to answer); SIGTERM or
 * SIGINT disposes of it.
 */
import { unstable_startWorker } from "wrangler";

const { config, port, persist, envFile, vars } = JSON.parse(process.argv[2]);
const worker = await unstable_startWorker({
  config,
  // The secrets, as `--env-file` gives them; the vars override wrangler.toml's, as `--var` does.
  envFiles: [envFile],
  bindings: Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: "plain_text", value }])),
  dev: {
    server: { hostname: "127.0.0.1", port },
    inspector: false,
    persist,
    watch: false,
    liveReload: false,
    logLevel: "log",
  },
});
await worker.ready;
console.log(`Ready on http://127.0.0.1:${port}`);
const stop = async () => {
  await worker.dispose().catch(() => {});
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
