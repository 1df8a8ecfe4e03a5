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
      "exec", "--component", "build/components/http-get.wasm", "--input", "x",
      "--config", `url-authority=${authority}`, "--config", "url-path=/quote?pair=eth",
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("  utf8: 200 price=42");
    expect(seen).toContain("GET /quote?pair=eth");
  });
});
