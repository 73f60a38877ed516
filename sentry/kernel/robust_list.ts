// Robust futexes (set_robust_list): when a thread dies holding a lock on its robust list,
// the kernel marks the lock word FUTEX_OWNER_DIED and wakes a waiter, so another thread
// can recover the lock (pthread_mutex_lock returns EOWNERDEAD).

import { isErr } from '../abi/result.js';
import { futexWake } from '../syscalls/sys_futex.js';
import type { Task } from './task.js';

const FUTEX_WAITERS = 0x80000000;
const FUTEX_OWNER_DIED = 0x40000000;
const FUTEX_TID_MASK = 0x3fffffff;
/** Linux's ROBUST_LIST_LIMIT: a bound against circular lists. */
const LIST_LIMIT = 2048;

function handleDeadOwner(t: Task, uaddr: number): void {
  if (uaddr % 4 !== 0) return;
  const w = t.mm.readU32(uaddr);
  // The lock word holds the owner's tid as its own pid namespace numbers it.
  if (isErr(w) || (w & FUTEX_TID_MASK) !== t.tg.pidNs.idOf(t.tid)) return;
  const next = ((w & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0;
  if (isErr(t.mm.writeU32(uaddr, next))) return;
  if ((w & FUTEX_WAITERS) !== 0) futexWake(t, uaddr, 1, 0xffffffff, false);
}

/** Walks t's robust list (head at `head`) at its death. Bad pointers end the walk quietly. */
export function robustListCleanup(t: Task, head: number): void {
  const b = t.mm.copyIn(head, 24);
  if (isErr(b)) return;
  const dv = new DataView(b.buffer, b.byteOffset, 24);
  const first = Number(dv.getBigUint64(0, true));
  // futex_offset is a signed long (negative with glibc's layout).
  const offset = Number(dv.getBigInt64(8, true));
  const pending = Number(dv.getBigUint64(16, true));
  let entry = first;
  for (let n = 0; entry !== head && entry !== 0 && n < LIST_LIMIT; n++) {
    const next = t.mm.readU64(entry - (entry % 2));
    if (isErr(next)) return;
    const e = entry - (entry % 2);
    if (e !== pending - (pending % 2)) handleDeadOwner(t, e + offset);
    entry = next;
  }
  if (pending !== 0) handleDeadOwner(t, pending - (pending % 2) + offset);
}
