/**
 * Where the CLI writes: results on stdout (JSON with --json, a line of text otherwise), progress on
 * stderr so `--json` output stays parseable.
 */
export type Output = {
  json: boolean;
  /** A step of a long operation. */
  progress(message: string): void;
  /** The command's result: `value` as JSON with --json, else `text`. */
  result(value: unknown, text: string): void;
  /** Already-serialised JSON (lossless) with --json, else `text`. */
  raw(json: string, text: string): void;
};

export function createOutput(
  json: boolean,
  write = (s: string) => process.stdout.write(s),
  note = (s: string) => process.stderr.write(s),
): Output {
  return {
    json,
    progress: (m) => note(`… ${m}\n`),
    result: (value, text) => write(json ? JSON.stringify(value, null, 2) + "\n" : text + "\n"),
    raw: (j, text) => write(json ? j + "\n" : text + "\n"),
  };
}
