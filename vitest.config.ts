import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

// Built components (npm run build:components) as base64, by name: vite cannot import binary
// .wasm into the test isolate, so tests get them through this binding.
function readBuiltComponents(): Record<string, string> {
  const dir = "./build/components";
  if (!existsSync(dir)) return {};
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith(".wasm"))
      .map((f) => [f.slice(0, -".wasm".length), readFileSync(`${dir}/${f}`).toString("base64")]),
  );
}

// Two worlds: code that runs in the Worker is tested inside workerd (vitest-pool-workers, with
// local D1/R2/Queues/DOs/Worker Loader); chain and end-to-end tests drive anvil and `wrangler dev`
// from Node.
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
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
                SERVICE_ENV_GRANTS: JSON.stringify({ "*": ["WAVS_ENV_TEST_API_KEY", "WAVS_ENV_VISIT_API_KEY", "WAVS_ENV_ORACLE_API_KEY"] }),
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
          })),
        ],
        test: {
          name: "workers",
          // a component's first run transpiles it (seconds on a busy 2-core machine)
          testTimeout: 60_000,
          hookTimeout: 60_000,
          include: ["src/**/*.test.ts", "test/worker/**/*.test.ts"],
          setupFiles: ["./test/worker/apply-migrations.ts"],
          // HTTP servers on 127.0.0.1: for the component HTTP tests; downloads, IPFS gateway, registry
          globalSetup: ["./test/worker/http-server.global.ts", "./test/worker/source-servers.global.ts"],
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["test/node/**/*.test.ts", "cli/**/*.test.ts", "devnet/**/*.test.ts", "scripts/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
