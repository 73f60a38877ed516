// The kernel: owns tasks and thread groups, turns platform traps into syscalls and faults,
// and implements the process lifecycle (fork, exec, exit, wait).

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
import type { SyscallHandler } from '../syscalls/types.js';
import { futexWake } from '../syscalls/sys_futex.js';
import type { Vfs } from '../vfs/vfs.js';
import type { FdTable } from '../vfs/fd_table.js';
import type { FsContext } from '../vfs/fs_context.js';
import { Credentials } from './credentials.js';
import { defaultAction, SIG } from './signals.js';
import { Task } from './task.js';
import { ThreadGroup } from './thread_group.js';

export interface KernelOptions {
  platform: Platform;
  vfs: Vfs;
  table: (SyscallHandler | undefined)[];
  strace?: Strace;
  log: (msg: string) => void;
  hostname: string;
  hwcap: number;
}

export interface UtsName {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
  domainname: string;
}

export class Kernel {
  readonly platform: Platform;
  readonly vfs: Vfs;
  readonly tasks = new Map<number, Task>();
  readonly groups = new Map<number, ThreadGroup>();
  private readonly byThread = new Map<PlatformThread, Task>();
  private readonly table: (SyscallHandler | undefined)[];
  private readonly strace?: Strace;
  readonly log: (msg: string) => void;
  private nextPid = 1;
  private readonly unimplementedSeen = new Set<number>();
  readonly uts: UtsName;
  readonly hwcap: number;
  readonly bootNs = process.hrtime.bigint();
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
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.platform.onTrap = (thread, ev) => this.onTrap(thread, ev);
  }

  allocPid(): number {
    while (this.tasks.has(this.nextPid) || this.groups.has(this.nextPid)) this.nextPid++;
    return this.nextPid++;
  }

  /** Creates init (pid 1) running `argv[0]` and starts it. */
  async startInit(path: string, argv: string[], envp: string[], fds: FdTable, fs: FsContext): Promise<Result<void>> {
    const as = this.platform.newAddressSpace();
    if (isErr(as)) return as;
    const mm = new MemoryManager(this.platform.memoryFile, as);
    const pid = this.allocPid();
    const tg = new ThreadGroup(pid, undefined);
    this.init = tg;
    const creds = new Credentials();
    const regs = new Regs();
    const th = this.platform.newThread(as, regs);
    if (isErr(th)) return th;
    const t = new Task(this, pid, tg, th, mm, fds, fs, creds, basename(argv[0] ?? 'init'));
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
    switch (ev.kind) {
      case 'syscall':
        this.onSyscall(t);
        return;
      case 'signal':
        this.onHostSignal(t, ev.signo, ev.addr);
        return;
      case 'gone':
        // The host thread vanished under us (stub killed from outside): the task dies too.
        this.log(`task ${t.tid}: host thread ${thread.hostTid} gone (status 0x${ev.status.toString(16)})`);
        this.exitGroup(t, SIG.SIGKILL);
        return;
    }
  }

  private onHostSignal(t: Task, signo: number, addr: number): void {
    if ((signo === SIG.SIGSEGV || signo === SIG.SIGBUS) && t.mm.handleFault(addr)) {
      t.thread.resume();
      return;
    }
    // A genuine fault: synchronous signal to the app. Handlers come with signal frames
    // (the kernel issue); until then the default action applies, as for an unhandled one.
    this.log(`task ${t.tid} (${t.comm}): ${SIG[signo] ?? signo} at 0x${addr.toString(16)}, rip=0x${t.regs.get(REG.rip).toString(16)}`);
    this.exitGroup(t, signo);
  }

  private onSyscall(t: Task): void {
    const regs = t.regs;
    const nr = regs.get(REG.orig_rax);
    const args = new SyscallArgs(regs);
    t.state = 'syscall';
    t.regsReplaced = false;
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
    if (this.strace !== undefined && straceArgs !== undefined) {
      this.strace.exit(t, nr, straceArgs, ret, Number(process.hrtime.bigint() - t0));
    }
    if (t.state === 'dead') return;
    if (!t.regsReplaced) t.regs.set(REG.rax, ret);
    t.state = 'running';
    t.thread.resume();
  }

  // ---- signals (default actions; handler frames arrive with the kernel issue) ----

  /** Sends signo to a thread group. Returns an errno for kill(2). */
  sendSignal(tg: ThreadGroup, signo: number): Result<void> {
    if (signo < 0 || signo > 64) return err(E.EINVAL);
    if (signo === 0) return undefined;
    if (tg.zombie || tg.exiting) return undefined;
    const act = tg.sigactions[signo];
    const SIG_IGN = 1n;
    if (signo !== SIG.SIGKILL && signo !== SIG.SIGSTOP) {
      if (act.handler === SIG_IGN) return undefined;
      if (act.handler !== 0n) {
        this.log(`signal ${SIG[signo] ?? signo} to pid ${tg.pid}: user handlers are not delivered yet; applying the default action`);
      }
    }
    const action = defaultAction(signo);
    if (action === 'ignore' || action === 'continue') return undefined;
    if (action === 'stop') {
      this.log(`signal ${SIG[signo] ?? signo} to pid ${tg.pid}: job-control stop is not implemented yet; ignored`);
      return undefined;
    }
    const leader = tg.leader;
    if (leader !== undefined) this.exitGroup(leader, signo);
    return undefined;
  }

  // ---- lifecycle ----

  /**
   * Replaces t's image with `path` (execve's point of no return is after loading):
   * a new stub and memory, close-on-exec fds closed, registers set to the new entry.
   */
  async execInto(t: Task, path: string, argv: string[], envp: string[]): Promise<Result<void>> {
    const as = this.platform.newAddressSpace();
    if (isErr(as)) return as;
    const mm = new MemoryManager(this.platform.memoryFile, as);
    const img = await loadExecutable({
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
    if (isErr(img)) {
      mm.release();
      as.release();
      return img;
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
    const old = t.thread;
    const oldMm = t.mm;
    this.byThread.delete(old);
    t.thread = th;
    t.mm = mm;
    this.byThread.set(th, t);
    if (old !== th) {
      const oldAs = old.as;
      const shared = [...this.tasks.values()].some((o) => o !== t && o.mm === oldMm);
      if (!shared) {
        oldMm.release();
        oldAs.release();
      } else {
        old.exit();
      }
    }
    t.fds.closeOnExec();
    t.comm = basename(path).slice(0, 15);
    t.regsReplaced = true;
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
  forkProcess(t: Task, shareVm: boolean, childRegs: Regs, exitSignal: number): Result<Task> {
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
    const tg = new ThreadGroup(pid, t.tg);
    tg.exitSignal = exitSignal;
    t.tg.children.add(tg);
    const child = new Task(this, pid, tg, th, mm, t.fds.fork(), t.fs.clone(), t.creds.clone(), t.comm);
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
    for (const o of [...tg.tasks]) this.exitThread(o);
  }

  /** One thread ends; the last one turns the group into a zombie. */
  exitThread(t: Task): void {
    if (t.state === 'dead') return;
    t.state = 'dead';
    const tg = t.tg;
    if (t.clearChildTid !== 0) {
      // CLONE_CHILD_CLEARTID: zero the tid word and wake its futex waiters.
      t.mm.writeU32(t.clearChildTid, 0);
      futexWake(t, t.clearChildTid, 1);
    }
    const mm = t.mm;
    const thread = t.thread;
    this.unregister(t);
    const mmShared = [...this.tasks.values()].some((o) => o.mm === mm);
    if (!mmShared) {
      mm.release();
      thread.as.release();
    } else {
      thread.exit();
    }
    if (tg.tasks.size > 0) return;
    if (tg.exitStatus === undefined) tg.exitStatus = 0;
    t.fds.closeAll();
    this.vforkRelease(tg);
    this.groupExited(tg);
  }

  private groupExited(tg: ThreadGroup): void {
    tg.zombie = true;
    // Orphans go to init (there is no subreaper yet).
    const init = this.init;
    for (const c of tg.children) {
      if (init !== undefined && init !== tg) {
        c.parent = init;
        init.children.add(c);
        if (c.zombie) init.childEvents.notify();
      }
    }
    tg.children.clear();
    if (tg === this.init) {
      this.shutdown(tg.exitStatus ?? 0);
      return;
    }
    const parent = tg.parent;
    if (parent === undefined) {
      this.reap(tg);
      return;
    }
    const act = parent.sigactions[SIG.SIGCHLD];
    // SIGCHLD set to SIG_IGN (or SA_NOCLDWAIT) means children are reaped automatically.
    const SA_NOCLDWAIT = 2n;
    if (tg.exitSignal === SIG.SIGCHLD && (act.handler === 1n || (act.flags & SA_NOCLDWAIT) !== 0n)) {
      this.reap(tg);
      parent.childEvents.notify();
      return;
    }
    parent.childEvents.notify();
  }

  reap(tg: ThreadGroup): void {
    tg.reaped = true;
    tg.zombie = false;
    tg.parent?.children.delete(tg);
    this.groups.delete(tg.pid);
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

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}
