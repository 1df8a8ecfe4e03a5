import { describe, expect, it } from "vitest";
import { isPeerRefusal } from "./deliver-submissions";

describe("isPeerRefusal", () => {
  it("retries a peer that answered 5xx, 408 or 429, and not one that refused", () => {
    for (const status of [500, 502, 503, 408, 429]) expect(isPeerRefusal(status), String(status)).toBe(false);
    for (const status of [400, 403, 404, 409, 422]) expect(isPeerRefusal(status), String(status)).toBe(true);
  });
});
