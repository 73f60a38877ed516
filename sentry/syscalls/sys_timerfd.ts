// timerfd_create, timerfd_settime, timerfd_gettime.

import { E } from '../abi/errno.js';
import type { SyscallArgs } from '../abi/regs.js';
import { isErr } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import { CLOCK, TFD, TimerFdFile, type TimerSpec } from '../fs/timerfd/timerfd.js';
import type { Task } from '../kernel/task.js';
import { O } from '../vfs/constants.js';
import type { SyscallTable } from './types.js';

const NS = 1_000_000_000n;

/** timerfd_create(clockid, flags): the *_ALARM clocks need CAP_WAKE_ALARM, which the sandbox never grants. */
function sysCreate(t: Task, a: SyscallArgs): number {
  const clock = a.int(0);
  const flags = a.int(1);
  if ((flags & ~(O.CLOEXEC | O.NONBLOCK)) !== 0) return -E.EINVAL;
  if (clock === CLOCK.REALTIME_ALARM || clock === CLOCK.BOOTTIME_ALARM) return -E.EPERM;
  if (clock !== CLOCK.REALTIME && clock !== CLOCK.MONOTONIC && clock !== CLOCK.BOOTTIME) return -E.EINVAL;
  const f = new TimerFdFile(clock, flags);
  const fd = t.fds.install(f, { cloexec: (flags & O.CLOEXEC) !== 0 });
  f.decRef();
  return isErr(fd) ? -fd.errno : fd;
}

function timerOf(t: Task, fd: number): TimerFdFile | number {
  const f = t.fds.get(fd);
  if (f === undefined) return -E.EBADF;
  return f instanceof TimerFdFile ? f : -E.EINVAL;
}

/** struct itimerspec { timespec it_interval; timespec it_value; } */
function encodeSpec(s: TimerSpec): Uint8Array {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, s.intervalNs / NS, true);
  v.setBigInt64(8, s.intervalNs % NS, true);
  v.setBigInt64(16, s.valueNs / NS, true);
  v.setBigInt64(24, s.valueNs % NS, true);
  return b;
}

/** timerfd_settime(fd, flags, new, old). */
function sysSettime(t: Task, a: SyscallArgs): number {
  const flags = a.int(1);
  if ((flags & ~(TFD.TIMER_ABSTIME | TFD.TIMER_CANCEL_ON_SET)) !== 0) return -E.EINVAL;
  const raw = t.mem.copyIn(a.ptr(2), 32);
  if (isErr(raw)) return -raw.errno;
  const v = new DataView(raw.buffer, raw.byteOffset, 32);
  const f = [v.getBigInt64(0, true), v.getBigInt64(8, true), v.getBigInt64(16, true), v.getBigInt64(24, true)];
  if (f[0] < 0n || f[2] < 0n || f[1] < 0n || f[1] >= NS || f[3] < 0n || f[3] >= NS) return -E.EINVAL;
  const timer = timerOf(t, a.int(0));
  if (typeof timer === 'number') return timer;
  const old = timer.set({ intervalNs: f[0] * NS + f[1], valueNs: f[2] * NS + f[3] }, (flags & TFD.TIMER_ABSTIME) !== 0);
  if (a.ptr(3) !== 0) {
    const r = t.mem.copyOut(a.ptr(3), encodeSpec(old));
    if (isErr(r)) return -r.errno;
  }
  return 0;
}

/** timerfd_gettime(fd, curr). */
function sysGettime(t: Task, a: SyscallArgs): number {
  const timer = timerOf(t, a.int(0));
  if (typeof timer === 'number') return timer;
  const r = t.mem.copyOut(a.ptr(1), encodeSpec(timer.get()));
  return isErr(r) ? -r.errno : 0;
}

export const timerfdSyscalls: SyscallTable = {
  [SYS.timerfd_create]: sysCreate,
  [SYS.timerfd_settime]: sysSettime,
  [SYS.timerfd_gettime]: sysGettime,
};
