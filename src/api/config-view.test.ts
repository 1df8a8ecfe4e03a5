import { describe, expect, it } from "vitest";
import { describeConfig, redactUrl } from "./config-view";

describe("redactUrl", () => {
  it("keeps scheme and host, hides user info, path and query", () => {
    expect(redactUrl("http://127.0.0.1:8545")).toBe("http://127.0.0.1:8545");
    expect(redactUrl("https://eth-mainnet.g.alchemy.com/v2/SECRETKEY")).toBe(
      "https://eth-mainnet.g.alchemy.com/<redacted>",
    );
    expect(redactUrl("https://user:pw@rpc.example/")).toBe("https://rpc.example/<redacted>");
    expect(redactUrl("https://rpc.example/?key=SECRET")).toBe("https://rpc.example/<redacted>");
    expect(redactUrl("not a url SECRET")).toBe("<redacted>");
  });
});

describe("describeConfig", () => {
  it("never carries a secret value", () => {
    const view = describeConfig({
      chains: [
        {
          key: "evm:1",
          chain_id: "1",
          rpc_url: "https://rpc.example/v2/SECRET",
          rpc_urls: ["https://rpc.example/v2/SECRET", "https://backup.example/SECRET"],
          ws_endpoints: ["wss://x.example/SECRET"],
          confirmations: 12,
          poll_range: 500,
        },
      ],
      envKeys: ["WAVS_BEARER_TOKEN", "WAVS_ENV_B", "WAVS_ENV_A", "CHAINS"],
      isSet: (n) => n !== "WAVS_BUILDER_TOKEN",
      corsOrigins: [],
      limits: {},
    });
    expect(JSON.stringify(view)).not.toContain("SECRET");
    expect(view.component_env_keys).toEqual(["WAVS_ENV_A", "WAVS_ENV_B"]);
    expect(view.secrets.WAVS_BUILDER_TOKEN).toBe("unset");
    expect(view.chains[0]).toMatchObject({
      key: "evm:1",
      confirmations: 12,
      rpc_url: "https://rpc.example/<redacted>",
    });
  });
});
