// Identity, limits and system information: uname, ids, rlimits, sysinfo, getrandom,
// scheduling queries, prctl, and the clocks.

import { groupByVpid } from '../kernel/pid_namespace.js';
import { CLOCK, clockNow } from '../kernel/vdso_clock.js';
import { randomFillSync } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { E } from '../abi/errno.js';
import { isErr } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import { RLIM_INFINITY } from '../kernel/thread_group.js';
import type { Task } from '../kernel/task.js';
import type { SyscallHandler, SyscallTable } from './types.js';
import { ERESTART_RESTARTBLOCK, interruptSignal } from '../kernel/signal_delivery.js';
import { atDeadline } from '../kernel/deadline.js';
import { cpuClockNs, cpuClockOf, cpuClockResNs } from './cpu_clocks.js';
import { credSyscalls } from './sys_cred.js';
import { CAP_SETPCAP, type Credentials } from '../kernel/credentials.js';
import { readTimespec } from './timespec.js';

function out(t: Task, addr: number, b: Uint8Array): number {
  const r = t.mem.copyOut(addr, b);
  return isErr(r) ? -r.errno : 0;
}

/** uname: the Sentry's own values (the caller's UTS namespace), never the host's. */
const sysUname: SyscallHandler = (t, a) => {
  const b = new Uint8Array(65 * 6);
  const u = t.nsproxy.uts.name;
  [u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname].forEach((s, i) => {
    b.set(Buffer.from(s.slice(0, 64)), i * 65);
  });
  return out(t, a.ptr(0), b);
};

const sysGetuid: SyscallHandler = (t) => t.creds.uid;
const sysGeteuid: SyscallHandler = (t) => t.creds.euid;
const sysGetgid: SyscallHandler = (t) => t.creds.gid;
const sysGetegid: SyscallHandler = (t) => t.creds.egid;

const sysGetresuid: SyscallHandler = (t, a) => {
  for (const [i, v] of [t.creds.uid, t.creds.euid, t.creds.suid].entries()) {
    const r = t.mem.writeU32(a.ptr(i), v);
    if (isErr(r)) return -r.errno;
  }
  return 0;
};
const sysGetresgid: SyscallHandler = (t, a) => {
  for (const [i, v] of [t.creds.gid, t.creds.egid, t.creds.sgid].entries()) {
    const r = t.mem.writeU32(a.ptr(i), v);
    if (isErr(r)) return -r.errno;
  }
  return 0;
};

const sysGetgroups: SyscallHandler = (t, a) => {
  const n = a.int(0);
  const g = t.creds.groups;
  if (n < 0) return -E.EINVAL;
  if (n === 0) return g.length;
  if (n < g.length) return -E.EINVAL;
  const b = new Uint8Array(g.length * 4);
  const dv = new DataView(b.buffer);
  g.forEach((v, i) => dv.setUint32(i * 4, v, true));
  const r = out(t, a.ptr(1), b);
  return r < 0 ? r : g.length;
};

/** prlimit64(pid, resource, new, old): only our own processes. */
const sysPrlimit64: SyscallHandler = (t, a) => {
  const pid = a.int(0);
  const res = a.uint(1);
  if (res >= 16) return -E.EINVAL;
  const tg = pid === 0 ? t.tg : pid > 0 ? groupByVpid(t, pid) : undefined;
  if (tg === undefined) return -E.ESRCH;
  const cur = tg.rlimits[res];
  let next = cur;
  if (a.ptr(2) !== 0) {
    const b = t.mem.copyIn(a.ptr(2), 16);
    if (isErr(b)) return -b.errno;
    const dv = new DataView(b.buffer, b.byteOffset, 16);
    next = { cur: dv.getBigUint64(0, true), max: dv.getBigUint64(8, true) };
    if (next.cur > next.max) return -E.EINVAL;
    // Raising the hard limit needs CAP_SYS_RESOURCE; root in the sandbox holds it, but
    // RLIMIT_NOFILE may not pass the host's own ceiling (fs.nr_open).
    if (res === 7 && next.max !== RLIM_INFINITY && next.max > 1048576n) return -E.EPERM;
    if (res === 7 && next.max === RLIM_INFINITY) return -E.EPERM;
  }
  if (a.ptr(3) !== 0) {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, cur.cur, true);
    dv.setBigUint64(8, cur.max, true);
    const r = out(t, a.ptr(3), b);
    if (r < 0) return r;
  }
  tg.rlimits[res] = next;
  return 0;
};

const sysGetrlimit: SyscallHandler = (t, a) => {
  const res = a.uint(0);
  if (res >= 16) return -E.EINVAL;
  const l = t.tg.rlimits[res];
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, l.cur, true);
  dv.setBigUint64(8, l.max, true);
  return out(t, a.ptr(1), b);
};

const sysSetrlimit: SyscallHandler = (t, a) => {
  const res = a.uint(0);
  if (res >= 16) return -E.EINVAL;
  const b = t.mem.copyIn(a.ptr(1), 16);
  if (isErr(b)) return -b.errno;
  const dv = new DataView(b.buffer, b.byteOffset, 16);
  const next = { cur: dv.getBigUint64(0, true), max: dv.getBigUint64(8, true) };
  if (next.cur > next.max) return -E.EINVAL;
  t.tg.rlimits[res] = next;
  return 0;
};

/** getrandom(buf, len, flags): from the Sentry's CSPRNG. */
const sysGetrandom: SyscallHandler = (t, a) => {
  const flags = a.uint(2);
  if ((flags & ~7) !== 0) return -E.EINVAL;
  const len = Math.min(a.size(1), 33554431);
  const b = new Uint8Array(len);
  randomFillSync(b);
  const r = out(t, a.ptr(0), b);
  return r < 0 ? r : len;
};

/** sysinfo: the sandbox's figures (uptime since boot, our memory file's usage). */
const sysSysinfo: SyscallHandler = (t, a) => {
  const b = new Uint8Array(112);
  const dv = new DataView(b.buffer);
  const up = Number((process.hrtime.bigint() - t.kernel.bootNs) / 1_000_000_000n);
  const total = 2 * 1024 * 1024 * 1024;
  const used = t.kernel.platform.memoryFile.allocated * 4096;
  dv.setBigInt64(0, BigInt(up), true);
  dv.setBigUint64(32, BigInt(total), true);
  dv.setBigUint64(40, BigInt(Math.max(0, total - used)), true);
  dv.setUint16(80, t.kernel.tasks.size, true);
  dv.setUint32(104, 1, true); // mem_unit
  return out(t, a.ptr(0), b);
};

const sysSchedYield: SyscallHandler = () => 0;

/** sched_getaffinity: the CPUs the sandbox may use (the host's count). */
const sysSchedGetaffinity: SyscallHandler = (t, a) => {
  const size = a.size(1);
  if (size < 8 || size % 8 !== 0) return -E.EINVAL;
  const ncpu = Math.max(1, Math.min(64, availableParallelism()));
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, (1n << BigInt(ncpu)) - 1n, true);
  const r = out(t, a.ptr(2), b);
  return r < 0 ? r : 8;
};


const CAP_LAST = 40;

/** PR_CAP_AMBIENT: raising needs the capability in both permitted and inheritable. */
function capAmbient(c: Credentials, op: number, cap: number, unused: number): number {
  const [IS_SET, RAISE, LOWER, CLEAR_ALL] = [1, 2, 3, 4];
  if (op === CLEAR_ALL) {
    if (cap !== 0 || unused !== 0) return -E.EINVAL;
    c.capAmbient = 0n;
    return 0;
  }
  if (unused !== 0 || cap > CAP_LAST) return -E.EINVAL;
  const bit = 1n << BigInt(cap);
  switch (op) {
    case IS_SET:
      return (c.capAmbient & bit) !== 0n ? 1 : 0;
    case RAISE:
      if ((c.capPermitted & bit) === 0n || (c.capInheritable & bit) === 0n) return -E.EPERM;
      c.capAmbient |= bit;
      return 0;
    case LOWER:
      c.capAmbient &= ~bit;
      return 0;
    default:
      return -E.EINVAL;
  }
}

/** prctl: names and the few options programs set at startup. */
const sysPrctl: SyscallHandler = (t, a) => {
  const PR_SET_PDEATHSIG = 1;
  const PR_GET_PDEATHSIG = 2;
  const PR_GET_DUMPABLE = 3;
  const PR_SET_DUMPABLE = 4;
  const PR_SET_NAME = 15;
  const PR_GET_NAME = 16;
  const PR_SET_NO_NEW_PRIVS = 38;
  const PR_GET_NO_NEW_PRIVS = 39;
  const PR_SET_CHILD_SUBREAPER = 36;
  const PR_GET_KEEPCAPS = 7;
  const PR_SET_KEEPCAPS = 8;
  const PR_CAPBSET_READ = 23;
  const PR_GET_CHILD_SUBREAPER = 37;
  const PR_CAPBSET_DROP = 24;
  const PR_CAP_AMBIENT = 47;
  const option = a.int(0);
  switch (option) {
    case PR_SET_NAME: {
      const b = t.mem.copyIn(a.ptr(1), 16);
      if (isErr(b)) return -b.errno;
      const nul = b.indexOf(0);
      t.comm = Buffer.from(b.subarray(0, nul < 0 ? 15 : Math.min(nul, 15))).toString('latin1');
      return 0;
    }
    case PR_GET_NAME: {
      const b = new Uint8Array(16);
      b.set(Buffer.from(t.comm.slice(0, 15), 'latin1'));
      return out(t, a.ptr(1), b);
    }
    case PR_GET_DUMPABLE:
      return 1;
    case PR_SET_DUMPABLE:
      return a.u64(1) <= 1 ? 0 : -E.EINVAL;
    case PR_SET_NO_NEW_PRIVS:
      return a.u64(1) === 1 ? 0 : -E.EINVAL;
    case PR_GET_NO_NEW_PRIVS:
      return 1; // the sandbox always runs with no_new_privs
    case PR_SET_PDEATHSIG: {
      const sig = a.u64(1);
      if (sig > 64) return -E.EINVAL;
      t.pdeathSig = sig;
      return 0;
    }
    case PR_GET_PDEATHSIG: {
      const r = t.mem.writeU32(a.ptr(1), t.pdeathSig);
      return isErr(r) ? -r.errno : 0;
    }
    case PR_GET_KEEPCAPS:
      return t.creds.keepCaps ? 1 : 0;
    case PR_SET_KEEPCAPS:
      if (a.u64(1) > 1) return -E.EINVAL;
      t.creds.keepCaps = a.u64(1) === 1;
      return 0;
    case PR_CAPBSET_READ:
      return a.u64(1) <= CAP_LAST ? Number((t.creds.capBounding >> BigInt(a.u64(1))) & 1n) : -E.EINVAL;
    case PR_CAPBSET_DROP:
      if (a.u64(1) > CAP_LAST) return -E.EINVAL;
      if (!t.creds.hasCap(CAP_SETPCAP)) return -E.EPERM;
      t.creds.capBounding &= ~(1n << BigInt(a.u64(1)));
      return 0;
    case PR_CAP_AMBIENT:
      return capAmbient(t.creds, a.u64(1), a.u64(2), a.u64(3) | a.u64(4));
    case PR_SET_CHILD_SUBREAPER:
      t.tg.childSubreaper = a.u64(1) !== 0;
      return 0;
    case PR_GET_CHILD_SUBREAPER: {
      const r = t.mem.writeU32(a.ptr(1), t.tg.childSubreaper ? 1 : 0);
      return isErr(r) ? -r.errno : 0;
    }
    default:
      t.kernel.log(`prctl option ${option} is not supported yet`);
      return -E.EINVAL;
  }
};

// ---- clocks ----

const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const CLOCK_PROCESS_CPUTIME_ID = 2;
const CLOCK_THREAD_CPUTIME_ID = 3;
const CLOCK_MONOTONIC_RAW = 4;
const CLOCK_REALTIME_COARSE = 5;
const CLOCK_MONOTONIC_COARSE = 6;
const CLOCK_BOOTTIME = 7;

function clockNs(t: Task, id: number): bigint | undefined {
  switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
      return clockNow(t.kernel.clock, CLOCK.REALTIME);
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
      return clockNow(t.kernel.clock, CLOCK.MONOTONIC);
    case CLOCK_BOOTTIME:
      return clockNow(t.kernel.clock, CLOCK.BOOTTIME);
    default: {
      // CPU clocks: the process's, the calling thread's, or one clock_getcpuclockid names.
      const c = cpuClockOf(t, id, true);
      return c ? cpuClockNs(c) : undefined;
    }
  }
}

function timespec(ns: bigint): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigInt64(0, ns / 1_000_000_000n, true);
  dv.setBigInt64(8, ns % 1_000_000_000n, true);
  return b;
}

const sysClockGettime: SyscallHandler = (t, a) => {
  const ns = clockNs(t, a.int(0));
  if (ns === undefined) return -E.EINVAL;
  return out(t, a.ptr(1), timespec(ns));
};

const sysClockGetres: SyscallHandler = (t, a) => {
  const cpu = cpuClockOf(t, a.int(0), false);
  if (cpu === null || (cpu === undefined && clockNs(t, a.int(0)) === undefined)) return -E.EINVAL;
  if (a.ptr(1) === 0) return 0;
  const coarse = a.int(0) === CLOCK_REALTIME_COARSE || a.int(0) === CLOCK_MONOTONIC_COARSE;
  return out(t, a.ptr(1), timespec(cpu !== undefined ? cpuClockResNs(cpu) : coarse ? 4_000_000n : 1n));
};

const sysGettimeofday: SyscallHandler = (t, a) => {
  if (a.ptr(0) !== 0) {
    const us = clockNow(t.kernel.clock, CLOCK.REALTIME) / 1000n;
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    dv.setBigInt64(0, us / 1_000_000n, true);
    dv.setBigInt64(8, us % 1_000_000n, true);
    const r = out(t, a.ptr(0), b);
    if (r < 0) return r;
  }
  if (a.ptr(1) !== 0) return out(t, a.ptr(1), new Uint8Array(8));
  return 0;
};

const sysTime: SyscallHandler = (t, a) => {
  const s = Number(clockNow(t.kernel.clock, CLOCK.REALTIME) / 1_000_000_000n);
  if (a.ptr(0) !== 0) {
    const r = t.mem.writeU64(a.ptr(0), s);
    if (isErr(r)) return -r.errno;
  }
  return s;
};

/**
 * Parks the task on a timer (the Sentry serves everyone else meanwhile). A signal ends
 * the sleep early with EINTR, and the time left goes to `rem` when given.
 */
function sleepNs(t: Task, ns: bigint, rem = 0): number | Promise<number> {
  const end = process.hrtime.bigint() + ns;
  const signal = interruptSignal(t);
  if (signal.aborted) return interrupted(t, end, rem);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timer.cancel();
      resolve(interrupted(t, end, rem));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = atDeadline(end, () => {
      signal.removeEventListener('abort', onAbort);
      resolve(0);
    });
  });
}

/**
 * A sleep cut short: the time left goes to rem; with a handler the app sees EINTR,
 * otherwise (a stop and continue) restart_syscall sleeps the rest.
 */
function interrupted(t: Task, end: bigint, rem: number): number {
  const left = end - process.hrtime.bigint();
  const leftNs = left > 0n ? left : 0n;
  if (rem !== 0) {
    const r = out(t, rem, timespec(leftNs));
    if (r < 0) return r;
  }
  t.restartFn = () => sleepNs(t, end - process.hrtime.bigint() > 0n ? end - process.hrtime.bigint() : 0n, rem);
  return -ERESTART_RESTARTBLOCK;
}

/** restart_syscall(): continues what a stopped sleep left (EINTR when there is nothing). */
const sysRestartSyscall: SyscallHandler = (t) => {
  const f = t.restartFn;
  t.restartFn = undefined;
  return f !== undefined ? f() : -E.EINTR;
};

const sysNanosleep: SyscallHandler = (t, a) => {
  const ns = readTimespec(t, a.ptr(0));
  if (typeof ns === 'number') return ns;
  return sleepNs(t, ns, a.ptr(1));
};

/** clock_nanosleep(clock, flags, req, rem): relative or TIMER_ABSTIME. */
const sysClockNanosleep: SyscallHandler = (t, a) => {
  const id = a.int(0);
  const flags = a.int(1);
  // A thread cannot sleep on its own CPU clock (a sibling's is fine); Linux's
  // CLOCK_THREAD_CPUTIME_ID has no sleep at all.
  if (id === CLOCK_THREAD_CPUTIME_ID) return -E.EOPNOTSUPP;
  const cpu = cpuClockOf(t, id, false);
  if (cpu === null || (cpu?.kind === 'thread' && cpu.task === t)) return -E.EINVAL;
  const now = clockNs(t, id);
  if (now === undefined) return -E.EINVAL;
  const ns = readTimespec(t, a.ptr(2));
  if (typeof ns === 'number') return ns;
  const TIMER_ABSTIME = 1;
  const abs = (flags & TIMER_ABSTIME) !== 0;
  const rel = abs ? ns - now : ns;
  if ((id === CLOCK_PROCESS_CPUTIME_ID || id < 0) && rel > 0n) return cpuSleep(t, id, now + rel);
  // An absolute sleep reports no remaining time (it simply restarts).
  return sleepNs(t, rel > 0n ? rel : 0n, abs ? 0 : a.ptr(3));
};

/** Sleeping on a CPU clock: polls it, since it advances only while the process runs. */
async function cpuSleep(t: Task, id: number, until: bigint): Promise<number> {
  const signal = interruptSignal(t);
  for (;;) {
    const now = clockNs(t, id);
    if (now === undefined || now >= until) return 0;
    if (signal.aborted) return -E.EINTR;
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const infoSyscalls: SyscallTable = {
  ...credSyscalls,
  [SYS.restart_syscall]: sysRestartSyscall,
  [SYS.uname]: sysUname,
  [SYS.getuid]: sysGetuid,
  [SYS.geteuid]: sysGeteuid,
  [SYS.getgid]: sysGetgid,
  [SYS.getegid]: sysGetegid,
  [SYS.getresuid]: sysGetresuid,
  [SYS.getresgid]: sysGetresgid,
  [SYS.getgroups]: sysGetgroups,
  [SYS.prlimit64]: sysPrlimit64,
  [SYS.getrlimit]: sysGetrlimit,
  [SYS.setrlimit]: sysSetrlimit,
  [SYS.getrandom]: sysGetrandom,
  [SYS.sysinfo]: sysSysinfo,
  [SYS.sched_yield]: sysSchedYield,
  [SYS.sched_getaffinity]: sysSchedGetaffinity,
  [SYS.prctl]: sysPrctl,
  [SYS.clock_gettime]: sysClockGettime,
  [SYS.clock_getres]: sysClockGetres,
  [SYS.gettimeofday]: sysGettimeofday,
  [SYS.time]: sysTime,
  [SYS.nanosleep]: sysNanosleep,
  [SYS.clock_nanosleep]: sysClockNanosleep,
};
