/** `wavs-edge exec` (the runtime inside workerd) reaching a real HTTP server on 127.0.0.1 with
 * wasi:http, through the OutboundGate, and keeping keyvalue data within one run. */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

function wavsEdge(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // async: the server below must keep answering while the CLI runs
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/wavs-edge.mjs", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill(), 110_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("wavs-edge exec with wasi:http", () => {
  let server: Server;
  let authority: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("price=42");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    authority = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("a component GETs a local server and answers its body", async () => {
    const r = await wavsEdge(
      "exec",
      "--component",
      "build/components/http-get.wasm",
      "--input",
      "x",
      "--config",
      `url-authority=${authority}`,
      "--config",
      "url-path=/quote?pair=eth",
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("  utf8: 200 price=42");
    expect(seen).toContain("GET /quote?pair=eth");
  });

  it("--allowed-http-hosts narrows: a granted host is reached, any other is refused by the gate", async () => {
    const granted = await wavsEdge(
      "exec",
      "--component",
      "build/components/http-get.wasm",
      "--input",
      "x",
      "--allowed-http-hosts",
      "example.com,127.0.0.1",
      "--config",
      `url-authority=${authority}`,
      "--config",
      "url-path=/granted",
      "--json",
    );
    expect(granted.code).toBe(0);
    expect(Buffer.from(JSON.parse(granted.stdout).responses[0].payload.slice(2), "hex").toString()).toBe(
      "200 price=42",
    );
    expect(seen).toContain("GET /granted");

    const refused = await wavsEdge(
      "exec",
      "--component",
      "build/components/http-get.wasm",
      "--input",
      "x",
      "--allowed-http-hosts",
      "example.com",
      "--config",
      `url-authority=${authority}`,
      "--config",
      "url-path=/refused",
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `error: component-error: error-code 38: wavs-edge: HTTP host ${authority} is not in the component's allowed_http_hosts (example.com)`,
    );
    expect(seen).not.toContain("GET /refused");
  });

  it("--allowed-http-hosts none: a component importing wasi:http is refused at instantiation", async () => {
    const r = await wavsEdge(
      "exec",
      "--component",
      "build/components/http-get.wasm",
      "--input",
      "x",
      "--allowed-http-hosts",
      "none",
      "--config",
      `url-authority=${authority}`,
      "--config",
      "url-path=/none",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: instantiate: .*allow no HTTP hosts/m);
    expect(seen).not.toContain("GET /none");
  });
});
