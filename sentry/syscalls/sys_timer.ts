// Timers that signal: setitimer/getitimer (ITIMER_REAL on the wall clock, ITIMER_VIRTUAL
// and ITIMER_PROF on the process's CPU clock), alarm, and POSIX timers (timer_create...).
// CPU time, times(2) and getrusage come from the stub's host CPU clock; POSIX timers also
// run on a thread's own CPU clock (CLOCK_THREAD_CPUTIME_ID, pthread_getcpuclockid).

import { E } from '../abi/errno.js';
import { isErr } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import { SIG } from '../kernel/signals.js';
import { makeSiginfo, SI_KERNEL, SI_TIMER } from '../kernel/sigqueue.js';
import type { Task } from '../kernel/task.js';
import type { ThreadGroup } from '../kernel/thread_group.js';
import type { SyscallHandler, SyscallTable } from './types.js';
import { cpuClockNs, cpuClockOf, groupCpuNs } from './cpu_clocks.js';

export { groupCpuNs } from './cpu_clocks.js';

const NS = 1_000_000_000n;

/** A periodic or one-shot deadline on the wall clock or a CPU clock (the group's or a thread's). */
class Countdown {
  private timer?: NodeJS.Timeout;
  /** Absolute expiry on the chosen clock (ns), 0n when disarmed. */
  expiry = 0n;
  interval = 0n;

  constructor(private readonly now: () => bigint, private readonly cpu: boolean, private readonly fire: (overruns: number) => void) {}

  arm(value: bigint, interval: bigint): void {
    this.disarm();
    this.interval = interval;
    if (value === 0n) return;
    this.expiry = this.now() + value;
    this.schedule();
  }

  disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.expiry = 0n;
    this.interval = 0n;
  }

  remaining(): bigint {
    if (this.expiry === 0n) return 0n;
    const r = this.expiry - this.now();
    return r > 0n ? r : 1n;
  }

  private schedule(): void {
    // CPU clocks advance only while the app runs: poll them; wall clocks wait exactly.
    const left = this.expiry - this.now();
    const ms = this.cpu ? 5 : Math.max(0, Math.ceil(Number(left) / 1e6));
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.expiry === 0n) return;
    const now = this.now();
    if (now < this.expiry) {
      this.schedule();
      return;
    }
    let overruns = 0;
    if (this.interval > 0n) {
      // Missed periods count as overruns; the next expiry stays on the period grid.
      const late = now - this.expiry;
      const missed = late / this.interval;
      overruns = Number(missed);
      this.expiry += (missed + 1n) * this.interval;
      this.schedule();
    } else {
      this.expiry = 0n;
    }
    this.fire(overruns);
  }
}

const wallNs = (): bigint => process.hrtime.bigint();

interface ProcessTimers {
  itimers: Countdown[];
  posix: Map<number, PosixTimer>;
  nextId: number;
}

interface PosixTimer {
  countdown: Countdown;
  clock: number;
  /** The timer's clock now (CPU clocks resolved at timer_create). */
  now: () => bigint;
  signo: number;
  notify: number;
  value: bigint;
  target?: Task;
  /** The siginfo last queued: while still queued, a new expiry counts as an overrun. */
  queued?: Uint8Array;
  overrun: number;
  /** Overruns of the last expiry whose signal was taken (timer_getoverrun). */
  lastOverrun: number;
}

const perGroup = new WeakMap<ThreadGroup, ProcessTimers>();

function timersOf(tg: ThreadGroup): ProcessTimers {
  let s = perGroup.get(tg);
  if (s === undefined) {
    const cpu = (): bigint => groupCpuNs(tg);
    const send = (signo: number) => (): void => {
      const k = tg.leader?.kernel;
      k?.sendSignal(tg, signo, makeSiginfo(signo, { code: SI_KERNEL }));
    };
    const created: ProcessTimers = {
      itimers: [
        new Countdown(wallNs, false, send(SIG.SIGALRM)),
        new Countdown(cpu, true, send(SIG.SIGVTALRM)),
        new Countdown(cpu, true, send(SIG.SIGPROF)),
      ],
      posix: new Map(),
      nextId: 0,
    };
    s = created;
    perGroup.set(tg, created);
    const dropPosix = (): void => {
      for (const p of created.posix.values()) p.countdown.disarm();
      created.posix.clear();
    };
    tg.onExit.push(() => {
      for (const c of created.itimers) c.disarm();
      dropPosix();
    });
    tg.onExec.push(dropPosix);
  }
  return s;
}

function readTimeval(dv: DataView, off: number): bigint | undefined {
  const sec = dv.getBigInt64(off, true);
  const usec = dv.getBigInt64(off + 8, true);
  if (sec < 0n || usec < 0n || usec >= 1_000_000n) return undefined;
  return sec * NS + usec * 1000n;
}

function writeTimeval(dv: DataView, off: number, ns: bigint): void {
  // Like Linux, a remaining time below 1 µs still reads as 1 µs while armed.
  const us = ns > 0n && ns < 1000n ? 1n : ns / 1000n;
  dv.setBigInt64(off, us / 1_000_000n, true);
  dv.setBigInt64(off + 8, us % 1_000_000n, true);
}

function itimerOut(t: Task, addr: number, c: Countdown): number {
  const b = new Uint8Array(32);
  const dv = new DataView(b.buffer);
  writeTimeval(dv, 0, c.interval);
  writeTimeval(dv, 16, c.remaining());
  const r = t.mem.copyOut(addr, b);
  return isErr(r) ? -r.errno : 0;
}

/** getitimer(which, value). */
const sysGetitimer: SyscallHandler = (t, a) => {
  const which = a.int(0);
  if (which < 0 || which > 2) return -E.EINVAL;
  return itimerOut(t, a.ptr(1), timersOf(t.tg).itimers[which]);
};

/** setitimer(which, new, old): a zero value disarms; the interval reloads it. */
const sysSetitimer: SyscallHandler = (t, a) => {
  const which = a.int(0);
  if (which < 0 || which > 2) return -E.EINVAL;
  const c = timersOf(t.tg).itimers[which];
  let value = 0n;
  let interval = 0n;
  if (a.ptr(1) !== 0) {
    const b = t.mem.copyIn(a.ptr(1), 32);
    if (isErr(b)) return -b.errno;
    const dv = new DataView(b.buffer, b.byteOffset, 32);
    const iv = readTimeval(dv, 0);
    const v = readTimeval(dv, 16);
    if (iv === undefined || v === undefined) return -E.EINVAL;
    interval = iv;
    value = v;
  }
  if (a.ptr(2) !== 0) {
    const r = itimerOut(t, a.ptr(2), c);
    if (r < 0) return r;
  }
  c.arm(value, interval);
  return 0;
};

/** alarm(seconds): ITIMER_REAL one-shot; returns the seconds left on the previous one. */
const sysAlarm: SyscallHandler = (t, a) => {
  const c = timersOf(t.tg).itimers[0];
  const left = c.remaining();
  let prev = Number(left / NS);
  // Rounded to the nearest second, but never 0 while one was pending (as Linux does).
  if (left % NS >= NS / 2n) prev++;
  if (left > 0n && prev === 0) prev = 1;
  c.arm(BigInt(a.uint(0)) * NS, 0n);
  return prev;
};

// ---- POSIX timers ----

const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const CLOCK_BOOTTIME = 7;
const CLOCK_REALTIME_ALARM = 8;
const CLOCK_BOOTTIME_ALARM = 9;
const SIGEV_SIGNAL = 0;
const SIGEV_NONE = 1;
const SIGEV_THREAD_ID = 4;
const TIMER_ABSTIME = 1;
/** A bound on POSIX timers per process (Linux's comes from kernel memory; EAGAIN beyond). */
const MAX_POSIX_TIMERS = 4096;

function realtimeNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** The clock a timer of t's runs on, and whether it is a CPU clock (polled). */
function clockFor(t: Task, clock: number): { now: () => bigint; cpu: boolean } | undefined {
  switch (clock) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_ALARM: return { now: realtimeNs, cpu: false };
    case CLOCK_MONOTONIC: case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM: return { now: wallNs, cpu: false };
    default: {
      const c = cpuClockOf(t, clock, false);
      if (!c) return undefined;
      // A thread clock stops with its thread (the timer then never fires); polls keep it current.
      let last = 0n;
      return { now: () => (last = cpuClockNs(c, true) ?? last), cpu: true };
    }
  }
}

/** timer_create(clockid, sevp, *timerid). */
const sysTimerCreate: SyscallHandler = (t, a) => {
  const clock = a.int(0);
  const clk = clockFor(t, clock);
  if (clk === undefined) return -E.EINVAL;
  const now = clk.now;
  let signo = SIG.SIGALRM;
  let notify = SIGEV_SIGNAL;
  let value = 0n;
  let target: Task | undefined;
  const s = timersOf(t.tg);
  if (s.posix.size >= MAX_POSIX_TIMERS) return -E.EAGAIN;
  const id = s.nextId;
  if (a.ptr(1) !== 0) {
    const b = t.mem.copyIn(a.ptr(1), 64);
    if (isErr(b)) return -b.errno;
    const dv = new DataView(b.buffer, b.byteOffset, 64);
    value = dv.getBigUint64(0, true);
    signo = dv.getInt32(8, true);
    notify = dv.getInt32(12, true);
    if (notify === SIGEV_THREAD_ID) {
      target = t.kernel.tasks.get(dv.getInt32(16, true));
      if (target === undefined || target.tg !== t.tg) return -E.EINVAL;
    } else if (notify !== SIGEV_SIGNAL && notify !== SIGEV_NONE) return -E.EINVAL;
    if (notify !== SIGEV_NONE && (signo < 1 || signo > 64)) return -E.EINVAL;
  } else {
    value = BigInt(id);
  }
  const tg = t.tg;
  const countdown = new Countdown(now, clk.cpu, (missed) => fireTimer(tg, id, timer, missed));
  const timer: PosixTimer = { countdown, clock, now, signo, notify, value, target, overrun: 0, lastOverrun: 0 };
  const w = t.mem.writeU32(a.ptr(2), id);
  if (isErr(w)) return -w.errno;
  s.posix.set(id, timer);
  s.nextId++;
  return 0;
};

function fireTimer(tg: ThreadGroup, id: number, p: PosixTimer, missed: number): void {
  if (p.notify === SIGEV_NONE) return;
  const q = p.target !== undefined ? p.target.pending : tg.sharedPending;
  if (p.queued !== undefined && q.has(p.signo) && q.holds(p.queued)) {
    // Still pending: this expiry is an overrun of the queued one.
    p.overrun += 1 + missed;
    new DataView(p.queued.buffer).setInt32(20, p.overrun, true);
    return;
  }
  if (p.queued !== undefined) p.lastOverrun = new DataView(p.queued.buffer).getInt32(20, true);
  p.overrun = missed;
  const info = makeSiginfo(p.signo, { code: SI_TIMER, timerId: id, overrun: missed, value: p.value });
  p.queued = info;
  const k = tg.leader?.kernel;
  if (k === undefined) return;
  if (p.target !== undefined && p.target.state !== 'dead') k.sendSignalToTask(p.target, p.signo, info);
  else k.sendSignal(tg, p.signo, info);
}

function timespecNs(dv: DataView, off: number): bigint | undefined {
  const sec = dv.getBigInt64(off, true);
  const nsec = dv.getBigInt64(off + 8, true);
  if (sec < 0n || nsec < 0n || nsec >= NS) return undefined;
  return sec * NS + nsec;
}

function itimerspecOut(t: Task, addr: number, p: PosixTimer): number {
  const b = new Uint8Array(32);
  const dv = new DataView(b.buffer);
  const rem = p.countdown.remaining();
  dv.setBigInt64(0, p.countdown.interval / NS, true);
  dv.setBigInt64(8, p.countdown.interval % NS, true);
  dv.setBigInt64(16, rem / NS, true);
  dv.setBigInt64(24, rem % NS, true);
  const r = t.mem.copyOut(addr, b);
  return isErr(r) ? -r.errno : 0;
}

/** timer_settime(id, flags, new, old): relative or TIMER_ABSTIME; zero disarms. */
const sysTimerSettime: SyscallHandler = (t, a) => {
  const p = timersOf(t.tg).posix.get(a.int(0));
  if (p === undefined) return -E.EINVAL;
  const b = t.mem.copyIn(a.ptr(2), 32);
  if (isErr(b)) return -b.errno;
  const dv = new DataView(b.buffer, b.byteOffset, 32);
  const interval = timespecNs(dv, 0);
  let value = timespecNs(dv, 16);
  if (interval === undefined || value === undefined) return -E.EINVAL;
  if (a.ptr(3) !== 0) {
    const r = itimerspecOut(t, a.ptr(3), p);
    if (r < 0) return r;
  }
  if ((a.int(1) & TIMER_ABSTIME) !== 0 && value !== 0n) {
    const now = p.now();
    value = value > now ? value - now : 1n;
  }
  p.countdown.arm(value, interval);
  return 0;
};

const sysTimerGettime: SyscallHandler = (t, a) => {
  const p = timersOf(t.tg).posix.get(a.int(0));
  if (p === undefined) return -E.EINVAL;
  return itimerspecOut(t, a.ptr(1), p);
};

const sysTimerGetoverrun: SyscallHandler = (t, a) => {
  const p = timersOf(t.tg).posix.get(a.int(0));
  if (p === undefined) return -E.EINVAL;
  const q = p.target !== undefined ? p.target.pending : t.tg.sharedPending;
  if (p.queued !== undefined && !q.holds(p.queued)) return new DataView(p.queued.buffer).getInt32(20, true);
  return p.lastOverrun;
};

const sysTimerDelete: SyscallHandler = (t, a) => {
  const s = timersOf(t.tg);
  const p = s.posix.get(a.int(0));
  if (p === undefined) return -E.EINVAL;
  p.countdown.disarm();
  s.posix.delete(a.int(0));
  return 0;
};

// ---- CPU accounting ----

const CLK_TCK = 100n;

/** times(buf): user CPU of the process (the host cannot split user/system for us). */
const sysTimes: SyscallHandler = (t, a) => {
  const ticks = (ns: bigint): bigint => (ns * CLK_TCK) / NS;
  if (a.ptr(0) !== 0) {
    const b = new Uint8Array(32);
    const dv = new DataView(b.buffer);
    dv.setBigInt64(0, ticks(groupCpuNs(t.tg)), true);
    dv.setBigInt64(16, ticks(t.tg.childrenCpuNs), true); // tms_cutime
    const r = t.mem.copyOut(a.ptr(0), b);
    if (isErr(r)) return -r.errno;
  }
  return Number(ticks(process.hrtime.bigint() - t.kernel.bootNs) + 100000n);
};

/**
 * getrusage(who, usage): RUSAGE_SELF reports the process's CPU time, RUSAGE_THREAD the
 * calling thread's, RUSAGE_CHILDREN that of reaped children, as user time.
 */
const sysGetrusage: SyscallHandler = (t, a) => {
  const who = a.int(0);
  const RUSAGE_THREAD = 1;
  if (who !== 0 && who !== -1 && who !== RUSAGE_THREAD) return -E.EINVAL;
  const b = new Uint8Array(144);
  const dv = new DataView(b.buffer);
  const ns = who === -1 ? t.tg.childrenCpuNs : who === RUSAGE_THREAD ? t.thread.threadCpuNs() ?? 0n : groupCpuNs(t.tg);
  const us = ns / 1000n;
  dv.setBigInt64(0, us / 1_000_000n, true);
  dv.setBigInt64(8, us % 1_000_000n, true);
  const r = t.mem.copyOut(a.ptr(1), b);
  return isErr(r) ? -r.errno : 0;
};

export const timerSyscalls: SyscallTable = {
  [SYS.getitimer]: sysGetitimer,
  [SYS.setitimer]: sysSetitimer,
  [SYS.alarm]: sysAlarm,
  [SYS.timer_create]: sysTimerCreate,
  [SYS.timer_settime]: sysTimerSettime,
  [SYS.timer_gettime]: sysTimerGettime,
  [SYS.timer_getoverrun]: sysTimerGetoverrun,
  [SYS.timer_delete]: sysTimerDelete,
  [SYS.times]: sysTimes,
  [SYS.getrusage]: sysGetrusage,
};
