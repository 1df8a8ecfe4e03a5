import { describe, expect, it } from "vitest";
import { chooseAsyncMode } from "./async-mode";

describe("chooseAsyncMode", () => {
  it("JSPI for a component that can wait: wasi:io/poll, wasi:http or wasi:keyvalue, any version", () => {
    for (const name of ["wasi:io/poll@0.2.3", "wasi:http/outgoing-handler@0.2.9", "wasi:keyvalue/store@0.2.0-draft2"]) {
      const mode = chooseAsyncMode(["wasi:cli/environment@0.2.3", name, "host"]);
      expect(mode.tag).toBe("jspi");
    }
  });

  it("JSPI mode makes the waiting imports and every runtime export async", () => {
    const mode = chooseAsyncMode(["wasi:io/poll@0.2.0"]);
    if (mode.tag !== "jspi") throw new Error("expected jspi");
    expect(mode.val.imports).toEqual(
      expect.arrayContaining([
        "wasi:io/poll#[method]pollable.block",
        "wasi:keyvalue/store#[method]bucket.get",
        "wasi:keyvalue/atomics#swap",
      ]),
    );
    expect(mode.val.exports).toEqual(["run", "process-input", "handle-timer-callback", "handle-submit-callback"]);
  });

  it("sync for a component that cannot wait (streams alone, clocks, host)", () => {
    expect(
      chooseAsyncMode(["wasi:io/streams@0.2.0", "wasi:clocks/wall-clock@0.2.0", "host", "wasi:io/pollster"]),
    ).toEqual({ tag: "sync" });
    expect(chooseAsyncMode([])).toEqual({ tag: "sync" });
  });
});
