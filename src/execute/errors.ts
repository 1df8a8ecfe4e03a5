import { WavsError } from "../util/errors";

/** Why a component run failed. Only "out-of-time" may pass on a later attempt (a busy machine);
 * "component-missing", "instantiate" (bytes jco or the host refuses, imports not granted), "trap"
 * and "component-error" fail the same way again. */
export type ExecutionErrorKind = "component-missing" | "instantiate" | "trap" | "out-of-time" | "component-error";

/** A component run that produced no responses. `message` never holds a stack or a secret. */
export class ExecutionError extends WavsError {
  override readonly name = "ExecutionError";
  readonly kind: ExecutionErrorKind;
  readonly digest: string | undefined;
  /** what the component logged before it failed (host.log, stdout, stderr) */
  readonly logs: string[];

  constructor(
    kind: ExecutionErrorKind,
    message: string,
    options: { digest?: string; cause?: unknown; logs?: string[] } = {},
  ) {
    super(kind.replaceAll("-", "_"), message, { retryable: kind === "out-of-time", cause: options.cause });
    this.kind = kind;
    this.digest = options.digest;
    this.logs = options.logs ?? [];
  }
}

/** What is wrong with bytes offered as a component. */
export type InvalidComponentReason =
  | "not-wasm"
  | "core-module"
  | "unsupported-encoding"
  | "malformed"
  | "wrong-exports";

/** Bytes offered as a component that are not a WebAssembly component WAVS can run (400 on upload). */
export class InvalidComponentError extends WavsError {
  override readonly name = "InvalidComponentError";
  constructor(
    readonly reason: InvalidComponentReason,
    message: string,
  ) {
    super("invalid_component", message, { status: 400, details: { reason } });
  }
}
