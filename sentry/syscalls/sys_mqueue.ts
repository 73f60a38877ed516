// POSIX message queues: mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify and
// mq_getsetattr over the caller's IPC namespace's mqueue filesystem.

import { E } from '../abi/errno.js';
import type { SyscallArgs } from '../abi/regs.js';
import { isErr } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import { MqFile, type MqMessage, type MqQueue } from '../fs/mqueue/mqueue.js';
import { CAP_SYS_RESOURCE } from '../kernel/ipc/object.js';
import { park } from '../kernel/ipc/park.js';
import { ERESTARTSYS } from '../kernel/signal_delivery.js';
import { makeSiginfo } from '../kernel/sigqueue.js';
import type { Task } from '../kernel/task.js';
import { O } from '../vfs/constants.js';
import type { SyscallTable } from './types.js';
import { readTimespec } from './timespec.js';
import { CLOCK, clockNow } from '../kernel/vdso_clock.js';

const MQ_PRIO_MAX = 32768;
const HARD_MSGMAX = 65536;
const HARD_MSGSIZEMAX = 16 * 1024 * 1024;
const SIGEV_SIGNAL = 0;
const SIGEV_NONE = 1;
const SIGEV_THREAD = 2;
const SI_MESGQ = -3;
const MAY_READ = 4;
const MAY_WRITE = 2;

/** inode_permission on a queue for the access mode asked. */
function permits(t: Task, q: MqQueue, want: number): boolean {
  if (t.creds.fsuid === 0 || t.creds.hasCap(1 /* CAP_DAC_OVERRIDE */)) return true;
  let bits = q.mode & 0o7;
  if (t.creds.fsuid === q.uid) bits = (q.mode >> 6) & 0o7;
  else if (t.creds.fsgid === q.gid || t.creds.groups.includes(q.gid)) bits = (q.mode >> 3) & 0o7;
  return (want & ~bits) === 0;
}

/** The queue behind fd, or EBADF. */
function mqFile(t: Task, fd: number): MqFile | number {
  const f = t.fds.get(fd);
  return f instanceof MqFile ? f : -E.EBADF;
}

/** An absolute CLOCK_REALTIME timespec as a monotonic deadline (undefined: none). */
function absDeadline(t: Task, addr: number): bigint | undefined | number {
  if (addr === 0) return undefined;
  const at = readTimespec(t, addr);
  if (typeof at === 'number') return at;
  const left = at - clockNow(t.kernel.clock, CLOCK.REALTIME);
  return process.hrtime.bigint() + (left > 0n ? left : 0n);
}

/** Parked mq waits restart under SA_RESTART, as Linux's wq_sleep returns ERESTARTSYS. */
function restartable(r: number | Promise<number>): number | Promise<number> {
  const fix = (v: number): number => (v === -E.EINTR ? -ERESTARTSYS : v);
  return typeof r === 'number' ? fix(r) : r.then(fix);
}

const sysMqOpen = (t: Task, a: SyscallArgs): number => {
  const name = t.mem.readCString(a.ptr(0), 4096);
  if (isErr(name)) return -name.errno;
  const oflag = a.int(1);
  const mode = a.uint(2);
  const attrAddr = a.ptr(3);
  if ((oflag & O.ACCMODE) === O.ACCMODE) return -E.EINVAL;
  if (name.length > 255) return -E.ENAMETOOLONG;
  if (name === '' || name.includes('/') || name === '.' || name === '..') return -E.EACCES;
  const fs = t.nsproxy.ipc.sysv.mqueue;
  let q = fs.queues.get(name);
  if (q !== undefined) {
    if ((oflag & O.CREAT) !== 0 && (oflag & O.EXCL) !== 0) return -E.EEXIST;
  } else {
    if ((oflag & O.CREAT) === 0) return -E.ENOENT;
    let attr: { maxmsg: number; msgsize: number } | undefined;
    if (attrAddr !== 0) {
      const b = t.mem.copyIn(attrAddr, 64);
      if (isErr(b)) return -b.errno;
      const dv = new DataView(b.buffer, b.byteOffset, 64);
      const maxmsg = Number(dv.getBigInt64(8, true));
      const msgsize = Number(dv.getBigInt64(16, true));
      if (maxmsg <= 0 || msgsize <= 0) return -E.EINVAL;
      if (t.creds.hasCap(CAP_SYS_RESOURCE)) {
        if (maxmsg > HARD_MSGMAX || msgsize > HARD_MSGSIZEMAX) return -E.EINVAL;
      } else if (maxmsg > fs.limits.msgMax || msgsize > fs.limits.msgsizeMax) return -E.EINVAL;
      attr = { maxmsg, msgsize };
    }
    const made = fs.createQueue(name, mode & ~t.fs.umask, t.creds, attr);
    if (isErr(made)) return -made.errno;
    q = made;
  }
  const acc = oflag & O.ACCMODE;
  const want = acc === O.RDONLY ? MAY_READ : acc === O.WRONLY ? MAY_WRITE : MAY_READ | MAY_WRITE;
  if (!permits(t, q, want)) return -E.EACCES;
  const f = new MqFile(acc | (oflag & O.NONBLOCK), null, q);
  f.ownerTgid = t.tg.pid;
  const fd = t.fds.install(f, { cloexec: (oflag & O.CLOEXEC) !== 0 });
  f.decRef();
  return isErr(fd) ? -fd.errno : fd;
};

const sysMqUnlink = (t: Task, a: SyscallArgs): number => {
  const name = t.mem.readCString(a.ptr(0), 4096);
  if (isErr(name)) return -name.errno;
  if (name.length > 255) return -E.ENAMETOOLONG;
  const fs = t.nsproxy.ipc.sysv.mqueue;
  const q = fs.queues.get(name);
  if (q === undefined) return -E.ENOENT;
  // The root is sticky and world-writable: only the owner (or CAP_FOWNER) removes a queue.
  if (t.creds.fsuid !== q.uid && !t.creds.hasCap(3 /* CAP_FOWNER */)) return -E.EPERM;
  fs.queues.delete(name);
  return 0;
};

const sysMqTimedsend = (t: Task, a: SyscallArgs): number | Promise<number> => {
  const ptr = a.ptr(1);
  const len = a.size(2);
  const prio = a.uint(3);
  if (prio >= MQ_PRIO_MAX) return -E.EINVAL;
  const end = absDeadline(t, a.ptr(4));
  if (typeof end === 'number') return end;
  const f = mqFile(t, a.int(0));
  if (typeof f === 'number') return f;
  if (!f.writable) return -E.EBADF;
  const q = f.queue;
  if (len > q.msgsize) return -E.EMSGSIZE;
  const data = t.mem.copyIn(ptr, len);
  if (isErr(data)) return -data.errno;
  const m: MqMessage = { prio, data: data.slice() };
  if (!q.full) {
    q.send(m, t.tg.pid, t.creds.uid);
    return 0;
  }
  if (f.nonblocking) return -E.EAGAIN;
  return restartable(park(t, (complete) => {
    let live = true;
    const retry = (): void => {
      if (!live) return;
      if (q.full) q.senders.add(retry);
      else {
        q.send(m, t.tg.pid, t.creds.uid);
        complete(0);
      }
    };
    q.senders.add(retry);
    return () => {
      live = false;
      q.senders.delete(retry);
    };
  }, end, E.ETIMEDOUT));
};

/** Copies a message out; returns its length. */
function deliver(t: Task, m: MqMessage, ptr: number, prioPtr: number): number {
  const w = t.mem.copyOut(ptr, m.data);
  if (isErr(w)) return -w.errno;
  if (prioPtr !== 0) {
    const p = t.mem.writeU32(prioPtr, m.prio);
    if (isErr(p)) return -p.errno;
  }
  return m.data.length;
}

const sysMqTimedreceive = (t: Task, a: SyscallArgs): number | Promise<number> => {
  const ptr = a.ptr(1);
  const len = a.size(2);
  const prioPtr = a.ptr(3);
  const end = absDeadline(t, a.ptr(4));
  if (typeof end === 'number') return end;
  const f = mqFile(t, a.int(0));
  if (typeof f === 'number') return f;
  if (!f.readable) return -E.EBADF;
  const q = f.queue;
  if (len < q.msgsize) return -E.EMSGSIZE;
  const m = q.take();
  if (m !== undefined) return deliver(t, m, ptr, prioPtr);
  if (f.nonblocking) return -E.EAGAIN;
  return restartable(park(t, (complete) => {
    const r = { complete: (msg: MqMessage): void => complete(deliver(t, msg, ptr, prioPtr)) };
    q.receivers.push(r);
    return () => {
      const i = q.receivers.indexOf(r);
      if (i >= 0) q.receivers.splice(i, 1);
    };
  }, end, E.ETIMEDOUT));
};

let threadNotifyLogged = false;

const sysMqNotify = (t: Task, a: SyscallArgs): number => {
  const sevp = a.ptr(1);
  let signo = 0;
  let value = 0n;
  let how = -1;
  if (sevp !== 0) {
    const b = t.mem.copyIn(sevp, 64);
    if (isErr(b)) return -b.errno;
    const dv = new DataView(b.buffer, b.byteOffset, 64);
    value = dv.getBigUint64(0, true);
    signo = dv.getInt32(8, true);
    how = dv.getInt32(12, true);
    if (how === SIGEV_THREAD) {
      // SIGEV_THREAD needs a netlink notification socket the Sentry does not provide.
      if (!threadNotifyLogged) {
        threadNotifyLogged = true;
        t.kernel.log('mq_notify: SIGEV_THREAD is not supported: EINVAL');
      }
      return -E.EINVAL;
    }
    if (how !== SIGEV_SIGNAL && how !== SIGEV_NONE) return -E.EINVAL;
    if (how === SIGEV_SIGNAL && (signo < 1 || signo > 64)) return -E.EINVAL;
  }
  const f = mqFile(t, a.int(0));
  if (typeof f === 'number') return f;
  const q = f.queue;
  const tg = t.tg;
  if (sevp === 0) {
    if (q.notify?.tgid === tg.pid) q.notify = undefined;
    return 0;
  }
  if (q.notify !== undefined) return -E.EBUSY;
  const sig = how === SIGEV_SIGNAL ? signo : 0;
  q.notify = {
    tgid: tg.pid, signo: sig, value,
    fire: (pid, uid) => {
      if (sig === 0 || tg.exiting || tg.zombie) return;
      t.kernel.sendSignal(tg, sig, makeSiginfo(sig, { code: SI_MESGQ, pid: tg.pidNs.idOf(pid), uid, value }));
    },
  };
  f.ownerTgid = tg.pid;
  return 0;
};

const sysMqGetsetattr = (t: Task, a: SyscallArgs): number => {
  const f = mqFile(t, a.int(0));
  const newAddr = a.ptr(1);
  const oldAddr = a.ptr(2);
  let newFlags: number | undefined;
  if (newAddr !== 0) {
    const b = t.mem.copyIn(newAddr, 64);
    if (isErr(b)) return -b.errno;
    newFlags = Number(new DataView(b.buffer, b.byteOffset, 64).getBigInt64(0, true));
    if ((newFlags & ~O.NONBLOCK) !== 0) return -E.EINVAL;
  }
  if (typeof f === 'number') return f;
  if (oldAddr !== 0) {
    const b = new Uint8Array(64);
    const dv = new DataView(b.buffer);
    dv.setBigInt64(0, BigInt(f.flags & O.NONBLOCK), true);
    dv.setBigInt64(8, BigInt(f.queue.maxmsg), true);
    dv.setBigInt64(16, BigInt(f.queue.msgsize), true);
    dv.setBigInt64(24, BigInt(f.queue.msgs.length), true);
    const w = t.mem.copyOut(oldAddr, b);
    if (isErr(w)) return -w.errno;
  }
  if (newFlags !== undefined) f.flags = (f.flags & ~O.NONBLOCK) | newFlags;
  return 0;
};

export const mqueueSyscalls: SyscallTable = {
  [SYS.mq_open]: sysMqOpen,
  [SYS.mq_unlink]: sysMqUnlink,
  [SYS.mq_timedsend]: sysMqTimedsend,
  [SYS.mq_timedreceive]: sysMqTimedreceive,
  [SYS.mq_notify]: sysMqNotify,
  [SYS.mq_getsetattr]: sysMqGetsetattr,
};

