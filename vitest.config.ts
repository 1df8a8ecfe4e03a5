import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// Built components (npm run build:components) as base64, by name: vite cannot import binary
// .wasm into the test isolate, so tests get them through this binding.
// Read once per run: the pool starts a runtime per isolated file and would read them again each time.
let builtComponents: Record<string, string> | undefined;
function readBuiltComponents(): Record<string, string> {
  if (builtComponents) return builtComponents;
  const dir = "./build/components";
  if (!existsSync(dir)) return {};
  builtComponents = Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith(".wasm"))
      .map((f) => [f.slice(0, -".wasm".length), readFileSync(`${dir}/${f}`).toString("base64")]),
  );
  return builtComponents;
}

// The Worker and its local bindings, the same for both workerd projects.
const workersPool = () =>
  cloudflareTest(async () => ({
    main: "./src/index.ts",
    wrangler: { configPath: "./wrangler.toml" },
    miniflare: {
      bindings: {
        TEST_MIGRATIONS: await readD1Migrations("./migrations"),
        TEST_COMPONENTS: readBuiltComponents(),
        WAVS_SIGNING_MNEMONIC: "test test test test test test test test test test test junk",
        WAVS_AGGREGATOR_EVM_CREDENTIAL: "test test test test test test test test test test test junk",
        WAVS_BEARER_TOKEN: "test-token",
        WEBHOOK_SECRET_TEST_SOURCE: "whsec-test",
        WAVS_BUILDER_TOKEN: "builder-token",
        WAVS_ENV_TEST_API_KEY: "component-secret",
        WAVS_ENV_VISIT_API_KEY: "visit-secret",
        WAVS_ENV_ORACLE_API_KEY: "oracle-secret",
        // Granted to every test service; test/worker/service-env-grants.test.ts narrows it.
        SERVICE_ENV_GRANTS: JSON.stringify({
          "*": ["WAVS_ENV_TEST_API_KEY", "WAVS_ENV_VISIT_API_KEY", "WAVS_ENV_ORACLE_API_KEY"],
        }),
        CORS_ORIGINS: "https://app.example",
        // the tests' servers (downloads, gateways, registries, RPCs) listen on 127.0.0.1
        ALLOW_PRIVATE_NETWORK_URIS: "true",
      },
      // Small limits so the rate-limit test stays quick (only requests with CF-Connecting-IP count).
      ratelimits: {
        WEBHOOK_LIMITER: { simple: { limit: 5, period: 60 } },
        PEER_LIMITER: { simple: { limit: 5, period: 60 } },
      },
    },
  }));

/** The workerd project's settings. */
const workersTest = {
  // a component's first run transpiles it (seconds on a busy 2-core machine)
  testTimeout: 60_000,
  hookTimeout: 60_000,
  setupFiles: ["./test/worker/apply-migrations.ts"],
  // HTTP servers on 127.0.0.1: for the component HTTP tests; downloads, IPFS gateway, registry
  globalSetup: ["./test/worker/http-server.global.ts", "./test/worker/source-servers.global.ts"],
};

/**
 * Node test files run this many at a time. Most of their time is waiting on devnets (anvil and
 * `wrangler dev` nodes), but starting a node costs ~9 s of CPU and each CLI child a few; the
 * three-node devnets start apart (SLOW_NODE_FILES). Three at once: 404 s of node files on a quiet
 * 2-core machine against ~480 s for two.
 */
const NODE_FILES_AT_ONCE = 3;

/**
 * The node files that take longest, started first so that no long one finishes last alone; the
 * three with 3-node devnets apart, so their start-ups (~30 s of CPU each) do not meet.
 */
const SLOW_NODE_FILES = [
  "test/node/aggregation-exactly-once.test.ts",
  "test/node/cli-devnet.test.ts",
  "test/node/ingest-triggers.test.ts",
  "test/node/aggregation-network.test.ts",
  "test/node/exec-cli.test.ts",
  "test/node/aggregation-component.test.ts",
  "test/node/sources-devnet.test.ts",
  "test/node/ingest-poller.test.ts",
  "test/node/aggregation-payer-funds.test.ts",
];

/**
 * Vitest's order (its cache: failed and slow files first), except that the files sharing one
 * workerd run in path order, the same on every machine: a file that leaves state behind for the
 * next one then fails everywhere, not only where the cache happened to put it first. The slow
 * node files go first on every machine, fresh clones (no cache) included.
 */
class SharedRuntimeSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isShared = (f: TestSpecification) => f.project.config.isolate === false;
    const shared = sorted.filter(isShared).sort((a, b) => (a.moduleId < b.moduleId ? -1 : 1));
    let next = 0;
    const slowRank = (f: TestSpecification) => {
      const i = SLOW_NODE_FILES.findIndex((path) => f.moduleId.endsWith(path));
      return i < 0 ? SLOW_NODE_FILES.length : i;
    };
    // Array.prototype.sort is stable: the others keep vitest's order.
    return sorted.map((f) => (isShared(f) ? shared[next++]! : f)).sort((a, b) => slowRank(a) - slowRank(b));
  }
}

// Two worlds: code that runs in the Worker is tested inside workerd (vitest-pool-workers, with
// local D1/R2/Queues/DOs/Worker Loader); chain and end-to-end tests drive anvil and `wrangler dev`
// from Node.
export default defineConfig({
  test: {
    sequence: { sequencer: SharedRuntimeSequencer },
    projects: [
      {
        plugins: [workersPool()],
        test: {
          ...workersTest,
          name: "workers",
          include: ["src/**/*.test.ts", "test/worker/**/*.test.ts"],
          // One workerd for all these files: a fresh one per file cost ~15 s each (70 files) for
          // ~2 s of tests. They share D1/R2/DO storage and per-isolate caches, so each uses its own
          // ids; the few that count what the whole node holds empty D1 and R2 first (test/worker/empty-node.ts).
          isolate: false,
          // one file at a time in that runtime, in path order (SharedRuntimeSequencer)
          maxWorkers: 1,
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          // In one `vitest run`, after the workerd files (a group of their own, one worker); `npm test`
          // runs the two projects side by side in two processes instead (scripts/run-tests.ts).
          sequence: { groupOrder: 1 },
          maxWorkers: NODE_FILES_AT_ONCE,
          include: ["test/node/**/*.test.ts", "cli/**/*.test.ts", "devnet/**/*.test.ts", "scripts/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
