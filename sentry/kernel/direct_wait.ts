// Waits the kernel can end without a trip through the event loop. A parked syscall's
// Promise settles only when the loop drains microtasks, i.e. after the ptrace pump returns
// and the next stop arrives through the waiter thread: a futex ping-pong pays that on every
// hop. A direct wait lets the waker hand the result to the kernel, which finishes the
// parked syscall (and resumes its thread) as soon as the current trap is handled.

type Finish = (ret: number) => void;

interface WaitState {
  done: boolean;
  finish?: Finish;
}

const states = new WeakMap<Promise<number>, WaitState>();
/** Finishes queued while a trap is being handled; run when it is done. */
const ready: (() => void)[] = [];
let trapDepth = 0;

/**
 * A Promise for a parked syscall's result; `setup` receives `complete`, which may be called
 * any number of times (the first wins) from any context.
 */
export function directWait(setup: (complete: (ret: number) => void) => void): Promise<number> {
  let resolve!: (ret: number) => void;
  const p = new Promise<number>((res) => (resolve = res));
  const st: WaitState = { done: false };
  states.set(p, st);
  setup((ret) => {
    if (st.done) return;
    st.done = true;
    const finish = st.finish;
    if (finish === undefined) resolve(ret);
    // Inside a trap: finish when it has been handled (no re-entry into the waker's handler).
    else if (trapDepth > 0) ready.push(() => finish(ret));
    // Elsewhere (a timer, I/O): the same turn a Promise continuation would take.
    else queueMicrotask(() => finish(ret));
  });
  return p;
}

/**
 * Called by the kernel with a handler's pending result: true when it is a direct wait still
 * pending, whose result will now go to `finish` instead of the Promise.
 */
export function attachDirect(p: Promise<number>, finish: Finish): boolean {
  const st = states.get(p);
  if (st === undefined || st.done || st.finish !== undefined) return false;
  st.finish = finish;
  return true;
}

/** Brackets the handling of one trap; leaving the outermost runs the finishes it queued. */
export function enterTrap(): void {
  trapDepth++;
}

export function leaveTrap(): void {
  if (trapDepth > 1) {
    trapDepth--;
    return;
  }
  // Still "inside" while draining: a finish that wakes another waiter queues it here too.
  for (let i = 0; i < ready.length; i++) {
    try {
      ready[i]();
    } catch (e) {
      // A kernel bug: surface it as the Promise path would, without dropping the others.
      queueMicrotask(() => {
        throw e;
      });
    }
  }
  ready.length = 0;
  trapDepth = 0;
}
