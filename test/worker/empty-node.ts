/**
 * For workerd files that check what the whole node holds (no services at all, HD indexes from 1,
 * metrics and prune counts over every row): they share one runtime with the other files, so they
 * start from an emptied D1 and R2 instead of a runtime of their own (which cost ~15 s per file).
 */
import { env } from "cloudflare:test";
import { forgetCachedRegistry } from "../../src/service/service-registry";

/**
 * Deletes every row of every table the migrations made (the migrations' own record stays) and every
 * object in R2 (components and their transpiled artifacts, kept by digest).
 */
export async function emptyNodeStorage(): Promise<void> {
  const { results } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'",
  ).all<{ name: string }>();
  if (results.length === 0) throw new Error("no tables found: were the migrations applied?");
  await env.DB.batch(results.map(({ name }) => env.DB.prepare(`DELETE FROM "${name}"`)));
  for (const { name } of results) {
    const row = await env.DB.prepare(`SELECT count(*) AS n FROM "${name}"`).first<{ n: number }>();
    if (row?.n !== 0) throw new Error(`table ${name} still holds ${row?.n} rows`);
  }
  // The rows went behind the registry's back: what this isolate read of them goes too.
  forgetCachedRegistry();
  for (let listed = await env.COMPONENTS.list(); ; ) {
    if (listed.objects.length > 0) await env.COMPONENTS.delete(listed.objects.map((o) => o.key));
    if (!listed.truncated) break;
    listed = await env.COMPONENTS.list();
  }
  if ((await env.COMPONENTS.list({ limit: 1 })).objects.length > 0) throw new Error("R2 still holds objects");
}
