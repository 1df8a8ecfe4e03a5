import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDb } from "../../src/db/client";
import { deadLetters } from "../../src/db/schema";
import worker from "../../src/index";

describe("dead-letter consumer", () => {
  it("records a full batch of 100 dead letters (split under D1's 100 parameters per statement), without payloads", async () => {
    const run = crypto.randomUUID();
    const batch = createMessageBatch(
      "wavs-edge-submissions-dlq",
      Array.from({ length: 100 }, (_, i) => ({
        id: `m${i}`,
        timestamp: new Date(),
        attempts: 11,
        body: { peer: "https://peer.example", eventId: `${run}-${i}`, body: "signature-bytes" },
      })),
    );
    const ctx = createExecutionContext();
    await (worker as ExportedHandler<Env, unknown>).queue!(batch, { ...env, DB: withD1ParameterLimit(env.DB) }, ctx);
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);

    const rows = await openDb(env.DB)
      .select()
      .from(deadLetters)
      .where(like(deadLetters.summary, `%${run}%`));
    expect(rows).toHaveLength(100);
    expect(rows.every((r) => r.queue === "submissions")).toBe(true);
    expect(rows.map((r) => JSON.parse(r.summary).event_id).sort()).toEqual(
      Array.from({ length: 100 }, (_, i) => `${run}-${i}`).sort(),
    );
    expect(rows.some((r) => r.summary.includes("signature-bytes"))).toBe(false);
  });
});

/**
 * The local D1 binds any number of parameters; Cloudflare's refuses a statement with more than 100.
 * This holds the real binding to that limit.
 */
function withD1ParameterLimit(d1: D1Database): D1Database {
  return new Proxy(d1, {
    get(target, prop, receiver) {
      if (prop !== "prepare") return Reflect.get(target, prop, receiver);
      return (query: string) => {
        const statement = target.prepare(query);
        return new Proxy(statement, {
          get(st, p, r) {
            if (p !== "bind") return Reflect.get(st, p, r);
            return (...params: unknown[]) => {
              if (params.length > 100) throw new Error(`too many SQL variables: ${params.length}`);
              return st.bind(...params);
            };
          },
        });
      };
    },
  });
}
