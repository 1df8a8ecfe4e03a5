/** A failure the CLI reports as one line on stderr with a non-zero exit. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export type ParsedArgs = { positionals: string[]; flags: Map<string, string | true> };

/**
 * Splits argv into positionals and `--flag value` / `--flag=value` / bare `--flag` (true).
 * A flag followed by another flag, or last, is a boolean.
 */
export function parseArgv(argv: string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) flags.set(arg.slice(2), argv[++i]!);
      else flags.set(arg.slice(2), true);
    } else if (arg === "-h") flags.set("help", true);
    else positionals.push(arg);
  }
  return { positionals, flags };
}

/** Typed access to flags, with one-line errors naming the flag. */
export function flagReader(args: ParsedArgs) {
  const used = new Set<string>(["json", "help", "node", "token", "file"]);
  const str = (name: string): string | undefined => {
    used.add(name);
    const v = args.flags.get(name);
    if (v === true) throw new CliError(`--${name} needs a value`, 2);
    return v;
  };
  return {
    str,
    req(name: string, hint = ""): string {
      const v = str(name);
      if (v === undefined) throw new CliError(`--${name} is required${hint ? ` (${hint})` : ""}`, 2);
      return v;
    },
    bool(name: string): boolean {
      used.add(name);
      const v = args.flags.get(name);
      if (v === undefined) return false;
      if (v === true || v === "true") return true;
      if (v === "false") return false;
      throw new CliError(`--${name} is true or false`, 2);
    },
    /** The named flags that are set, as a query string (`--service-id X` → `?service_id=X`), or "". */
    query(names: string[]): string {
      const query = new URLSearchParams();
      for (const name of names) {
        const v = str(name);
        if (v !== undefined) query.set(name.replaceAll("-", "_"), v);
      }
      return query.size ? `?${query}` : "";
    },
    /** Fails on flags no command read, so typos do not pass silently. */
    done(): void {
      const unknown = [...args.flags.keys()].filter((k) => !used.has(k));
      if (unknown.length > 0) throw new CliError(`unknown flag --${unknown[0]}; see --help`, 2);
    },
  };
}
export type FlagReader = ReturnType<typeof flagReader>;
