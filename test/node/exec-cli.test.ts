/** `wavs-edge exec`: components run once through the runtime inside workerd. */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function wavsEdge(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/wavs-edge.mjs", ...args], { encoding: "utf8", timeout: 110_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("wavs-edge exec", () => {
  it("prints the response as hex and UTF-8, the logs and the time", () => {
    const r = wavsEdge("exec", "--component", "build/components/square.wasm", "--input", '{"x":12}');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("response 0: payload 0x7b2279223a3134347d");
    expect(r.stdout).toContain('  utf8: {"y":144}');
    expect(r.stdout).toContain('log: info: square: raw -> {"y":144}');
    expect(r.stdout).toMatch(/time: \d+ ms in the runtime/);
  });

  it("--json: one object; --env grants exactly the named WAVS_ENV_ values", () => {
    const r = wavsEdge(
      "exec",
      "--component",
      "build/components/wasi-probe.wasm",
      "--input",
      "env",
      "--env",
      "WAVS_ENV_A=1",
      "--env",
      "WAVS_ENV_B=two",
      "--json",
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(JSON.parse(Buffer.from(out.responses[0].payload.slice(2), "hex").toString())).toEqual([
      ["WAVS_ENV_A", "1"],
      ["WAVS_ENV_B", "two"],
    ]);
  });

  it("exits 1 with the component's error", () => {
    const r = wavsEdge("exec", "--component", "build/components/square.wasm", "--input", "0x00");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: component-error: square: input is not JSON/m);
  });

  it("exec-aggregator: the actions process-input asks for", () => {
    const r = wavsEdge(
      "exec-aggregator",
      "--component",
      "build/components/simple-aggregator.wasm",
      "--input",
      "x",
      "--config",
      "chain=evm:31337",
      "--config",
      `service_handler=0x${"aa".repeat(20)}`,
      "--json",
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).actions).toEqual([
      { submit: { evm: { chain: "evm:31337", address: `0x${"aa".repeat(20)}`, gas_price: null } } },
    ]);
  });

  it("--file-system false: no preopened directory; by default one, as `wavs-cli exec`", () => {
    const preopens = (...flags: string[]) => {
      const r = wavsEdge(
        "exec",
        "--component",
        "build/components/wasi-probe.wasm",
        "--input",
        "preopens",
        "--json",
        ...flags,
      );
      expect(r.code).toBe(0);
      return JSON.parse(Buffer.from(JSON.parse(r.stdout).responses[0].payload.slice(2), "hex").toString());
    };
    expect(preopens()).toEqual(["."]);
    expect(preopens("--file-system", "false")).toEqual([]);
  });

  it("usage errors exit 2", () => {
    expect(wavsEdge("exec", "--component", "x.wasm", "--input", "x", "--allowed-http-hosts", "a b").code).toBe(2);
    expect(wavsEdge("exec", "--component", "x.wasm", "--input", "x", "--allowed-http-hosts").code).toBe(2);
    expect(wavsEdge("exec", "--component", "x.wasm", "--input", "x", "--file-system", "maybe").code).toBe(2);
    expect(wavsEdge("exec", "--input", "x").code).toBe(2);
    expect(wavsEdge("exec", "--component", "x.wasm", "--input", "x", "--env", "SECRET=1").code).toBe(2);
  });
});
