// System V semaphore sets (man 2 semop): operations apply all together or not at all;
// a caller that cannot proceed parks until another change lets its whole array through.
// SEM_UNDO adjustments are kept per process and applied when it exits.

import { E } from '../../abi/errno.js';
import type { ThreadGroup } from '../thread_group.js';
import { IdTable, nowSec, type IpcObject, type IpcPerm } from './object.js';

export const SEMMSL = 32000;
export const SEMMNS = 1024000000;
export const SEMOPM = 500;
export const SEMMNI = 32000;
export const SEMVMX = 32767;
export const SEMAEM = SEMVMX;
export const SEM_UNDO = 0x1000;

export const GETPID = 11;
export const GETVAL = 12;
export const GETALL = 13;
export const GETNCNT = 14;
export const GETZCNT = 15;
export const SETVAL = 16;
export const SETALL = 17;
export const SEM_STAT = 18;
export const SEM_INFO = 19;
export const SEM_STAT_ANY = 20;

export interface SemOp {
  num: number;
  op: number;
  flg: number;
}

/** A parked semop: retried whenever the set changes. */
interface SemWaiter {
  ops: SemOp[];
  tg: ThreadGroup;
  pid: number;
  /** The op it is blocked on (for GETNCNT/GETZCNT). */
  blocking: SemOp;
  complete: (ret: number) => void;
}

export class SemSet implements IpcObject {
  readonly vals: number[];
  readonly pids: number[];
  otime = 0;
  readonly waiters: SemWaiter[] = [];
  removed = false;

  constructor(readonly perm: IpcPerm, nsems: number, private readonly owner: SemRegistry) {
    this.vals = new Array<number>(nsems).fill(0);
    this.pids = new Array<number>(nsems).fill(0);
  }

  get nsems(): number {
    return this.vals.length;
  }

  /**
   * Tries ops atomically: 0 done, -EAGAIN would block (the op it blocks on is returned too),
   * -ERANGE past SEMVMX or SEMAEM.
   */
  tryOps(ops: SemOp[], tg: ThreadGroup, pid: number): { ret: number; blocking?: SemOp } {
    const vals = this.vals.slice();
    for (const o of ops) {
      const v = vals[o.num];
      if (o.op === 0) {
        if (v !== 0) return { ret: -E.EAGAIN, blocking: o };
        continue;
      }
      const nv = v + o.op;
      if (nv < 0) return { ret: -E.EAGAIN, blocking: o };
      if (nv > SEMVMX) return { ret: -E.ERANGE };
      if ((o.flg & SEM_UNDO) !== 0) {
        const adj = (this.owner.undoFor(tg, this, false)?.[o.num] ?? 0) - o.op;
        if (adj < -SEMAEM - 1 || adj > SEMAEM) return { ret: -E.ERANGE };
      }
      vals[o.num] = nv;
    }
    for (const o of ops) {
      this.vals[o.num] = vals[o.num];
      this.pids[o.num] = pid;
      if ((o.flg & SEM_UNDO) !== 0 && o.op !== 0) this.owner.undoFor(tg, this, true)![o.num] -= o.op;
    }
    this.otime = nowSec();
    return { ret: 0 };
  }

  /** The values changed: let through every parked caller whose array can now run. */
  changed(): void {
    let progress = true;
    while (progress) {
      progress = false;
      for (const w of [...this.waiters]) {
        const r = this.tryOps(w.ops, w.tg, w.pid);
        if (r.ret === -E.EAGAIN) {
          w.blocking = r.blocking!;
          continue;
        }
        this.dropWaiter(w);
        w.complete(r.ret);
        if (r.ret === 0) progress = true;
      }
    }
  }

  addWaiter(w: SemWaiter): () => void {
    this.waiters.push(w);
    return () => this.dropWaiter(w);
  }

  private dropWaiter(w: SemWaiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  /** GETNCNT (decrements waiting) or GETZCNT (waits for zero) for semaphore num. */
  count(num: number, zero: boolean): number {
    return this.waiters.filter((w) => w.blocking.num === num && (zero ? w.blocking.op === 0 : w.blocking.op < 0)).length;
  }

  /** IPC_RMID: waiters fail with EIDRM. */
  remove(): void {
    this.removed = true;
    for (const w of this.waiters.splice(0)) w.complete(-E.EIDRM);
    this.owner.forget(this);
  }

  /** SETVAL/SETALL: every process's adjustment for the semaphore(s) is cleared. */
  clearUndo(num?: number): void {
    this.owner.clearUndo(this, num);
  }
}

export class SemRegistry {
  readonly table = new IdTable<SemSet>(() => this.semmni);
  semmsl = SEMMSL;
  semmns = SEMMNS;
  semopm = SEMOPM;
  semmni = SEMMNI;
  /** Semaphores in all sets (checked against SEMMNS). */
  totalSems = 0;
  /** Per process: per set, its SEM_UNDO adjustments. */
  private readonly undo = new Map<ThreadGroup, Map<SemSet, number[]>>();

  undoFor(tg: ThreadGroup, s: SemSet, create: boolean): number[] | undefined {
    let m = this.undo.get(tg);
    if (m === undefined) {
      if (!create) return undefined;
      m = new Map();
      this.undo.set(tg, m);
      tg.onExit.push(() => this.exitUndo(tg));
    }
    let a = m.get(s);
    if (a === undefined && create) {
      a = new Array<number>(s.nsems).fill(0);
      m.set(s, a);
    }
    return a;
  }

  /** A process is gone: its adjustments are applied (clamped to 0..SEMVMX, as Linux does). */
  exitUndo(tg: ThreadGroup): void {
    const m = this.undo.get(tg);
    this.undo.delete(tg);
    if (m === undefined) return;
    for (const [s, adj] of m) {
      if (s.removed) continue;
      for (let i = 0; i < adj.length; i++) {
        if (adj[i] === 0) continue;
        s.vals[i] = Math.min(SEMVMX, Math.max(0, s.vals[i] + adj[i]));
        s.pids[i] = tg.pid;
      }
      s.otime = nowSec();
      s.changed();
    }
  }

  clearUndo(s: SemSet, num?: number): void {
    for (const m of this.undo.values()) {
      const a = m.get(s);
      if (a === undefined) continue;
      if (num === undefined) a.fill(0);
      else a[num] = 0;
    }
  }

  forget(s: SemSet): void {
    this.table.remove(s);
    this.totalSems -= s.nsems;
    for (const m of this.undo.values()) m.delete(s);
  }

  destroyAll(): void {
    for (const s of this.table.values()) s.remove();
  }
}
