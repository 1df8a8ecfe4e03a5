import { WavsError } from "../util/errors";

/** A body whose Content-Encoding the node cannot or will not undo. */
export class BodyEncodingError extends WavsError {
  override name = "BodyEncodingError";
  declare readonly status: 413 | 415 | 400;
  constructor(message: string, status: 413 | 415 | 400) {
    super(status === 415 ? "unsupported_encoding" : status === 413 ? "body_too_large" : "invalid_encoding", message, {
      status,
    });
  }
}

/**
 * Undoes a request's Content-Encoding: `gzip` (QuickNode Streams compresses deliveries and signs the
 * JSON before compressing it, so the signature is checked on the decoded bytes) or none. Bytes that
 * are not gzip despite the header (a proxy already decoded them) pass as they are. The decoded size
 * is capped, so a small compressed body cannot expand without bound.
 * @throws BodyEncodingError 415 for other encodings, 400 for corrupt gzip, 413 over `maxBytes`
 */
export async function decodeContentEncoding(
  raw: Uint8Array,
  encoding: string | null | undefined,
  maxBytes: number,
): Promise<Uint8Array> {
  const codings = (encoding ?? "")
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== "identity");
  if (codings.length === 0) return raw;
  if (codings.length > 1 || (codings[0] !== "gzip" && codings[0] !== "x-gzip")) {
    throw new BodyEncodingError(`Content-Encoding ${encoding} is not supported (gzip is)`, 415);
  }
  if (raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  const reader = new Blob([raw]).stream().pipeThrough(new DecompressionStream("gzip")).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new BodyEncodingError(`the decompressed body is over ${maxBytes} bytes`, 413);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof BodyEncodingError) throw e;
    throw new BodyEncodingError("the body is not valid gzip", 400);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
