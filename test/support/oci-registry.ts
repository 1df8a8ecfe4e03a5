/**
 * A real OCI registry for tests (runs in Node): Debian's docker-registry (distribution 2.8) on
 * 127.0.0.1 with its own storage directory and no auth, installed by
 * scripts/ensure-debian-tools.sh when missing.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type OciRegistry = { host: string; stop(): Promise<void> };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts docker-registry and waits until `GET /v2/` answers. @throws Error when it does not start */
export async function startOciRegistry(): Promise<OciRegistry> {
  execFileSync("bash", [join(process.cwd(), "scripts", "ensure-debian-tools.sh"), "docker-registry"], {
    stdio: "inherit",
  });
  const dir = await mkdtemp(join(tmpdir(), "wavs-edge-oci-"));
  const port = await freePort();
  const config = join(dir, "config.yml");
  await writeFile(
    config,
    [
      "version: 0.1",
      "log: { level: error }",
      `storage: { filesystem: { rootdirectory: ${join(dir, "data")} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${port}" }`,
    ].join("\n") + "\n",
  );
  const child = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // A run that ends without its teardown (a project with no files left to run, an interrupted run)
  // must not leave the registry behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  void exited.then(() => process.off("exit", killOnExit));
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const host = `127.0.0.1:${port}`;
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`http://${host}/v2/`)).ok) return { host, stop };
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`docker-registry did not start on ${host}: ${stderr}`);
}
