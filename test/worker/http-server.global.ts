/**
 * Vitest global setup (runs in Node): a plain HTTP server on 127.0.0.1 for the component HTTP
 * tests, which reach it from inside workerd through the node's OutboundGate. Its port is given to
 * the tests as `inject("httpServerPort")`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  /** JSON-RPC requests per /rpc/{name} endpoint, read back at /rpc-count/{name}. */
  const rpcCalls = new Map<string, number>();
  const alertDeliveries = new Map<string, { headers: Record<string, string>; body: string }[]>();
  const peerRequests = new Map<string, { route: string; items: number }[]>();
  const server = createServer((req, res) => {
    // /rpc/{name}: a chain whose head is always block 16, counting what it is asked
    const rpc = /^\/rpc\/([\w-]+)$/.exec(req.url ?? "");
    if (rpc) {
      rpcCalls.set(rpc[1]!, (rpcCalls.get(rpc[1]!) ?? 0) + 1);
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const { id } = JSON.parse(body) as { id: number };
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ jsonrpc: "2.0", id, result: "0x10" }));
      });
      return;
    }
    // /alert-sink/{name}: an alert receiver keeping each delivery (headers, body), read back as JSON
    // at /alert-sink-received/{name}
    const sink = /^\/alert-sink\/([\w-]+)$/.exec(req.url ?? "");
    if (sink && req.method === "POST") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        alertDeliveries.set(sink[1]!, [
          ...(alertDeliveries.get(sink[1]!) ?? []),
          { headers: req.headers as Record<string, string>, body },
        ]);
        res.writeHead(204).end();
      });
      return;
    }
    const received = /^\/alert-sink-received\/([\w-]+)$/.exec(req.url ?? "");
    if (received)
      return void res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify(alertDeliveries.get(received[1]!) ?? []));
    const counted = /^\/rpc-count\/([\w-]+)$/.exec(req.url ?? "");
    if (counted) return void res.end(String(rpcCalls.get(counted[1]!) ?? 0));
    // /peer/{name}/aggregator/submissions[/batch]: a peer node taking submissions after 200 ms, every
    // item 202 but one holding "refuse" (422); /old-peer/{name}/… has no batch route (404 not_found).
    // What each received (route, item count) is read back at /peer-requests/{name}.
    const peer = /^\/(old-peer|peer)\/([\w-]+)(\/aggregator\/submissions(?:\/batch)?)$/.exec(req.url ?? "");
    if (peer && req.method === "POST") {
      const [, kind, name, route] = peer as unknown as [string, string, string, string];
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const items = route.endsWith("/batch")
          ? (JSON.parse(body) as { submissions: unknown[] }).submissions
          : [JSON.parse(body)];
        peerRequests.set(name, [...(peerRequests.get(name) ?? []), { route, items: items.length }]);
        const answer = (item: unknown) =>
          JSON.stringify(item).includes("refuse")
            ? { status: 422, body: { error: { code: "invalid_body", message: "refused" } } }
            : { status: 202, body: { status: "collecting", signers: [] } };
        setTimeout(() => {
          res.writeHead(route.endsWith("/batch") ? (kind === "old-peer" ? 404 : 200) : answer(items[0]).status, {
            "content-type": "application/json",
          });
          if (kind === "old-peer" && route.endsWith("/batch"))
            return void res.end(JSON.stringify({ error: { code: "not_found", message: "no route" } }));
          res.end(JSON.stringify(route.endsWith("/batch") ? { results: items.map(answer) } : answer(items[0]).body));
        }, 200);
      });
      return;
    }
    const peerSeen = /^\/peer-requests\/([\w-]+)$/.exec(req.url ?? "");
    if (peerSeen)
      return void res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify(peerRequests.get(peerSeen[1]!) ?? []));
    // /slow… answers after 3 s, as a server that hangs (bounded, so the server can close)
    if (req.url?.startsWith("/slow")) {
      setTimeout(() => res.end("slow"), 3_000);
      return;
    }
    // /unavailable… answers 503, as a service URI or download that is down for a while
    if (req.url?.startsWith("/unavailable")) {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("unavailable");
      return;
    }
    // /forbidden answers exactly what the gate's own refusals look like (403 and the header):
    // the gate must strip the header, so the component sees an upstream 403, not a refusal
    const status = req.url?.startsWith("/forbidden") ? 403 : 200;
    res.writeHead(status, { "content-type": "text/plain", "x-wavs-edge-gate": "refused" });
    // an x-api-key header is echoed, so a component test can see what it sent
    const key = req.headers["x-api-key"];
    res.end(`hello from ${req.method} ${req.url}${typeof key === "string" ? ` key=${key}` : ""}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("httpServerPort", (server.address() as AddressInfo).port);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
