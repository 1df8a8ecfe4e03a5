import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import { type BlockLink, planBlockReads } from "./block-links";

const h = (fork: string, n: number) => `0x${fork}${n.toString(16).padStart(63, "0")}` as Hex;
/** Block `n` of fork `fork` ("a" or "b"), whose parent is block n−1 of `parentFork`. */
const block = (n: number, fork = "a", parentFork = fork): BlockLink => ({
  number: BigInt(n),
  hash: h(fork, n),
  parentHash: h(parentFork, n - 1),
});
const cacheOf = (...blocks: BlockLink[]) => new Map(blocks.map((b) => [b.number, b]));

describe("planBlockReads", () => {
  it("reads nothing when every cached block links down from the head", () => {
    const cached = cacheOf(block(10), block(11), block(12), block(13));
    expect(planBlockReads(cached, block(14), 10n)).toEqual({ read: [], drop: [] });
  });

  it("reads only the blocks missing between the cache and a newer head", () => {
    const cached = cacheOf(block(10), block(11), block(12));
    expect(planBlockReads(cached, block(16), 10n)).toEqual({ read: [15n, 14n, 13n], drop: [] });
  });

  it("reads the whole range on an empty cache, and nothing below `lowest`", () => {
    expect(planBlockReads(new Map(), block(5), 3n)).toEqual({ read: [4n, 3n], drop: [] });
    expect(planBlockReads(new Map(), block(5), 5n)).toEqual({ read: [], drop: [] });
    expect(planBlockReads(new Map(), block(5), 9n)).toEqual({ read: [], drop: [] });
  });

  it("drops and re-reads the first cached block the head's parent link does not match (a reorg)", () => {
    // Blocks 12 and 13 were read on fork a; the chain now runs 12b, 13b, 14b on top of 11a.
    const cached = cacheOf(block(10), block(11), block(12), block(13));
    const head = block(14, "b");
    expect(planBlockReads(cached, head, 10n)).toEqual({ read: [13n], drop: [13n] });
    // Once 13b is read, 12a is found out in turn; 11a links again.
    cached.set(13n, block(13, "b"));
    expect(planBlockReads(cached, head, 10n)).toEqual({ read: [12n], drop: [12n] });
    cached.set(12n, block(12, "b", "a"));
    expect(planBlockReads(cached, head, 10n)).toEqual({ read: [], drop: [] });
  });

  it("checks a cached block under a gap only after the gap is read", () => {
    // 12 is missing: 11 cannot be judged against it yet, and must not be dropped blindly.
    const cached = cacheOf(block(10), block(11, "b"), block(13));
    expect(planBlockReads(cached, block(14), 10n)).toEqual({ read: [12n], drop: [] });
    cached.set(12n, block(12));
    expect(planBlockReads(cached, block(14), 10n)).toEqual({ read: [11n], drop: [11n] });
  });

  it("trusts no cached block when the head itself is on another fork than the cache", () => {
    const cached = cacheOf(block(10), block(11), block(12));
    expect(planBlockReads(cached, block(13, "b", "b"), 10n)).toEqual({ read: [12n], drop: [12n] });
  });

  it("compares hashes whatever their case", () => {
    const upper = { ...block(12), hash: block(12).hash.toUpperCase().replace("0X", "0x") as Hex };
    expect(planBlockReads(cacheOf(upper), block(13), 12n)).toEqual({ read: [], drop: [] });
  });
});
