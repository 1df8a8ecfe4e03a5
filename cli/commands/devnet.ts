/**
 * `wavs-edge devnet [--operators N]` (`npm start` runs it with one): builds what changed, then starts
 * anvil, the contracts with N operators (weight 1 each, quorum 2/3), N nodes under `wrangler dev`
 * that know each other as peers, and the demo service registered on all. Writes devnet.json (every
 * node listed) and stops everything on Ctrl-C, SIGTERM or when its parent dies.
 */
import { startDevnet, writeDevnetJson } from "../../devnet/index";
import { BuildError, ensureBuilt } from "../../scripts/lib/cached-build";
import { onShutdown } from "../lifecycle";

export type DevnetOptions = { operators: number; verbose: boolean };

/**
 * Parses `--operators N` (or `--operators=N`) and `--verbose`.
 * @throws Error naming the bad argument
 */
export function parseDevnetArgs(argv: readonly string[]): DevnetOptions {
  const options: DevnetOptions = { operators: 1, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--verbose") options.verbose = true;
    else if (arg === "--operators" || arg.startsWith("--operators=")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      const n = Number(value);
      if (!value || !Number.isInteger(n) || n < 1) throw new Error("--operators takes a whole number ≥ 1");
      options.operators = n;
    } else throw new Error(`unknown argument ${arg} (usage: devnet [--operators N] [--verbose])`);
  }
  return options;
}

/** Runs the devnet until SIGINT/SIGTERM (or the parent's death); what `wavs-edge devnet` calls. */
export async function devnetCommand(argv: readonly string[]): Promise<number> {
  let options: DevnetOptions;
  try {
    options = parseDevnetArgs(argv);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 2;
  }
  const started = Date.now();
  try {
    const { built } = await ensureBuilt(undefined, { onStep: (step) => console.log(`• ${step}`) });
    console.log(
      `• build: ${built.length > 0 ? `built ${built.join(", ")}` : "up to date"} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  } catch (e) {
    console.error(`error: ${e instanceof BuildError ? e.message : (e as Error).message}`);
    return 1;
  }
  let running: Awaited<ReturnType<typeof startDevnet>>;
  try {
    running = await startDevnet({
      operators: options.operators,
      onStep: (step) => console.log(`• ${step}`),
      onLog: (line) => (options.verbose || line.includes("{")) && console.log(`  ${line}`),
    });
  } catch (e) {
    console.error(`error: ${(e as Error).message.split("\n")[0]}`);
    return 1;
  }
  onShutdown(() => running.stop());
  const { devnet } = running;
  await writeDevnetJson(devnet);
  console.log(`
wavs-edge devnet with ${devnet.nodes.length} operator(s) is up in ${((Date.now() - started) / 1000).toFixed(1)} s (devnet.json written):
  chain            ${devnet.chain.key} at ${devnet.chain.rpc_url}
${devnet.nodes.map((n, i) => `  node ${i}           ${n.url}  signing ${n.signing_address}`).join("\n")}
  bearer token     ${devnet.nodes[0]!.bearer_token}
  service          ${devnet.service.id} / workflow ${devnet.service.workflow_id}
  ServiceManager   ${devnet.contracts.service_manager} (quorum 2/3, weight 1 each)
  SimpleTrigger    ${devnet.contracts.trigger}
  SimpleSubmit     ${devnet.contracts.submit}

Fire a trigger (squares x onchain):   npm run trigger -- 7
Look at a task:                       curl ${devnet.nodes[0]!.url}/tasks/<event id>
Ctrl-C stops everything.`);
  // Runs until a signal or the parent's death: cli/lifecycle.ts stops the devnet and exits.
  return new Promise<number>(() => {});
}
