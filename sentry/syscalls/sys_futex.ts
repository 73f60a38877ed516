// futex(2): WAIT/WAKE (with bitsets), REQUEUE, CMP_REQUEUE and WAKE_OP. Keys: a private
// mapping's futex is named by its address space and address (private and shared ops
// agree there, as on Linux); a MAP_SHARED one by its memory-file page, so it works across
// processes. Waits are interruptible by signals (EINTR).

import { E } from '../abi/errno.js';
import { isErr } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import { ERESTARTSYS, interruptSignal } from '../kernel/signal_delivery.js';
import type { Task } from '../kernel/task.js';
import { atDeadline, type Deadline } from '../kernel/deadline.js';
import { directWait } from '../kernel/direct_wait.js';
import type { SyscallHandler, SyscallTable } from './types.js';

const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const FUTEX_REQUEUE = 3;
const FUTEX_CMP_REQUEUE = 4;
const FUTEX_WAKE_OP = 5;
const FUTEX_WAIT_BITSET = 9;
const FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE_FLAG = 128;
const FUTEX_CLOCK_REALTIME = 256;
const BITSET_MATCH_ANY = 0xffffffff;

interface Waiter {
  bitset: number;
  key: string;
  wake: () => void;
}

/** Waiters per futex key. */
const queues = new Map<string, Waiter[]>();
const mmIds = new WeakMap<object, number>();
let nextMmId = 1;

function keyOf(t: Task, addr: number, priv: boolean): string {
  if (!priv) {
    const v = t.mm.vmas.find(addr);
    if (v !== undefined && v.shared) {
      const ppn = t.mm.pt.get(Math.floor(addr / 4096));
      if (ppn !== undefined) return `s${ppn}:${addr % 4096}`;
    }
  }
  let id = mmIds.get(t.mm);
  if (id === undefined) {
    id = nextMmId++;
    mmIds.set(t.mm, id);
  }
  return `p${id}:${addr}`;
}

function enqueue(w: Waiter): void {
  let q = queues.get(w.key);
  if (q === undefined) {
    q = [];
    queues.set(w.key, q);
  }
  q.push(w);
}

function remove(w: Waiter): void {
  const q = queues.get(w.key);
  if (q === undefined) return;
  const i = q.indexOf(w);
  if (i >= 0) q.splice(i, 1);
  if (q.length === 0) queues.delete(w.key);
}

function wakeKey(key: string, n: number, bitset = BITSET_MATCH_ANY): number {
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

/** Wakes up to n waiters on addr whose bitset intersects; returns how many. */
export function futexWake(t: Task, addr: number, n: number, bitset = BITSET_MATCH_ANY, priv = true): number {
  return wakeKey(keyOf(t, addr, priv), n, bitset);
}

/** Parks until woken (0), the timeout passes (ETIMEDOUT) or a signal arrives (EINTR). */
function futexWait(t: Task, addr: number, val: number, timeout: number, bitset: number, priv: boolean, absClockMs?: number): number | Promise<number> {
  if (addr % 4 !== 0) return -E.EINVAL;
  let ms = -1;
  if (timeout !== 0) {
    const b = t.mem.copyIn(timeout, 16);
    if (isErr(b)) return -b.errno;
    const dv = new DataView(b.buffer, b.byteOffset, 16);
    const sec = Number(dv.getBigInt64(0, true));
    const nsec = Number(dv.getBigInt64(8, true));
    if (sec < 0 || nsec < 0 || nsec >= 1e9) return -E.EINVAL;
    ms = sec * 1000 + nsec / 1e6;
    if (absClockMs !== undefined) ms = Math.max(0, ms - absClockMs);
  }
  const cur = t.mem.readU32(addr);
  if (isErr(cur)) return -cur.errno;
  if (cur !== val >>> 0) return -E.EAGAIN;
  const signal = interruptSignal(t);
  if (signal.aborted) return ms < 0 ? -ERESTARTSYS : -E.EINTR;
  // A direct wait: the waker's trap resumes this task itself, not a later loop turn.
  return directWait((resolve) => {
    let timer: Deadline | undefined;
    const done = (r: number): void => {
      timer?.cancel();
      signal.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const w: Waiter = { bitset, key: keyOf(t, addr, priv), wake: () => done(0) };
    const onAbort = (): void => {
      remove(w);
      // Without a timeout the wait restarts under SA_RESTART; with one it fails (EINTR).
      done(ms < 0 ? -ERESTARTSYS : -E.EINTR);
    };
    enqueue(w);
    signal.addEventListener('abort', onAbort, { once: true });
    if (ms >= 0) {
      timer = atDeadline(process.hrtime.bigint() + BigInt(Math.round(ms * 1e6)), () => {
        remove(w);
        done(-E.ETIMEDOUT);
      });
    }
  });
}

/** Wakes n on addr, then moves up to n2 of the rest to addr2 (they wake from there). */
function requeue(t: Task, addr: number, addr2: number, n: number, n2: number, priv: boolean, cmp?: number): number {
  if (addr % 4 !== 0 || addr2 % 4 !== 0) return -E.EINVAL;
  if (n < 0 || n2 < 0) return -E.EINVAL;
  if (cmp !== undefined) {
    const cur = t.mem.readU32(addr);
    if (isErr(cur)) return -cur.errno;
    if (cur !== cmp >>> 0) return -E.EAGAIN;
  }
  const k1 = keyOf(t, addr, priv);
  const k2 = keyOf(t, addr2, priv);
  const woken = wakeKey(k1, n);
  const q = queues.get(k1);
  let moved = 0;
  if (q !== undefined && k1 !== k2) {
    while (q.length > 0 && moved < n2) {
      const w = q.shift()!;
      w.key = k2;
      enqueue(w);
      moved++;
    }
    if (q.length === 0) queues.delete(k1);
  }
  return woken + moved;
}

/** FUTEX_WAKE_OP: *addr2 = op(*addr2, oparg); wake n on addr; wake n2 on addr2 if cmp held. */
function wakeOp(t: Task, addr: number, addr2: number, n: number, n2: number, encoded: number, priv: boolean): number {
  if (addr % 4 !== 0 || addr2 % 4 !== 0) return -E.EINVAL;
  const op = (encoded >>> 28) & 7;
  const shift = (encoded >>> 31) & 1;
  const cmp = (encoded >>> 24) & 15;
  let oparg = (encoded << 8) >> 20; // sign-extended 12 bits
  let cmparg = (encoded << 20) >> 20;
  if (shift !== 0) oparg = oparg < 0 || oparg > 31 ? 0 : 1 << oparg;
  const old = t.mem.readU32(addr2);
  if (isErr(old)) return -old.errno;
  let v: number;
  switch (op) {
    case 0: v = oparg; break; // SET
    case 1: v = old + oparg; break; // ADD
    case 2: v = old | oparg; break; // OR
    case 3: v = old & ~oparg; break; // ANDN
    case 4: v = old ^ oparg; break; // XOR
    default: return -E.ENOSYS;
  }
  const w = t.mem.writeU32(addr2, v >>> 0);
  if (isErr(w)) return -w.errno;
  const oldS = old | 0;
  cmparg |= 0;
  let ok: boolean;
  switch (cmp) {
    case 0: ok = oldS === cmparg; break;
    case 1: ok = oldS !== cmparg; break;
    case 2: ok = oldS < cmparg; break;
    case 3: ok = oldS <= cmparg; break;
    case 4: ok = oldS > cmparg; break;
    case 5: ok = oldS >= cmparg; break;
    default: return -E.ENOSYS;
  }
  let r = futexWake(t, addr, n, BITSET_MATCH_ANY, priv);
  if (ok) r += futexWake(t, addr2, n2, BITSET_MATCH_ANY, priv);
  return r;
}

function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** futex(uaddr, op, val, timeout|val2, uaddr2, val3). */
const sysFutex: SyscallHandler = (t, a) => {
  const addr = a.ptr(0);
  const op = a.int(1);
  const val = a.uint(2);
  const priv = (op & FUTEX_PRIVATE_FLAG) !== 0;
  const cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  if ((op & FUTEX_CLOCK_REALTIME) !== 0 && cmd !== FUTEX_WAIT_BITSET && cmd !== FUTEX_WAIT) return -E.ENOSYS;
  const val2 = a.uint(3);
  switch (cmd) {
    case FUTEX_WAIT:
      return futexWait(t, addr, val, a.ptr(3), BITSET_MATCH_ANY, priv);
    case FUTEX_WAIT_BITSET: {
      const bitset = a.uint(5);
      if (bitset === 0) return -E.EINVAL;
      // WAIT_BITSET timeouts are absolute (CLOCK_MONOTONIC unless CLOCK_REALTIME is set).
      const now = (op & FUTEX_CLOCK_REALTIME) !== 0 ? Date.now() : monotonicMs();
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
    case FUTEX_REQUEUE:
      return requeue(t, addr, a.ptr(4), val | 0, val2 | 0, priv);
    case FUTEX_CMP_REQUEUE:
      return requeue(t, addr, a.ptr(4), val | 0, val2 | 0, priv, a.uint(5));
    case FUTEX_WAKE_OP:
      return wakeOp(t, addr, a.ptr(4), val | 0, val2 | 0, a.uint(5), priv);
    default:
      t.kernel.log(`futex op ${cmd} is not supported`);
      return -E.ENOSYS;
  }
};

export const futexSyscalls: SyscallTable = {
  [SYS.futex]: sysFutex,
};
