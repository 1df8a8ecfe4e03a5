/**
 * `npm run build`: contracts, components and the component runtime, each skipped when its inputs
 * are unchanged since it was last built (scripts/lib/cached-build.ts). `--force` rebuilds all.
 */
import { BuildError, ensureBuilt } from "./lib/cached-build";

const started = Date.now();
try {
  const { built, skipped } = await ensureBuilt(undefined, {
    force: process.argv.includes("--force"),
    onStep: (s) => console.log(`• ${s}`),
  });
  const up = skipped.length > 0 ? `; up to date: ${skipped.join(", ")}` : "";
  console.log(
    `build: ${built.length > 0 ? `built ${built.join(", ")}` : "nothing to build"}${up} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
} catch (e) {
  console.error(`error: ${e instanceof BuildError ? e.message : (e as Error).message}`);
  process.exit(1);
}
