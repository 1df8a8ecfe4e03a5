import { concatBytes } from "viem";
import { constantTimeEqual } from "../util/constant-time-equal";
import type { WebhookFormat } from "./webhook-payloads";

/** Deliveries older (or further in the future) than this are refused as stale. */
export const WEBHOOK_WINDOW_MS = 5 * 60 * 1000;

export type WebhookAuthFailure = { ok: false; status: 401; code: string; message: string };
export type WebhookAuth =
  | { ok: true; format: WebhookFormat; deliveryId?: string; timestampMs?: number }
  | WebhookAuthFailure;

/** Secret name for a webhook source: WEBHOOK_SECRET_<SOURCE>, upper case, `-` as `_`. */
export function webhookSecretName(source: string): string {
  return `WEBHOOK_SECRET_${source.toUpperCase().replace(/-/g, "_")}`;
}

const encoder = new TextEncoder();

/** Lowercase hex HMAC-SHA256 of `message` under `secret`. */
export async function hmacSha256Hex(secret: string, message: Uint8Array | string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, typeof message === "string" ? encoder.encode(message) : message);
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes of each part (strings as UTF-8), joined. */
function concat(...parts: (Uint8Array | string)[]): Uint8Array {
  return concatBytes(parts.map((p) => (typeof p === "string" ? encoder.encode(p) : p)));
}

const refuse = (code: string, message: string): WebhookAuthFailure => ({ ok: false, status: 401, code, message });

/**
 * Checks a delivery's HMAC-SHA256 over the raw body, picking the scheme from the provider's header:
 * - Alchemy: `X-Alchemy-Signature` = hex HMAC(body);
 * - QuickNode Streams: `X-QN-Signature` = hex HMAC(nonce ‖ timestamp ‖ body), `X-QN-Nonce`, `X-QN-Timestamp` (s);
 * - generic: `X-Wavs-Signature: sha256=<hex HMAC(timestamp "." body)>`, `X-Wavs-Timestamp` (s), `X-Wavs-Delivery`.
 * Header timestamps outside the window are refused here; Alchemy's (in the body) by the caller.
 */
export async function verifyWebhookSignature(
  headers: Headers,
  rawBody: Uint8Array,
  secret: string,
  now = Date.now(),
): Promise<WebhookAuth> {
  const alchemy = headers.get("x-alchemy-signature");
  const qn = headers.get("x-qn-signature");
  const generic = headers.get("x-wavs-signature");

  let format: WebhookFormat;
  let expected: string;
  let given: string;
  let timestampMs: number | undefined;
  let deliveryId: string | undefined;
  if (alchemy !== null) {
    format = "alchemy";
    given = alchemy.trim().toLowerCase();
    expected = await hmacSha256Hex(secret, rawBody);
  } else if (qn !== null) {
    format = "quicknode";
    const nonce = headers.get("x-qn-nonce") ?? "";
    const ts = headers.get("x-qn-timestamp") ?? "";
    if (!nonce || !/^\d{1,13}$/.test(ts))
      return refuse("missing_headers", "QuickNode deliveries need X-QN-Nonce and X-QN-Timestamp");
    given = qn.trim().toLowerCase();
    expected = await hmacSha256Hex(secret, concat(nonce, ts, rawBody));
    timestampMs = Number(ts) * 1000;
    deliveryId = nonce;
  } else if (generic !== null) {
    format = "generic";
    const ts = headers.get("x-wavs-timestamp") ?? "";
    deliveryId = headers.get("x-wavs-delivery") ?? "";
    if (!deliveryId || !/^\d{1,13}$/.test(ts))
      return refuse("missing_headers", "generic deliveries need X-Wavs-Timestamp and X-Wavs-Delivery");
    given = generic
      .trim()
      .toLowerCase()
      .replace(/^sha256=/, "");
    expected = await hmacSha256Hex(secret, concat(ts, ".", rawBody));
    timestampMs = Number(ts) * 1000;
  } else {
    return refuse("missing_signature", "no X-Alchemy-Signature, X-QN-Signature or X-Wavs-Signature header");
  }
  if (!(await constantTimeEqual(given, expected)))
    return refuse("bad_signature", "the signature does not match the body");
  if (timestampMs !== undefined && Math.abs(now - timestampMs) > WEBHOOK_WINDOW_MS) {
    return refuse("stale_delivery", "the delivery's timestamp is outside the accepted window");
  }
  return {
    ok: true,
    format,
    ...(deliveryId ? { deliveryId } : {}),
    ...(timestampMs !== undefined ? { timestampMs } : {}),
  };
}
