/**
 * `npm start`: a complete local network with embedded defaults. Writes devnet.json, prints where
 * everything is, and stops it all on Ctrl-C.
 */
import { startDevnet, writeDevnetJson } from "./lib/devnet";

const verbose = process.argv.includes("--verbose");
const running = await startDevnet({
  onStep: (step) => console.log(`• ${step}`),
  // The node's own structured log lines are worth seeing; wrangler's chatter only with --verbose.
  onLog: (line) => (verbose || line.startsWith("{")) && console.log(`  node │ ${line}`),
}).catch((e: Error) => {
  console.error(`✗ ${e.message}`);
  process.exit(1);
});
const { devnet } = running;
await writeDevnetJson(devnet);

console.log(`
wavs-edge local network is up (devnet.json written):
  chain            ${devnet.chain.key} at ${devnet.chain.rpc_url}
  node             ${devnet.nodes[0]!.url}  (bearer token: ${devnet.nodes[0]!.bearer_token})
  signing address  ${devnet.nodes[0]!.signing_address}
  service          ${devnet.service.id} / workflow ${devnet.service.workflow_id}
  ServiceManager   ${devnet.contracts.service_manager}
  SimpleTrigger    ${devnet.contracts.trigger}
  SimpleSubmit     ${devnet.contracts.submit}

Fire a trigger (squares x onchain):   npm run trigger -- 7
Look at a task:                       curl ${devnet.nodes[0]!.url}/tasks/<event id>
Ctrl-C stops everything.`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping…");
    await running.stop();
    process.exit(0);
  });
}
