// futex(2): WAIT/WAKE (with bitsets) keyed by the address space and address for private
// futexes and by the memory-file page for shared ones. Requeue and PI come with threads.

import { E } from '../abi/errno.js';
import { isErr } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import type { Task } from '../kernel/task.js';
import type { SyscallHandler, SyscallTable } from './types.js';

const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const FUTEX_WAIT_BITSET = 9;
const FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE_FLAG = 128;
const FUTEX_CLOCK_REALTIME = 256;
const BITSET_MATCH_ANY = 0xffffffff;

interface Waiter {
  bitset: number;
  wake: () => void;
}

/** Waiters per futex key. Private keys name the memory manager; shared ones the page. */
const queues = new Map<string, Waiter[]>();
const mmIds = new WeakMap<object, number>();
let nextMmId = 1;

function keyOf(t: Task, addr: number, priv: boolean): string {
  if (priv) {
    let id = mmIds.get(t.mm);
    if (id === undefined) {
      id = nextMmId++;
      mmIds.set(t.mm, id);
    }
    return `p${id}:${addr}`;
  }
  const ppn = t.mm.pt.get(Math.floor(addr / 4096));
  return ppn === undefined ? `a${addr}` : `s${ppn}:${addr % 4096}`;
}

/** Wakes up to n waiters on addr whose bitset intersects; returns how many. */
export function futexWake(t: Task, addr: number, n: number, bitset = BITSET_MATCH_ANY, priv = true): number {
  const key = keyOf(t, addr, priv);
  const q = queues.get(key);
  if (q === undefined) return 0;
  let woken = 0;
  for (let i = 0; i < q.length && woken < n; ) {
    if ((q[i].bitset & bitset) !== 0) {
      q.splice(i, 1)[0].wake();
      woken++;
    } else i++;
  }
  if (q.length === 0) queues.delete(key);
  return woken;
}

function futexWait(t: Task, addr: number, val: number, timeout: number, bitset: number, priv: boolean, absClock?: number): number | Promise<number> {
  if (addr % 4 !== 0) return -E.EINVAL;
  const cur = t.mem.readU32(addr);
  if (isErr(cur)) return -cur.errno;
  if (cur !== val >>> 0) return -E.EAGAIN;
  let ms = -1;
  if (timeout !== 0) {
    const b = t.mem.copyIn(timeout, 16);
    if (isErr(b)) return -b.errno;
    const dv = new DataView(b.buffer, b.byteOffset, 16);
    const sec = Number(dv.getBigInt64(0, true));
    const nsec = Number(dv.getBigInt64(8, true));
    if (sec < 0 || nsec < 0 || nsec >= 1e9) return -E.EINVAL;
    ms = sec * 1000 + nsec / 1e6;
    if (absClock !== undefined) ms = Math.max(0, ms - absClock);
  }
  const key = keyOf(t, addr, priv);
  return new Promise<number>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const w: Waiter = {
      bitset,
      wake: () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve(0);
      },
    };
    let q = queues.get(key);
    if (q === undefined) {
      q = [];
      queues.set(key, q);
    }
    q.push(w);
    if (ms >= 0) {
      timer = setTimeout(() => {
        const qq = queues.get(key);
        const i = qq?.indexOf(w) ?? -1;
        if (qq !== undefined && i >= 0) qq.splice(i, 1);
        resolve(-E.ETIMEDOUT);
      }, ms);
    }
  });
}

/** futex(uaddr, op, val, timeout|val2, uaddr2, val3). */
const sysFutex: SyscallHandler = (t, a) => {
  const addr = a.ptr(0);
  const op = a.int(1);
  const val = a.uint(2);
  const priv = (op & FUTEX_PRIVATE_FLAG) !== 0;
  const cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  switch (cmd) {
    case FUTEX_WAIT:
      return futexWait(t, addr, val, a.ptr(3), BITSET_MATCH_ANY, priv);
    case FUTEX_WAIT_BITSET: {
      const bitset = a.uint(5);
      if (bitset === 0) return -E.EINVAL;
      // WAIT_BITSET timeouts are absolute (CLOCK_MONOTONIC unless CLOCK_REALTIME is set).
      const now = (op & FUTEX_CLOCK_REALTIME) !== 0 ? Date.now() : Number(process.hrtime.bigint() / 1_000_000n);
      return futexWait(t, addr, val, a.ptr(3), bitset, priv, now);
    }
    case FUTEX_WAKE:
      if (addr % 4 !== 0) return -E.EINVAL;
      return futexWake(t, addr, val, BITSET_MATCH_ANY, priv);
    case FUTEX_WAKE_BITSET: {
      const bitset = a.uint(5);
      if (bitset === 0 || addr % 4 !== 0) return -E.EINVAL;
      return futexWake(t, addr, val, bitset, priv);
    }
    default:
      t.kernel.log(`futex op ${cmd} is not supported yet`);
      return -E.ENOSYS;
  }
};

export const futexSyscalls: SyscallTable = {
  [SYS.futex]: sysFutex,
};
