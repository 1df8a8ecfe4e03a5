import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CliError } from "./args";
import type { FlagReader } from "./args";

export type NodeTarget = { url: string; token?: string };

/**
 * The node to talk to: --node/--token, else WAVS_EDGE_NODE/WAVS_EDGE_TOKEN, else the devnet.json
 * that `npm start` writes in the current directory.
 * @throws CliError when none of them names a node
 */
export async function resolveNode(flags: FlagReader, cwd = process.cwd()): Promise<NodeTarget> {
  const url = flags.str("node") ?? process.env.WAVS_EDGE_NODE;
  const token = flags.str("token") ?? process.env.WAVS_EDGE_TOKEN;
  if (url) return { url: url.replace(/\/$/, ""), token };
  try {
    const devnet = JSON.parse(await readFile(join(cwd, "devnet.json"), "utf8")) as {
      nodes: { url: string; bearer_token: string }[];
    };
    const node = devnet.nodes[0]!;
    return { url: node.url, token: token ?? node.bearer_token };
  } catch {
    throw new CliError(
      "no node: pass --node URL (and --token), set WAVS_EDGE_NODE, or run `npm start` for devnet.json",
      2,
    );
  }
}

/**
 * Calls the node and returns the raw response text. JSON errors become one-line CliErrors
 * (`POST /services → 409 service_exists: …`).
 */
export async function callNode(
  node: NodeTarget,
  method: string,
  path: string,
  body?: { json?: unknown; text?: string; bytes?: Uint8Array },
): Promise<string> {
  const headers: Record<string, string> = {};
  if (node.token) headers.authorization = `Bearer ${node.token}`;
  let payload: RequestInit["body"];
  if (body?.bytes) {
    headers["content-type"] = "application/wasm";
    payload = body.bytes;
  } else if (body?.text !== undefined || body?.json !== undefined) {
    headers["content-type"] = "application/json";
    payload = body.text ?? JSON.stringify(body.json);
  }
  let res: Response;
  try {
    res = await fetch(`${node.url}${path}`, { method, headers, body: payload });
  } catch {
    throw new CliError(`cannot reach the node at ${node.url}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let reason = text.slice(0, 200);
    try {
      const { error } = JSON.parse(text) as { error: { code: string; message: string } };
      reason = `${error.code}: ${error.message}`;
    } catch {}
    throw new CliError(`${method} ${path} → ${res.status} ${reason}`);
  }
  return text;
}
