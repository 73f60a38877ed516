// epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2.

import { E } from '../abi/errno.js';
import type { SyscallArgs } from '../abi/regs.js';
import { isErr } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import { EPOLL, EpollFile } from '../fs/epoll/epoll.js';
import type { Task } from '../kernel/task.js';
import { O, POLL } from '../vfs/constants.js';
import { vfsHooks } from '../vfs/hooks.js';
import { waitAny } from '../vfs/wait_queue.js';
import { readSigmaskArg, readTimespecMs, withSigmask } from './sys_poll.js';
import type { SyscallTable } from './types.js';

/** struct epoll_event is packed on x86-64: u32 events, u64 data. */
const EVENT_SIZE = 12;
/** Linux's EP_MAX_EVENTS: maxevents beyond INT_MAX / sizeof(struct epoll_event) is EINVAL. */
const MAX_EVENTS = Math.floor(0x7fffffff / EVENT_SIZE);

function doCreate(t: Task, flags: number): number {
  if ((flags & ~O.CLOEXEC) !== 0) return -E.EINVAL;
  const f = new EpollFile(0);
  const fd = t.fds.install(f, { cloexec: (flags & O.CLOEXEC) !== 0 });
  f.decRef();
  return isErr(fd) ? -fd.errno : fd;
}

function epollOf(t: Task, epfd: number): EpollFile | number {
  const f = t.fds.get(epfd);
  if (f === undefined) return -E.EBADF;
  return f instanceof EpollFile ? f : -E.EINVAL;
}

/** epoll_ctl(epfd, op, fd, event): event is ignored (and may be NULL) for EPOLL_CTL_DEL. */
function sysEpollCtl(t: Task, a: SyscallArgs): number {
  const op = a.int(1);
  const fd = a.int(2);
  let events = 0;
  let data = 0n;
  if (op !== EPOLL.CTL_DEL) {
    const raw = t.mem.copyIn(a.ptr(3), EVENT_SIZE);
    if (isErr(raw)) return -raw.errno;
    const v = new DataView(raw.buffer, raw.byteOffset, EVENT_SIZE);
    events = v.getUint32(0, true) | 0;
    data = v.getBigUint64(4, true);
  }
  const ep = t.fds.get(a.int(0));
  const target = t.fds.get(fd);
  if (ep === undefined || target === undefined) return -E.EBADF;
  if (!(ep instanceof EpollFile)) return -E.EINVAL;
  const r = ep.ctl(op, fd, target, { events, data });
  return isErr(r) ? -r.errno : 0;
}

/**
 * Waits until events are ready (timeoutMs undefined: forever), writes them at evAddr and
 * returns their count; EINTR when a signal interrupts the wait.
 */
async function waitEvents(t: Task, ep: EpollFile, evAddr: number, max: number, timeoutMs: number | undefined): Promise<number> {
  const signal = vfsHooks.interruptSignal(t);
  const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  for (;;) {
    const evs = ep.collect(max);
    if (evs.length > 0) {
      const out = new Uint8Array(evs.length * EVENT_SIZE);
      const v = new DataView(out.buffer);
      evs.forEach((e, i) => {
        v.setUint32(i * EVENT_SIZE, e.events >>> 0, true);
        v.setBigUint64(i * EVENT_SIZE + 4, e.data, true);
      });
      const r = t.mem.copyOut(evAddr, out);
      return isErr(r) ? -r.errno : evs.length;
    }
    const remaining = deadline === undefined ? undefined : deadline - performance.now();
    if (remaining !== undefined && remaining <= 0) return 0;
    ep.prepareWait();
    const o = await waitAny([{ queue: ep.waitQueue(), mask: POLL.IN }], remaining, signal);
    if (o === 'interrupted') return -E.EINTR;
  }
}

function doWait(t: Task, a: SyscallArgs, timeoutMs: number | undefined): number | Promise<number> {
  const max = a.int(2);
  if (max <= 0 || max > MAX_EVENTS) return -E.EINVAL;
  const ep = epollOf(t, a.int(0));
  if (typeof ep === 'number') return ep;
  return waitEvents(t, ep, a.ptr(1), max, timeoutMs);
}

const msOf = (timeout: number): number | undefined => (timeout < 0 ? undefined : timeout);

/** epoll_pwait / epoll_pwait2: the wait runs with the given signal mask. */
function doPwait(t: Task, a: SyscallArgs, timeoutMs: number | undefined): number | Promise<number> {
  const mask = readSigmaskArg(t, a.ptr(4), a.size(5));
  if (typeof mask === 'number') return mask;
  if (mask === undefined) return doWait(t, a, timeoutMs);
  return withSigmask(t, mask, () => doWait(t, a, timeoutMs));
}

export const epollSyscalls: SyscallTable = {
  [SYS.epoll_create]: (t: Task, a: SyscallArgs) => (a.int(0) <= 0 ? -E.EINVAL : doCreate(t, 0)),
  [SYS.epoll_create1]: (t: Task, a: SyscallArgs) => doCreate(t, a.int(0)),
  [SYS.epoll_ctl]: sysEpollCtl,
  [SYS.epoll_wait]: (t: Task, a: SyscallArgs) => doWait(t, a, msOf(a.int(3))),
  [SYS.epoll_pwait]: (t: Task, a: SyscallArgs) => doPwait(t, a, msOf(a.int(3))),
  [SYS.epoll_pwait2]: (t: Task, a: SyscallArgs) => {
    const tsp = a.ptr(3);
    if (tsp === 0) return doPwait(t, a, undefined);
    const ms = readTimespecMs(t, tsp, 1n, 1_000_000_000n);
    return isErr(ms) ? -ms.errno : doPwait(t, a, ms);
  },
};
