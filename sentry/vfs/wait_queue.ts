// Wait queues: how a file tells waiting tasks (blocked reads, poll/select) that its
// readiness changed. Waiting never blocks Node's event loop: a waiter is a callback or a
// Promise that notify() settles.

/** A registered interest; cancel() is idempotent. */
export interface Waiter {
  cancel(): void;
}

interface Entry {
  mask: number;
  cb: (events: number) => void;
}

export class WaitQueue {
  private readonly entries = new Set<Entry>();

  /** Calls cb (synchronously, from notify) each time events intersecting mask are notified. */
  subscribe(mask: number, cb: (events: number) => void): Waiter {
    const e: Entry = { mask, cb };
    this.entries.add(e);
    return { cancel: () => void this.entries.delete(e) };
  }

  /** Wakes every waiter whose mask intersects events. */
  notify(events: number): void {
    if (this.entries.size === 0) return;
    for (const e of [...this.entries]) {
      if ((e.mask & events) !== 0 && this.entries.has(e)) e.cb(events);
    }
  }

  get waiterCount(): number {
    return this.entries.size;
  }

  /**
   * Resolves 'ready' at the next matching notify, or 'interrupted' when signal aborts
   * (a signal for the task: the caller returns EINTR without consuming anything).
   */
  wait(mask: number, signal?: AbortSignal): Promise<WaitOutcome> {
    return waitAny([{ queue: this, mask }], undefined, signal);
  }
}

export type WaitOutcome = 'ready' | 'timeout' | 'interrupted';

/**
 * Waits for the first of: a notify on any of the queues, timeoutMs elapsing (undefined
 * waits forever), or signal aborting.
 */
export function waitAny(
  queues: readonly { queue: WaitQueue; mask: number }[],
  timeoutMs: number | undefined,
  signal?: AbortSignal,
): Promise<WaitOutcome> {
  if (signal?.aborted) return Promise.resolve('interrupted');
  return new Promise<WaitOutcome>((resolve) => {
    const waiters: Waiter[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const finish = (o: WaitOutcome): void => {
      if (done) return;
      done = true;
      for (const w of waiters) w.cancel();
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const onAbort = (): void => finish('interrupted');
    for (const { queue, mask } of queues) waiters.push(queue.subscribe(mask, () => finish('ready')));
    if (timeoutMs !== undefined) timer = setTimeout(() => finish('timeout'), Math.max(0, timeoutMs));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
