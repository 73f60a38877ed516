// Process lifecycle: clone/fork/vfork, execve, exit, wait4, and the process tree.

import { E } from '../abi/errno.js';
import { REG } from '../abi/regs.js';
import { isErr } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import type { Task } from '../kernel/task.js';
import type { ThreadGroup } from '../kernel/thread_group.js';
import type { SyscallHandler, SyscallTable } from './types.js';
import { interruptSignal } from '../kernel/signal_delivery.js';
import { CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, makeSiginfo } from '../kernel/sigqueue.js';
import { groupByVpid, rootId, vpid } from '../kernel/pid_namespace.js';
import { cloneNamespaces, CLONE_NS_MASK, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER } from './sys_namespace.js';
import { MountNamespace } from '../vfs/mount.js';

const CLONE_VM = 0x100;
const CLONE_FS = 0x200;
const CLONE_FILES = 0x400;
const CLONE_SIGHAND = 0x800;
const CLONE_PIDFD = 0x1000;
const CLONE_VFORK = 0x4000;
const CLONE_THREAD = 0x10000;
const CLONE_SETTLS = 0x80000;
const CLONE_PARENT_SETTID = 0x100000;
const CLONE_CHILD_CLEARTID = 0x200000;
const CLONE_CHILD_SETTID = 0x1000000;

/**
 * clone(flags, stack, parent_tid, child_tid, tls): threads (CLONE_THREAD), new processes,
 * and CLONE_VM children that share the parent's memory until they exec (vfork, posix_spawn).
 */
function doClone(t: Task, flags: number, stack: number, ptid: number, ctid: number, tls: number): number | Promise<number> {
  const exitSignal = flags & 0xff;
  flags = flags & ~0xff;
  if ((flags & CLONE_THREAD) !== 0 && (flags & CLONE_SIGHAND) === 0) return -E.EINVAL;
  if ((flags & CLONE_SIGHAND) !== 0 && (flags & CLONE_VM) === 0) return -E.EINVAL;
  if ((flags & CLONE_THREAD) !== 0 && (flags & (CLONE_NEWPID | CLONE_NEWUSER)) !== 0) return -E.EINVAL;
  if ((flags & CLONE_NEWNS) !== 0 && (flags & CLONE_FS) !== 0) return -E.EINVAL;
  if ((flags & CLONE_THREAD) !== 0) {
    // A thread must live in its group's pid namespace (not one unshare(CLONE_NEWPID) prepared).
    if (t.nsproxy.pidForChildren !== t.tg.pidNs || (flags & CLONE_NS_MASK) !== 0) return -E.EINVAL;
    // Threads share the group, memory, fd table and fs context (all Linux's threads do).
    if ((flags & (CLONE_FILES | CLONE_FS)) !== (CLONE_FILES | CLONE_FS)) {
      t.kernel.log(`clone(CLONE_THREAD) without CLONE_FILES|CLONE_FS is not supported (flags 0x${flags.toString(16)})`);
      return -E.EINVAL;
    }
    const regs = t.regs.clone();
    regs.set(REG.rax, 0);
    if (stack !== 0) regs.set(REG.rsp, stack);
    if ((flags & CLONE_SETTLS) !== 0) regs.set(REG.fs_base, tls);
    const th = t.kernel.cloneThread(t, regs);
    if (isErr(th)) return -th.errno;
    const vtid = vpid(t, th.tid);
    if ((flags & CLONE_PARENT_SETTID) !== 0) t.mem.writeU32(ptid, vtid);
    if ((flags & CLONE_CHILD_SETTID) !== 0) th.mem.writeU32(ctid, vtid);
    if ((flags & CLONE_CHILD_CLEARTID) !== 0) th.clearChildTid = ctid;
    th.state = 'running';
    th.thread.resume();
    return vtid;
  }
  if ((flags & (CLONE_FILES | CLONE_FS)) !== 0 && (flags & CLONE_VM) === 0) {
    t.kernel.log(`clone: sharing fd tables or fs context between processes is not supported yet`);
    return -E.EINVAL;
  }
  const regs = t.regs.clone();
  regs.set(REG.rax, 0);
  if (stack !== 0) regs.set(REG.rsp, stack);
  if ((flags & CLONE_SETTLS) !== 0) regs.set(REG.fs_base, tls);
  const ns = cloneNamespaces(t, flags);
  if (isErr(ns)) return -ns.errno;
  const child = t.kernel.forkProcess(t, (flags & CLONE_VM) !== 0, regs, exitSignal, ns.ns);
  if (isErr(child)) return -child.errno;
  if (ns.mounts !== undefined) {
    // The child's root and cwd move to the same places in its copy of the mount tree.
    child.fs.root = MountNamespace.remap(child.fs.root, ns.mounts);
    child.fs.cwd = MountNamespace.remap(child.fs.cwd, ns.mounts);
  }
  const childPid = vpid(t, child.tid);
  if ((flags & CLONE_PARENT_SETTID) !== 0) t.mem.writeU32(ptid, childPid);
  if ((flags & CLONE_CHILD_SETTID) !== 0) child.mem.writeU32(ctid, vpid(child, child.tid));
  if ((flags & CLONE_CHILD_CLEARTID) !== 0) child.clearChildTid = ctid;
  child.state = 'running';
  child.thread.resume();
  if ((flags & CLONE_VFORK) !== 0) {
    // The parent sleeps until the child execs or exits: it shares our memory meanwhile.
    return new Promise<void>((resolve) => (child.tg.vforkDone = resolve)).then(() => childPid);
  }
  return childPid;
}

const sysClone: SyscallHandler = (t, a) => doClone(t, a.int(0) >>> 0, a.ptr(1), a.ptr(2), a.ptr(3), a.ptr(4));

/** clone3(struct clone_args *, size): the same as clone with a struct. */
const sysClone3: SyscallHandler = (t, a) => {
  const size = a.size(1);
  if (size < 64 || size > 4096) return -E.EINVAL;
  const b = t.mem.copyIn(a.ptr(0), 64);
  if (isErr(b)) return -b.errno;
  const dv = new DataView(b.buffer, b.byteOffset, 64);
  const u = (o: number): number => dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 4294967296;
  const flags = u(0);
  const exitSignal = u(32);
  if (exitSignal > 64) return -E.EINVAL;
  const stack = u(40);
  const stackSize = u(48);
  if ((flags & CLONE_PIDFD) !== 0) return -E.EINVAL;
  const sp = stack !== 0 ? stack + stackSize : 0;
  return doClone(t, (flags & ~0xff) | exitSignal, sp, u(24), u(16), u(56));
};

const sysFork: SyscallHandler = (t) => doClone(t, 17, 0, 0, 0, 0);
const sysVfork: SyscallHandler = (t) => doClone(t, CLONE_VM | CLONE_VFORK | 17, 0, 0, 0, 0);

/** Reads a NULL-terminated array of string pointers (argv/envp) within Linux's limits. */
function readStringArray(t: Task, addr: number): string[] | number {
  const out: string[] = [];
  if (addr === 0) return out;
  let total = 0;
  for (let i = 0; ; i++) {
    if (i > 0x7fffffff / 8) return -E.E2BIG;
    const p = t.mem.readU64(addr + i * 8);
    if (isErr(p)) return -p.errno;
    if (p === 0) return out;
    const s = t.mem.readCBytes(p, 32 * 4096);
    if (isErr(s)) return -s.errno;
    total += s.length + 1 + 8;
    if (total > 2 * 1024 * 1024) return -E.E2BIG;
    out.push(Buffer.from(s).toString('latin1'));
  }
}

/** execve(path, argv, envp): on success never returns; the new image starts in the same task. */
const sysExecve: SyscallHandler = async (t, a) => {
  const path = t.mem.readCString(a.ptr(0), 4095);
  if (isErr(path)) return -path.errno;
  const argv = readStringArray(t, a.ptr(1));
  if (typeof argv === 'number') return argv;
  const envp = readStringArray(t, a.ptr(2));
  if (typeof envp === 'number') return envp;
  const r = await t.kernel.execInto(t, path, argv, envp);
  if (isErr(r)) return -r.errno;
  return 0;
};

const sysExecveat: SyscallHandler = async (t, a) => {
  const AT_EMPTY_PATH = 0x1000;
  const dirfd = a.int(0);
  const path = t.mem.readCString(a.ptr(1), 4095);
  if (isErr(path)) return -path.errno;
  if (dirfd !== -100 && !path.startsWith('/')) {
    // Relative to a directory fd: the VFS resolves it via /proc/self/fd style paths later.
    if ((a.int(4) & AT_EMPTY_PATH) !== 0 || path !== '') return -E.ENOSYS;
  }
  const argv = readStringArray(t, a.ptr(2));
  if (typeof argv === 'number') return argv;
  const envp = readStringArray(t, a.ptr(3));
  if (typeof envp === 'number') return envp;
  const r = await t.kernel.execInto(t, path, argv, envp);
  return isErr(r) ? -r.errno : 0;
};

const sysExit: SyscallHandler = (t, a) => {
  if (t.tg.tasks.size <= 1) t.kernel.exitGroup(t, 0, a.int(0));
  else t.kernel.exitThread(t);
  return 0;
};

const sysExitGroup: SyscallHandler = (t, a) => {
  t.kernel.exitGroup(t, 0, a.int(0));
  return 0;
};

const WNOHANG = 1;
const WUNTRACED = 2;
const WSTOPPED = 2;
const WEXITED = 4;
const WCONTINUED = 8;
const WNOWAIT = 0x1000000;
const WNOTHREAD = 0x20000000;
const WALL = 0x40000000;
const WCLONE = 0x80000000;
const SIGCHLD = 17;

type Match = (c: ThreadGroup) => boolean;

interface WaitEvent {
  child: ThreadGroup;
  kind: 'exited' | 'stopped' | 'continued';
}

/** The first child state change `options` asks for, or why there is none. */
function findEvent(t: Task, match: Match, options: number): WaitEvent | 'none' | 'nochild' {
  const candidates = [...t.tg.children].filter((c) => {
    if (c.reaped || !match(c)) return false;
    if ((options & WALL) !== 0) return true;
    // __WCLONE selects children that report with a signal other than SIGCHLD.
    return ((options & WCLONE) !== 0) === (c.exitSignal !== SIGCHLD);
  });
  if (candidates.length === 0) return 'nochild';
  for (const c of candidates) {
    if (c.zombie && (options & WEXITED) !== 0) return { child: c, kind: 'exited' };
    if ((options & WSTOPPED) !== 0 && c.stopped && c.waitStopSig !== 0) return { child: c, kind: 'stopped' };
    if ((options & WCONTINUED) !== 0 && c.waitContinued) return { child: c, kind: 'continued' };
  }
  return 'none';
}

/** Parks until a child changes state; false when a signal interrupted the wait. */
function childEvent(t: Task): Promise<boolean> {
  return t.tg.childEvents.wait(interruptSignal(t));
}

/** A struct rusage with only the CPU time (as user time): the host gives no split. */
function writeRusage(t: Task, addr: number, cpuNs: bigint): number {
  const b = new Uint8Array(144);
  const dv = new DataView(b.buffer);
  const us = cpuNs / 1000n;
  dv.setBigInt64(0, us / 1_000_000n, true);
  dv.setBigInt64(8, us % 1_000_000n, true);
  const r = t.mem.copyOut(addr, b);
  return isErr(r) ? -r.errno : 0;
}

/** Consumes the event (unless WNOWAIT) and returns its wait(2) status word. */
function consume(t: Task, ev: WaitEvent, options: number): number {
  const c = ev.child;
  if (ev.kind === 'exited') {
    if ((options & WNOWAIT) === 0) t.kernel.reap(c);
    return c.exitStatus ?? 0;
  }
  if (ev.kind === 'stopped') {
    const sig = c.waitStopSig;
    if ((options & WNOWAIT) === 0) c.waitStopSig = 0;
    return (sig << 8) | 0x7f;
  }
  if ((options & WNOWAIT) === 0) c.waitContinued = false;
  return 0xffff;
}

/** Which children a wait4 pid argument (in the caller's pid namespace) selects. */
function pidMatch(t: Task, pid: number): Match {
  if (pid > 0) {
    const g = rootId(t, pid);
    return (c) => c.pid === g;
  }
  if (pid === -1) return () => true;
  if (pid === 0) {
    const pg = t.tg.pgid;
    return (c) => c.pgid === pg;
  }
  const pg = rootId(t, -pid);
  return (c) => c.pgid === pg;
}

/** wait4(pid, *status, options, *rusage): reaps a zombie child, or waits for one. */
const sysWait4: SyscallHandler = async (t, a) => {
  const pid = a.int(0);
  const statusAddr = a.ptr(1);
  const options = a.uint(2);
  const rusage = a.ptr(3);
  if ((options & ~(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE)) !== 0) return -E.EINVAL;
  if (pid === -2147483648) return -E.ESRCH;
  const match = pidMatch(t, pid);
  for (;;) {
    const ev = findEvent(t, match, options | WEXITED);
    if (ev === 'nochild') return -E.ECHILD;
    if (ev !== 'none') {
      // The child's id as we see it, taken before reaping frees it.
      const childPid = vpid(t, ev.child.pid);
      const status = consume(t, ev, options);
      if (statusAddr !== 0) {
        const w = t.mem.writeU32(statusAddr, status);
        if (isErr(w)) return -w.errno;
      }
      if (rusage !== 0) {
        const r = writeRusage(t, rusage, ev.kind === 'exited' ? ev.child.cpuNsAtExit + ev.child.childrenCpuNs : 0n);
        if (r < 0) return r;
      }
      return childPid;
    }
    if ((options & WNOHANG) !== 0) return 0;
    if (!(await childEvent(t))) return -E.EINTR;
  }
};

/** waitid(idtype, id, *infop, options, *rusage): like wait4, reporting a siginfo. */
const sysWaitid: SyscallHandler = async (t, a) => {
  const P_ALL = 0;
  const P_PID = 1;
  const P_PGID = 2;
  const idtype = a.int(0);
  const id = a.int(1);
  const infop = a.ptr(2);
  const options = a.uint(3);
  if ((options & ~(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | WNOTHREAD | WALL | WCLONE)) !== 0) return -E.EINVAL;
  if ((options & (WEXITED | WSTOPPED | WCONTINUED)) === 0) return -E.EINVAL;
  let match: Match;
  switch (idtype) {
    case P_ALL: match = () => true; break;
    case P_PID: {
      if (id <= 0) return -E.EINVAL;
      const g = rootId(t, id);
      match = (c) => c.pid === g;
      break;
    }
    case P_PGID: {
      if (id < 0) return -E.EINVAL;
      const pg = id === 0 ? t.tg.pgid : rootId(t, id);
      match = (c) => c.pgid === pg;
      break;
    }
    default: return -E.EINVAL;
  }
  for (;;) {
    const ev = findEvent(t, match, options);
    if (ev === 'nochild') return -E.ECHILD;
    if (ev !== 'none') {
      const c = ev.child;
      const childPid = vpid(t, c.pid);
      const status = consume(t, ev, options);
      if (a.ptr(4) !== 0) {
        const r = writeRusage(t, a.ptr(4), ev.kind === 'exited' ? c.cpuNsAtExit + c.childrenCpuNs : 0n);
        if (r < 0) return r;
      }
      if (infop !== 0) {
        let code: number;
        let st: number;
        if (ev.kind === 'exited') {
          const killed = (status & 0x7f) !== 0;
          code = killed ? ((status & 0x80) !== 0 ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
          st = killed ? status & 0x7f : (status >> 8) & 0xff;
        } else if (ev.kind === 'stopped') {
          code = CLD_STOPPED;
          st = (status >> 8) & 0xff;
        } else {
          code = CLD_CONTINUED;
          st = 18; // SIGCONT
        }
        const w = t.mem.copyOut(infop, makeSiginfo(SIGCHLD, { code, pid: childPid, uid: 0, status: st }));
        if (isErr(w)) return -w.errno;
      }
      return 0;
    }
    if ((options & WNOHANG) !== 0) {
      if (infop !== 0) {
        const w = t.mem.zero(infop, 128);
        if (isErr(w)) return -w.errno;
      }
      return 0;
    }
    if (!(await childEvent(t))) return -E.EINTR;
  }
};

// Ids as the caller's pid namespace sees them: a parent outside it is 0, as on Linux.
const sysGetpid: SyscallHandler = (t) => vpid(t, t.pid);
const sysGettid: SyscallHandler = (t) => vpid(t, t.tid);
const sysGetppid: SyscallHandler = (t) => (t.tg.parent === undefined ? 0 : vpid(t, t.tg.parent.pid));
const sysSetTidAddress: SyscallHandler = (t, a) => {
  t.clearChildTid = a.ptr(0);
  return vpid(t, t.tid);
};
const sysSetRobustList: SyscallHandler = (t, a) => {
  if (a.size(1) !== 24) return -E.EINVAL;
  t.robustList = a.ptr(0);
  return 0;
};

/** arch_prctl: FS/GS bases for TLS. */
const sysArchPrctl: SyscallHandler = (t, a) => {
  const ARCH_SET_GS = 0x1001;
  const ARCH_SET_FS = 0x1002;
  const ARCH_GET_FS = 0x1003;
  const ARCH_GET_GS = 0x1004;
  const code = a.int(0);
  const addr = a.ptr(1);
  switch (code) {
    case ARCH_SET_FS:
      if (addr >= 0x800000000000) return -E.EPERM;
      t.regs.set(REG.fs_base, addr);
      return 0;
    case ARCH_SET_GS:
      if (addr >= 0x800000000000) return -E.EPERM;
      t.regs.set(REG.gs_base, addr);
      return 0;
    case ARCH_GET_FS: {
      const r = t.mem.writeU64(addr, t.regs.get(REG.fs_base));
      return isErr(r) ? -r.errno : 0;
    }
    case ARCH_GET_GS: {
      const r = t.mem.writeU64(addr, t.regs.get(REG.gs_base));
      return isErr(r) ? -r.errno : 0;
    }
    default:
      return -E.EINVAL;
  }
};

const sysGetpgid: SyscallHandler = (t, a) => {
  const pid = a.int(0);
  if (pid === 0) return vpid(t, t.tg.pgid);
  const g = pid < 0 ? undefined : groupByVpid(t, pid);
  return g === undefined || g.reaped ? -E.ESRCH : vpid(t, g.pgid);
};
const sysGetpgrp: SyscallHandler = (t) => vpid(t, t.tg.pgid);
const sysGetsid: SyscallHandler = (t, a) => {
  const pid = a.int(0);
  if (pid === 0) return vpid(t, t.tg.sid);
  const g = pid < 0 ? undefined : groupByVpid(t, pid);
  return g === undefined || g.reaped ? -E.ESRCH : vpid(t, g.sid);
};

/** setpgid(pid, pgid): self or a child in the same session; a session leader cannot move. */
const sysSetpgid: SyscallHandler = (t, a) => {
  const vp = a.int(0) === 0 ? vpid(t, t.pid) : a.int(0);
  const vpg = a.int(1) === 0 ? vp : a.int(1);
  if (vpg < 0) return -E.EINVAL;
  const pid = rootId(t, vp);
  const g = pid === undefined ? undefined : t.kernel.groups.get(pid);
  if (pid === undefined || g === undefined || (g !== t.tg && g.parent !== t.tg)) return -E.ESRCH;
  if (g.sid !== t.tg.sid) return -E.EPERM;
  if (g.sid === g.pid) return -E.EPERM;
  const pgid = rootId(t, vpg);
  if (pgid === undefined) return -E.EPERM;
  if (pgid !== pid && ![...t.kernel.groups.values()].some((o) => o.pgid === pgid && o.sid === t.tg.sid)) return -E.EPERM;
  g.pgid = pgid;
  return 0;
};

/** setsid: fails for a process-group leader. */
const sysSetsid: SyscallHandler = (t) => {
  if ([...t.kernel.groups.values()].some((o) => o !== t.tg && o.pgid === t.pid)) return -E.EPERM;
  if (t.tg.pgid === t.pid) return -E.EPERM;
  t.tg.sid = t.pid;
  t.tg.pgid = t.pid;
  return vpid(t, t.pid);
};

export const processSyscalls: SyscallTable = {
  [SYS.clone]: sysClone,
  [SYS.clone3]: sysClone3,
  [SYS.fork]: sysFork,
  [SYS.vfork]: sysVfork,
  [SYS.execve]: sysExecve,
  [SYS.execveat]: sysExecveat,
  [SYS.exit]: sysExit,
  [SYS.exit_group]: sysExitGroup,
  [SYS.wait4]: sysWait4,
  [SYS.waitid]: sysWaitid,
  [SYS.getpid]: sysGetpid,
  [SYS.gettid]: sysGettid,
  [SYS.getppid]: sysGetppid,
  [SYS.set_tid_address]: sysSetTidAddress,
  [SYS.set_robust_list]: sysSetRobustList,
  [SYS.arch_prctl]: sysArchPrctl,
  [SYS.getpgid]: sysGetpgid,
  [SYS.getpgrp]: sysGetpgrp,
  [SYS.getsid]: sysGetsid,
  [SYS.setpgid]: sysSetpgid,
  [SYS.setsid]: sysSetsid,
};

