/** Why a component run failed. Retry-worthy: "instantiate" (infrastructure) and "out-of-time"
 * may pass on a later attempt; "component-missing", "trap" and "component-error" will not. */
export type ExecutionErrorKind = "component-missing" | "instantiate" | "trap" | "out-of-time" | "component-error";

/** A component run that produced no responses. `message` never holds a stack or a secret. */
export class ExecutionError extends Error {
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
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.digest = options.digest;
    this.logs = options.logs ?? [];
  }

  /** Whether running again later may succeed. */
  get retryable(): boolean {
    return this.kind === "instantiate" || this.kind === "out-of-time";
  }
}

/** What is wrong with bytes offered as a component. */
export type InvalidComponentReason = "not-wasm" | "core-module" | "unsupported-encoding" | "malformed" | "wrong-exports";

/** Bytes offered as a component that are not a WebAssembly component WAVS can run. */
export class InvalidComponentError extends Error {
  override readonly name = "InvalidComponentError";
  constructor(
    readonly reason: InvalidComponentReason,
    message: string,
  ) {
    super(message);
  }
}
