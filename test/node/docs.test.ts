/**
 * The docs stay true to the code: every Cloudflare resource wrangler.toml binds is created in the
 * operator quickstart, and every `wavs-edge` command the docs show exists in the CLI's help.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HELP } from "../../cli/main";
import { SERVICE_HELP } from "../../cli/commands/service";

const read = (path: string) => readFileSync(path, "utf8");
const DOCS = [
  "README.md",
  "docs/operator-quickstart.md",
  "docs/builder-quickstart.md",
  "docs/indexer-quickstart.md",
  "docs/wavs-users.md",
];

describe("docs", () => {
  // The README's deploy steps moved to the operator quickstart (issue 14); the README links it.
  it("the operator quickstart creates every queue and bucket wrangler.toml binds, and the README links it", () => {
    const toml = read("wrangler.toml");
    const queues = [...new Set([...toml.matchAll(/^(?:queue|dead_letter_queue) = "([^"]+)"/gm)].map((m) => m[1]!))];
    const buckets = [...toml.matchAll(/^bucket_name = "([^"]+)"/gm)].map((m) => m[1]!);
    expect(queues.length).toBeGreaterThanOrEqual(4);
    expect(read("README.md")).toContain("(docs/operator-quickstart.md)");
    for (const doc of ["docs/operator-quickstart.md"]) {
      const text = read(doc);
      for (const q of queues) expect(text, `${doc}: queue ${q}`).toMatch(new RegExp(`wrangler queues create ${q}\\b`));
      for (const b of buckets) expect(text, `${doc}: bucket ${b}`).toContain(`wrangler r2 bucket create ${b}`);
    }
  });

  it("every wavs-edge command the docs show is in the CLI's help", () => {
    const inHelp = (command: string) => new RegExp(`^ {2}(?:[a-z-]+ \\| )*${command}(?:[ |]|$)`, "m").test(HELP);
    const serviceCommands = new Set([...SERVICE_HELP.matchAll(/^ {2}([a-z-]+(?: [a-z][a-z-]*)?)/gm)].map((m) => m[1]!));
    let seen = 0;
    for (const doc of DOCS) {
      for (const [, line] of read(doc).matchAll(/wavs-edge ((?:[a-z-]+ ?){1,3})/g)) {
        const words = line!.trim().split(" ");
        if (
          ![
            "service",
            "upload-component",
            "deploy-service",
            "tasks",
            "trigger",
            "upgrades",
            "exec",
            "exec-aggregator",
            "devnet",
          ].includes(words[0]!)
        )
          continue;
        seen++;
        expect(inHelp(words[0]!), `${doc}: wavs-edge ${words[0]}`).toBe(true);
        if (words[0] === "service" && words[1] && words[1] !== "validate" && !words[1].startsWith("-")) {
          const sub = ["init", "update-status"].includes(words[1]) ? words[1] : `${words[1]} ${words[2]}`;
          expect(serviceCommands.has(sub), `${doc}: wavs-edge service ${sub}`).toBe(true);
        }
      }
    }
    expect(seen).toBeGreaterThan(10);
  });
});
