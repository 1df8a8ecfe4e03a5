/**
 * The layers of src/ (as ponder keeps its own): the pipeline stages in order, a shared layer below
 * them and the HTTP/reporting top. Reads every import statement of src/ and fails on an arrow that
 * runs backwards. A plain unit test: no runtime, no network.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const SRC = join(ROOT, "src");

/** The pipeline, in the order an event flows through it: a stage may import only earlier ones. */
const STAGES = ["ingest", "queue", "execute", "sign", "aggregate", "submit"];
/** Below every stage: anything may import these; they import only each other. */
const SHARED = ["service", "chain", "db", "util", "config.ts", "log.ts"];
/** The top: the HTTP API and what it renders or reports. Only the entry (index.ts) and api/ import api/. */
const TOP = ["api", "dashboard", "metrics", "alerts"];
const ENTRY = "index.ts";

/**
 * Known backward arrows (`from → to`, repo paths without extension), each with why it is still here.
 * Remove an entry when its arrow is gone; any arrow not listed fails the test.
 */
const ALLOWED = new Map<string, string>([
  // The queue consumers drive the stages after them (run, sign, hand to the aggregator): a dispatcher
  // above the stages would straighten these.
  ...arrows("the queue consumer dispatches", "src/queue/consume-triggers", [
    "src/aggregate/accept-submission",
    "src/aggregate/peers",
    "src/aggregate/submission",
    "src/execute/run-component",
    "src/sign/envelope",
    "src/sign/signing-keys",
  ]),
  ...arrows("the queue consumer dispatches", "src/queue/deliver-submissions", [
    "src/aggregate/peer-client",
    "src/aggregate/peers",
  ]),
  ...arrows("the queue consumer dispatches", "src/queue/peer-hand-off", [
    "src/aggregate/peer-client",
    "src/aggregate/submission",
  ]),
  // Registration checks, stores and prepares components and derives the service's key.
  ...arrows("registration reaches into stages", "src/service/register-service", [
    "src/execute/component-store",
    "src/execute/load-component",
  ]),
  ...arrows("registration reaches into stages", "src/service/sources/component-sources", [
    "src/execute/component-store",
  ]),
  ...arrows("registration reaches into stages", "src/service/service-registry", ["src/sign/signing-keys"]),
  ...arrows("the payer's address", "src/chain/payer-balance", ["src/sign/signing-keys"]),
  ...arrows("aggregator settings type", "src/service/describe-submit", ["src/aggregate/peers"]),
  ...arrows("D1 statement counter in metrics/", "src/db/client", ["src/metrics/isolate-counters"]),
  // Alerts run after each poll, from the ChainPoller alarm (src/alerts/).
  ...arrows("alerts after each poll", "src/ingest/chain-poller", ["src/alerts/run-alerts"]),
]);

/**
 * Whole folders left alone: the aggregate/submit wing is being rebuilt (issue 12), its aggregator
 * hands quorums to the submitter and counts in metrics/; new files there must not break this test.
 */
const ALLOWED_PREFIXES: [from: string, to: string, why: string][] = [
  ["src/aggregate/", "src/submit/", "issue 12 (aggregate/submit wing)"],
  ["src/aggregate/", "src/metrics/isolate-counters", "issue 12 (aggregate/submit wing)"],
];

const isAllowed = ({ from, to }: Import) =>
  ALLOWED.has(`${from} → ${to}`) || ALLOWED_PREFIXES.some(([f, t]) => from.startsWith(f) && to.startsWith(t));

function arrows(why: string, from: string, to: string[]): [string, string][] {
  return to.map((t) => [`${from}.ts → ${t}`, why]);
}

type Import = { from: string; to: string };

function listSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "generated" ? [] : listSources(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Relative specifiers of a file's static imports and re-exports, and of its dynamic `import()`s. */
function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']/gm)) found.push(m[1]!);
  for (const m of source.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) found.push(m[1]!);
  for (const m of source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.push(m[1]!);
  return found.filter((s) => s.startsWith("."));
}

/** Every relative import of src/, as repo paths without extension (`src/service/types`). */
function srcImports(): Import[] {
  return listSources(SRC).flatMap((file) => {
    const from = relative(ROOT, file).split(sep).join("/");
    return importSpecifiers(readFileSync(file, "utf8")).map((spec) => ({
      from,
      to: relative(ROOT, normalize(join(dirname(file), spec)))
        .split(sep)
        .join("/")
        .replace(/\.ts$/, ""),
    }));
  });
}

/** The layer unit of a repo path: its folder under src/ (`ingest`), or the file at src/'s root (`config.ts`). */
function unitOf(path: string): string {
  const parts = path.replace(/^src\//, "").split("/");
  return parts.length > 1 ? parts[0]! : `${parts[0]!.replace(/\.ts$/, "")}.ts`;
}

/** Why an import breaks the layers, or null when it does not. Pure: the rules in one place. */
function layerViolation({ from, to }: Import): string | null {
  if (to.startsWith("cli/") || to.startsWith("devnet/")) return "src/ imports a tool outside the Worker";
  if (!to.startsWith("src/")) return null;
  const a = unitOf(from);
  const b = unitOf(to);
  if (a === b || a === ENTRY) return null;
  if (b === "api") return "only api/ and the entry import api/";
  if (SHARED.includes(a)) return SHARED.includes(b) ? null : `the shared ${a} imports ${b}`;
  if (STAGES.includes(a)) {
    if (TOP.includes(b)) return `the stage ${a} imports the top (${b})`;
    if (STAGES.includes(b) && STAGES.indexOf(b) > STAGES.indexOf(a))
      return `the stage ${a} imports a later stage (${b})`;
    return null;
  }
  if (TOP.includes(a)) return null;
  return `${a} is in no layer: add it to STAGES, SHARED or TOP`;
}

describe("layers of src/", () => {
  it("knows every folder and root file of src/", () => {
    const units = new Set(listSources(SRC).map((f) => unitOf(relative(ROOT, f).split(sep).join("/"))));
    const known = new Set([...STAGES, ...SHARED, ...TOP, ENTRY]);
    expect([...units].filter((u) => !known.has(u))).toEqual([]);
  });

  it("has no backward arrow: no stage imports a later one, nothing below api/ imports it, src/ imports no tool", () => {
    const imports = srcImports();
    expect(imports.length).toBeGreaterThan(200);
    const broken = imports
      .map((i) => ({ ...i, why: layerViolation(i) }))
      .filter((i) => i.why !== null && !isAllowed(i))
      .map((i) => `${i.from} → ${i.to}: ${i.why}`);
    expect(broken).toEqual([]);
  });

  it("flags the arrows it is there to catch", () => {
    expect(layerViolation({ from: "src/ingest/poll-chains.ts", to: "src/submit/submit-envelope" })).toMatch(
      /later stage/,
    );
    expect(layerViolation({ from: "src/service/register-service.ts", to: "src/api/errors" })).toMatch(/api/);
    expect(layerViolation({ from: "src/service/service-json.ts", to: "src/ingest/cron-schedule" })).toMatch(/shared/);
    expect(layerViolation({ from: "src/execute/run-component.ts", to: "cli/exec-worker/exec-protocol" })).toMatch(
      /tool/,
    );
    expect(layerViolation({ from: "src/submit/chain-submitter.ts", to: "src/aggregate/peers" })).toBeNull();
    expect(layerViolation({ from: "src/api/app.ts", to: "src/dashboard/render-dashboard" })).toBeNull();
  });

  it("reads multi-line, type-only, re-export and dynamic imports", () => {
    const source =
      'import {\n  a,\n  b,\n} from "./x";\nimport type { T } from "../y";\nexport { c } from "./z";\nconst m = await import("./lazy");\nimport "vitest";';
    expect(importSpecifiers(source)).toEqual(["./x", "../y", "./z", "./lazy"]);
  });
});
