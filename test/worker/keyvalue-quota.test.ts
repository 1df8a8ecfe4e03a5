import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ServiceKeyValue } from "../../src/execute/keyvalue/service-key-value";

const bytes = (n: number) => new Uint8Array(n).fill(0x61);

describe("wasi:keyvalue per-service quota (KEYVALUE_QUOTA_BYTES)", () => {
  it("refuses a write that would grow the store past the quota, names the setting, and keeps what it holds", async () => {
    // a store no other file touches: they share the runtime
    const stub = env.SERVICE_KEY_VALUE.get(env.SERVICE_KEY_VALUE.idFromName(crypto.randomUUID()));
    await runInDurableObject(stub, (kv: ServiceKeyValue) => {
      // this object's own env, with a 100-byte quota (bucket + key + value bytes count)
      (kv as unknown as { env: Env }).env = { ...env, KEYVALUE_QUOTA_BYTES: "100" };
      kv.set("b", "k1", bytes(60)); // 63 bytes
      expect(() => kv.set("b", "k2", bytes(40))).toThrow(/over its quota of 100 bytes \(KEYVALUE_QUOTA_BYTES\)/);
      expect(kv.exists("b", "k2")).toBe(false);
      expect(kv.get("b", "k1")).toEqual(bytes(60));
      // shrinking is always allowed, and frees room for others
      kv.set("b", "k1", bytes(10));
      kv.set("b", "k2", bytes(40));
      expect(kv.get("b", "k2")).toEqual(bytes(40));
    });
  });
});
