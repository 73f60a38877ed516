// A queue of parked waiters. A syscall that must wait awaits wait(); whoever changes the
// condition calls notify(); the waiter re-checks its condition (spurious wakeups are fine).

export class Waiters {
  private list = new Set<() => void>();

  /**
   * Resolves true at the next notify(), or false when `signal` aborts first (the waiter
   * then leaves the queue, so interrupted waits leave nothing behind).
   */
  wait(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.list.delete(wake);
        resolve(false);
      };
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      };
      this.list.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  notify(): void {
    if (this.list.size === 0) return;
    const l = this.list;
    this.list = new Set();
    for (const f of l) f();
  }

  get size(): number {
    return this.list.size;
  }
}
