import { Hono } from "hono";
import { publicClientFor } from "../chain/rpc";
import { nodeChains } from "../config";
import { openDb } from "../db/client";
import { describeError } from "../log";
import type { AppEnv } from "./app";

export const healthRoutes = new Hono<AppEnv>().get("/health", async (c) => {
  const db = openDb(c.env.DB);
  const cursors = new Map((await db.query.chainCursors.findMany()).map((r) => [r.chain, r.nextBlock]));
  const chains = await Promise.all(
    nodeChains(c.env).map(async (chain) => {
      try {
        const block = await publicClientFor(chain).getBlockNumber();
        return [chain.key, { ok: true, latest_block: Number(block), next_block: cursors.get(chain.key) ?? null }];
      } catch (e) {
        return [chain.key, { ok: false, error: describeError(e), next_block: cursors.get(chain.key) ?? null }];
      }
    }),
  );
  const ok = chains.every(([, s]) => (s as { ok: boolean }).ok);
  return c.json({ ok, chains: Object.fromEntries(chains) }, ok ? 200 : 503);
});
