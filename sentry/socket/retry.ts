// The blocking loop every socket call shares: try now, and while the try would block, wait
// on the socket's queue (signals, SO_RCVTIMEO/SO_SNDTIMEO) and try again.

import { err, type MaybePromise, type Result } from '../abi/result.js';
import type { IoCtx } from '../vfs/file.js';
import { waitErrno, type SocketFile } from './socket_file.js';

/**
 * Runs attempt; while it answers null (would block), waits for mask on sock and retries.
 * timeout picks SO_RCVTIMEO or SO_SNDTIMEO (one deadline for the whole call); onWaitError
 * turns EINTR/EAGAIN from the wait into the call's answer (by default that errno).
 */
export function retryUntilReady<T>(
  sock: SocketFile,
  mask: number,
  ctx: IoCtx,
  timeout: 'rcv' | 'snd',
  attempt: () => Result<T> | null,
  onWaitError: (errno: number) => Result<T> = err,
): MaybePromise<Result<T>> {
  const r = attempt();
  if (r !== null) return r;
  return (async (): Promise<Result<T>> => {
    const deadline = { at: 0 };
    for (;;) {
      const timeoutMs = timeout === 'rcv' ? sock.rcvTimeoMs : sock.sndTimeoMs;
      const e = waitErrno(await sock.waitFor(mask, ctx, timeoutMs, deadline));
      if (e !== null) return onWaitError(e);
      const r2 = attempt();
      if (r2 !== null) return r2;
    }
  })();
}
