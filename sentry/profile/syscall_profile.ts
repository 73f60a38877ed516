// `tsvisor do --profile`: where a sandbox's time goes, per syscall. The kernel calls enter()
// when a syscall trap reaches it and exit() just before it resumes the task, so each syscall
// splits into the handler's time (enter→exit) and the time the task spent outside the Sentry
// before trapping (resume→enter: app code plus the trap round trip through ptrace, the waiter
// thread and Node's event loop). Page faults the kernel resolves are timed the same way.
// Event-loop utilisation gives the Sentry's busy/idle split.

import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { P9Profile } from './p9_profile.js';

/** Accumulated figures for one syscall number (or for page faults). */
export interface SyscallStat {
  count: number;
  /** enter→exit, including time parked waiting (a blocking read, wait4, futex wait). */
  handlerNs: number;
  maxHandlerNs: number;
  /** resume→next trap: app code plus trap round trip. */
  outsideNs: number;
}

interface InFlight {
  nr: number;
  t0: number;
}

/** The row key used for page faults in the stats map. */
export const FAULT_ROW = -1;

export class SyscallProfile {
  readonly stats = new Map<number, SyscallStat>();
  private readonly inFlight = new WeakMap<object, InFlight>();
  private readonly resumedAt = new WeakMap<object, number>();
  private readonly startNs: number;
  private readonly startCpu: NodeJS.CpuUsage;
  private readonly startElu: EventLoopUtilization;
  private readonly p9 = new P9Profile();
  private detachP9?: () => void;

  /** What --profile uses: the real clock, and 9P requests timed too. */
  static start(): SyscallProfile {
    const p = new SyscallProfile();
    p.detachP9 = p.p9.attach();
    return p;
  }

  constructor(private readonly clock: () => number = hrNow) {
    // With the default clock this is the time Node, the CLI and early boot took.
    this.startNs = clock();
    this.startCpu = process.cpuUsage();
    this.startElu = performance.eventLoopUtilization();
  }

  /** A syscall trap of `task` reached the kernel. */
  enter(task: object, nr: number): void {
    const now = this.clock();
    const st = this.row(nr);
    st.count++;
    const resumed = this.resumedAt.get(task);
    if (resumed !== undefined) st.outsideNs += now - resumed;
    this.inFlight.set(task, { nr, t0: now });
  }

  /** The kernel is about to resume `task` after its syscall. */
  exit(task: object): void {
    const now = this.clock();
    const f = this.inFlight.get(task);
    if (f === undefined) return;
    this.inFlight.delete(task);
    const st = this.row(f.nr);
    const d = now - f.t0;
    st.handlerNs += d;
    if (d > st.maxHandlerNs) st.maxHandlerNs = d;
    this.resumedAt.set(task, now);
  }

  /**
   * A host fault (SIGSEGV/SIGBUS) of `task` reached the kernel; exit() follows when the kernel
   * resolved it and resumes the task (a fault that becomes a signal to the app has no exit).
   */
  fault(task: object): void {
    this.enter(task, FAULT_ROW);
  }

  private row(nr: number): SyscallStat {
    let st = this.stats.get(nr);
    if (st === undefined) {
      st = { count: 0, handlerNs: 0, maxHandlerNs: 0, outsideNs: 0 };
      this.stats.set(nr, st);
    }
    return st;
  }

  /** The report printed at exit: totals, then one line per syscall by total time. */
  report(names: readonly (string | undefined)[], top = 40): string[] {
    const wallNs = this.clock() - this.startNs;
    const cpu = process.cpuUsage(this.startCpu);
    const elu = performance.eventLoopUtilization(this.startElu);
    let syscalls = 0;
    let handlerNs = 0;
    let outsideNs = 0;
    for (const [nr, st] of this.stats) {
      if (nr !== FAULT_ROW) syscalls += st.count;
      handlerNs += st.handlerNs;
      outsideNs += st.outsideNs;
    }
    const faults = this.stats.get(FAULT_ROW)?.count ?? 0;
    const lines = [
      `tsvisor profile: ${ms(this.startNs)} ms from process start to boot, then wall ${ms(wallNs)} ms; Sentry CPU user ${(cpu.user / 1e3).toFixed(1)} ms, sys ${(cpu.system / 1e3).toFixed(1)} ms; ` +
        `event loop busy ${elu.active.toFixed(1)} ms (${(elu.utilization * 100).toFixed(0)}%), idle ${elu.idle.toFixed(1)} ms`,
      `traps: ${syscalls} syscalls, ${faults} faults; time in handlers ${ms(handlerNs)} ms (includes parked waits), ` +
        `outside the Sentry ${ms(outsideNs)} ms (app code + trap round trips)`,
      pad('syscall', 20) + lpad('count', 9) + lpad('handler ms', 12) + lpad('avg us', 10) + lpad('max us', 10) + lpad('outside ms', 12) + lpad('avg us', 10),
    ];
    const rows = [...this.stats.entries()].sort((a, b) => b[1].handlerNs + b[1].outsideNs - (a[1].handlerNs + a[1].outsideNs));
    for (const [nr, st] of rows.slice(0, top)) {
      const name = nr === FAULT_ROW ? '(page fault)' : names[nr] ?? `#${nr}`;
      lines.push(
        pad(name, 20) +
          lpad(String(st.count), 9) +
          lpad(ms(st.handlerNs), 12) +
          lpad(us(st.handlerNs / st.count), 10) +
          lpad(us(st.maxHandlerNs), 10) +
          lpad(ms(st.outsideNs), 12) +
          lpad(us(st.outsideNs / st.count), 10),
      );
    }
    if (rows.length > top) lines.push(`(${rows.length - top} more syscalls not shown)`);
    this.detachP9?.();
    this.detachP9 = undefined;
    lines.push(...this.p9.report());
    return lines;
  }
}

/** Nanoseconds since the process started (a double keeps sub-microsecond precision). */
function hrNow(): number {
  return performance.now() * 1e6;
}

function ms(ns: number): string {
  return (ns / 1e6).toFixed(2);
}

function us(ns: number): string {
  return (ns / 1e3).toFixed(1);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s + ' ' : s + ' '.repeat(n - s.length);
}

function lpad(s: string, n: number): string {
  return s.length >= n ? ' ' + s : ' '.repeat(n - s.length) + s;
}
