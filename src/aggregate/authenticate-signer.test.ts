import { describe, expect, it } from "vitest";
import { reuseStanding, type SignerStanding } from "./authenticate-signer";

const registered: SignerStanding = {
  registered: true,
  operator: "0x0000000000000000000000000000000000000001",
  weight: 1n,
};
const unregistered: SignerStanding = { registered: false, reason: "the signer is not a registered signing key" };

/** A standing reader that answers `answers` in turn and counts its reads. */
function reader(...answers: (SignerStanding | Error)[]) {
  const counter = { reads: 0 };
  const read = async () => {
    const answer = answers[Math.min(counter.reads++, answers.length - 1)]!;
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { counter, read };
}

describe("reuseStanding", () => {
  it("reuses a registered standing within its time, one read shared by concurrent lookups", async () => {
    const key = `k:${Math.random()}`;
    const { counter, read } = reader(registered);
    expect(await Promise.all([reuseStanding(key, 60_000, read), reuseStanding(key, 60_000, read)])).toEqual([
      registered,
      registered,
    ]);
    expect(await reuseStanding(key, 60_000, read)).toEqual(registered);
    expect(counter.reads).toBe(1);
  });

  it("reads again once the time is up, and every time with a time of 0", async () => {
    const key = `k:${Math.random()}`;
    const { counter, read } = reader(registered);
    await reuseStanding(key, 0, read);
    await reuseStanding(key, 0, read);
    expect(counter.reads).toBe(2);
  });

  it("never keeps an unregistered standing or a failed read: the next lookup reads the chain again", async () => {
    const key = `k:${Math.random()}`;
    const { counter, read } = reader(unregistered, new Error("rpc down"), registered);
    expect(await reuseStanding(key, 60_000, read)).toEqual(unregistered);
    await expect(reuseStanding(key, 60_000, read)).rejects.toThrow("rpc down");
    expect(await reuseStanding(key, 60_000, read)).toEqual(registered);
    expect(counter.reads).toBe(3);
  });
});
