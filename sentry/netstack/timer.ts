// Virtual time: the core never uses real timers. The owner calls TimerQueue.advance(nowMs)
// (Stack.tick) and asks nextDeadline() when to call again; tests drive it step by step.

interface HeapEntry {
  at: number;
  seq: number;
  timer: Timer;
  gen: number;
}

export class TimerQueue {
  private heap: HeapEntry[] = [];
  private seq = 0;
  private nowMs: number;

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  get now(): number {
    return this.nowMs;
  }

  /** @internal used by Timer.arm */
  push(timer: Timer, at: number, gen: number): void {
    this.heap.push({ at, seq: this.seq++, timer, gen });
    this.up(this.heap.length - 1);
  }

  /** The earliest pending deadline, or undefined when nothing is armed. */
  nextDeadline(): number | undefined {
    this.dropStale();
    return this.heap.length > 0 ? this.heap[0].at : undefined;
  }

  /** Fire, in deadline order, every timer due at or before nowMs; time never goes backwards. */
  advance(nowMs: number): void {
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (top === undefined || top.at > nowMs) break;
      this.pop();
      if (top.at > this.nowMs) this.nowMs = top.at;
      top.timer.fire(top.gen);
    }
    if (nowMs > this.nowMs) this.nowMs = nowMs;
  }

  private dropStale(): void {
    while (this.heap.length > 0 && !this.heap[0].timer.isCurrent(this.heap[0].gen)) this.pop();
  }

  private less(a: HeapEntry, b: HeapEntry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

/** A re-armable one-shot timer; re-arming or cancelling makes older heap entries stale. */
export class Timer {
  private gen = 0;
  private deadlineMs: number | undefined;

  constructor(
    private readonly queue: TimerQueue,
    private readonly fn: () => void,
  ) {}

  arm(delayMs: number): void {
    this.armAt(this.queue.now + Math.max(0, delayMs));
  }

  armAt(atMs: number): void {
    this.gen++;
    this.deadlineMs = atMs;
    this.queue.push(this, atMs, this.gen);
  }

  cancel(): void {
    this.gen++;
    this.deadlineMs = undefined;
  }

  get armed(): boolean {
    return this.deadlineMs !== undefined;
  }

  get deadline(): number | undefined {
    return this.deadlineMs;
  }

  /** @internal */
  isCurrent(gen: number): boolean {
    return gen === this.gen && this.deadlineMs !== undefined;
  }

  /** @internal */
  fire(gen: number): void {
    if (!this.isCurrent(gen)) return;
    this.deadlineMs = undefined;
    this.fn();
  }
}
