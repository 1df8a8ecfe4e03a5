import { describe, expect, it } from "vitest";
import { changesNeedingApproval, parseAutoUpgradeServices } from "./upgrade-changes";
import type { Component, Service } from "./types";

const component = (digest: string, over: Partial<Component> = {}): Component => ({
  source: { digest },
  permissions: {
    allowed_http_hosts: { only: ["a.example", "b.example"] },
    file_system: false,
    raw_sockets: false,
    dns_resolution: false,
  },
  fuel_limit: null,
  time_limit_seconds: null,
  config: {},
  env_keys: ["WAVS_ENV_A"],
  ...over,
});
const service = (workflows: Service["workflows"]): Service => ({
  name: "s",
  status: "active",
  manager: { evm: { chain: "evm:1", address: "0x0000000000000000000000000000000000000001" } },
  workflows,
});
const wf = (c: Component) => ({ trigger: "manual" as const, component: c, submit: "none" as const });
const A = "a".repeat(64);
const B = "b".repeat(64);

describe("changesNeedingApproval", () => {
  it("config, triggers, name, host order and removed workflows need no approval", () => {
    const before = service({ one: wf(component(A)), two: wf(component(A)) });
    const after = {
      ...service({
        one: wf(
          component(A, {
            config: { k: "v" },
            permissions: { ...component(A).permissions, allowed_http_hosts: { only: ["b.example", "a.example"] } },
          }),
        ),
      }),
      name: "renamed",
    };
    expect(changesNeedingApproval(before, after)).toEqual([]);
  });

  it("names a swapped component, changed env_keys, wider permissions and an added workflow", () => {
    const before = service({ one: wf(component(A)), two: wf(component(A)), three: wf(component(A)) });
    const after = service({
      one: wf(component(B)),
      two: wf(component(A, { env_keys: ["WAVS_ENV_A", "WAVS_ENV_B"] })),
      three: wf(component(A, { permissions: { ...component(A).permissions, allowed_http_hosts: "all" } })),
      four: wf(component(A)),
    });
    const changes = changesNeedingApproval(before, after);
    expect(changes).toHaveLength(4);
    expect(changes[0]).toMatch(/^workflow "four": added/);
    expect(changes[1]).toMatch(/^workflow "one": component aaaa.* → bbbb/);
    expect(changes[2]).toMatch(/^workflow "three": permissions .*"all"/);
    expect(changes[3]).toBe('workflow "two": env_keys [WAVS_ENV_A] → [WAVS_ENV_A, WAVS_ENV_B]');
  });
});

describe("parseAutoUpgradeServices", () => {
  it("reads empty, *, comma and JSON lists, and refuses anything else", () => {
    expect(parseAutoUpgradeServices("")).toEqual({ all: false, ids: new Set() });
    expect(parseAutoUpgradeServices(" * ").all).toBe(true);
    expect([...parseAutoUpgradeServices(`${A}, ${B.toUpperCase()}`).ids]).toEqual([A, B]);
    expect([...parseAutoUpgradeServices(JSON.stringify([A])).ids]).toEqual([A]);
    expect(() => parseAutoUpgradeServices("yes")).toThrow(/neither \* nor a service id/);
  });
});
