import { describe, expect, it } from "vitest";
import { allowsPrivateNetwork, refuseOutboundUrl } from "./network-policy";

const refused = (url: string, allowPrivate = false) => refuseOutboundUrl(new URL(url), allowPrivate);

describe("refuseOutboundUrl", () => {
  it("allows public http(s) hosts and addresses", () => {
    for (const url of [
      "https://example.com/s.json",
      "http://8.8.8.8/",
      "https://[2606:4700::1111]/",
      "https://trustless-gateway.link/ipfs/x",
    ]) {
      expect(refused(url), url).toBeUndefined();
    }
  });

  it("refuses loopback, private, link-local, metadata and reserved IPv4, in every spelling the URL parser accepts", () => {
    const cases: [string, RegExp][] = [
      ["http://127.0.0.1:8545/", /loopback/],
      ["http://2130706433/", /loopback/], // 127.0.0.1 as one number
      ["http://0x7f.1/", /loopback/],
      ["http://10.1.2.3/", /private/],
      ["http://172.16.0.1/", /private/],
      ["http://172.31.255.255/", /private/],
      ["http://192.168.1.1/", /private/],
      ["http://169.254.169.254/latest/meta-data/", /link-local/],
      ["http://100.100.100.200/", /shared/], // Alibaba's metadata sits in 100.64/10
      ["http://0.0.0.0/", /unspecified/],
      ["http://224.0.0.1/", /multicast/],
      ["http://255.255.255.255/", /reserved/],
    ];
    for (const [url, why] of cases) expect(refused(url), url).toMatch(why);
    expect(refused("http://172.32.0.1/")).toBeUndefined(); // just outside 172.16/12
  });

  it("refuses IPv6 loopback, unique-local, link-local and IPv4-mapped private addresses", () => {
    const cases: [string, RegExp][] = [
      ["http://[::1]/", /loopback/],
      ["http://[::]/", /unspecified/],
      ["http://[fd00:ec2::254]/", /unique-local/], // AWS's IPv6 metadata
      ["http://[fe80::1]/", /link-local/],
      ["http://[::ffff:127.0.0.1]/", /loopback.*IPv6/],
      ["http://[::ffff:169.254.169.254]/", /link-local/],
      ["http://[64:ff9b::10.0.0.1]/", /private/],
      ["http://[ff02::1]/", /multicast/],
    ];
    for (const [url, why] of cases) expect(refused(url), url).toMatch(why);
  });

  it("refuses local and internal names, and single-label names", () => {
    for (const url of [
      "http://localhost:8787/",
      "http://LOCALHOST./",
      "http://node.localhost/",
      "http://printer.local/",
      "http://metadata.google.internal/",
      "http://intranet/",
    ]) {
      expect(refused(url), url).toBeDefined();
    }
  });

  it("refuses every scheme but http and https, even when private addresses are allowed", () => {
    for (const url of ["file:///etc/passwd", "ftp://example.com/a", "gopher://example.com/", "data:text/plain,hi"]) {
      expect(refused(url, true), url).toMatch(/http or https only/);
    }
  });

  it("lets the operator allow private addresses", () => {
    expect(refused("http://127.0.0.1:8545/", true)).toBeUndefined();
    expect(refused("http://localhost/", true)).toBeUndefined();
    expect(allowsPrivateNetwork({ ALLOW_PRIVATE_NETWORK_URIS: "true" })).toBe(true);
    expect(allowsPrivateNetwork({ ALLOW_PRIVATE_NETWORK_URIS: "1" })).toBe(true);
    expect(allowsPrivateNetwork({ ALLOW_PRIVATE_NETWORK_URIS: "false" })).toBe(false);
    expect(allowsPrivateNetwork({ ALLOW_PRIVATE_NETWORK_URIS: "yes please" })).toBe(false);
    expect(allowsPrivateNetwork({})).toBe(false);
  });
});
