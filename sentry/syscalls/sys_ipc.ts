// System V IPC (man 7 sysvipc): shmget/shmat/shmdt/shmctl, semget/semop/semtimedop/semctl,
// msgget/msgsnd/msgrcv/msgctl, over the tables of the caller's IPC namespace.

import { E } from '../abi/errno.js';
import type { SyscallArgs } from '../abi/regs.js';
import { err, isErr, toRet } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import {
  CAP_IPC_LOCK, CAP_SYS_RESOURCE, IPC_64, IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, IpcPerm, ipcGet, nowSec,
  S_IRUGO, S_IWUGO, type IdTable, type IpcObject,
} from '../kernel/ipc/object.js';
import { park, relDeadline } from '../kernel/ipc/park.js';
import { MSG_COPY, MSG_EXCEPT, MSG_INFO, MSG_NOERROR, MSG_STAT, MSG_STAT_ANY, MsgQueue, type Message } from '../kernel/ipc/msg.js';
import {
  GETALL, GETNCNT, GETPID, GETVAL, GETZCNT, SEM_INFO, SEM_STAT, SEM_STAT_ANY, SEMAEM, SEMVMX, SETALL, SETVAL, SemSet, type SemOp,
} from '../kernel/ipc/sem.js';
import {
  SHM_EXEC, SHM_INFO, SHM_LOCK, SHM_LOCKED, SHM_RDONLY, SHM_REMAP, SHM_RND, SHM_STAT, SHM_STAT_ANY, SHM_UNLOCK, SHMMIN,
  ShmSegment,
} from '../kernel/ipc/shm.js';
import type { IpcRegistries } from '../kernel/ipc/registry.js';
import { vpid } from '../kernel/pid_namespace.js';
import type { Task } from '../kernel/task.js';
import { MAP_FIXED, MAP_SHARED } from '../mm/mm.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../mm/vma.js';
import type { SyscallTable } from './types.js';

const PAGE = 4096;
const RLIMIT_MEMLOCK = 8;

function reg(t: Task): IpcRegistries {
  return t.nsproxy.ipc.sysv;
}

/** Copies out a struct built by fill into buf (EFAULT on a bad pointer). */
function out(t: Task, buf: number, size: number, fill: (dv: DataView) => void): number {
  const b = new Uint8Array(size);
  fill(new DataView(b.buffer));
  const r = t.mem.copyOut(buf, b);
  return isErr(r) ? -r.errno : 0;
}

function inStruct(t: Task, buf: number, size: number): DataView | number {
  const b = t.mem.copyIn(buf, size);
  return isErr(b) ? -b.errno : new DataView(b.buffer, b.byteOffset, size);
}

/** The *_STAT (index) and *_STAT_ANY lookups, and IPC_STAT/IPC_SET/IPC_RMID by id. */
function lookup<T extends IpcObject>(table: IdTable<T>, id: number, byIndex: boolean): T | undefined {
  return byIndex ? table.at(id) : table.get(id);
}

// ---- shared memory ----

const sysShmget = (t: Task, a: SyscallArgs): number => {
  const key = a.int(0);
  const size = a.big(1);
  const flags = a.int(2);
  const r = reg(t).shm;
  return toRet(ipcGet(r.table, key, flags, t.creds, () => {
    if (size < BigInt(SHMMIN) || size > r.shmmax) return err(E.EINVAL);
    const pages = Math.ceil(Number(size) / PAGE);
    if (BigInt(r.totalPages + pages) > r.shmall) return err(E.ENOSPC);
    if (r.table.inUse >= r.shmmni) return err(E.ENOSPC);
    r.totalPages += pages;
    return new ShmSegment(IpcPerm.create(key, t.creds, flags), Number(size), t.tg.pid, r);
  }, (s) => (Number(size) > s.size ? E.EINVAL : 0)));
};

function sysvName(key: number): string {
  return `/SYSV${(key >>> 0).toString(16).padStart(8, '0')}`;
}

const sysShmat = (t: Task, a: SyscallArgs): number => {
  const id = a.int(0);
  let addr = a.ptr(1);
  const flags = a.int(2);
  if (id < 0) return -E.EINVAL;
  if (addr !== 0) {
    if (addr % PAGE !== 0) {
      if ((flags & SHM_RND) === 0) return -E.EINVAL;
      addr -= addr % PAGE;
    }
  } else if ((flags & SHM_REMAP) !== 0) return -E.EINVAL;
  let prot = PROT_READ;
  let acc = S_IRUGO;
  if ((flags & SHM_RDONLY) === 0) {
    prot |= PROT_WRITE;
    acc |= S_IWUGO;
  }
  if ((flags & SHM_EXEC) !== 0) {
    prot |= PROT_EXEC;
    acc |= 0o111;
  }
  const seg = reg(t).shm.table.get(id);
  if (seg === undefined) return -E.EINVAL;
  if (!seg.perm.allows(t.creds, acc)) return -E.EACCES;
  const len = Math.ceil(seg.size / PAGE) * PAGE;
  if (addr !== 0 && (flags & SHM_REMAP) === 0 && t.mm.vmas.overlapping(addr, addr + len).length > 0) return -E.EINVAL;
  const got = t.mm.mmap({
    addr, len: seg.size, prot, flags: MAP_SHARED | (addr !== 0 ? MAP_FIXED : 0), file: seg, offset: 0,
    mayWrite: (flags & SHM_RDONLY) === 0, name: `${sysvName(seg.perm.key)} (deleted)`,
  });
  if (isErr(got)) return -got.errno;
  seg.atime = nowSec();
  seg.lpid = t.tg.pid;
  return got;
}

/** shmdt: unmaps every piece of the attach starting at addr (pieces an mprotect split off included). */
const sysShmdt = (t: Task, a: SyscallArgs): number => {
  const addr = a.ptr(0);
  if (addr % PAGE !== 0) return -E.EINVAL;
  const first = t.mm.vmas.find(addr);
  if (first === undefined || first.start !== addr || !(first.file instanceof ShmSegment) || first.fileOffset !== 0) return -E.EINVAL;
  const seg = first.file;
  const end = addr + Math.ceil(seg.size / PAGE) * PAGE;
  const parts = t.mm.vmas.overlapping(addr, end).filter((v) => v.file === seg && v.start - addr === v.fileOffset).map((v) => [v.start, v.end]);
  seg.lpid = t.tg.pid;
  for (const [s, e] of parts) t.mm.munmap(s, e - s);
  return 0;
};

function writeShmid(t: Task, s: ShmSegment, dv: DataView): void {
  s.perm.write(dv, 0);
  dv.setBigUint64(48, BigInt(s.size), true);
  dv.setBigInt64(56, BigInt(s.atime), true);
  dv.setBigInt64(64, BigInt(s.dtime), true);
  dv.setBigInt64(72, BigInt(s.perm.ctime), true);
  dv.setInt32(80, vpid(t, s.cpid), true);
  dv.setInt32(84, vpid(t, s.lpid), true);
  dv.setBigUint64(88, BigInt(Math.max(0, s.nattch)), true);
}

const sysShmctl = (t: Task, a: SyscallArgs): number => {
  const id = a.int(0);
  const cmd = a.int(1) & ~IPC_64;
  const buf = a.ptr(2);
  const r = reg(t).shm;
  if (cmd < 0 || id < 0) return -E.EINVAL;
  switch (cmd) {
    case IPC_INFO: {
      const e = out(t, buf, 72, (dv) => {
        dv.setBigUint64(0, r.shmmax, true);
        dv.setBigUint64(8, BigInt(SHMMIN), true);
        dv.setBigUint64(16, BigInt(r.shmmni), true);
        dv.setBigUint64(24, BigInt(r.shmmni), true);
        dv.setBigUint64(32, r.shmall, true);
      });
      return e < 0 ? e : Math.max(0, r.table.maxIndex());
    }
    case SHM_INFO: {
      const segs = r.table.values();
      const e = out(t, buf, 48, (dv) => {
        dv.setInt32(0, segs.length, true);
        dv.setBigUint64(8, BigInt(r.totalPages), true);
        dv.setBigUint64(16, BigInt(segs.reduce((n, s) => n + s.rssPages, 0)), true);
      });
      return e < 0 ? e : Math.max(0, r.table.maxIndex());
    }
    case SHM_STAT: case SHM_STAT_ANY: case IPC_STAT: {
      const s = lookup(r.table, id, cmd !== IPC_STAT);
      if (s === undefined) return -E.EINVAL;
      if (cmd !== SHM_STAT_ANY && !s.perm.allows(t.creds, S_IRUGO)) return -E.EACCES;
      const e = out(t, buf, 112, (dv) => writeShmid(t, s, dv));
      return e < 0 ? e : cmd === IPC_STAT ? 0 : s.perm.id;
    }
    case IPC_SET: case IPC_RMID: {
      const dv = cmd === IPC_SET ? inStruct(t, buf, 112) : undefined;
      if (typeof dv === 'number') return dv;
      const s = r.table.get(id);
      if (s === undefined) return -E.EINVAL;
      if (!s.perm.ownedBy(t.creds)) return -E.EPERM;
      if (dv !== undefined) s.perm.set(dv, 0);
      else s.markDestroyed();
      return 0;
    }
    case SHM_LOCK: case SHM_UNLOCK: {
      const s = r.table.get(id);
      if (s === undefined) return -E.EINVAL;
      if (!t.creds.hasCap(CAP_IPC_LOCK)) {
        if (t.creds.euid !== s.perm.uid && t.creds.euid !== s.perm.cuid) return -E.EPERM;
        if (cmd === SHM_LOCK && t.tg.rlimits[RLIMIT_MEMLOCK].cur === 0n) return -E.EPERM;
      }
      // Accounting only: the Sentry never swaps app memory out.
      if (cmd === SHM_LOCK) s.perm.mode |= SHM_LOCKED;
      else s.perm.mode &= ~SHM_LOCKED;
      return 0;
    }
    default:
      return -E.EINVAL;
  }
};

// ---- semaphores ----

const sysSemget = (t: Task, a: SyscallArgs): number => {
  const key = a.int(0);
  const nsems = a.int(1);
  const flags = a.int(2);
  const r = reg(t).sem;
  if (nsems < 0 || nsems > r.semmsl) return -E.EINVAL;
  return toRet(ipcGet(r.table, key, flags, t.creds, () => {
    if (nsems === 0) return err(E.EINVAL);
    if (r.totalSems + nsems > r.semmns) return err(E.ENOSPC);
    if (r.table.inUse >= r.semmni) return err(E.ENOSPC);
    r.totalSems += nsems;
    return new SemSet(IpcPerm.create(key, t.creds, flags), nsems, r);
  }, (s) => (nsems > s.nsems ? E.EINVAL : 0)));
};

function semop(t: Task, id: number, sopsAddr: number, nsops: number, timeout: number): number | Promise<number> {
  const r = reg(t).sem;
  if (id < 0 || nsops < 1) return -E.EINVAL;
  if (nsops > r.semopm) return -E.E2BIG;
  const raw = t.mem.copyIn(sopsAddr, nsops * 6);
  if (isErr(raw)) return -raw.errno;
  const dv = new DataView(raw.buffer, raw.byteOffset, nsops * 6);
  const ops: SemOp[] = [];
  for (let i = 0; i < nsops; i++) ops.push({ num: dv.getUint16(i * 6, true), op: dv.getInt16(i * 6 + 2, true), flg: dv.getInt16(i * 6 + 4, true) });
  const end = relDeadline(t, timeout);
  if (typeof end === 'object') return -end.errno;
  const s = r.table.get(id);
  if (s === undefined) return -E.EINVAL;
  if (ops.some((o) => o.num >= s.nsems)) return -E.EFBIG;
  const alter = ops.some((o) => o.op !== 0);
  if (!s.perm.allows(t.creds, alter ? S_IWUGO : S_IRUGO)) return -E.EACCES;
  const res = s.tryOps(ops, t.tg, t.tg.pid);
  if (res.ret === 0) {
    if (alter) s.changed();
    return 0;
  }
  if (res.ret !== -E.EAGAIN) return res.ret;
  if ((res.blocking!.flg & IPC_NOWAIT) !== 0) return -E.EAGAIN;
  return park(t, (complete) => s.addWaiter({ ops, tg: t.tg, pid: t.tg.pid, blocking: res.blocking!, complete }), end, E.EAGAIN);
}

function writeSemid(s: SemSet, dv: DataView): void {
  s.perm.write(dv, 0);
  dv.setBigInt64(48, BigInt(s.otime), true);
  dv.setBigInt64(64, BigInt(s.perm.ctime), true);
  dv.setBigUint64(80, BigInt(s.nsems), true);
}

const sysSemctl = (t: Task, a: SyscallArgs): number => {
  const id = a.int(0);
  const num = a.int(1);
  const cmd = a.int(2) & ~IPC_64;
  const arg = a.ptr(3);
  const r = reg(t).sem;
  if (id < 0 || cmd < 0) return -E.EINVAL;
  switch (cmd) {
    case IPC_INFO: case SEM_INFO: {
      const info = cmd === SEM_INFO;
      const e = out(t, arg, 40, (dv) => {
        const v = [r.semmns, r.semmni, r.semmns, r.semmns, r.semmsl, r.semopm, r.semopm, 20, SEMVMX, SEMAEM];
        if (info) {
          v[7] = r.table.inUse;
          v[9] = r.totalSems;
        }
        v.forEach((x, i) => dv.setInt32(i * 4, x, true));
      });
      return e < 0 ? e : Math.max(0, r.table.maxIndex());
    }
    case SEM_STAT: case SEM_STAT_ANY: case IPC_STAT: {
      const s = lookup(r.table, id, cmd !== IPC_STAT);
      if (s === undefined) return -E.EINVAL;
      if (cmd !== SEM_STAT_ANY && !s.perm.allows(t.creds, S_IRUGO)) return -E.EACCES;
      const e = out(t, arg, 104, (dv) => writeSemid(s, dv));
      return e < 0 ? e : cmd === IPC_STAT ? 0 : s.perm.id;
    }
    case IPC_SET: case IPC_RMID: {
      const dv = cmd === IPC_SET ? inStruct(t, arg, 104) : undefined;
      if (typeof dv === 'number') return dv;
      const s = r.table.get(id);
      if (s === undefined) return -E.EINVAL;
      if (!s.perm.ownedBy(t.creds)) return -E.EPERM;
      if (dv !== undefined) s.perm.set(dv, 0);
      else s.remove();
      return 0;
    }
    case SETVAL: {
      const val = a.int(3);
      if (val < 0 || val > SEMVMX) return -E.ERANGE;
      const s = r.table.get(id);
      if (s === undefined) return -E.EINVAL;
      if (num < 0 || num >= s.nsems) return -E.EINVAL;
      if (!s.perm.allows(t.creds, S_IWUGO)) return -E.EACCES;
      s.vals[num] = val;
      s.pids[num] = t.tg.pid;
      s.clearUndo(num);
      s.perm.ctime = nowSec();
      s.changed();
      return 0;
    }
    case SETALL: {
      const s = r.table.get(id);
      if (s === undefined) return -E.EINVAL;
      if (!s.perm.allows(t.creds, S_IWUGO)) return -E.EACCES;
      const b = t.mem.copyIn(arg, s.nsems * 2);
      if (isErr(b)) return -b.errno;
      const dv = new DataView(b.buffer, b.byteOffset, s.nsems * 2);
      const vals: number[] = [];
      for (let i = 0; i < s.nsems; i++) vals.push(dv.getUint16(i * 2, true));
      if (vals.some((v) => v > SEMVMX)) return -E.ERANGE;
      vals.forEach((v, i) => {
        s.vals[i] = v;
        s.pids[i] = t.tg.pid;
      });
      s.clearUndo();
      s.perm.ctime = nowSec();
      s.changed();
      return 0;
    }
    case GETALL: {
      const s = r.table.get(id);
      if (s === undefined) return -E.EINVAL;
      if (!s.perm.allows(t.creds, S_IRUGO)) return -E.EACCES;
      return out(t, arg, s.nsems * 2, (dv) => s.vals.forEach((v, i) => dv.setUint16(i * 2, v, true)));
    }
    case GETVAL: case GETPID: case GETNCNT: case GETZCNT: {
      const s = r.table.get(id);
      if (s === undefined) return -E.EINVAL;
      if (!s.perm.allows(t.creds, S_IRUGO)) return -E.EACCES;
      if (num < 0 || num >= s.nsems) return -E.EINVAL;
      if (cmd === GETVAL) return s.vals[num];
      if (cmd === GETPID) return vpid(t, s.pids[num]);
      return s.count(num, cmd === GETZCNT);
    }
    default:
      return -E.EINVAL;
  }
};

// ---- message queues ----

const sysMsgget = (t: Task, a: SyscallArgs): number => {
  const r = reg(t).msg;
  const key = a.int(0);
  const flags = a.int(1);
  return toRet(ipcGet(r.table, key, flags, t.creds, () => {
    if (r.table.inUse >= r.msgmni) return err(E.ENOSPC);
    return new MsgQueue(IpcPerm.create(key, t.creds, flags), r.msgmnb, r);
  }, () => 0));
};

const sysMsgsnd = (t: Task, a: SyscallArgs): number | Promise<number> => {
  const id = a.int(0);
  const msgp = a.ptr(1);
  const size = a.i64(2);
  const flags = a.int(3);
  const r = reg(t).msg;
  if (size > r.msgmax || size < 0 || id < 0) return -E.EINVAL;
  const hdr = t.mem.copyIn(msgp, 8);
  if (isErr(hdr)) return -hdr.errno;
  const type = Number(new DataView(hdr.buffer, hdr.byteOffset, 8).getBigInt64(0, true));
  if (type < 1) return -E.EINVAL;
  const data = t.mem.copyIn(msgp + 8, size);
  if (isErr(data)) return -data.errno;
  const q = r.table.get(id);
  if (q === undefined) return -E.EINVAL;
  if (!q.perm.allows(t.creds, S_IWUGO)) return -E.EACCES;
  const m: Message = { type, data: data.slice() };
  if (q.fits(size)) {
    q.send(m, t.tg.pid);
    return 0;
  }
  if ((flags & IPC_NOWAIT) !== 0) return -E.EAGAIN;
  return park(t, (complete) => {
    let live = true;
    const retry = (): void => {
      if (!live) return;
      if (q.removed) complete(-E.EIDRM);
      else if (q.fits(size)) {
        q.send(m, t.tg.pid);
        complete(0);
      } else q.senders.add(retry);
    };
    q.senders.add(retry);
    return () => {
      live = false;
      q.senders.delete(retry);
    };
  });
};

/** Copies a received message out as struct msgbuf: its type, then up to max bytes. */
function deliver(t: Task, msgp: number, m: Message, max: number): number {
  const b = new Uint8Array(8 + Math.min(max, m.data.length));
  new DataView(b.buffer).setBigInt64(0, BigInt(m.type), true);
  b.set(m.data.subarray(0, b.length - 8), 8);
  const r = t.mem.copyOut(msgp, b);
  return isErr(r) ? -r.errno : b.length - 8;
}

const sysMsgrcv = (t: Task, a: SyscallArgs): number | Promise<number> => {
  const id = a.int(0);
  const msgp = a.ptr(1);
  const size = a.i64(2);
  const type = a.i64(3);
  const flags = a.int(4);
  const r = reg(t).msg;
  if (size < 0 || id < 0) return -E.EINVAL;
  if ((flags & MSG_COPY) !== 0 && ((flags & IPC_NOWAIT) === 0 || (flags & MSG_EXCEPT) !== 0)) return -E.EINVAL;
  const q = r.table.get(id);
  if (q === undefined) return -E.EINVAL;
  if (!q.perm.allows(t.creds, S_IRUGO)) return -E.EACCES;
  const noerror = (flags & MSG_NOERROR) !== 0;
  if ((flags & MSG_COPY) !== 0) {
    const m = type >= 0 ? q.msgs[type] : undefined;
    if (m === undefined) return -E.ENOMSG;
    if (m.data.length > size && !noerror) return -E.E2BIG;
    return deliver(t, msgp, m, size);
  }
  const i = q.find(type, flags);
  if (i >= 0) {
    if (q.msgs[i].data.length > size && !noerror) return -E.E2BIG;
    return deliver(t, msgp, q.take(i, t.tg.pid), size);
  }
  if ((flags & IPC_NOWAIT) !== 0) return -E.ENOMSG;
  return park(t, (complete) => q.addReceiver({
    type, flags, maxSize: size, pid: t.tg.pid,
    complete: (m) => complete(typeof m === 'number' ? m : deliver(t, msgp, m, size)),
  }));
};

function writeMsqid(t: Task, q: MsgQueue, dv: DataView): void {
  q.perm.write(dv, 0);
  dv.setBigInt64(48, BigInt(q.stime), true);
  dv.setBigInt64(56, BigInt(q.rtime), true);
  dv.setBigInt64(64, BigInt(q.perm.ctime), true);
  dv.setBigUint64(72, BigInt(q.cbytes), true);
  dv.setBigUint64(80, BigInt(q.msgs.length), true);
  dv.setBigUint64(88, BigInt(q.qbytes), true);
  dv.setInt32(96, vpid(t, q.lspid), true);
  dv.setInt32(100, vpid(t, q.lrpid), true);
}

const sysMsgctl = (t: Task, a: SyscallArgs): number => {
  const id = a.int(0);
  const cmd = a.int(1) & ~IPC_64;
  const buf = a.ptr(2);
  const r = reg(t).msg;
  if (id < 0 || cmd < 0) return -E.EINVAL;
  switch (cmd) {
    case IPC_INFO: case MSG_INFO: {
      const tot = r.totals();
      const e = out(t, buf, 32, (dv) => {
        const info = cmd === MSG_INFO;
        const v = [info ? r.table.inUse : Math.floor((r.msgmni * r.msgmnb) / 1024), info ? tot.msgs : r.msgmnb, r.msgmax, r.msgmnb, r.msgmni, 16, info ? tot.bytes : r.msgmnb];
        v.forEach((x, i) => dv.setInt32(i * 4, x, true));
        dv.setUint16(28, 0xffff, true);
      });
      return e < 0 ? e : Math.max(0, r.table.maxIndex());
    }
    case MSG_STAT: case MSG_STAT_ANY: case IPC_STAT: {
      const q = lookup(r.table, id, cmd !== IPC_STAT);
      if (q === undefined) return -E.EINVAL;
      if (cmd !== MSG_STAT_ANY && !q.perm.allows(t.creds, S_IRUGO)) return -E.EACCES;
      const e = out(t, buf, 120, (dv) => writeMsqid(t, q, dv));
      return e < 0 ? e : cmd === IPC_STAT ? 0 : q.perm.id;
    }
    case IPC_SET: case IPC_RMID: {
      const dv = cmd === IPC_SET ? inStruct(t, buf, 120) : undefined;
      if (typeof dv === 'number') return dv;
      const q = r.table.get(id);
      if (q === undefined) return -E.EINVAL;
      if (!q.perm.ownedBy(t.creds)) return -E.EPERM;
      if (dv === undefined) {
        q.remove();
        return 0;
      }
      const qbytes = Number(dv.getBigUint64(88, true));
      if (qbytes > r.msgmnb && !t.creds.hasCap(CAP_SYS_RESOURCE)) return -E.EPERM;
      q.qbytes = qbytes;
      q.perm.set(dv, 0);
      q.spaceFreed();
      return 0;
    }
    default:
      return -E.EINVAL;
  }
};

export const ipcSyscalls: SyscallTable = {
  [SYS.shmget]: sysShmget,
  [SYS.shmat]: sysShmat,
  [SYS.shmdt]: sysShmdt,
  [SYS.shmctl]: sysShmctl,
  [SYS.semget]: sysSemget,
  [SYS.semop]: (t, a) => semop(t, a.int(0), a.ptr(1), a.uint(2), 0),
  [SYS.semtimedop]: (t, a) => semop(t, a.int(0), a.ptr(1), a.uint(2), a.ptr(3)),
  [SYS.semctl]: sysSemctl,
  [SYS.msgget]: sysMsgget,
  [SYS.msgsnd]: sysMsgsnd,
  [SYS.msgrcv]: sysMsgrcv,
  [SYS.msgctl]: sysMsgctl,
};

