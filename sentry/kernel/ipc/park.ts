// Parking a task in an IPC wait (semop, msgsnd/msgrcv, mq_timedsend/receive): the Sentry
// goes on serving others; the waker completes the wait with a result, a signal ends it
// with EINTR (IPC waits are never restarted, as on Linux), a deadline with `timeoutErrno`.

import { E } from '../../abi/errno.js';
import { atDeadline, type Deadline } from '../deadline.js';
import { directWait } from '../direct_wait.js';
import { interruptSignal } from '../signal_delivery.js';
import type { Task } from '../task.js';
import { readTimespec } from '../../syscalls/timespec.js';

/**
 * `enlist` puts a waiter somewhere a waker finds it and returns how to take it out again;
 * the waiter calls `complete(ret)` to finish the wait. endNs: monotonic deadline.
 */
export function park(t: Task, enlist: (complete: (ret: number) => void) => () => void, endNs?: bigint, timeoutErrno: number = E.EAGAIN): number | Promise<number> {
  const signal = interruptSignal(t);
  if (signal.aborted) return -E.EINTR;
  return directWait((resolve) => {
    let timer: Deadline | undefined;
    let delist = (): void => {};
    let done = false;
    const finish = (r: number): void => {
      if (done) return;
      done = true;
      timer?.cancel();
      signal.removeEventListener('abort', onAbort);
      delist();
      resolve(r);
    };
    const onAbort = (): void => finish(-E.EINTR);
    delist = enlist(finish);
    if (done) return;
    signal.addEventListener('abort', onAbort, { once: true });
    if (endNs !== undefined) timer = atDeadline(endNs, () => finish(-timeoutErrno));
  });
}

/** A relative struct timespec at addr as a monotonic deadline; undefined for a NULL pointer. */
export function relDeadline(t: Task, addr: number): bigint | undefined | { errno: number } {
  if (addr === 0) return undefined;
  const ns = readTimespec(t, addr);
  if (typeof ns === 'number') return { errno: -ns };
  return process.hrtime.bigint() + ns;
}
