/**
 * A JSON-RPC proxy that counts calls by method (batches counted per call) and forwards every
 * request unchanged to its target. bench:e2e puts one in front of anvil for the nodes only, so the
 * counts are the nodes' calls, not the bench's own.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export type RpcCountingProxy = {
  url: string;
  /** Where requests go; set once the target is known (before the first request). */
  setTarget(url: string): void;
  /** Calls by method since the proxy started. */
  counts(): Record<string, number>;
  stop(): Promise<void>;
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts the proxy on a free port of 127.0.0.1. */
export async function startRpcCountingProxy(): Promise<RpcCountingProxy> {
  let target: string | undefined;
  const counts = new Map<string, number>();
  const server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      try {
        const parsed = JSON.parse(body.toString("utf8")) as { method?: unknown } | { method?: unknown }[];
        for (const call of Array.isArray(parsed) ? parsed : [parsed]) {
          const method = typeof call?.method === "string" ? call.method : "?";
          counts.set(method, (counts.get(method) ?? 0) + 1);
        }
      } catch {
        counts.set("?", (counts.get("?") ?? 0) + 1);
      }
      if (!target) throw new Error("no target yet");
      const upstream = await fetch(target, {
        method: req.method,
        headers: { "content-type": "application/json" },
        body: req.method === "GET" ? undefined : body,
      });
      const text = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
      res.end(text);
    } catch {
      res.writeHead(502).end();
    }
  });
  // Three nodes under load open many connections at once.
  server.maxConnections = 4096;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setTarget: (url) => {
      target = url;
    },
    counts: () => Object.fromEntries(counts),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
