/**
 * `npm start` (one operator) and `npm run devnet -- --operators N`: anvil, the contracts with N operators (weight 1 each, quorum
 * 2/3), N nodes under `wrangler dev` that know each other as peers, and the demo service registered
 * on all. Writes devnet.json (every node listed) and stops everything on Ctrl-C.
 */
import { pathToFileURL } from "node:url";
import { startDevnet, writeDevnetJson } from "../../devnet";

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

/** Runs the devnet until SIGINT/SIGTERM; what `wavs-edge devnet` calls. */
export async function devnetCommand(argv: readonly string[]): Promise<void> {
  let options: DevnetOptions;
  try {
    options = parseDevnetArgs(argv);
  } catch (e) {
    console.error(`✗ ${(e as Error).message}`);
    process.exit(2);
  }
  const running = await startDevnet({
    operators: options.operators,
    onStep: (step) => console.log(`• ${step}`),
    onLog: (line) => (options.verbose || line.includes("{")) && console.log(`  ${line}`),
  }).catch((e: Error) => {
    console.error(`✗ ${e.message}`);
    process.exit(1);
  });
  const { devnet } = running;
  await writeDevnetJson(devnet);
  console.log(`
wavs-edge devnet with ${devnet.nodes.length} operator(s) is up (devnet.json written):
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
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await devnetCommand(process.argv.slice(2));
