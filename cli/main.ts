/**
 * `wavs-edge`: the operator's and builder's command line. Every command prints its result on
 * stdout (JSON with --json), progress on stderr, and on failure one line `error: …` and exit 1
 * (2 for usage errors).
 */
import { pathToFileURL } from "node:url";
import { CliError, parseArgv, type ParsedArgs } from "./args";
import { deployServiceCommand, tasksCommand, uploadComponentCommand } from "./commands/node-commands";
import { SERVICE_HELP, serviceCommand } from "./commands/service";
import { TRIGGER_HELP, triggerCommand } from "./commands/trigger";
import { upgradesCommand } from "./commands/upgrades";
import { alertsCommand } from "./commands/alerts";
import { createOutput, type Output } from "./output";

export const HELP = `wavs-edge — a WAVS operator node on Cloudflare Workers

Usage: wavs-edge <command> [flags]

Build a service (offline, edits ./service.json or --file):
  service init | workflow add | trigger set-evm | set-cron | set-block-interval
  | component set-source-digest | set-source-uri | set-source-registry | permissions | config | env
  | submit set-aggregator | update-status | validate
                                  see \`wavs-edge service --help\`
Talk to a node (--node URL --token T, or WAVS_EDGE_NODE/WAVS_EDGE_TOKEN, or ./devnet.json):
  upload-component FILE           upload a wasm component → its sha256 digest
  deploy-service --service-uri URI [--set-uri --rpc-url URL] [--ipfs-gateway URL]
  deploy-service --service-file service.json [--set-uri --rpc-url URL]
                                  register the service the manager points to (--set-uri first
                                  writes the URI to the manager, key in WAVS_CLI_EVM_CREDENTIAL)
  tasks [EVENT_ID] [--status S --service-id ID --workflow-id W --limit N]
                                  recent tasks, or one task's timeline
  upgrades [--status awaiting_approval --service-id ID] | upgrades approve ID | upgrades reject ID
                                  service upgrades seen on chain; approve or reject one that
                                  changes components, env_keys or permissions
  alerts [--limit N]              the node's active and recently resolved alerts, and its sinks
  trigger --service-id ID [--workflow-id W] [--input TEXT | --data JSON] [--count N] [--wait]
                                  fire a workflow by hand (POST /dev/triggers)
Run components and networks:
  exec | exec-aggregator          run one component once in local workerd (see \`wavs-edge exec --help\`)
  devnet [--operators N]          anvil, the contracts and N local nodes (what \`npm start\` runs)

Flags everywhere: --json (machine-readable result on stdout), --help

Examples:
  npm start                                   # local network; writes devnet.json
  wavs-edge upload-component build/components/square.wasm
  wavs-edge service init --name square --manager-chain evm:31337 --manager-address 0x…
  wavs-edge service workflow add --id default
  wavs-edge service validate
  wavs-edge deploy-service --service-file service.json --set-uri --rpc-url http://127.0.0.1:8545
  wavs-edge tasks --status landed --json`;

/** Commands that parse their flags with flagReader and print through Output. */
const COMMANDS = new Map<string, (args: ParsedArgs, out: Output) => Promise<void>>([
  ["service", serviceCommand],
  ["upload-component", uploadComponentCommand],
  ["deploy-service", deployServiceCommand],
  ["tasks", tasksCommand],
  ["trigger", triggerCommand],
  ["upgrades", upgradesCommand],
  ["alerts", alertsCommand],
]);

/** Commands loaded on demand: they pull in wrangler and the devnet, which the others never need. */
const LAZY = new Map<string, () => Promise<(argv: string[]) => Promise<number | void>>>([
  ["exec", async () => (await import("./commands/exec")).execCommand],
  ["exec-aggregator", async () => (await import("./commands/exec")).execAggregatorCommand],
  ["devnet", async () => (await import("./commands/devnet")).devnetCommand],
]);

/** Runs one command line; resolves to the exit code. Never throws. */
export async function runCli(argv: string[]): Promise<number> {
  const args = parseArgv(argv);
  const out = createOutput(args.flags.get("json") === true || args.flags.get("json") === "true");
  const command = args.positionals[0];
  try {
    if (!command || command === "help") {
      process.stdout.write(HELP + "\n");
      return command ? 0 : args.flags.has("help") ? 0 : 2;
    }
    // Lazy commands answer their own --help.
    if (args.flags.has("help") && !LAZY.has(command)) {
      process.stdout.write((command === "service" ? SERVICE_HELP : command === "trigger" ? TRIGGER_HELP : HELP) + "\n");
      return 0;
    }
    const run = COMMANDS.get(command);
    if (run) {
      await run(args, out);
      return 0;
    }
    const load = LAZY.get(command);
    if (load) {
      const code = await (await load())(argv.slice(1));
      return typeof code === "number" ? code : 0;
    }
    throw new CliError(`unknown command "${command}"; see wavs-edge --help`, 2);
  } catch (e) {
    const message = e instanceof CliError ? e.message : `unexpected: ${(e as Error)?.message ?? String(e)}`;
    process.stderr.write(`error: ${message.split("\n")[0]}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { installLifecycle } = await import("./lifecycle");
  installLifecycle();
  process.exit(await runCli(process.argv.slice(2)));
}
