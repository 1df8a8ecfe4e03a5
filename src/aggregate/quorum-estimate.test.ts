import { describe, expect, it } from "vitest";
import {
  knownAtQuorum,
  knownShortOfQuorum,
  knownThreshold,
  noteThreshold,
  thresholdHeardWithin,
} from "./quorum-estimate";

describe("knownShortOfQuorum", () => {
  it("is short only when the weights add up to less than a known threshold", () => {
    expect(knownShortOfQuorum(["1"], 2n)).toBe(true);
    expect(knownShortOfQuorum(["1", "1"], 2n)).toBe(false);
    expect(knownShortOfQuorum(["5"], 2n)).toBe(false);
  });

  it("asks the manager when the threshold or a weight is unknown", () => {
    expect(knownShortOfQuorum(["1"], undefined)).toBe(false);
    expect(knownShortOfQuorum(["one"], 2n)).toBe(false);
    expect(knownShortOfQuorum([], 1n)).toBe(true);
  });
});

describe("knownAtQuorum", () => {
  it("is met once the weights reach the threshold the manager reported", () => {
    expect(knownAtQuorum(["1", "1"], 2n)).toBe(true);
    expect(knownAtQuorum(["5"], 2n)).toBe(true);
    expect(knownAtQuorum(["1"], 2n)).toBe(false);
  });

  it("is never met on an unknown threshold or an unreadable weight", () => {
    expect(knownAtQuorum(["1", "1"], undefined)).toBe(false);
    expect(knownAtQuorum(["1", "x"], 1n)).toBe(false);
  });
});

describe("noteThreshold", () => {
  it("keeps the latest threshold per submit target, whatever the handler's case", () => {
    noteThreshold("evm:31337", "0xAbC0000000000000000000000000000000000001", 3n);
    noteThreshold("evm:31337", "0xabc0000000000000000000000000000000000001", 2n);
    expect(knownThreshold("evm:31337", "0xABC0000000000000000000000000000000000001")).toBe(2n);
    expect(knownThreshold("evm:1", "0xabc0000000000000000000000000000000000001")).toBeUndefined();
  });
});

describe("thresholdHeardWithin", () => {
  it("says whether the manager reported the target's threshold within the period", () => {
    noteThreshold("evm:7", "0x00000000000000000000000000000000000000aa", 2n, 1_000);
    expect(thresholdHeardWithin("evm:7", "0x00000000000000000000000000000000000000AA", 10_000, 5_000)).toBe(true);
    expect(thresholdHeardWithin("evm:7", "0x00000000000000000000000000000000000000aa", 10_000, 11_000)).toBe(false);
    expect(thresholdHeardWithin("evm:8", "0x00000000000000000000000000000000000000aa", 10_000, 5_000)).toBe(false);
  });
});
