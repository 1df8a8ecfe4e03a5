import { describe, expect, it } from "vitest";
import { wholeNumberSetting } from "./whole-number-setting";

describe("wholeNumberSetting", () => {
  it("takes a whole number within the range, trimmed", () => {
    expect(wholeNumberSetting(" 30 ", 1, 300, 7)).toBe(30);
    expect(wholeNumberSetting("1", 1, 300, 7)).toBe(1);
    expect(wholeNumberSetting("300", 1, 300, 7)).toBe(300);
  });

  it("falls back when unset, empty, not a whole number or out of range", () => {
    for (const raw of [undefined, "", "  ", "two", "1.5", "0", "301", "-3"]) {
      expect(wholeNumberSetting(raw, 1, 300, 7), String(raw)).toBe(7);
    }
  });
});
