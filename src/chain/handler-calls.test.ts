import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import { handlerCallData } from "../../test/support/handler-call-data";
import { readHandlerCalls } from "./handler-calls";

const handler = "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0" as Hex;
const eventId = "0x600aa2f4ead908bdb17c6509293ed567e544428b" as Hex;
const tx = (n: number, input: Hex, to: Hex | null = handler) => ({
  to,
  input,
  hash: `0x${n.toString(16).padStart(64, "0")}` as Hex,
});

describe("readHandlerCalls", () => {
  it("decodes handleSignedEnvelope calls and skips transfers, other calls and contract creations", () => {
    const calls = readHandlerCalls([
      tx(1, handlerCallData(eventId)),
      tx(2, "0x"),
      tx(3, "0x12345678"),
      tx(4, handlerCallData(eventId), null),
    ]);
    expect(calls).toEqual([{ handler, eventId, txHash: tx(1, "0x").hash }]);
  });
});
