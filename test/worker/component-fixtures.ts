/** Helpers shared by the component-runtime tests: built components and minimal services. */
import { env } from "cloudflare:test";
import type { Component, Service, TriggerAction, TriggerData } from "../../src/service/types";

export const SERVICE_ID = "76d41ff256803de151fce2ed99d145cf985af50e6def0809072e9f68932f5d11";
export const TRIGGER_CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
export const NEW_TRIGGER_TOPIC = "0x86eacd23610d81706516de1ed0476c87772fdf939c7c771fbbd7f0230d619e68";

/** build/components/<name>.wasm (npm run build:components), handed in by vitest.config.ts. */
export function builtComponent(name: string): Uint8Array {
  const all = (env as unknown as { TEST_COMPONENTS: Record<string, string> }).TEST_COMPONENTS;
  const b64 = all[name];
  if (!b64) throw new Error(`build/components/${name}.wasm missing: run npm run build:components`);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** A component entry with no permissions, no limits and the given config. */
export function componentFor(digest: string, config: Record<string, string> = {}): Component {
  return {
    source: { digest },
    permissions: { allowed_http_hosts: "none", file_system: false, raw_sockets: false, dns_resolution: false },
    fuel_limit: null,
    time_limit_seconds: null,
    config,
    env_keys: [],
  };
}

export function serviceFor(digest: string, config: Record<string, string> = {}): Service {
  return {
    name: "square",
    status: "active",
    manager: { evm: { chain: "evm:31337", address: "0x0000000000000000000000000000000000000001" } },
    workflows: {
      default: {
        trigger: {
          evm_contract_event: { address: TRIGGER_CONTRACT, chain: "evm:31337", event_hash: NEW_TRIGGER_TOPIC },
        },
        component: componentFor(digest, config),
        submit: "none",
      },
    },
  };
}

export function actionFor(service: Service, data: TriggerData, workflowId = "default"): TriggerAction {
  return {
    config: { service_id: SERVICE_ID, workflow_id: workflowId, trigger: service.workflows[workflowId]!.trigger },
    data,
  };
}

export const raw = (text: string): TriggerData => ({ Raw: new TextEncoder().encode(text) });

export const utf8 = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
