/**
 * A node's local state with the D1 migrations applied, made once and copied: `wrangler d1
 * migrations apply` starts a whole wrangler (3–5 s of CPU, far more on a busy machine) and every
 * devnet node, in every test file, needed one.
 */
import { createHash, randomUUID } from "node:crypto";
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Applies the migrations to a state directory (`--persist-to`) that may be new or hold a node's state. */
export type ApplyMigrations = (persistDir: string) => Promise<void>;

/** Says what makes the template: the migrations, wrangler.toml (the D1 database id names its file) and wrangler. */
async function templateKey(root: string): Promise<string> {
  const hash = createHash("sha256");
  const migrations = join(root, "migrations");
  for (const name of (await readdir(migrations)).filter((n) => n.endsWith(".sql")).sort()) {
    hash.update(name).update(await readFile(join(migrations, name)));
  }
  hash.update(await readFile(join(root, "wrangler.toml")));
  hash.update(await readFile(join(root, "node_modules", "wrangler", "package.json")));
  return hash.digest("hex").slice(0, 16);
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Fills `persistDir` with migrated state: a copy of the template when the directory is new, else
 * `apply` on the state already there (a node restarted on its own state keeps it).
 */
export async function prepareMigratedState(
  persistDir: string,
  apply: ApplyMigrations,
  root = process.cwd(),
): Promise<void> {
  if (await exists(persistDir)) return apply(persistDir);
  const template = join(tmpdir(), `wavs-edge-migrated-state-${await templateKey(root)}`);
  // The nodes of one devnet start side by side in this process: they wait for one template.
  let making = templatesMade.get(template);
  if (!making) {
    making = makeTemplate(template, apply);
    templatesMade.set(template, making);
    making.catch(() => templatesMade.delete(template));
  }
  await making;
  await cp(join(template, "state"), persistDir, { recursive: true });
}

/** Templates made or being made by this process, by path. */
const templatesMade = new Map<string, Promise<void>>();

async function makeTemplate(template: string, apply: ApplyMigrations): Promise<void> {
  if (await exists(join(template, "ready"))) return;
  // Made aside (a name no other process or call can pick) and renamed into place, so a devnet
  // starting beside this one never copies half of it.
  const partial = `${template}.${randomUUID()}`;
  await mkdir(partial, { recursive: true });
  try {
    await apply(join(partial, "state"));
    await writeFile(join(partial, "ready"), "");
    await rename(partial, template).catch(async () => {
      if (!(await exists(join(template, "ready"))))
        throw new Error(`could not store the migrated state at ${template}`);
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}
