/**
 * Vitest global setup (runs in Node): servers that the source-fetching tests reach from workerd.
 * - `sourceServerUrl`: answers that a service URI or component download can give: `/file/{name}`
 *   (a built component), `/json` (the body of `?body=`), `/big/{n}` (n bytes, chunked, no
 *   Content-Length), `/declared/{n}` (a Content-Length of n, then nothing), `/stall` (headers, then
 *   a body that never ends), `/silent` (never answers), `/status/{n}`, `/redirect?to=URL` (302).
 * - `ipfsGatewayUrl`: a trustless IPFS gateway serving real CARs (test/support/ipfs-gateway.ts).
 * - `anvilRpcUrl`: anvil on chain id ANVIL_CHAIN_ID, for chains added with POST /dev/chains.
 * - `ociRegistryHost`: a real OCI registry (Debian's docker-registry); the source server is the
 *   wasm-pkg domain pointing to it: `/.well-known/wasm-pkg/registry.json` names it with the
 *   namespace prefix `wavs-edge-test/`.
 */
import { readFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startAnvil } from "../../devnet/index";
import { startIpfsGateway } from "../support/ipfs-gateway";
import { startOciRegistry } from "../support/oci-registry";

/** The id of the chain the tests' anvil runs. */
export const ANVIL_CHAIN_ID = 4242;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const registry = await startOciRegistry();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://source");
    if (url.pathname === "/.well-known/wasm-pkg/registry.json") {
      const metadata = {
        preferredProtocol: "oci",
        oci: { registry: registry.host, namespacePrefix: "wavs-edge-test/" },
      };
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(metadata));
    }
    const [, kind, arg] = url.pathname.split("/");
    if (kind === "file") {
      return void res
        .writeHead(200, { "content-type": "application/wasm" })
        .end(readFileSync(join("build", "components", arg!)));
    }
    if (kind === "json")
      return void res.writeHead(200, { "content-type": "application/json" }).end(url.searchParams.get("body") ?? "{}");
    if (kind === "big") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let left = Number(arg);
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!res.write(chunk.subarray(0, n))) return void res.once("drain", pump);
        }
        res.end();
      };
      return pump();
    }
    if (kind === "declared") {
      res.writeHead(200, { "content-length": arg });
      hanging.add(res);
      return void res.write("x");
    }
    if (kind === "stall") {
      res.writeHead(200, { "content-type": "application/json" });
      hanging.add(res);
      return void res.write("{");
    }
    if (kind === "silent") return void hanging.add(res);
    if (kind === "status") return void res.writeHead(Number(arg)).end("status");
    if (kind === "redirect") return void res.writeHead(302, { location: url.searchParams.get("to") ?? "/" }).end();
    res.writeHead(404).end("no such route");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const gateway = await startIpfsGateway();
  const anvil = await startAnvil({ chainId: ANVIL_CHAIN_ID });
  project.provide("anvilRpcUrl", anvil.rpcUrl);
  project.provide("ociRegistryHost", registry.host);
  project.provide("sourceServerUrl", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  project.provide("ipfsGatewayUrl", gateway.url);
  return async () => {
    for (const res of hanging) res.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await gateway.close();
    await anvil.stop();
    await registry.stop();
  };
}
