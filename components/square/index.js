// square: the WAVS demo component in JavaScript (QuickJS). Reads `{"x":N}` and answers `{"y":N*N}`.
//
// Trigger data:
// - evm-contract-event: the log of `NewTrigger(bytes triggerData)`, whose bytes are
//   abi.encode(TriggerInfo{uint64 triggerId; address creator; bytes data}) and data is the JSON.
//   The payload is abi.encode(DataWithId{uint64 triggerId; bytes data}) with data the answer JSON.
// - raw: the JSON itself (what `wavs-cli exec` sends); the payload is the answer JSON.
//
// QuickJS has no TextEncoder/TextDecoder, so UTF-8 and the ABI words are coded by hand below.

import host from "host";

export function run(action) {
  const data = action.data;
  switch (data.tag) {
    case "evm-contract-event": {
      const info = decodeTriggerInfo(decodeBytesParam(toBytes(data.val.log.data.data)));
      const answer = square(info.data);
      host.log({ tag: "info" }, `square: trigger ${info.triggerId} -> ${answer.text}`);
      return [response(encodeDataWithId(info.triggerId, utf8Encode(answer.text)))];
    }
    case "raw": {
      const answer = square(toBytes(data.val));
      host.log({ tag: "info" }, `square: raw -> ${answer.text}`);
      return [response(utf8Encode(answer.text))];
    }
    default:
      throw `square: unsupported trigger data ${data.tag}`;
  }
}

function response(payload) {
  return { payload, ordering: null, eventIdSalt: null };
}

/** Parses `{"x":N}` (N a non-negative integer of any size) and returns `{"y":N*N}` as text. */
function square(bytes) {
  const text = utf8Decode(bytes);
  let request;
  try {
    request = JSON.parse(text);
  } catch (e) {
    throw `square: input is not JSON: ${e && e.message ? e.message : e}`;
  }
  if (request === null || typeof request !== "object" || !("x" in request)) {
    throw 'square: input has no "x"';
  }
  const x = request.x;
  if (typeof x !== "number" || !Number.isInteger(x) || x < 0) {
    throw 'square: "x" must be a non-negative integer';
  }
  // JSON.parse rounds integers beyond 2^53; take the digits from the text instead.
  let n = BigInt(x);
  if (!Number.isSafeInteger(x)) {
    const m = /"x"\s*:\s*(\d+)\s*[,}]/.exec(text);
    if (m) n = BigInt(m[1]);
  }
  return { text: `{"y":${(n * n).toString()}}` };
}

// ---- ABI (just what this component needs) ----

function toBytes(v) {
  return v instanceof Uint8Array ? v : new Uint8Array(v);
}

function word(bytes, offset) {
  if (offset + 32 > bytes.length) throw "square: ABI data too short";
  let v = 0n;
  for (let i = 0; i < 32; i++) v = (v << 8n) | BigInt(bytes[offset + i]);
  return v;
}

function smallWord(bytes, offset) {
  const v = word(bytes, offset);
  if (v > BigInt(bytes.length)) throw "square: ABI offset or length out of range";
  return Number(v);
}

/** The `bytes` at head slot `slot` of an ABI-encoded tuple starting at `base`. */
function dynamicBytes(bytes, base, slot) {
  const start = base + smallWord(bytes, base + slot * 32);
  const len = smallWord(bytes, start);
  if (start + 32 + len > bytes.length) throw "square: ABI bytes out of range";
  return bytes.slice(start + 32, start + 32 + len);
}

/** Event data of `NewTrigger(bytes)`: one dynamic `bytes` parameter. */
function decodeBytesParam(bytes) {
  return dynamicBytes(bytes, 0, 0);
}

/** abi.encode(TriggerInfo{uint64 triggerId; address creator; bytes data}). */
function decodeTriggerInfo(bytes) {
  const base = smallWord(bytes, 0);
  const triggerId = word(bytes, base);
  if (triggerId >= 1n << 64n) throw "square: triggerId is not a uint64";
  return { triggerId, data: dynamicBytes(bytes, base, 2) };
}

/** abi.encode(DataWithId{uint64 triggerId; bytes data}). */
function encodeDataWithId(triggerId, data) {
  const padded = Math.ceil(data.length / 32) * 32;
  const out = new Uint8Array(32 * 4 + padded);
  putWord(out, 0, 32n);
  putWord(out, 32, triggerId);
  putWord(out, 64, 64n);
  putWord(out, 96, BigInt(data.length));
  out.set(data, 128);
  return out;
}

function putWord(out, offset, value) {
  for (let i = 31; i >= 0; i--) {
    out[offset + i] = Number(value & 0xffn);
    value >>= 8n;
  }
}

// ---- UTF-8 ----

function utf8Encode(text) {
  const out = [];
  for (const ch of text) {
    const c = ch.codePointAt(0);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

function utf8Decode(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const n = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    if (n === 0 || i + n > bytes.length) throw "square: input is not UTF-8";
    let c = n === 1 ? b : b & (0xff >> (n + 1));
    for (let k = 1; k < n; k++) {
      const cont = bytes[i + k];
      if ((cont & 0xc0) !== 0x80) throw "square: input is not UTF-8";
      c = (c << 6) | (cont & 63);
    }
    text += String.fromCodePoint(c);
    i += n;
  }
  return text;
}
