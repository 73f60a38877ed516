// CPU-time clocks: CLOCK_PROCESS_CPUTIME_ID (every thread of the process together),
// CLOCK_THREAD_CPUTIME_ID (the calling thread's own) and the ids clock_getcpuclockid and
// pthread_getcpuclockid make, ~pid << 3 | which with bit 2 for a thread (Linux's
// posix-cpu-timers encoding). Process time is the stub's host process clock; a thread's
// comes from the platform (see PlatformThread.threadCpuNs).

import { groupByVpid, taskByVtid } from '../kernel/pid_namespace.js';
import type { Task } from '../kernel/task.js';
import type { ThreadGroup } from '../kernel/thread_group.js';

export const CLOCK_PROCESS_CPUTIME_ID = 2;
export const CLOCK_THREAD_CPUTIME_ID = 3;
const CPUCLOCK_PERTHREAD = 4;
const CPUCLOCK_SCHED = 2;
/** CPUCLOCK_PROF, _VIRT, _SCHED; 3 in the low bits is an fd clock (CLOCKFD), which we lack. */
const CPUCLOCK_MAX = 3;

/** A process's or one thread's CPU clock; `which` is PROF, VIRT or SCHED (all read alike here). */
export type CpuClock = { kind: 'thread'; task: Task; which: number } | { kind: 'process'; group: ThreadGroup; which: number };

/** CPU time used by the group's threads (its stub's host CPU clock), in ns. */
export function groupCpuNs(tg: ThreadGroup): bigint {
  const ns = tg.leader?.thread.cpuTimeNs();
  return ns ?? tg.cpuNsAtExit;
}

/**
 * The CPU clock `id` names for caller t: undefined when id is no CPU clock at all, null
 * when it is one Linux refuses (EINVAL): a thread of another process, no such process.
 * With `gettime` a process clock may also be named by the caller's own tid, as Linux allows.
 */
export function cpuClockOf(t: Task, id: number, gettime: boolean): CpuClock | null | undefined {
  if (id === CLOCK_PROCESS_CPUTIME_ID) return { kind: 'process', group: t.tg, which: CPUCLOCK_SCHED };
  if (id === CLOCK_THREAD_CPUTIME_ID) return { kind: 'thread', task: t, which: CPUCLOCK_SCHED };
  if (id >= 0) return undefined;
  const which = id & 3;
  if (which >= CPUCLOCK_MAX) return null;
  const pid = ~(id >> 3);
  if ((id & CPUCLOCK_PERTHREAD) !== 0) {
    const task = pid === 0 ? t : taskByVtid(t, pid);
    if (task === undefined || task.tg !== t.tg || task.state === 'dead') return null;
    return { kind: 'thread', task, which };
  }
  if (pid === 0 || (gettime && taskByVtid(t, pid) === t)) return { kind: 'process', group: t.tg, which };
  const g = groupByVpid(t, pid);
  return g === undefined ? null : { kind: 'process', group: g, which };
}

/**
 * The clock's reading in ns; undefined once its thread is gone. `refresh` (for pollers):
 * a thread clock that could only be read stale now is made current for the next call.
 */
export function cpuClockNs(c: CpuClock, refresh = false): bigint | undefined {
  if (c.kind === 'process') return groupCpuNs(c.group);
  if (c.task.state === 'dead') return undefined;
  return c.task.thread.threadCpuNs(refresh);
}

/** clock_getres: 1 ns for the scheduler clock, a tick (1/HZ, HZ 250) for PROF and VIRT. */
export function cpuClockResNs(c: CpuClock): bigint {
  return c.which === CPUCLOCK_SCHED ? 1n : 4_000_000n;
}
