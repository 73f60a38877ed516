// struct timespec from app memory, validated as Linux's get_timespec64 does for timeouts.

import { E } from '../abi/errno.js';
import { isErr } from '../abi/result.js';
import type { Task } from '../kernel/task.js';

/** The timespec at addr in nanoseconds, or -errno (EFAULT; EINVAL for tv_sec < 0 or tv_nsec outside [0, 1e9)). */
export function readTimespec(t: Task, addr: number): bigint | number {
  const b = t.mem.copyIn(addr, 16);
  if (isErr(b)) return -b.errno;
  const dv = new DataView(b.buffer, b.byteOffset, 16);
  const sec = dv.getBigInt64(0, true);
  const nsec = dv.getBigInt64(8, true);
  if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) return -E.EINVAL;
  return sec * 1_000_000_000n + nsec;
}
