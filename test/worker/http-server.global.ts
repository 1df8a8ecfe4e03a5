/**
 * Vitest global setup (runs in Node): a plain HTTP server on 127.0.0.1 for the component HTTP
 * tests, which reach it from inside workerd through the node's OutboundGate. Its port is given to
 * the tests as `inject("httpServerPort")`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    httpServerPort: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/plain", "x-wavs-edge-gate": "refused" });
    res.end(`hello from ${req.method} ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("httpServerPort", (server.address() as AddressInfo).port);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
