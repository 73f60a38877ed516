// recvmsg for sockets that queue whole messages (ICMP, ICMPv6, netlink) and the delivery of
// one datagram into the caller's buffer that every datagram socket shares.

import { err, type MaybePromise, type Result } from '../abi/result.js';
import { E } from '../abi/errno.js';
import type { IoCtx } from '../vfs/file.js';
import { POLL } from '../vfs/constants.js';
import { MSG } from './constants.js';
import { retryUntilReady } from './retry.js';
import type { Received, SocketFile } from './socket_file.js';

/** data as received into dst: cut to dst's size, MSG_TRUNC set and the full length kept when longer. */
export function receivedDatagram(dst: Uint8Array, data: Uint8Array, from: Uint8Array | null): Received {
  const n = Math.min(dst.length, data.length);
  dst.set(data.subarray(0, n));
  return { n, full: data.length, from, control: {}, flags: n < data.length ? MSG.TRUNC : 0 };
}

/**
 * Takes the head of queue (MSG_PEEK leaves it there) and delivers it; an empty queue
 * blocks for POLL.IN unless the socket or flags say not to (EAGAIN).
 */
export function recvQueued<M>(sock: SocketFile, queue: M[], flags: number, ctx: IoCtx,
  deliver: (m: M) => Received): MaybePromise<Result<Received>> {
  return retryUntilReady(sock, POLL.IN, ctx, 'rcv', () => {
    const m = queue[0];
    if (m === undefined) return sock.dontWait(flags) ? err(E.EAGAIN) : null;
    if ((flags & MSG.PEEK) === 0) queue.shift();
    return deliver(m);
  });
}

/** Where a datagram goes: sendmsg's address when given, else the connected peer, else EDESTADDRREQ. */
export function sendDestination<A>(to: Uint8Array | null, parse: (raw: Uint8Array) => Result<A>, remote: A | null): Result<A> {
  if (to !== null && to.length > 0) return parse(to);
  return remote ?? err(E.EDESTADDRREQ);
}
