// tee(2): copies bytes from one pipe to another without consuming them from the first.

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import { POLL } from '../../vfs/constants.js';
import type { Pipe } from './pipe.js';

const READABLE = POLL.IN | POLL.RDNORM;
const WRITABLE = POLL.OUT | POLL.WRNORM;

/**
 * Duplicates up to len buffered bytes of `from` into `to`. Waits (unless nonblock: EAGAIN)
 * while `from` is empty with writers left, or `to` is full; 0 when `from` has no data and
 * no writers; EPIPE when `to` has no readers (the caller raises SIGPIPE).
 */
export async function teePipe(from: Pipe, to: Pipe, len: number, nonblock: boolean, signal?: AbortSignal): Promise<Result<number>> {
  for (;;) {
    if (to.readers === 0) return err(E.EPIPE);
    if (from.size === 0) {
      if (from.writers === 0) return 0;
      if (nonblock) return err(E.EAGAIN);
      if ((await from.queue.wait(READABLE | POLL.HUP, signal)) === 'interrupted') return err(E.EINTR);
      continue;
    }
    if (to.space === 0) {
      if (nonblock) return err(E.EAGAIN);
      if ((await to.queue.wait(WRITABLE | POLL.ERR, signal)) === 'interrupted') return err(E.EINTR);
      continue;
    }
    const buf = new Uint8Array(Math.min(len, from.size, to.space));
    const n = from.peek(buf);
    to.put(buf.subarray(0, n));
    to.queue.notify(READABLE);
    return n;
  }
}
