// poll, ppoll, select, pselect6 over files' readiness. A call that must wait subscribes to
// the files' wait queues and awaits the first change, the timeout or an interrupting signal
// (EINTR); Node's event loop is never blocked.

import { E } from '../abi/errno.js';
import type { SyscallArgs } from '../abi/regs.js';
import { err, isErr, type MaybePromise, type Result } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import type { Task } from '../kernel/task.js';
import { POLL, POLL_ALWAYS } from '../vfs/constants.js';
import type { FileDescription } from '../vfs/file.js';
import { vfsHooks } from '../vfs/hooks.js';
import { waitAny, type WaitOutcome, type WaitQueue } from '../vfs/wait_queue.js';
import type { SyscallTable } from './types.js';

interface Watched {
  file: FileDescription;
  mask: number;
}

/**
 * Re-evaluates check() until it reports readiness, the deadline (performance.now() ms;
 * undefined = never) passes, or the task is interrupted.
 */
async function waitUntil(t: Task, watched: Watched[], deadline: number | undefined, check: () => boolean): Promise<WaitOutcome> {
  const signal = vfsHooks.interruptSignal(t);
  for (;;) {
    let remaining: number | undefined;
    if (deadline !== undefined) {
      remaining = deadline - performance.now();
      if (remaining <= 0) return 'timeout';
    }
    const queues: { queue: WaitQueue; mask: number }[] = [];
    for (const w of watched) {
      const q = w.file.waitQueue();
      if (q === null) continue;
      w.file.prepareWait(w.mask);
      queues.push({ queue: q, mask: w.mask | POLL_ALWAYS });
    }
    const o = await waitAny(queues, remaining, signal);
    if (o === 'interrupted') return o;
    if (check()) return 'ready';
  }
}

/**
 * A struct timespec (or timeval) as milliseconds; EINVAL for negative or out-of-range
 * fields. With carry, whole seconds in the sub-second field move into tv_sec first, as
 * Linux's select(2) does with tv_usec >= 1000000.
 */
export function readTimespecMs(t: Task, addr: number, nsecScale: bigint, nsecLimit: bigint, carry = false): Result<number> {
  const raw = t.mem.copyIn(addr, 16);
  if (isErr(raw)) return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, 16);
  let sec = v.getBigInt64(0, true);
  let sub = v.getBigInt64(8, true);
  if (carry && sub >= nsecLimit) {
    sec += sub / nsecLimit;
    sub %= nsecLimit;
  }
  if (sec < 0n || sub < 0n || sub >= nsecLimit) return err(E.EINVAL);
  return Number(sec) * 1000 + Number(sub * nsecScale) / 1e6;
}

/** Writes the time left back (Linux updates select's and ppoll's timeout). */
function writeRemaining(t: Task, addr: number, deadline: number, usec: boolean): void {
  const left = Math.max(0, deadline - performance.now());
  const sec = Math.floor(left / 1000);
  const frac = (left - sec * 1000) * (usec ? 1e3 : 1e6);
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, BigInt(sec), true);
  v.setBigInt64(8, BigInt(Math.floor(frac)), true);
  // Linux ignores a fault here: the result stands.
  t.mem.copyOut(addr, b);
}

// ---- temporary signal masks (ppoll, pselect6, epoll_pwait) ----

const UNBLOCKABLE = (1n << 8n) | (1n << 18n); // SIGKILL, SIGSTOP (bit signo-1)

/**
 * Reads a sigset_t argument: undefined when addr is NULL, -errno when the size is not 8
 * or the read faults.
 */
export function readSigmaskArg(t: Task, addr: number, size: number): bigint | undefined | number {
  if (addr === 0) return undefined;
  if (size !== 8) return -E.EINVAL;
  const raw = t.mem.copyIn(addr, 8);
  if (isErr(raw)) return -raw.errno;
  return new DataView(raw.buffer, raw.byteOffset, 8).getBigUint64(0, true);
}

/**
 * Runs a waiting syscall with t's signal mask replaced by mask. The kernel puts the old
 * mask back when the syscall returns, after delivering any signal that interrupted the
 * wait (so a handler unblocked only by the temporary mask still runs, as on Linux).
 */
export function withSigmask(t: Task, mask: bigint, run: () => MaybePromise<number>): MaybePromise<number> {
  if (t.savedMask === undefined) t.savedMask = t.sigmask;
  t.sigmask = mask & ~UNBLOCKABLE;
  return run();
}

// ---- poll / ppoll ----

/** poll over nfds struct pollfd at addr; timeoutMs undefined waits forever. */
function doPoll(t: Task, addr: number, nfds: number, timeoutMs: number | undefined, tsAddr: number): MaybePromise<number> {
  if (nfds < 0 || nfds > t.fds.limit) return -E.EINVAL;
  const raw = t.mem.copyIn(addr, nfds * 8);
  if (isErr(raw)) return -raw.errno;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const fds: number[] = [];
  const events: number[] = [];
  const files: (FileDescription | undefined)[] = [];
  const watched: Watched[] = [];
  for (let i = 0; i < nfds; i++) {
    const fd = v.getInt32(i * 8, true);
    const ev = v.getUint16(i * 8 + 4, true);
    const f = fd >= 0 ? t.fds.get(fd) : undefined;
    fds.push(fd);
    events.push(ev);
    files.push(f);
    if (f !== undefined) watched.push({ file: f, mask: ev });
  }
  const revents = new Array<number>(nfds).fill(0);
  const check = (): boolean => {
    let n = 0;
    for (let i = 0; i < nfds; i++) {
      const f = files[i];
      let r = 0;
      if (fds[i] >= 0) r = f === undefined ? POLL.NVAL : f.readiness() & (events[i] | POLL_ALWAYS);
      revents[i] = r;
      if (r !== 0) n++;
    }
    return n > 0;
  };
  const finish = (): number => {
    let n = 0;
    for (let i = 0; i < nfds; i++) {
      v.setInt16(i * 8 + 6, revents[i], true);
      if (revents[i] !== 0) n++;
    }
    const r = t.mem.copyOut(addr, raw);
    return isErr(r) ? -r.errno : n;
  };
  if (check() || timeoutMs === 0) return finish();
  const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  return waitUntil(t, watched, deadline, check).then((o) => {
    if (tsAddr !== 0 && deadline !== undefined) writeRemaining(t, tsAddr, deadline, false);
    if (o === 'interrupted') return -E.EINTR;
    if (o === 'timeout') revents.fill(0);
    return finish();
  });
}

/** poll(fds, nfds, timeout): a negative timeout waits forever. */
function sysPoll(t: Task, a: SyscallArgs): MaybePromise<number> {
  const timeout = a.int(2);
  return doPoll(t, a.ptr(0), a.int(1), timeout < 0 ? undefined : timeout, 0);
}

/** ppoll(fds, nfds, tsp, sigmask, sigsetsize): the wait runs with sigmask (when given). */
function sysPpoll(t: Task, a: SyscallArgs): MaybePromise<number> {
  const tsp = a.ptr(2);
  const mask = readSigmaskArg(t, a.ptr(3), a.size(4));
  if (typeof mask === 'number') return mask;
  let timeout: number | undefined;
  if (tsp !== 0) {
    const ms = readTimespecMs(t, tsp, 1n, 1_000_000_000n);
    if (isErr(ms)) return -ms.errno;
    timeout = ms;
  }
  const run = (): MaybePromise<number> => doPoll(t, a.ptr(0), a.int(1), timeout, tsp);
  return mask === undefined ? run() : withSigmask(t, mask, run);
}

// ---- select / pselect6 ----

const POLLIN_SET = POLL.RDNORM | POLL.RDBAND | POLL.IN | POLL.HUP | POLL.ERR;
const POLLOUT_SET = POLL.WRBAND | POLL.WRNORM | POLL.OUT | POLL.ERR;
const POLLEX_SET = POLL.PRI;

function doSelect(
  t: Task, nfdsArg: number, inAddr: number, outAddr: number, exAddr: number,
  timeoutMs: number | undefined, tAddr: number, usec: boolean,
): MaybePromise<number> {
  if (nfdsArg < 0) return -E.EINVAL;
  const nfds = Math.min(nfdsArg, t.fds.limit);
  const bytes = Math.ceil(nfds / 64) * 8;
  const addrs = [inAddr, outAddr, exAddr];
  const sets: (Uint8Array | null)[] = [];
  for (const addr of addrs) {
    if (addr === 0) {
      sets.push(null);
      continue;
    }
    const s = t.mem.copyIn(addr, bytes);
    if (isErr(s)) return -s.errno;
    sets.push(s);
  }
  const bit = (s: Uint8Array | null, fd: number): boolean => s !== null && (s[fd >> 3] & (1 << (fd & 7))) !== 0;
  const masks = [POLLIN_SET, POLLOUT_SET, POLLEX_SET];
  const watched: Watched[] = [];
  const wanted: { fd: number; file: FileDescription; which: boolean[] }[] = [];
  for (let fd = 0; fd < nfds; fd++) {
    const which = [bit(sets[0], fd), bit(sets[1], fd), bit(sets[2], fd)];
    if (!which[0] && !which[1] && !which[2]) continue;
    const f = t.fds.get(fd);
    if (f === undefined) return -E.EBADF;
    let mask = 0;
    for (let k = 0; k < 3; k++) if (which[k]) mask |= masks[k];
    wanted.push({ fd, file: f, which });
    watched.push({ file: f, mask });
  }
  const results = sets.map((s) => (s === null ? null : new Uint8Array(s.length)));
  let count = 0;
  const check = (): boolean => {
    count = 0;
    for (const r of results) r?.fill(0);
    for (const w of wanted) {
      const ready = w.file.readiness();
      for (let k = 0; k < 3; k++) {
        if (w.which[k] && (ready & masks[k]) !== 0) {
          const r = results[k] as Uint8Array;
          r[w.fd >> 3] |= 1 << (w.fd & 7);
          count++;
        }
      }
    }
    return count > 0;
  };
  const finish = (): number => {
    for (let k = 0; k < 3; k++) {
      const r = results[k];
      if (r === null) continue;
      const c = t.mem.copyOut(addrs[k], r);
      if (isErr(c)) return -c.errno;
    }
    return count;
  };
  if (check() || timeoutMs === 0) return finish();
  const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  return waitUntil(t, watched, deadline, check).then((o) => {
    if (tAddr !== 0 && deadline !== undefined) writeRemaining(t, tAddr, deadline, usec);
    if (o === 'interrupted') return -E.EINTR;
    if (o === 'timeout') {
      count = 0;
      for (const r of results) r?.fill(0);
    }
    return finish();
  });
}

/** select(nfds, readfds, writefds, exceptfds, struct timeval *timeout). */
function sysSelect(t: Task, a: SyscallArgs): MaybePromise<number> {
  const tv = a.ptr(4);
  let timeout: number | undefined;
  if (tv !== 0) {
    const ms = readTimespecMs(t, tv, 1000n, 1_000_000n, true);
    if (isErr(ms)) return -ms.errno;
    timeout = ms;
  }
  return doSelect(t, a.int(0), a.ptr(1), a.ptr(2), a.ptr(3), timeout, tv, true);
}

/** pselect6(nfds, r, w, e, struct timespec *, {sigset *, size} *): the wait runs with the sigset (when given). */
function sysPselect6(t: Task, a: SyscallArgs): MaybePromise<number> {
  const ts = a.ptr(4);
  let timeout: number | undefined;
  if (ts !== 0) {
    const ms = readTimespecMs(t, ts, 1n, 1_000_000_000n);
    if (isErr(ms)) return -ms.errno;
    timeout = ms;
  }
  let mask: bigint | undefined;
  if (a.ptr(5) !== 0) {
    const pair = t.mem.copyIn(a.ptr(5), 16);
    if (isErr(pair)) return -pair.errno;
    const v = new DataView(pair.buffer, pair.byteOffset, 16);
    const m = readSigmaskArg(t, Number(v.getBigUint64(0, true)), Number(v.getBigUint64(8, true)));
    if (typeof m === 'number') return m;
    mask = m;
  }
  const run = (): MaybePromise<number> => doSelect(t, a.int(0), a.ptr(1), a.ptr(2), a.ptr(3), timeout, ts, false);
  return mask === undefined ? run() : withSigmask(t, mask, run);
}

export const pollSyscalls: SyscallTable = {
  [SYS.poll]: sysPoll,
  [SYS.ppoll]: sysPpoll,
  [SYS.select]: sysSelect,
  [SYS.pselect6]: sysPselect6,
};
