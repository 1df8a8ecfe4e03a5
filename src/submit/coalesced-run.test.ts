import { describe, expect, it } from "vitest";
import { CoalescedRun } from "./coalesced-run";

/** A job whose runs end when the test says so; counts its starts. */
function gatedJob() {
  const gates: (() => void)[] = [];
  const job = {
    starts: 0,
    run: () => {
      job.starts++;
      return new Promise<void>((resolve) => gates.push(resolve));
    },
    finishNext: async () => {
      while (gates.length === 0) await new Promise((r) => setTimeout(r, 1));
      gates.shift()!();
      await new Promise((r) => setTimeout(r, 1));
    },
  };
  return job;
}

describe("a coalesced run", () => {
  it("shares one run among callers that marked before it started", async () => {
    const job = gatedJob();
    const run = new CoalescedRun(job.run);
    const marks = [run.mark(), run.mark(), run.mark()];
    const waits = marks.map((m) => run.after(m));
    await job.finishNext();
    await Promise.all(waits);
    expect(job.starts).toBe(1);
    expect(await run.after(marks[2]!).then(() => job.starts)).toBe(1); // already seen: no new run
  });

  it("gives a caller that marked during a run the next one, a single one for all of them", async () => {
    const job = gatedJob();
    const run = new CoalescedRun(job.run);
    const first = run.after(run.mark());
    const late = [run.after(run.mark()), run.after(run.mark())];
    await job.finishNext();
    await first;
    let lateDone = false;
    void Promise.all(late).then(() => (lateDone = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(lateDone).toBe(false); // the run they joined started before their marks
    await job.finishNext();
    await Promise.all(late);
    expect(job.starts).toBe(2);
  });

  it("answers fresh() from a recent run, joins one in progress, and starts one when the last is too old", async () => {
    let now = 0;
    const job = gatedJob();
    const run = new CoalescedRun(job.run, () => now);
    const a = run.fresh(1000);
    const b = run.fresh(1000);
    await job.finishNext();
    await Promise.all([a, b]);
    expect(job.starts).toBe(1);
    now = 999;
    await run.fresh(1000);
    expect(job.starts).toBe(1);
    now = 1000;
    const c = run.fresh(1000);
    await job.finishNext();
    await c;
    expect(job.starts).toBe(2);
  });

  it("passes a failed run's error to its callers, and a later mark starts a new run", async () => {
    let fail = true;
    const run = new CoalescedRun(async () => {
      if (fail) throw new Error("rpc down");
    });
    const m = run.mark();
    await expect(run.after(m)).rejects.toThrow("rpc down");
    fail = false;
    await expect(run.after(m)).resolves.toBeUndefined();
  });
});
