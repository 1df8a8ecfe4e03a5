import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { storeComponent } from "../../src/execute/component-store";
import { keyValueStub } from "../../src/execute/host/component-host";
import { runOperatorComponent } from "../../src/execute/run-component";
import type { AllowedHttpHosts, Service } from "../../src/service/types";
import { SERVICE_ID, actionFor, builtComponent, raw, serviceFor, utf8 } from "./component-fixtures";

async function runProbe(service: Service, probe: string) {
  const result = await runOperatorComponent(env, {
    service,
    serviceId: SERVICE_ID,
    workflowId: "default",
    action: actionFor(service, raw(probe)),
    chains: [],
  });
  return JSON.parse(utf8(result.responses[0]!.payload));
}

describe("allowed_http_hosts", () => {
  let digest: string;
  beforeAll(async () => {
    ({ digest } = await storeComponent(env, builtComponent("http-importer")));
  });

  const runWith = (hosts: AllowedHttpHosts) => {
    const service = serviceFor(digest);
    service.workflows.default!.component.permissions.allowed_http_hosts = hosts;
    return runOperatorComponent(env, {
      service,
      serviceId: SERVICE_ID,
      workflowId: "default",
      action: actionFor(service, raw("x")),
      chains: [],
    });
  };

  it("none: a component importing wasi:http is refused at instantiation, as WAVS", async () => {
    await expect(runWith("none")).rejects.toMatchObject({
      kind: "instantiate",
      message: expect.stringMatching(
        /^the component imports wasi:http\/\S+@0\.2\.0, but its permissions allow no HTTP hosts \(allowed_http_hosts: none\)$/,
      ),
    });
  });

  it("all or only: the same component is instantiated (and its run then traps, as written)", async () => {
    await expect(runWith("all")).rejects.toMatchObject({ kind: "trap" });
    await expect(runWith({ only: ["example.com"] })).rejects.toMatchObject({ kind: "trap" });
  });
});

describe("the WASI environment, preopens and waits", () => {
  let digest: string;
  beforeAll(async () => {
    ({ digest } = await storeComponent(env, builtComponent("wasi-probe")));
  });

  it("env_keys: exactly the listed WAVS_ENV_* secrets the node has; nothing else of the node", async () => {
    const service = serviceFor(digest);
    service.workflows.default!.component.env_keys = [
      "WAVS_ENV_TEST_API_KEY",
      "WAVS_ENV_NOT_SET",
      // listed but not WAVS_ENV_*: never granted, even though the node has them
      "WAVS_BEARER_TOKEN",
      "WAVS_SIGNING_MNEMONIC",
    ];
    expect(await runProbe(service, "env")).toEqual([["WAVS_ENV_TEST_API_KEY", "component-secret"]]);
  });

  it("no env_keys: an empty environment", async () => {
    expect(await runProbe(serviceFor(digest), "env")).toEqual([]);
  });

  it("file_system false: no preopened directory", async () => {
    expect(await runProbe(serviceFor(digest), "preopens")).toEqual([]);
  });

  it("sleep: a component that imports wasi:io/poll runs under JSPI and waits on a monotonic-clock pollable", async () => {
    const service = serviceFor(digest);
    const started = Date.now();
    expect(await runProbe(service, "sleep")).toBe("slept");
    // the 50 ms wait really elapsed (a lower bound only: the machine may be slow, never fast)
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    // and the same component still runs afterwards
    expect(await runProbe(service, "env")).toEqual([]);
  });
});

describe("file_system", () => {
  let digest: string;
  beforeAll(async () => {
    ({ digest } = await storeComponent(env, builtComponent("wasi-probe")));
  });

  const withFiles = (serviceId: string, probe: string, fileSystem = true) => {
    const service = serviceFor(digest);
    service.workflows.default!.component.permissions.file_system = fileSystem;
    return runOperatorComponent(env, {
      service,
      serviceId,
      workflowId: "default",
      action: actionFor(service, raw(probe)),
      chains: [],
    }).then((r) => JSON.parse(utf8(r.responses[0]!.payload)));
  };

  it("true: the service's directory is preopened as `.`, as WAVS", async () => {
    expect(await withFiles("1".repeat(64), "preopens")).toEqual(["."]);
  });

  it("true: a file written in one run is read in the next, and kept in the service's Durable Object", async () => {
    const serviceId = "2".repeat(64);
    expect(await withFiles(serviceId, "fs-read")).toBeNull();
    expect(await withFiles(serviceId, "fs-write:kept between runs")).toBe("written");
    expect(await withFiles(serviceId, "fs-read")).toBe("kept between runs");
    expect(await withFiles(serviceId, "fs-write:second")).toBe("written");
    expect(await withFiles(serviceId, "fs-read")).toBe("second");
    // the rows in the service's Durable Object are what persists (not the isolate's memory)
    const rows = await keyValueStub(env, serviceId).readFiles();
    expect(rows).toEqual([{ path: "notes.txt", kind: "file", data: new TextEncoder().encode("second") }]);
  });

  it("each service has its own directory", async () => {
    await withFiles("3".repeat(64), "fs-write:service three");
    expect(await withFiles("4".repeat(64), "fs-read")).toBeNull();
  });

  it("a run that leaves the directory over 16 MiB fails with a typed error, and what was kept stays", async () => {
    const serviceId = "6".repeat(64);
    expect(await withFiles(serviceId, "fs-write:before")).toBe("written");
    expect(await withFiles(serviceId, "fs-fill:15")).toBe("filled"); // 15 MiB and 6 bytes: under the limit
    await expect(withFiles(serviceId, "fs-fill:17")).rejects.toMatchObject({
      kind: "trap",
      message: expect.stringMatching(/^the run's file changes were not kept: .*over the limit of 16777216/),
    });
    // the refused run changed nothing: the last kept directory is still there
    const rows = await keyValueStub(env, serviceId).readFiles();
    expect(rows.map((r) => [r.path, r.kind === "file" ? r.data.byteLength : 0])).toEqual([
      ["notes.txt", 6],
      ["big.bin", 15 * 1024 * 1024],
    ]);
    expect(await withFiles(serviceId, "fs-read")).toBe("before");
  });

  it("false: no directory, whatever the service stored", async () => {
    const serviceId = "5".repeat(64);
    await withFiles(serviceId, "fs-write:hidden");
    expect(await withFiles(serviceId, "preopens", false)).toEqual([]);
  });
});
