/**
 * Which addresses the node may fetch on a service's say (service URIs, component downloads, chain
 * RPCs added at run time): public http(s) only, unless the operator sets ALLOW_PRIVATE_NETWORK_URIS.
 * A service owner must not make the node read its own loopback, the operator's private network or
 * a cloud metadata endpoint. Pure: the caller passes the setting.
 *
 * Hostnames are checked as written (Workers cannot resolve names before fetching); on Cloudflare a
 * Worker's fetch cannot reach private networks anyway, so this guards self-hosted workerd and
 * `wrangler dev`, where it can.
 */

/** Why a URL is refused, or undefined when it may be fetched. */
export function refuseOutboundUrl(url: URL, allowPrivate: boolean): string | undefined {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `${url.protocol.replace(/:$/, "")} URLs are not fetched (http or https only)`;
  }
  if (allowPrivate) return undefined;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const why = privateHostReason(host);
  return why && `${host} is ${why}; set ALLOW_PRIVATE_NETWORK_URIS to allow it`;
}

/** Parses ALLOW_PRIVATE_NETWORK_URIS ("true" or "1" allows; anything else, or unset, refuses). */
export function allowsPrivateNetwork(env: { ALLOW_PRIVATE_NETWORK_URIS?: string }): boolean {
  return /^(true|1)$/i.test(env.ALLOW_PRIVATE_NETWORK_URIS?.trim() ?? "");
}

// Names that point inside the machine or the cloud it runs in.
const PRIVATE_NAMES = [/^localhost$/, /\.localhost$/, /\.local$/, /\.internal$/, /\.home\.arpa$/, /^metadata$/];

function privateHostReason(host: string): string | undefined {
  if (host.startsWith("[")) return ipv6Reason(host.slice(1, -1));
  const v4 = parseIpv4(host);
  if (v4) return ipv4Reason(v4);
  if (PRIVATE_NAMES.some((re) => re.test(host))) return "a local or internal name";
  if (!host.includes(".")) return "a single-label name (resolved on the local network)";
  return undefined;
}

// The URL parser has already turned 2130706433, 0x7f.1 and friends into dotted quads.
function parseIpv4(host: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : undefined;
}

/** [first octets, prefix bits, what it is] */
const IPV4_RANGES: [number[], number, string][] = [
  [[0], 8, "an unspecified address"],
  [[10], 8, "a private address"],
  [[100, 64], 10, "a shared (carrier-grade NAT) address"],
  [[127], 8, "a loopback address"],
  [[169, 254], 16, "a link-local (cloud metadata) address"],
  [[172, 16], 12, "a private address"],
  [[192, 0, 0], 24, "an IETF protocol address"],
  [[192, 168], 16, "a private address"],
  [[198, 18], 15, "a benchmarking address"],
  [[224], 4, "a multicast address"],
  [[240], 4, "a reserved address"],
];

function ipv4Reason(octets: number[]): string | undefined {
  const value = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  for (const [prefix, bits, why] of IPV4_RANGES) {
    const base = ((prefix[0]! << 24) | ((prefix[1] ?? 0) << 16) | ((prefix[2] ?? 0) << 8)) >>> 0;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((value & mask) >>> 0 === base) return why;
  }
  return undefined;
}

function ipv6Reason(text: string): string | undefined {
  const words = parseIpv6(text);
  if (!words) return "an IPv6 address that does not parse";
  if (words.every((w) => w === 0)) return "an unspecified address";
  if (words.slice(0, 7).every((w) => w === 0) && words[7] === 1) return "a loopback address";
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible) and 64:ff9b::a.b.c.d (NAT64) carry an IPv4 address.
  const embedsV4 =
    (words.slice(0, 5).every((w) => w === 0) && (words[5] === 0xffff || words[5] === 0)) ||
    (words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0));
  if (embedsV4) {
    const v4 = [words[6]! >> 8, words[6]! & 0xff, words[7]! >> 8, words[7]! & 0xff];
    const why = ipv4Reason(v4);
    return why && `${why} (inside IPv6)`;
  }
  if ((words[0]! & 0xfe00) === 0xfc00) return "a unique-local (private) address";
  if ((words[0]! & 0xffc0) === 0xfe80) return "a link-local address";
  if ((words[0]! & 0xffc0) === 0xfec0) return "a site-local address";
  if ((words[0]! & 0xff00) === 0xff00) return "a multicast address";
  return undefined;
}

/** Eight 16-bit words of a (URL-normalised) IPv6 address. */
function parseIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const words = (part: string) => (part === "" ? [] : part.split(":").map((w) => parseInt(w, 16)));
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return all.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? all : undefined;
}
