// A timer that never fires early. Node's timers run on the event loop's cached clock and
// can fire up to a millisecond before the monotonic deadline; Linux timeouts never end
// early, so programs that check the clock after a timeout must not see one.

export interface Deadline {
  cancel(): void;
}

/** Calls fn once the monotonic clock (process.hrtime) reaches endNs. */
export function atDeadline(endNs: bigint, fn: () => void): Deadline {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const left = endNs - process.hrtime.bigint();
    if (left <= 0n) {
      timer = undefined;
      fn();
      return;
    }
    timer = setTimeout(arm, Math.max(1, Math.ceil(Number(left) / 1e6)));
  };
  arm();
  return {
    cancel: () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
