// A queue of parked waiters. A syscall that must wait awaits wait(); whoever changes the
// condition calls notify(); the waiter re-checks its condition (spurious wakeups are fine).

export class Waiters {
  private list: Array<() => void> = [];

  /** Resolves at the next notify(). */
  wait(): Promise<void> {
    return new Promise((resolve) => this.list.push(resolve));
  }

  notify(): void {
    if (this.list.length === 0) return;
    const l = this.list;
    this.list = [];
    for (const f of l) f();
  }

  get size(): number {
    return this.list.length;
  }
}
