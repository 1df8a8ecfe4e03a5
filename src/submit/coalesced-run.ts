/**
 * One run of an async job shared by everyone who asks for it, and never two at once: the
 * ChainSubmitter's receipt sweep. A caller that must see the world after some event of its own
 * (a broadcast) takes a mark() then asks for after(mark): it joins the run in progress only when
 * that run started after the mark, else the one run queued behind it, which every such caller
 * shares. Marks are a counter, not the clock: a Worker's clock stands still between I/O.
 */
export class CoalescedRun {
  private marks = 0;
  private running?: { mark: number; done: Promise<void> };
  private queued?: Promise<void>;
  /** The mark taken when the last successful run started; when (ms) it started. */
  private lastMark = -1;
  private lastStartedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly job: () => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A point in the order of events: a run that starts later sees everything done before it. */
  mark(): number {
    return ++this.marks;
  }

  /** Resolves once a run that started after `mark` has finished. @throws what that run threw */
  after(mark: number): Promise<void> {
    if (this.lastMark >= mark) return Promise.resolve();
    if (this.running && this.running.mark >= mark) return this.running.done;
    if (this.queued) return this.queued; // it starts later than any mark taken so far
    if (!this.running) return this.start();
    this.queued ??= this.running.done
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    return this.queued;
  }

  /** Resolves once a run younger than maxAgeMs has finished (joining one in progress). @throws what it threw */
  fresh(maxAgeMs: number): Promise<void> {
    if (this.running) return this.running.done;
    if (this.queued) return this.queued;
    if (this.now() - this.lastStartedAt < maxAgeMs) return Promise.resolve();
    return this.start();
  }

  private start(): Promise<void> {
    const mark = this.mark();
    const startedAt = this.now();
    // Started on the next microtask, so that `running` is set before the job can end.
    const done = Promise.resolve().then(async () => {
      try {
        await this.job();
        this.lastMark = Math.max(this.lastMark, mark);
        this.lastStartedAt = Math.max(this.lastStartedAt, startedAt);
      } finally {
        this.running = undefined;
      }
    });
    this.running = { mark, done };
    return done;
  }
}
