// CPU clock ids: CLOCK_PROCESS/THREAD_CPUTIME_ID and the dynamic ids of
// clock_getcpuclockid/pthread_getcpuclockid (~pid << 3 | which, bit 2 for a thread), with
// Linux's rules on whose clocks a caller may name.

import { describe, expect, it } from 'vitest';
import type { Task } from '../../sentry/kernel/task.js';
import { cpuClockNs, cpuClockOf, cpuClockResNs } from '../../sentry/syscalls/cpu_clocks.js';

const threadClock = (tid: number): number => (~tid << 3) | 6;
const processClock = (pid: number): number => (~pid << 3) | 2;

/** Process 10 with threads 10 and 11 (thread CPU 1 s and 2 s, 5 s in all), process 20 with thread 20. */
function world(): { main: Task; sibling: Task; other: Task } {
  const rootNs = { globalOf: (n: number) => (n > 0 ? n : undefined) };
  const kernel = { tasks: new Map<number, unknown>(), groups: new Map<number, unknown>() };
  const mk = (tid: number, tg: object, cpu: bigint): Task =>
    ({ tid, tg, kernel, state: 'running', thread: { threadCpuNs: () => cpu, cpuTimeNs: () => 5_000_000_000n } }) as unknown as Task;
  const g10: Record<string, unknown> = { pid: 10, pidNs: rootNs, cpuNsAtExit: 0n };
  const g20: Record<string, unknown> = { pid: 20, pidNs: rootNs, cpuNsAtExit: 0n };
  const main = mk(10, g10, 1_000_000_000n);
  const sibling = mk(11, g10, 2_000_000_000n);
  const other = mk(20, g20, 3_000_000_000n);
  g10.leader = main;
  g20.leader = other;
  for (const t of [main, sibling, other]) kernel.tasks.set(t.tid, t);
  kernel.groups.set(10, g10).set(20, g20);
  return { main, sibling, other };
}

describe('CPU clock ids', () => {
  it('reads the calling thread, a sibling by id, and processes', () => {
    const { main, sibling } = world();
    const read = (id: number, t = main): bigint | undefined => {
      const c = cpuClockOf(t, id, true);
      return c ? cpuClockNs(c) : undefined;
    };
    expect(read(3)).toBe(1_000_000_000n);
    expect(read(3, sibling)).toBe(2_000_000_000n);
    expect(read(threadClock(11))).toBe(2_000_000_000n);
    expect(read(threadClock(0), sibling)).toBe(2_000_000_000n);
    expect(read(2)).toBe(5_000_000_000n);
    expect(read(processClock(20))).toBe(5_000_000_000n);
    // clock_gettime may name the process by a thread's own tid, as Linux allows.
    expect(read(processClock(11), sibling)).toBe(5_000_000_000n);
  });

  it('refuses threads of other processes, unknown ids and fd clocks', () => {
    const { main, sibling } = world();
    expect(cpuClockOf(main, threadClock(20), true)).toBeNull();
    expect(cpuClockOf(main, threadClock(99), true)).toBeNull();
    expect(cpuClockOf(main, processClock(99), true)).toBeNull();
    expect(cpuClockOf(main, (~10 << 3) | 3, true)).toBeNull();
    expect(cpuClockOf(main, (~10 << 3) | 7, true)).toBeNull();
    // Not a process id (a non-leader tid) outside clock_gettime.
    expect(cpuClockOf(sibling, processClock(11), false)).toBeNull();
    expect(cpuClockOf(main, 1, true)).toBeUndefined();
  });

  it('gives the scheduler clocks 1 ns resolution and PROF/VIRT a tick', () => {
    const { main } = world();
    expect(cpuClockResNs(cpuClockOf(main, 3, false)!)).toBe(1n);
    expect(cpuClockResNs(cpuClockOf(main, (~0 << 3) | 4, false)!)).toBe(4_000_000n);
  });
});
