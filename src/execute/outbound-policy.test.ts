import { describe, expect, it } from "vitest";
import { outboundPolicyKey, refuseOutbound, toOutboundPolicy } from "./outbound-policy";

describe("outbound policy", () => {
  it("none has no gate; only is normalised (trimmed, lower case, unique, sorted)", () => {
    expect(toOutboundPolicy("none")).toBeNull();
    expect(toOutboundPolicy("all")).toEqual({ all: true });
    expect(toOutboundPolicy({ only: [" B.example ", "a.example", "b.example"] })).toEqual({
      only: ["a.example", "b.example"],
    });
  });

  it("keys: the same list gives the same key, a different list another", () => {
    const key = (hosts: string[]) => outboundPolicyKey(toOutboundPolicy({ only: hosts }));
    expect(key(["b", "a"])).toBe(key(["a", "b"]));
    expect(key(["a"])).not.toBe(key(["b"]));
    expect(outboundPolicyKey(null)).toBe("none");
    expect(outboundPolicyKey({ all: true })).toBe("all");
  });

  it("only grants a host on any port, or one port when named", () => {
    const policy = { only: ["api.example.com", "rpc.example.com:8545"] };
    expect(refuseOutbound("https://API.example.com/v1", policy)).toBeNull();
    expect(refuseOutbound("http://api.example.com:8080/", policy)).toBeNull();
    expect(refuseOutbound("http://rpc.example.com:8545/", policy)).toBeNull();
    expect(refuseOutbound("https://rpc.example.com/", policy)).toMatch(/HTTP host rpc\.example\.com is not in/);
    expect(refuseOutbound("https://evil.example.com/", policy)).toMatch(/HTTP host evil\.example\.com is not in/);
    // a granted name inside another host's name grants nothing
    expect(refuseOutbound("https://api.example.com.evil.test/", policy)).not.toBeNull();
  });

  it("all grants every http(s) URL and nothing else", () => {
    expect(refuseOutbound("https://anything.test/", { all: true })).toBeNull();
    expect(refuseOutbound("ftp://anything.test/", { all: true })).toMatch(/only http and https/);
    expect(refuseOutbound("not a url", { all: true })).toMatch(/malformed URL/);
  });
});
