/**
 * `wavs-edge service …` writes service JSON in WAVS's current shape: run in-process against files
 * in a temp directory, with a local HTTP server standing in for a download host and an IPFS gateway.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliError, parseArgv } from "../../cli/args";
import { serviceCommand } from "../../cli/commands/service";
import { createOutput } from "../../cli/output";
import { parseServiceJson } from "../../src/service/service-json";

const bytes = new TextEncoder().encode("\0asm pretend component bytes");
const digest = createHash("sha256").update(bytes).digest("hex");
let cid: string;
let dir: string;
let server: Server;
let base: string;
const requested: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wavs-edge-service-file-"));
  cid = CID.create(1, raw.code, await sha256.digest(bytes)).toString();
  server = createServer((req, res) => {
    requested.push(req.url ?? "");
    if (req.url === "/c.wasm" || req.url === `/ipfs/${cid}`) return void res.writeHead(200).end(bytes);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

/** Runs `wavs-edge service --file F …args`; resolves to the CliError it threw, if any. */
async function service(file: string, ...args: string[]): Promise<CliError | undefined> {
  try {
    await serviceCommand(
      parseArgv(["service", "--file", join(dir, file), ...args]),
      createOutput(
        false,
        () => true,
        () => true,
      ),
    );
    return undefined;
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
}
const read = async (file: string) => JSON.parse(await readFile(join(dir, file), "utf8"));
const manager = ["--manager-chain", "evm:31337", "--manager-address", `0x${"ab".repeat(20)}`];

describe("wavs-edge service (current WAVS shape)", () => {
  it("set-aggregator writes no url and refuses --url, saying why", async () => {
    expect(await service("agg.json", "init", "--name", "agg", ...manager)).toBeUndefined();
    expect(await service("agg.json", "workflow", "add", "--id", "default")).toBeUndefined();
    expect(
      await service("agg.json", "component", "set-source-digest", "--workflow-id", "default", "--digest", digest),
    ).toBeUndefined();
    expect(
      await service("agg.json", "submit", "set-aggregator", "--workflow-id", "default", "--digest", digest),
    ).toBeUndefined();
    const agg = (await read("agg.json")).workflows.default.submit.aggregator;
    expect(Object.keys(agg).sort()).toEqual(["component", "signature_kind"]);
    expect(await service("agg.json", "validate")).toBeUndefined();

    const refused = await service(
      "agg.json",
      "submit",
      "set-aggregator",
      "--workflow-id",
      "default",
      "--url",
      base,
      "--digest",
      digest,
    );
    expect(refused?.exitCode).toBe(2);
    expect(refused?.message).toMatch(/--url is gone: .*PEERS/);
  });

  it("update-status sets active or paused and refuses anything else", async () => {
    await service("status.json", "init", "--name", "s", ...manager);
    expect(await service("status.json", "update-status", "--status", "paused")).toBeUndefined();
    expect((await read("status.json")).status).toBe("paused");
    expect((await service("status.json", "update-status", "--status", "stopped"))?.message).toBe(
      "--status is active or paused",
    );
    // No workflows is a valid service, as in WAVS.
    expect(await service("status.json", "validate")).toBeUndefined();
    expect(parseServiceJson(await readFile(join(dir, "status.json"), "utf8")).status).toBe("paused");
  });

  it("set-source-uri fetches http(s) and ipfs:// (through the gateway) and pins the bytes' sha256", async () => {
    await service("uri.json", "init", "--name", "u", ...manager);
    await service("uri.json", "workflow", "add", "--id", "http");
    await service("uri.json", "workflow", "add", "--id", "ipfs");
    await service("uri.json", "workflow", "add", "--id", "given");
    expect(
      await service("uri.json", "component", "set-source-uri", "--workflow-id", "http", "--uri", `${base}/c.wasm`),
    ).toBeUndefined();
    expect(
      await service(
        "uri.json",
        "component",
        "set-source-uri",
        "--workflow-id",
        "ipfs",
        "--uri",
        `ipfs://${cid}`,
        "--ipfs-gateway",
        `${base}/ipfs/`,
      ),
    ).toBeUndefined();
    requested.length = 0;
    const other = "cd".repeat(32);
    expect(
      await service(
        "uri.json",
        "component",
        "set-source-uri",
        "--workflow-id",
        "given",
        "--uri",
        `${base}/gone.wasm`,
        "--digest",
        other,
      ),
    ).toBeUndefined();
    expect(requested).toEqual([]); // a given digest is not fetched
    const { workflows } = await read("uri.json");
    expect(workflows.http.component.source).toEqual({ download: { uri: `${base}/c.wasm`, digest } });
    expect(workflows.ipfs.component.source).toEqual({ download: { uri: `ipfs://${cid}`, digest } });
    expect(workflows.given.component.source).toEqual({ download: { uri: `${base}/gone.wasm`, digest: other } });
    expect(await service("uri.json", "validate")).toBeUndefined();
  });

  it("set-source-uri refuses other schemes, bad CIDs and unreachable URIs without touching the file", async () => {
    await service("bad.json", "init", "--name", "b", ...manager);
    await service("bad.json", "workflow", "add", "--id", "default");
    const before = await readFile(join(dir, "bad.json"), "utf8");
    const set = (uri: string) =>
      service(
        "bad.json",
        "component",
        "set-source-uri",
        "--workflow-id",
        "default",
        "--uri",
        uri,
        "--ipfs-gateway",
        `${base}/ipfs/`,
      );
    expect((await set("ftp://example.com/c.wasm"))?.message).toBe("--uri must be http://, https:// or ipfs://");
    expect((await set("ipfs://not-a-cid"))?.message).toBe("--uri: not-a-cid is not a valid CID");
    expect((await set(`${base}/missing.wasm`))?.message).toBe(`${base}/missing.wasm answered 404`);
    expect(await readFile(join(dir, "bad.json"), "utf8")).toBe(before);
  });

  it("set-source-registry writes WAVS's registry source, for the aggregator too", async () => {
    await service("reg.json", "init", "--name", "r", ...manager);
    await service("reg.json", "workflow", "add", "--id", "default");
    await service("reg.json", "submit", "set-aggregator", "--workflow-id", "default", "--digest", digest);
    expect(
      await service(
        "reg.json",
        "component",
        "set-source-registry",
        "--workflow-id",
        "default",
        "--package",
        "wavs:square",
        "--version",
        "0.4.0",
        "--digest",
        digest,
      ),
    ).toBeUndefined();
    expect(
      await service(
        "reg.json",
        "component",
        "set-source-registry",
        "--workflow-id",
        "default",
        "--aggregator",
        "--package",
        "acme:agg",
        "--domain",
        "ghcr.io",
        "--digest",
        digest,
      ),
    ).toBeUndefined();
    const wf = (await read("reg.json")).workflows.default;
    expect(wf.component.source).toEqual({
      registry: { digest, domain: null, version: "0.4.0", package: "wavs:square" },
    });
    expect(wf.submit.aggregator.component.source).toEqual({
      registry: { digest, domain: "ghcr.io", version: null, package: "acme:agg" },
    });
    expect(await service("reg.json", "validate")).toBeUndefined();
    expect(
      (
        await service(
          "reg.json",
          "component",
          "set-source-registry",
          "--workflow-id",
          "default",
          "--package",
          "Square",
          "--digest",
          digest,
        )
      )?.exitCode,
    ).toBe(2);
    expect(
      (
        await service(
          "reg.json",
          "component",
          "set-source-registry",
          "--workflow-id",
          "default",
          "--package",
          "wavs:square",
        )
      )?.message,
    ).toMatch(/--digest is required/);
  });
});
