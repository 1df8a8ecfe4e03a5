import { describe, expect, it } from "vitest";
import { isEnvKeyGranted, parseEnvGrants } from "./env-grants";
import { createSecretMasker, encodedForms } from "../execute/mask-secrets";

const A = "a".repeat(64);
const B = "b".repeat(64);

describe("SERVICE_ENV_GRANTS", () => {
  it("grants names per service id, and to every service under *", () => {
    const grants = parseEnvGrants(JSON.stringify({ [A.toUpperCase()]: ["WAVS_ENV_X"], "*": ["WAVS_ENV_SHARED"] }));
    expect(isEnvKeyGranted(grants, A, "WAVS_ENV_X")).toBe(true);
    expect(isEnvKeyGranted(grants, B, "WAVS_ENV_X")).toBe(false);
    expect(isEnvKeyGranted(grants, B, "WAVS_ENV_SHARED")).toBe(true);
    expect(isEnvKeyGranted(parseEnvGrants(""), A, "WAVS_ENV_X")).toBe(false);
  });

  it("refuses what is not a map of service ids to WAVS_ENV_ names", () => {
    expect(() => parseEnvGrants("[]")).toThrow(/JSON object/);
    expect(() => parseEnvGrants("{")).toThrow(/not valid JSON/);
    expect(() => parseEnvGrants(JSON.stringify({ svc: ["WAVS_ENV_X"] }))).toThrow(/neither \* nor a service id/);
    expect(() => parseEnvGrants(JSON.stringify({ [A]: ["WAVS_BEARER_TOKEN"] }))).toThrow(/WAVS_ENV_\* names/);
  });
});

describe("secret masking", () => {
  it("masks the value and its base64, base64url, hex and URL-encoded forms", () => {
    const secret = "s3cr3t value/+?";
    const mask = createSecretMasker({ WAVS_ENV_KEY: secret } as unknown as Env);
    const bytes = new TextEncoder().encode(secret);
    const b64 = btoa(String.fromCharCode(...bytes));
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    const printed = [
      secret,
      b64,
      b64.replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_"),
      hex,
      hex.toUpperCase(),
      encodeURIComponent(secret),
    ];
    const masked = mask(`key: ${printed.join(" | ")}`);
    expect(masked).toBe(`key: ${printed.map(() => "[WAVS_ENV_KEY]").join(" | ")}`);
    for (const form of printed) expect(masked).not.toContain(form);
  });

  it("leaves ordinary text alone when a secret's encodings are very short", () => {
    expect(encodedForms("ab")).toEqual(["ab", "YWI=", "6162"]);
    expect(encodedForms("a")).toEqual(["a", "YQ=="]);
  });
});
