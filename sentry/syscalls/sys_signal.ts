// Signal syscalls: actions, masks, the alternate stack, sending (kill, tgkill, sigqueue),
// waiting (sigsuspend, sigtimedwait, pause) and rt_sigreturn.

import { E } from '../abi/errno.js';
import { REG } from '../abi/regs.js';
import { isErr } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import {
  dequeueSignal, deliverableMask, ERESTARTNOHAND, interruptSignal, isIgnored, UNBLOCKABLE,
} from '../kernel/signal_delivery.js';
import { onAltStack, popSignalFrame, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK } from '../kernel/signal_frame.js';
import { SIG } from '../kernel/signals.js';
import { SI_TKILL } from '../kernel/sigqueue.js';
import type { Task } from '../kernel/task.js';
import { atDeadline, type Deadline } from '../kernel/deadline.js';
import type { ThreadGroup } from '../kernel/thread_group.js';
import { groupByVpid, rootId, taskByVtid } from '../kernel/pid_namespace.js';
import type { SyscallHandler, SyscallTable } from './types.js';
import { SignalFdFile } from '../fs/signalfd/signalfd.js';
import { readTimespec } from './timespec.js';

const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const SIG_SETMASK = 2;
const MINSIGSTKSZ = 2048;

function readSigset(t: Task, addr: number): bigint | number {
  const b = t.mem.copyIn(addr, 8);
  if (isErr(b)) return -b.errno;
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}

function writeSigset(t: Task, addr: number, v: bigint): number {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  const r = t.mem.copyOut(addr, b);
  return isErr(r) ? -r.errno : 0;
}

/** Drops pending instances of signo everywhere in the group (it became ignored). */
function flushPending(tg: ThreadGroup, signo: number): void {
  tg.sharedPending.discard(signo);
  for (const x of tg.tasks) x.pending.discard(signo);
}

/** rt_sigaction(sig, act, oldact, sigsetsize): SIGKILL/SIGSTOP cannot be changed. */
const sysRtSigaction: SyscallHandler = (t, a) => {
  const sig = a.int(0);
  const act = a.ptr(1);
  const old = a.ptr(2);
  if (a.size(3) !== 8) return -E.EINVAL;
  if (sig < 1 || sig > 64) return -E.EINVAL;
  const cur = t.tg.sigactions[sig];
  let next = cur;
  if (act !== 0) {
    if (sig === SIG.SIGKILL || sig === SIG.SIGSTOP) return -E.EINVAL;
    const b = t.mem.copyIn(act, 32);
    if (isErr(b)) return -b.errno;
    const dv = new DataView(b.buffer, b.byteOffset, 32);
    next = {
      handler: dv.getBigUint64(0, true),
      flags: dv.getBigUint64(8, true) & 0xffffffffn,
      restorer: dv.getBigUint64(16, true),
      mask: dv.getBigUint64(24, true) & ~UNBLOCKABLE,
    };
  }
  if (old !== 0) {
    const b = new Uint8Array(32);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, cur.handler, true);
    dv.setBigUint64(8, cur.flags, true);
    dv.setBigUint64(16, cur.restorer, true);
    dv.setBigUint64(24, cur.mask, true);
    const r = t.mem.copyOut(old, b);
    if (isErr(r)) return -r.errno;
  }
  t.tg.sigactions[sig] = next;
  // POSIX: setting a pending signal to be ignored discards it.
  if (act !== 0 && isIgnored(t.tg, sig)) flushPending(t.tg, sig);
  return 0;
};

/** rt_sigprocmask(how, set, oldset, sigsetsize). */
const sysRtSigprocmask: SyscallHandler = (t, a) => {
  const how = a.int(0);
  const set = a.ptr(1);
  const old = a.ptr(2);
  if (a.size(3) !== 8) return -E.EINVAL;
  const prev = t.sigmask;
  if (set !== 0) {
    const m = readSigset(t, set);
    if (typeof m === 'number') return m;
    switch (how) {
      case SIG_BLOCK: t.sigmask = prev | m; break;
      case SIG_UNBLOCK: t.sigmask = prev & ~m; break;
      case SIG_SETMASK: t.sigmask = m; break;
      default: return -E.EINVAL;
    }
    t.sigmask &= ~UNBLOCKABLE;
  }
  if (old !== 0) return writeSigset(t, old, prev);
  return 0;
};

/** sigaltstack(ss, old_ss): EPERM while running on it; SS_ONSTACK reported when on it. */
const sysSigaltstack: SyscallHandler = (t, a) => {
  const ss = a.ptr(0);
  const old = a.ptr(1);
  const on = onAltStack(t, t.regs.get(REG.rsp));
  let next: typeof t.altStack | undefined;
  if (ss !== 0) {
    const b = t.mem.copyIn(ss, 24);
    if (isErr(b)) return -b.errno;
    const dv = new DataView(b.buffer, b.byteOffset, 24);
    const flags = dv.getInt32(8, true);
    const mode = flags & ~SS_AUTODISARM;
    if (mode !== 0 && mode !== SS_DISABLE && mode !== SS_ONSTACK) return -E.EINVAL;
    if (on) return -E.EPERM;
    if (mode === SS_DISABLE) next = { sp: 0, flags: SS_DISABLE, size: 0 };
    else {
      const size = Number(dv.getBigUint64(16, true));
      if (size < MINSIGSTKSZ) return -E.ENOMEM;
      next = { sp: Number(dv.getBigUint64(0, true)), flags: flags & SS_AUTODISARM, size };
    }
  }
  if (old !== 0) {
    const b = new Uint8Array(24);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, BigInt(t.altStack.sp), true);
    dv.setInt32(8, on ? SS_ONSTACK : t.altStack.flags, true);
    dv.setBigUint64(16, BigInt(t.altStack.size), true);
    const r = t.mem.copyOut(old, b);
    if (isErr(r)) return -r.errno;
  }
  if (next !== undefined) t.altStack = next;
  return 0;
};

/** rt_sigreturn: the handler returned through sa_restorer; restore what the frame saved. */
const sysRtSigreturn: SyscallHandler = (t) => {
  const mask = popSignalFrame(t);
  if (isErr(mask)) {
    t.kernel.forceSignal(t, SIG.SIGSEGV, new Uint8Array(128));
    return 0;
  }
  t.sigmask = mask & ~UNBLOCKABLE;
  t.regsReplaced = true;
  return 0;
};

/** kill(2)'s targets; pids are the caller's namespace's, and only processes it sees count. */
function killTargets(t: Task, pid: number): ThreadGroup[] {
  const k = t.kernel;
  const ns = t.tg.pidNs;
  const live = (g: ThreadGroup | undefined): g is ThreadGroup => g !== undefined && !g.zombie && g.tasks.size > 0;
  const visible = (g: ThreadGroup): boolean => ns.idOf(g.pid) !== 0;
  if (pid > 0) return [groupByVpid(t, pid)].filter(live);
  if (pid === 0) return [...k.groups.values()].filter((g) => live(g) && visible(g) && g.pgid === t.tg.pgid);
  // -1: everyone the caller sees but itself and its namespace's init.
  if (pid === -1) return [...k.groups.values()].filter((g) => live(g) && ns.idOf(g.pid) > 1 && g !== t.tg);
  const pg = rootId(t, -pid);
  return [...k.groups.values()].filter((g) => live(g) && visible(g) && g.pgid === pg);
}

const CAP_KILL = 5;

/**
 * kill_permission: CAP_KILL, or the sender's real or effective uid matching the target's
 * real or saved uid; SIGCONT within a session is always allowed.
 */
function maySignal(t: Task, g: ThreadGroup, sig: number): boolean {
  if (t.creds.hasCap(CAP_KILL) || g === t.tg) return true;
  if (sig === SIG.SIGCONT && g.sid === t.tg.sid) return true;
  const c = g.leader?.creds;
  if (c === undefined) return true;
  return [t.creds.uid, t.creds.euid].some((u) => u === c.uid || u === c.suid);
}

/** kill(pid, sig): pid > 0 one process, 0 our group, -1 everyone but init, < -1 a group. */
const sysKill: SyscallHandler = (t, a) => {
  const pid = a.int(0);
  const sig = a.int(1);
  if (sig < 0 || sig > 64) return -E.EINVAL;
  if (pid === -2147483648) return -E.ESRCH;
  const targets = killTargets(t, pid);
  if (targets.length === 0) return -E.ESRCH;
  let sent = 0;
  for (const g of targets) {
    if (!maySignal(t, g, sig)) continue;
    t.kernel.sendSignal(g, sig, t.kernel.userSiginfo(t, sig, undefined, g), t);
    sent++;
  }
  return sent > 0 ? 0 : -E.EPERM;
};

function taskFor(t: Task, tgid: number, tid: number): Task | undefined {
  const task = taskByVtid(t, tid);
  if (task === undefined || task.state === 'dead' || (tgid > 0 && task.pid !== rootId(t, tgid))) return undefined;
  return task;
}

/** tgkill/tkill: sig to thread tid, which must belong to tgid unless tgid is 0 (tkill). */
function killThread(t: Task, tgid: number, tid: number, sig: number): number {
  if (tid <= 0 || sig < 0 || sig > 64) return -E.EINVAL;
  const task = taskFor(t, tgid, tid);
  if (task === undefined) return -E.ESRCH;
  if (!maySignal(t, task.tg, sig)) return -E.EPERM;
  t.kernel.sendSignalToTask(task, sig, t.kernel.userSiginfo(t, sig, SI_TKILL, task.tg), t);
  return 0;
}

const sysTgkill: SyscallHandler = (t, a) => (a.int(0) <= 0 ? -E.EINVAL : killThread(t, a.int(0), a.int(1), a.int(2)));

const sysTkill: SyscallHandler = (t, a) => killThread(t, 0, a.int(0), a.int(1));

/** Reads a user siginfo for sigqueue; senders may not forge kernel codes for others. */
function userInfo(t: Task, addr: number, sig: number, target: ThreadGroup): Uint8Array | number {
  const b = t.mem.copyIn(addr, 128);
  if (isErr(b)) return -b.errno;
  const info = new Uint8Array(b);
  const dv = new DataView(info.buffer);
  const code = dv.getInt32(8, true);
  if ((code >= 0 || code === SI_TKILL) && target !== t.tg) return -E.EPERM;
  dv.setInt32(0, sig, true);
  return info;
}

/** rt_sigqueueinfo(tgid, sig, info): a signal with data to a process. */
const sysRtSigqueueinfo: SyscallHandler = (t, a) => {
  const pid = a.int(0);
  const sig = a.int(1);
  if (sig < 0 || sig > 64) return -E.EINVAL;
  const g = pid > 0 ? groupByVpid(t, pid) : undefined;
  if (g === undefined || g.zombie) return -E.ESRCH;
  const info = userInfo(t, a.ptr(2), sig, g);
  if (typeof info === 'number') return info;
  if (!maySignal(t, g, sig)) return -E.EPERM;
  const r = t.kernel.sendSignal(g, sig, info, t);
  return isErr(r) ? -r.errno : 0;
};

/** rt_tgsigqueueinfo(tgid, tid, sig, info): the same, to one thread. */
const sysRtTgsigqueueinfo: SyscallHandler = (t, a) => {
  const tgid = a.int(0);
  const tid = a.int(1);
  const sig = a.int(2);
  if (tgid <= 0 || tid <= 0 || sig < 0 || sig > 64) return -E.EINVAL;
  const task = taskFor(t, tgid, tid);
  if (task === undefined) return -E.ESRCH;
  const info = userInfo(t, a.ptr(3), sig, task.tg);
  if (typeof info === 'number') return info;
  if (!maySignal(t, task.tg, sig)) return -E.EPERM;
  const r = t.kernel.sendSignalToTask(task, sig, info, t);
  return isErr(r) ? -r.errno : 0;
};

/** rt_sigpending(set, size): pending for the thread or the process, blocked or not. */
const sysRtSigpending: SyscallHandler = (t, a) => {
  if (a.size(1) > 8) return -E.EINVAL;
  return writeSigset(t, a.ptr(0), (t.pending.mask | t.tg.sharedPending.mask) & t.sigmask);
};

/** Parks until a signal is due for t; the caller returns ERESTARTNOHAND (EINTR). */
function waitForSignal(t: Task): Promise<number> {
  const signal = interruptSignal(t);
  if (signal.aborted) return Promise.resolve(-ERESTARTNOHAND);
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(-ERESTARTNOHAND), { once: true }));
}

/** rt_sigsuspend(mask, size): waits with a temporary mask; always EINTR after a handler. */
const sysRtSigsuspend: SyscallHandler = (t, a) => {
  if (a.size(1) !== 8) return -E.EINVAL;
  const m = readSigset(t, a.ptr(0));
  if (typeof m === 'number') return m;
  t.savedMask = t.sigmask;
  t.sigmask = m & ~UNBLOCKABLE;
  return waitForSignal(t);
};

/** pause(): waits for any signal that runs a handler or ends the process. */
const sysPause: SyscallHandler = (t) => waitForSignal(t);

/** Writes a siginfo taken by sigtimedwait. */
function copySiginfo(t: Task, addr: number, info: Uint8Array): number {
  if (addr === 0) return 0;
  const r = t.mem.copyOut(addr, info);
  return isErr(r) ? -r.errno : 0;
}

/**
 * rt_sigtimedwait(set, info, timeout, size): takes a pending signal of set, waiting (with
 * set unblocked for wake-ups) up to timeout; EAGAIN on timeout, EINTR for other signals.
 */
const sysRtSigtimedwait: SyscallHandler = (t, a) => {
  if (a.size(3) !== 8) return -E.EINVAL;
  const set = readSigset(t, a.ptr(0));
  if (typeof set === 'number') return set;
  const want = set & ~UNBLOCKABLE;
  const infoAddr = a.ptr(1);
  let ms: number | undefined;
  if (a.ptr(2) !== 0) {
    const ns = readTimespec(t, a.ptr(2));
    if (typeof ns === 'number') return ns;
    ms = Number(ns) / 1e6;
  }
  const take = (): number | undefined => {
    const s = dequeueSignal(t, want);
    if (s === undefined) return undefined;
    const w = copySiginfo(t, infoAddr, s.info);
    return w < 0 ? w : s.signo;
  };
  const now = take();
  if (now !== undefined) return now;
  if (ms === 0) return -E.EAGAIN;
  // While waiting, the set is deliverable (so it wakes us) but not to handlers.
  t.realBlocked = t.sigmask;
  t.sigmask = t.sigmask & ~want;
  const signal = interruptSignal(t);
  const restore = (): void => {
    if (t.realBlocked !== undefined) t.sigmask = t.realBlocked;
    t.realBlocked = undefined;
  };
  return new Promise<number>((resolve) => {
    let timer: Deadline | undefined;
    const finish = (r: number): void => {
      timer?.cancel();
      signal.removeEventListener('abort', onAbort);
      restore();
      resolve(r);
    };
    const onAbort = (): void => {
      restore();
      const got = take();
      finish(got ?? -E.EINTR);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    if (ms !== undefined) timer = atDeadline(process.hrtime.bigint() + BigInt(Math.round(ms * 1e6)), () => finish(-E.EAGAIN));
  });
};

/** Whether any signal is deliverable to t right now (for ppoll/pselect style callers). */
export function signalDue(t: Task): boolean {
  return deliverableMask(t) !== 0n;
}

export const signalSyscalls: SyscallTable = {
  [SYS.rt_sigaction]: sysRtSigaction,
  [SYS.rt_sigprocmask]: sysRtSigprocmask,
  [SYS.sigaltstack]: sysSigaltstack,
  [SYS.rt_sigreturn]: sysRtSigreturn,
  [SYS.kill]: sysKill,
  [SYS.tgkill]: sysTgkill,
  [SYS.tkill]: sysTkill,
  [SYS.rt_sigqueueinfo]: sysRtSigqueueinfo,
  [SYS.rt_tgsigqueueinfo]: sysRtTgsigqueueinfo,
  [SYS.rt_sigpending]: sysRtSigpending,
  [SYS.rt_sigsuspend]: sysRtSigsuspend,
  [SYS.pause]: sysPause,
  [SYS.rt_sigtimedwait]: sysRtSigtimedwait,
  [SYS.signalfd]: (t, a) => doSignalfd(t, a.int(0), a.ptr(1), a.size(2), 0),
  [SYS.signalfd4]: (t, a) => doSignalfd(t, a.int(0), a.ptr(1), a.size(2), a.int(3)),
};

/**
 * signalfd4(fd, mask, sizemask, flags): a new signalfd, or (fd != -1) a new mask for an
 * existing one. SIGKILL and SIGSTOP are silently left out of the mask.
 */
function doSignalfd(t: Task, fd: number, maskAddr: number, size: number, flags: number): number {
  const SFD_NONBLOCK = 0o4000;
  const SFD_CLOEXEC = 0o2000000;
  if ((flags & ~(SFD_NONBLOCK | SFD_CLOEXEC)) !== 0) return -E.EINVAL;
  if (size !== 8) return -E.EINVAL;
  const m = readSigset(t, maskAddr);
  if (typeof m === 'number') return m;
  const mask = m & ~UNBLOCKABLE;
  if (fd !== -1) {
    const f = t.fds.get(fd);
    if (f === undefined) return -E.EBADF;
    if (!(f instanceof SignalFdFile)) return -E.EINVAL;
    f.mask = mask;
    return fd;
  }
  const f = new SignalFdFile(t, mask, flags & SFD_NONBLOCK);
  const r = t.fds.install(f, { cloexec: (flags & SFD_CLOEXEC) !== 0 });
  f.decRef();
  return isErr(r) ? -r.errno : r;
}
