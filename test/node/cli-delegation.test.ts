/** `wavs-edge exec` and `exec-aggregator` reach the execute module's own commands, --help included. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const BIN = join(process.cwd(), "bin", "wavs-edge.mjs");
const cli = (args: string[]) =>
  new Promise<{ code: number; stdout: string }>((resolve) =>
    execFile(process.execPath, [BIN, ...args], (err, stdout) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout }),
    ),
  );

describe("delegated commands", () => {
  it("passes --help through to exec and exec-aggregator", async () => {
    for (const command of ["exec", "exec-aggregator"]) {
      const res = await cli([command, "--help"]);
      expect(res.code, command).toBe(0);
      expect(res.stdout).toContain("Usage: wavs-edge exec");
      expect(res.stdout).not.toContain("a WAVS operator node on Cloudflare Workers");
    }
  });
});
