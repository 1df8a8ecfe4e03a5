/**
 * JSON with integers kept exact. WAVS writes u64 values (nanosecond timestamps, fuel limits) as
 * bare JSON numbers that JSON.parse would round; here an integer that is not a safe JS number
 * becomes a bigint, and bigints are written back as bare digits.
 */

export type LosslessValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | LosslessValue[]
  | { [key: string]: LosslessValue };

/** Keys that would reach an object's prototype when merged or assigned: refused in every JSON input. */
export const FORBIDDEN_JSON_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** JSON naming a key in FORBIDDEN_JSON_KEYS. */
export class ForbiddenKeyError extends SyntaxError {
  override name = "ForbiddenKeyError";
  constructor(
    readonly key: string,
    readonly path: string,
  ) {
    super(`the key "${key}" is not allowed in JSON${path ? ` (at ${path})` : ""}`);
  }
}

/**
 * The first key in FORBIDDEN_JSON_KEYS anywhere in a parsed value (e.g. from JSON.parse, which keeps
 * `__proto__` as an own key), or undefined.
 */
export function findForbiddenKey(value: unknown, path = ""): ForbiddenKeyError | undefined {
  if (value === null || typeof value !== "object") return undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = findForbiddenKey(v, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_JSON_KEYS.has(key)) return new ForbiddenKeyError(key, path);
    const found = findForbiddenKey((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return undefined;
}

/** @throws SyntaxError with the offset of the first bad character; ForbiddenKeyError for a key that reaches a prototype */
export function parseLosslessJson(text: string): LosslessValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`invalid JSON at offset ${i}: ${what}`);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const value = (): LosslessValue => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: Record<string, LosslessValue> = {};
      ws();
      if (text[i] === "}") return (i++, obj);
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a string key");
        const key = string();
        // Assigning "__proto__" below would replace the object's prototype.
        if (FORBIDDEN_JSON_KEYS.has(key)) throw new ForbiddenKeyError(key, "");
        ws();
        if (text[i++] !== ":") fail("expected ':'");
        obj[key] = value();
        ws();
        const sep = text[i++];
        if (sep === "}") return obj;
        if (sep !== ",") fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const arr: LosslessValue[] = [];
      ws();
      if (text[i] === "]") return (i++, arr);
      for (;;) {
        arr.push(value());
        ws();
        const sep = text[i++];
        if (sep === "]") return arr;
        if (sep !== ",") fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail("unexpected character");
    i += m[0].length;
    if (m[2] || m[3]) return Number(m[0]);
    const n = Number(m[0]);
    return Number.isSafeInteger(n) ? n : BigInt(m[0]);
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    if (i >= text.length) fail("unterminated string");
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const result = value();
  ws();
  if (i !== text.length) fail("trailing characters");
  return result;
}

/** JSON.stringify that writes bigints as bare integers and drops undefined fields. */
export function stringifyLosslessJson(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (value instanceof Uint8Array) return stringifyLosslessJson(Array.from(value));
  if (Array.isArray(value)) return `[${value.map(stringifyLosslessJson).join(",")}]`;
  const fields = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}:${stringifyLosslessJson(v)}`);
  return `{${fields.join(",")}}`;
}
