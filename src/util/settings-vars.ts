/** Settings read from wrangler.toml [vars], for the families that refuse a bad value rather than fall back. */

/** One integer setting in [min, max] from a var, or its default when unset. @throws Error naming the var */
export function integerVar(
  vars: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const n = Number(vars[name]?.trim() || fallback);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

/**
 * A settings family parsed once per isolate: parsed again only when one of its vars changed (a test
 * runtime swapping bindings). @throws what `parse` throws
 */
export function parsedOncePerIsolate<T>(
  names: readonly string[],
  parse: (vars: Record<string, string | undefined>) => T,
): (env: Env) => T {
  let cached: { key: string; settings: T } | undefined;
  return (env) => {
    const vars = env as unknown as Record<string, string | undefined>;
    const key = names.map((name) => vars[name]).join("\u0000");
    if (cached?.key !== key) cached = { key, settings: parse(vars) };
    return cached.settings;
  };
}
