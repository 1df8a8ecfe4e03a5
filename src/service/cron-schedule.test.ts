import { describe, expect, it } from "vitest";
import { CronSyntaxError, matchesCron, nextCronTick, parseCronSchedule, previousCronTick } from "./cron-schedule";

const at = (iso: string) => Date.parse(iso) / 1000;
const iso = (t: number | undefined) =>
  t === undefined ? undefined : new Date(t * 1000).toISOString().replace(".000Z", "Z");

describe("parseCronSchedule (WAVS's six-field syntax, seconds first)", () => {
  it("reads lists, ranges, steps, names and ?", () => {
    const s = parseCronSchedule("*/15 0,30 9-17 ? JAN-MAR MON-FRI");
    expect([...s.seconds]).toEqual([0, 15, 30, 45]);
    expect([...s.minutes]).toEqual([0, 30]);
    expect([...s.hours]).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect(s.daysOfMonth.size).toBe(31);
    expect([...s.months]).toEqual([1, 2, 3]);
    // Sunday = 1, as in WAVS's parser: MON-FRI is 2-6.
    expect([...s.daysOfWeek]).toEqual([2, 3, 4, 5, 6]);
    expect(s.years.has(2026)).toBe(true);
  });

  it("runs n/step from n to the field's maximum and takes an optional year field", () => {
    const s = parseCronSchedule("10/20 * * * * * 2030-2031");
    expect([...s.seconds]).toEqual([10, 30, 50]);
    expect([...s.years]).toEqual([2030, 2031]);
  });

  it("expands the shorthands", () => {
    expect(parseCronSchedule("@hourly")).toMatchObject({ seconds: new Set([0]), minutes: new Set([0]) });
    expect([...parseCronSchedule("@weekly").daysOfWeek]).toEqual([1]);
  });

  it.each([
    ["* * * * *", /6 or 7 fields/],
    ["60 * * * * *", /seconds: 60 is outside 0–59/],
    ["* * 24 * * *", /hours/],
    ["? * * * * *", /seconds: "\?" is not a valid value/],
    ["* * * 0 * *", /days of month/],
    ["* * * * 13 *", /months/],
    ["* * * * * 8", /days of week/],
    ["* * * * * TURTLE", /days of week/],
    ["5-1 * * * * *", /backwards/],
    ["*/0 * * * * *", /step/],
    ["* * * * * MON/2", /cannot take a step/],
    ["1,,2 * * * * *", /empty/],
  ])("refuses %s", (expr, message) => {
    expect(() => parseCronSchedule(expr)).toThrow(CronSyntaxError);
    expect(() => parseCronSchedule(expr)).toThrow(message);
  });
});

describe("cron ticks (UTC)", () => {
  it("finds the previous and next tick of a seconds schedule", () => {
    const s = parseCronSchedule("*/10 * * * * *");
    expect(iso(previousCronTick(s, at("2026-11-23T10:00:07Z")))).toBe("2026-11-23T10:00:00Z");
    expect(iso(previousCronTick(s, at("2026-11-23T10:00:10Z")))).toBe("2026-11-23T10:00:10Z");
    expect(iso(nextCronTick(s, at("2026-11-23T10:00:10Z")))).toBe("2026-11-23T10:00:20Z");
    expect(iso(nextCronTick(s, at("2026-11-23T10:00:55Z")))).toBe("2026-11-23T10:01:00Z");
  });

  it("requires both day fields to match, crosses months and years, and skips impossible dates", () => {
    // Friday the 13th at noon.
    const s = parseCronSchedule("0 0 12 13 * FRI");
    expect(iso(nextCronTick(s, at("2026-11-23T00:00:00Z")))).toBe("2027-08-13T12:00:00Z");
    expect(iso(previousCronTick(s, at("2026-11-23T00:00:00Z")))).toBe("2026-11-13T12:00:00Z");
    expect(matchesCron(s, at("2026-11-13T12:00:00Z"))).toBe(true);
    const leap = parseCronSchedule("0 0 0 29 FEB *");
    expect(iso(nextCronTick(leap, at("2026-03-01T00:00:00Z")))).toBe("2028-02-29T00:00:00Z");
    expect(nextCronTick(parseCronSchedule("0 0 0 31 FEB *"), at("2026-01-01T00:00:00Z"))).toBeUndefined();
    expect(previousCronTick(parseCronSchedule("0 0 0 1 1 * 2099"), at("2026-01-01T00:00:00Z"))).toBeUndefined();
  });
});
