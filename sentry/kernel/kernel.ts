// The kernel: owns tasks and thread groups, turns platform traps into syscalls, faults and
// signal deliveries, and implements the lifecycle (fork, threads, exec, exit, reaping).

import { IdMaps } from './id_map.js';
import { randomBytes } from 'node:crypto';
import { E, ERRNO_NAMES } from '../abi/errno.js';
import { REG, Regs, SyscallArgs } from '../abi/regs.js';
import type { Result } from '../abi/result.js';
import { err, isErr } from '../abi/result.js';
import { SYSCALL_NAMES } from '../abi/sysno.js';
import { loadExecutable } from '../loader/exec.js';
import { MemoryManager } from '../mm/mm.js';
import type { Platform, PlatformThread, TrapEvent } from '../platform/platform.js';
import type { Strace } from '../strace/strace.js';
import type { SyscallProfile } from '../profile/syscall_profile.js';
import type { SyscallHandler } from '../syscalls/types.js';
import { futexWake } from '../syscalls/sys_futex.js';
import type { Vfs } from '../vfs/vfs.js';
import type { FdTable } from '../vfs/fd_table.js';
import type { FsContext } from '../vfs/fs_context.js';
import { Credentials } from './credentials.js';
import { attachDirect, enterTrap, leaveTrap } from './direct_wait.js';
import { SIG } from './signals.js';
import { setVfsHooks } from '../vfs/hooks.js';
import {
  deliverPending, ERESTARTNOHAND, ERESTARTSYS, generateSignal, interruptSignal, orphanedPgrp, SA_NOCLDWAIT, stopProgress,
} from './signal_delivery.js';
import { CLD_EXITED, CLD_KILLED, makeSiginfo, SI_KERNEL, SI_TKILL, SI_USER, sigbit } from './sigqueue.js';
import { SS_DISABLE } from './signal_frame.js';
import { robustListCleanup } from './robust_list.js';
import { Task } from './task.js';
import { ThreadGroup } from './thread_group.js';
import { FixedNamespace, INIT_NS_INO, IpcNamespace, NsProxy } from './namespaces.js';
import { PidNamespace } from './pid_namespace.js';
import type { Vdso } from '../loader/vdso.js';
import type { VdsoClock } from './vdso_clock.js';
import { UtsNamespace, type UtsName } from './uts_namespace.js';

export interface KernelOptions {
  platform: Platform;
  vfs: Vfs;
  table: (SyscallHandler | undefined)[];
  strace?: Strace;
  log: (msg: string) => void;
  hostname: string;
  hwcap: number;
}

export type { UtsName } from './uts_namespace.js';

export class Kernel {
  readonly platform: Platform;
  readonly vfs: Vfs;
  readonly tasks = new Map<number, Task>();
  readonly groups = new Map<number, ThreadGroup>();
  private readonly byThread = new Map<PlatformThread, Task>();
  private readonly table: (SyscallHandler | undefined)[];
  private readonly strace?: Strace;
  /** Set by boot for --profile: per-syscall handler and round-trip times. */
  profile?: SyscallProfile;
  readonly log: (msg: string) => void;
  private nextPid = 1;
  private readonly unimplementedSeen = new Set<number>();
  /** The root UTS namespace's names (boot's hostname and domainname). */
  readonly uts: UtsName;
  /** The sandbox's own pid namespace: root ids are the kernel's table keys. */
  readonly rootPidNs = new PidNamespace(undefined, INIT_NS_INO.pid);
  /** The namespaces init and OCI exec'd processes start in. */
  readonly rootNs: NsProxy;
  /** The user namespace's id mappings (boot sets them from an OCI config). */
  idMaps = new IdMaps();
  readonly hwcap: number;
  readonly bootNs = process.hrtime.bigint();
  /** Set by boot: the vDSO exec maps into every process, and the clocks it shares with the Sentry. */
  vdso?: Vdso;
  clock?: VdsoClock;
  init?: ThreadGroup;
  /** Resolves with the wait status of init when the sandbox ends. */
  readonly done: Promise<number>;
  private finish!: (status: number) => void;
  private finished = false;

  constructor(opts: KernelOptions) {
    this.platform = opts.platform;
    this.vfs = opts.vfs;
    this.table = opts.table;
    this.strace = opts.strace;
    this.log = opts.log;
    this.hwcap = opts.hwcap;
    // What the app sees from uname(2): the Sentry's values, never the host's.
    this.uts = {
      sysname: 'Linux',
      nodename: opts.hostname,
      release: '4.4.0',
      version: '#1 SMP Sun Jan 10 15:06:54 PST 2016',
      machine: 'x86_64',
      domainname: '(none)',
    };
    this.rootNs = new NsProxy(new UtsNamespace(INIT_NS_INO.uts, this.uts), new IpcNamespace(INIT_NS_INO.ipc),
      this.rootPidNs, {
        user: new FixedNamespace('user', INIT_NS_INO.user), net: new FixedNamespace('net', INIT_NS_INO.net),
        cgroup: new FixedNamespace('cgroup', INIT_NS_INO.cgroup), time: new FixedNamespace('time', INIT_NS_INO.time),
      });
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.platform.onTrap = (thread, ev) => this.onTrap(thread, ev);
    // Blocking file operations wait on this to return EINTR when a signal arrives.
    setVfsHooks({ interruptSignal: (t) => interruptSignal(t) });
  }

  allocPid(): number {
    while (this.tasks.has(this.nextPid) || this.groups.has(this.nextPid)) this.nextPid++;
    return this.nextPid++;
  }

  /** Creates init (pid 1) running `argv[0]` and starts it. */
  async startInit(path: string, argv: string[], envp: string[], fds: FdTable, fs: FsContext, initCreds?: Credentials,
    rlimits: { resource: number; cur: bigint; max: bigint }[] = []): Promise<Result<void>> {
    const as = this.platform.newAddressSpace();
    if (isErr(as)) return as;
    const mm = new MemoryManager(this.platform.memoryFile, as);
    const pid = this.allocPid();
    const tg = new ThreadGroup(pid, undefined, this.rootPidNs);
    // Linux's SIGNAL_UNKILLABLE: init takes only the signals it has handlers for.
    tg.unkillable = true;
    this.rootPidNs.init = tg;
    for (const l of rlimits) if (l.resource >= 0 && l.resource < tg.rlimits.length) tg.rlimits[l.resource] = { cur: l.cur, max: l.max };
    this.init = tg;
    const creds = initCreds ?? new Credentials();
    const regs = new Regs();
    const th = this.platform.newThread(as, regs);
    if (isErr(th)) return th;
    const t = new Task(this, pid, tg, th, mm, fds, fs, creds, basename(argv[0] ?? 'init'));
    t.nsproxy = this.rootNs;
    this.register(t);
    const r = await this.execInto(t, path, argv, envp);
    if (isErr(r)) {
      this.unregister(t);
      as.release();
      return r;
    }
    t.state = 'running';
    t.thread.resume();
    return undefined;
  }

  /**
   * Starts a new process outside init's tree, as an OCI exec does: its parent is `parent`
   * (a group the caller watches for the exit), never a task of the sandbox.
   */
  async spawnProcess(path: string, argv: string[], envp: string[], fds: FdTable, fs: FsContext, creds: Credentials, parent: ThreadGroup): Promise<Result<ThreadGroup>> {
    const as = this.platform.newAddressSpace();
    if (isErr(as)) return as;
    const mm = new MemoryManager(this.platform.memoryFile, as);
    const th = this.platform.newThread(as, new Regs());
    if (isErr(th)) {
      mm.release();
      as.release();
      return th;
    }
    const pid = this.allocPid();
    const tg = new ThreadGroup(pid, parent, this.rootPidNs);
    tg.pgid = pid;
    tg.sid = pid;
    parent.children.add(tg);
    const t = new Task(this, pid, tg, th, mm, fds, fs, creds, basename(argv[0] ?? 'exec'));
    t.nsproxy = this.rootNs;
    this.register(t);
    const r = await this.execInto(t, path, argv, envp);
    if (isErr(r)) {
      this.unregister(t);
      this.groups.delete(pid);
      parent.children.delete(tg);
      t.mm.release();
      t.thread.as.release();
      return r;
    }
    t.state = 'running';
    t.thread.resume();
    return tg;
  }

  private register(t: Task): void {
    this.tasks.set(t.tid, t);
    this.groups.set(t.tg.pid, t.tg);
    t.tg.tasks.add(t);
    this.byThread.set(t.thread, t);
  }

  private unregister(t: Task): void {
    this.tasks.delete(t.tid);
    this.byThread.delete(t.thread);
    t.tg.tasks.delete(t);
  }

  // ---- traps ----

  private onTrap(thread: PlatformThread, ev: TrapEvent): void {
    const t = this.byThread.get(thread);
    if (t === undefined || t.state === 'dead') return;
    // Tasks this trap wakes (a futex wake) are finished and resumed as soon as it is handled.
    enterTrap();
    try {
      this.handleTrap(t, thread, ev);
    } finally {
      leaveTrap();
    }
  }

  private handleTrap(t: Task, thread: PlatformThread, ev: TrapEvent): void {
    switch (ev.kind) {
      case 'syscall':
        this.onSyscall(t);
        return;
      case 'signal':
        this.onHostSignal(t, ev.signo, ev.code, ev.addr);
        return;
      case 'interrupt':
        // A signal is due (or the group stops): deliver it before user code runs on.
        if (t.state === 'running' && deliverPending(this, t) === 'resume') t.thread.resume();
        return;
      case 'gone':
        // The host thread vanished under us (stub killed from outside): the task dies too.
        this.log(`task ${t.tid}: host thread ${thread.hostTid} gone (status 0x${ev.status.toString(16)})`);
        this.exitGroup(t, SIG.SIGKILL);
        return;
    }
  }

  private onHostSignal(t: Task, signo: number, code: number, addr: number): void {
    this.profile?.fault(t);
    const fault = signo === SIG.SIGSEGV || signo === SIG.SIGBUS ? t.mm.handleFault(addr) : undefined;
    if (fault === 'mapped') {
      this.profile?.exit(t);
      t.thread.resume();
      return;
    }
    // Past the end of a mapped file: SIGBUS with BUS_ADRERR, whatever the host raised.
    if (fault === 'bus') [signo, code] = [SIG.SIGBUS, 2];
    // A genuine fault: a synchronous signal to the app, which may handle it.
    let siCode = code;
    if (signo === SIG.SIGSEGV && code > 0 && code <= 2) {
      // The host cannot know the app's mappings (pages map lazily): the VMA decides.
      siCode = t.mm.vmas.find(addr) !== undefined ? 2 /* SEGV_ACCERR */ : 1 /* SEGV_MAPERR */;
    }
    const trapno = signo === SIG.SIGSEGV || fault === 'bus' ? 14 : signo === SIG.SIGFPE ? 0 : signo === SIG.SIGILL ? 6 : signo === SIG.SIGTRAP ? 3 : 0;
    const info = code > 0 && code < SI_KERNEL && signo !== SIG.SIGTRAP
      ? makeSiginfo(signo, { code: siCode, addr })
      : makeSiginfo(signo, { code: siCode, addr: code === SI_KERNEL ? 0 : addr });
    const pageFault = signo === SIG.SIGSEGV || fault === 'bus';
    this.forceSignal(t, signo, info, { trapno, err: pageFault ? 4 : 0, cr2: pageFault ? addr : 0 });
  }

  /** A synchronous signal: if blocked or ignored it would loop forever, so it kills instead. */
  forceSignal(t: Task, signo: number, info: Uint8Array, fault?: { trapno: number; err: number; cr2: number }): void {
    const act = t.tg.sigactions[signo];
    if ((t.sigmask & sigbit(signo)) !== 0n || act.handler === 1n) {
      t.sigmask &= ~sigbit(signo);
      t.tg.sigactions[signo] = { handler: 0n, flags: 0n, restorer: 0n, mask: 0n };
    }
    t.pending.discard(signo);
    t.pending.enqueue({ signo, info, fault });
    t.state = 'running';
    if (deliverPending(this, t) === 'resume') t.thread.resume();
  }

  private onSyscall(t: Task): void {
    const regs = t.regs;
    const nr = regs.get(REG.orig_rax);
    const args = new SyscallArgs(regs);
    t.state = 'syscall';
    t.regsReplaced = false;
    t.interruptCtl = undefined;
    this.profile?.enter(t, nr);
    const h = nr < this.table.length ? this.table[nr] : undefined;
    const strace = this.strace;
    let straceArgs: bigint[] | undefined;
    let t0 = 0n;
    if (strace !== undefined) {
      straceArgs = [args.big(0), args.big(1), args.big(2), args.big(3), args.big(4), args.big(5)];
      strace.enter(t, nr, straceArgs);
      t0 = process.hrtime.bigint();
    }
    let r: number | Promise<number>;
    if (h === undefined) {
      if (!this.unimplementedSeen.has(nr)) {
        this.unimplementedSeen.add(nr);
        this.log(`unimplemented syscall ${SYSCALL_NAMES[nr] ?? nr} (${nr}) from ${t.comm}[${t.tid}]: ENOSYS`);
      }
      r = -E.ENOSYS;
    } else {
      try {
        r = h(t, args);
      } catch (e) {
        r = this.handlerCrashed(t, nr, e);
      }
    }
    if (typeof r === 'number') {
      this.finishSyscall(t, nr, r, straceArgs, t0);
      return;
    }
    if (attachDirect(r, (v) => this.finishSyscall(t, nr, v, straceArgs, t0))) return;
    r.then(
      (v) => this.finishSyscall(t, nr, v, straceArgs, t0),
      (e: unknown) => this.finishSyscall(t, nr, this.handlerCrashed(t, nr, e), straceArgs, t0),
    );
  }

  /** A handler threw: a Sentry bug. The app gets EFAULT-free honesty: EIO, and we log it. */
  private handlerCrashed(t: Task, nr: number, e: unknown): number {
    this.log(`BUG: ${SYSCALL_NAMES[nr] ?? nr} from ${t.comm}[${t.tid}] threw: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return -E.EIO;
  }

  private finishSyscall(t: Task, nr: number, ret: number, straceArgs: bigint[] | undefined, t0: bigint): void {
    this.profile?.exit(t);
    if (this.strace !== undefined && straceArgs !== undefined) {
      this.strace.exit(t, nr, straceArgs, ret, Number(process.hrtime.bigint() - t0));
    }
    if (t.state === 'dead') return;
    const interrupted = t.interruptCtl?.signal.aborted === true;
    t.interruptCtl = undefined;
    // A wait cut short by a signal: restart it or fail with EINTR, as the handler decides.
    if (interrupted && ret === -E.EINTR) ret = RESTARTABLE.has(nr) ? -ERESTARTSYS : -ERESTARTNOHAND;
    let restart: { nr: number; code: number } | undefined;
    if (ret <= -ERESTARTSYS && ret >= -516) {
      if (!t.regsReplaced) restart = { nr, code: -ret };
      ret = -E.EINTR;
    }
    if (!t.regsReplaced) t.regs.set(REG.rax, ret);
    t.state = 'running';
    if (t.savedMask !== undefined && restart === undefined && ret !== -E.EINTR) {
      // ppoll/pselect/sigsuspend-style masks apply to signals that ended the wait only.
      t.sigmask = t.savedMask;
      t.savedMask = undefined;
    }
    if (restart === undefined && t.savedMask === undefined && !t.tg.stopped
      && ((t.pending.mask | t.tg.sharedPending.mask) & ~t.sigmask) === 0n) {
      t.thread.resume();
      return;
    }
    if (deliverPending(this, t, restart) === 'resume') t.thread.resume();
  }

  // ---- signals ----

  /**
   * Sends signo to a thread group (kill(2) semantics). info is the siginfo the handler
   * sees; by default SI_KERNEL (a signal the kernel raised, such as SIGPIPE).
   */
  sendSignal(tg: ThreadGroup, signo: number, info?: Uint8Array, from?: Task): Result<void> {
    if (signo < 0 || signo > 64) return err(E.EINVAL);
    return generateSignal(this, tg, undefined, signo, info ?? makeSiginfo(signo, { code: SI_KERNEL }), forced(tg, from)) ? undefined : err(E.EAGAIN);
  }

  /** Sends signo to one thread (tgkill/tkill semantics). */
  sendSignalToTask(t: Task, signo: number, info?: Uint8Array, from?: Task): Result<void> {
    if (signo < 0 || signo > 64) return err(E.EINVAL);
    return generateSignal(this, t.tg, t, signo, info ?? makeSiginfo(signo, { code: SI_TKILL, pid: t.tg.pidNs.idOf(t.pid) }), forced(t.tg, from)) ? undefined : err(E.EAGAIN);
  }

  /** kill(-pgid, signo) from the kernel (terminal ^C, ^Z, SIGHUP on hangup). ESRCH if empty. */
  signalProcessGroup(pgid: number, signo: number): Result<void> {
    const members = [...this.groups.values()].filter((g) => g.pgid === pgid && !g.zombie);
    if (members.length === 0) return err(E.ESRCH);
    for (const g of members) this.sendSignal(g, signo, makeSiginfo(signo, { code: SI_KERNEL }));
    return undefined;
  }

  /** siginfo for a signal sent by task `from` with kill(2); si_pid as `to`'s namespace sees the sender. */
  userSiginfo(from: Task, signo: number, code = SI_USER, to?: ThreadGroup): Uint8Array {
    return makeSiginfo(signo, { code, pid: (to?.pidNs ?? this.rootPidNs).idOf(from.pid), uid: from.creds.uid });
  }

  // ---- lifecycle ----

  /**
   * Replaces t's image with `path` (execve's point of no return is after loading):
   * a new stub and memory, close-on-exec fds closed, registers set to the new entry.
   * From a secondary thread, the other threads die and t takes over the group's pid.
   */
  async execInto(t: Task, path: string, argv: string[], envp: string[]): Promise<Result<void>> {
    const as = this.platform.newAddressSpace();
    if (isErr(as)) return as;
    const mm = new MemoryManager(this.platform.memoryFile, as);
    const vdsoAddr = this.vdso?.map(mm);
    const img = await loadExecutable({
      sysinfoEhdr: vdsoAddr === undefined || isErr(vdsoAddr) ? undefined : vdsoAddr,
      filename: path,
      argv,
      envp,
      open: (p) => this.vfs.openExecutable(t, p),
      mem: mm.loaderView(),
      random16: randomBytes(16),
      hwcap: this.hwcap,
      uid: t.creds.uid,
      euid: t.creds.euid,
      gid: t.creds.gid,
      egid: t.creds.egid,
    });
    if (isErr(img) || t.state === 'dead') {
      mm.release();
      as.release();
      return isErr(img) ? img : err(E.EINTR);
    }
    // Point of no return.
    const regs = new Regs();
    regs.set(REG.rip, img.entry);
    regs.set(REG.rsp, img.sp);
    regs.set(REG.cs, 0x33);
    regs.set(REG.ss, 0x2b);
    regs.set(REG.eflags, 0x202);
    regs.set(REG.orig_rax, -1);
    const th = this.platform.newThread(as, regs);
    if (isErr(th)) {
      mm.release();
      as.release();
      return th;
    }
    // de_thread: every other thread of the group ends now.
    const others = [...t.tg.tasks].filter((o) => o !== t);
    for (const o of others) this.retireTask(o);
    const old = t.thread;
    const oldMm = t.mm;
    this.byThread.delete(old);
    t.thread = th;
    t.mm = mm;
    this.byThread.set(th, t);
    if (t.tid !== t.tg.pid) {
      t.tg.pidNs.release(t.tid);
      this.tasks.delete(t.tid);
      t.tid = t.tg.pid;
      this.tasks.set(t.tid, t);
    }
    const shared = [...this.tasks.values()].some((o) => o.mm === oldMm);
    if (!shared) {
      oldMm.release();
      old.as.release();
    } else {
      old.exit();
      for (const o of others) o.thread.exit();
    }
    t.fds.closeOnExec();
    t.creds.applyExec();
    t.comm = basename(path).slice(0, 15);
    t.regsReplaced = true;
    t.altStack = { sp: 0, flags: SS_DISABLE, size: 0 };
    for (const f of t.tg.onExec) f();
    t.clearChildTid = 0;
    t.robustList = 0;
    // Handlers reset to default on exec; ignored stay ignored.
    for (const a of t.tg.sigactions) {
      if (a.handler !== 1n) {
        a.handler = 0n;
        a.flags = 0n;
        a.mask = 0n;
        a.restorer = 0n;
      }
    }
    this.vforkRelease(t.tg);
    return undefined;
  }

  private vforkRelease(tg: ThreadGroup): void {
    const f = tg.vforkDone;
    tg.vforkDone = undefined;
    if (f !== undefined) f();
  }

  /**
   * fork/vfork/clone of a new process (not a thread). With shareVm the child runs in the
   * parent's memory (CLONE_VM, as posix_spawn and vfork use it) until it execs.
   */
  forkProcess(t: Task, shareVm: boolean, childRegs: Regs, exitSignal: number, nsproxy: NsProxy = t.nsproxy): Result<Task> {
    // The child's pid namespace: the caller's pid_for_children (a new one for CLONE_NEWPID).
    const pidNs = nsproxy.pidForChildren;
    // A namespace whose init has died takes no new processes (Linux: ENOMEM).
    if (pidNs.dead) return err(E.ENOMEM);
    let mm: MemoryManager;
    let th: PlatformThread | Result<PlatformThread>;
    if (shareVm) {
      mm = t.mm;
      th = this.platform.newThread(t.mm.as, childRegs);
      if (isErr(th)) return th;
    } else {
      const as = this.platform.newAddressSpace();
      if (isErr(as)) return as;
      mm = t.mm.fork(as);
      th = this.platform.newThread(as, childRegs);
      if (isErr(th)) {
        mm.release();
        as.release();
        return th;
      }
    }
    const pid = this.allocPid();
    const tg = new ThreadGroup(pid, t.tg, pidNs);
    pidNs.assign(pid);
    if (pidNs.init === undefined) {
      // The first process of a new pid namespace is its init.
      pidNs.init = tg;
      tg.unkillable = true;
    }
    tg.exitSignal = exitSignal;
    t.tg.children.add(tg);
    const child = new Task(this, pid, tg, th, mm, t.fds.fork(), t.fs.clone(), t.creds.clone(), t.comm);
    child.nsproxy = nsproxy;
    child.sigmask = t.sigmask;
    if (!shareVm) child.altStack = { ...t.altStack };
    this.register(child);
    return child;
  }

  /** clone(CLONE_THREAD): a new thread in t's group sharing memory, files and fs context. */
  cloneThread(t: Task, childRegs: Regs): Result<Task> {
    const th = this.platform.newThread(t.mm.as, childRegs);
    if (isErr(th)) return th;
    const tid = this.allocPid();
    t.tg.pidNs.assign(tid);
    const child = new Task(this, tid, t.tg, th, t.mm, t.fds, t.fs, t.creds, t.comm);
    child.nsproxy = t.nsproxy;
    child.sigmask = t.sigmask;
    this.register(child);
    return child;
  }

  /** exit_group (or death by signal when signo > 0): every thread of the group ends. */
  exitGroup(t: Task, signo: number, code = 0): void {
    const tg = t.tg;
    if (tg.exiting) {
      this.exitThread(t);
      return;
    }
    tg.exiting = true;
    tg.exitStatus = signo > 0 ? signo & 0x7f : (code & 0xff) << 8;
    const all = [...tg.tasks];
    tg.cpuNsAtExit = t.thread.cpuTimeNs() ?? 0n;
    for (const o of all) this.retireTask(o);
    const released = new Set<MemoryManager>();
    for (const o of all) {
      if (released.has(o.mm)) continue;
      if ([...this.tasks.values()].some((x) => x.mm === o.mm)) {
        o.thread.exit();
      } else {
        released.add(o.mm);
        o.mm.release();
        o.thread.as.release();
      }
    }
    this.groupDone(t);
  }

  /** One thread ends; the last one turns the group into a zombie. */
  exitThread(t: Task): void {
    if (t.state === 'dead') return;
    if (t.tg.tasks.size === 1) t.tg.cpuNsAtExit = t.thread.cpuTimeNs() ?? 0n;
    this.retireTask(t);
    const mm = t.mm;
    if (![...this.tasks.values()].some((o) => o.mm === mm)) {
      mm.release();
      t.thread.as.release();
    } else {
      t.thread.exit();
    }
    if (t.tg.tasks.size > 0) {
      // The threads left may all be parked in a group stop that waited only for this one.
      stopProgress(this, t.tg);
      return;
    }
    this.groupDone(t);
  }

  /**
   * A task stops being a task: robust futexes released, clear_child_tid zeroed and woken,
   * its wait interrupted, and it leaves the tables (its host thread is the caller's job).
   */
  private retireTask(t: Task): void {
    if (t.state === 'dead') return;
    t.state = 'dead';
    t.stopParked = undefined;
    t.interruptCtl?.abort();
    if (t.robustList !== 0) robustListCleanup(t, t.robustList);
    if (t.clearChildTid !== 0) {
      // CLONE_CHILD_CLEARTID: zero the tid word and wake its futex waiters.
      t.mm.writeU32(t.clearChildTid, 0);
      futexWake(t, t.clearChildTid, 1, 0xffffffff, false);
    }
    this.unregister(t);
    // A thread's id dies with it; the process's id lives until the group is reaped.
    if (t.tid !== t.tg.pid) t.tg.pidNs.release(t.tid);
  }

  private groupDone(t: Task): void {
    const tg = t.tg;
    if (tg.exitStatus === undefined) tg.exitStatus = 0;
    t.fds.closeAll();
    this.vforkRelease(tg);
    for (const f of tg.onExit.splice(0)) f();
    this.groupExited(tg);
  }

  /**
   * POSIX (kill_orphaned_pgrp): when this exit was the last link of a process group to its
   * session (a parent in another group of the same session) and the group has stopped
   * members, the group gets SIGHUP then SIGCONT so it does not stay stopped forever. Checked
   * for the exiting process's own group and for its children's groups.
   */
  private hangUpOrphans(tg: ThreadGroup, children: ThreadGroup[]): void {
    const hangUp = (pgid: number, sid: number): void => {
      const members = [...this.groups.values()].filter((g) => g.pgid === pgid && !g.zombie);
      if (!members.some((g) => g.stopped) || !orphanedPgrp(this, pgid, sid)) return;
      this.signalProcessGroup(pgid, SIG.SIGHUP);
      this.signalProcessGroup(pgid, SIG.SIGCONT);
    };
    const parent = tg.parent;
    if (parent !== undefined && parent.pgid !== tg.pgid && parent.sid === tg.sid) hangUp(tg.pgid, tg.sid);
    for (const pgid of new Set(children.filter((c) => c.pgid !== tg.pgid && c.sid === tg.sid).map((c) => c.pgid))) {
      hangUp(pgid, tg.sid);
    }
  }

  /**
   * Where an orphan goes: the nearest live subreaper among its ancestors in the same pid
   * namespace, else that namespace's init.
   */
  private reaperFor(tg: ThreadGroup): ThreadGroup | undefined {
    for (let a = tg.parent; a !== undefined && a.pidNs === tg.pidNs; a = a.parent) {
      if (a.childSubreaper && !a.zombie && !a.exiting) return a;
    }
    return tg.pidNs.init ?? this.init;
  }

  /**
   * A pid namespace's init exited (zap_pid_ns_processes): every other process in it and in
   * its descendants gets SIGKILL, the namespace takes no new members, and init reaps them.
   */
  private killNamespace(ns: PidNamespace, init: ThreadGroup): void {
    ns.dead = true;
    for (const g of [...this.groups.values()]) {
      if (g === init || g.zombie || g.exiting || !ns.contains(g.pidNs)) continue;
      const leader = g.leader;
      if (leader !== undefined) this.exitGroup(leader, SIG.SIGKILL);
    }
    for (const g of [...this.groups.values()]) {
      if (g === init || !g.zombie || g.reaped || !ns.contains(g.pidNs)) continue;
      if (g.parent === undefined || g.parent === init || ns.contains(g.parent.pidNs)) this.reap(g);
    }
  }

  private groupExited(tg: ThreadGroup): void {
    tg.zombie = true;
    tg.stopped = false;
    if (tg.pidNs.init === tg && tg !== this.init) this.killNamespace(tg.pidNs, tg);
    const reaper = this.reaperFor(tg);
    for (const c of tg.children) {
      for (const ct of c.tasks) {
        if (ct.pdeathSig !== 0) this.sendSignalToTask(ct, ct.pdeathSig, makeSiginfo(ct.pdeathSig, { code: SI_USER, pid: c.pidNs.idOf(tg.pid) }));
      }
      if (reaper !== undefined && reaper !== tg) {
        c.parent = reaper;
        reaper.children.add(c);
        if (c.zombie) reaper.childEvents.notify();
      }
    }
    const children = [...tg.children];
    tg.children.clear();
    if (tg === this.init) {
      this.shutdown(tg.exitStatus ?? 0);
      return;
    }
    this.hangUpOrphans(tg, children);
    const parent = tg.parent;
    if (parent === undefined) {
      this.reap(tg);
      return;
    }
    const act = parent.sigactions[SIG.SIGCHLD];
    // SIGCHLD set to SIG_IGN (or SA_NOCLDWAIT) means children are reaped automatically.
    const autoReap = tg.exitSignal === SIG.SIGCHLD && (act.handler === 1n || (act.flags & SA_NOCLDWAIT) !== 0n);
    if (tg.exitSignal !== 0) {
      const st = tg.exitStatus ?? 0;
      const killed = (st & 0x7f) !== 0;
      const info = makeSiginfo(tg.exitSignal, {
        code: killed ? CLD_KILLED : CLD_EXITED, pid: parent.pidNs.idOf(tg.pid), uid: 0, status: killed ? st & 0x7f : (st >> 8) & 0xff,
      });
      this.sendSignal(parent, tg.exitSignal, info);
    }
    if (autoReap) this.reap(tg);
    parent.childEvents.notify();
  }
  reap(tg: ThreadGroup): void {
    if (tg.parent !== undefined && !tg.reaped) tg.parent.childrenCpuNs += tg.cpuNsAtExit + tg.childrenCpuNs;
    tg.reaped = true;
    tg.zombie = false;
    tg.parent?.children.delete(tg);
    this.groups.delete(tg.pid);
    // The id stays translatable while a process group or session still carries it.
    if (![...this.groups.values()].some((g) => g.pgid === tg.pid || g.sid === tg.pid)) tg.pidNs.release(tg.pid);
  }

  /** Ends the sandbox: every remaining task dies, and done resolves with init's status. */
  shutdown(status: number): void {
    if (this.finished) return;
    this.finished = true;
    for (const t of [...this.tasks.values()]) {
      t.state = 'dead';
      this.unregister(t);
      t.mm.release();
      t.thread.as.release();
    }
    this.platform.shutdown();
    this.strace?.flush();
    this.finish(status);
  }

  errnoName(e: number): string {
    return ERRNO_NAMES[e] ?? String(e);
  }
}

/** Syscalls that SA_RESTART restarts after a handler (the rest fail with EINTR). */
const RESTARTABLE = new Set<number>([0, 1, 2, 16, 17, 18, 19, 20, 40, 42, 43, 44, 45, 46, 47, 61, 72, 73, 247, 257, 288, 295, 296, 275, 276, 278]);

/**
 * Whether SIGKILL/SIGSTOP reach an unkillable init: from the kernel or the control side (no
 * sender), or from a task of an ancestor pid namespace (one invisible in init's namespace).
 */
function forced(tg: ThreadGroup, from: Task | undefined): boolean {
  return from === undefined || tg.pidNs.idOf(from.pid) === 0;
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}
