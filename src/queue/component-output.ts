import { log } from "../log";

/** Lines of a run's output a task's timeline keeps; the node's log gets every line. */
const TIMELINE_OUTPUT_LINES = 50;

/** The node log level of each source of output: host log levels, stdout and stderr. */
const LEVELS = {
  error: "error",
  warn: "warn",
  info: "info",
  debug: "debug",
  trace: "debug",
  stdout: "info",
  stderr: "warn",
} as const;

/** Output lines look like `info: message` (host log) or `stdout: text` / `stderr: text`. */
const LINE_SOURCE = /^(error|warn|info|debug|trace|stdout|stderr): /;

export interface ComponentOutputTags {
  service_id: string;
  workflow_id: string;
  digest: string | undefined;
  /** the trigger's event key (one run can give several event ids) */
  event_key: string;
}

/**
 * Writes a run's output (host log, stdout, stderr; secrets already masked by the runtime) to the
 * node's log, one JSON line per line of output tagged with service, workflow, digest and event key,
 * at the level the component logged it (stderr as warn). Answers the lines a timeline keeps.
 */
export function logComponentOutput(lines: string[], tags: ComponentOutputTags): string[] {
  for (const line of lines) {
    const source = (LINE_SOURCE.exec(line)?.[1] ?? "stdout") as keyof typeof LEVELS;
    log(LEVELS[source], line, { subsys: "execute", output: source, ...tags });
  }
  return lines.slice(0, TIMELINE_OUTPUT_LINES);
}
