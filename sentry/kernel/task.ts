// A task: one application thread, as the Sentry sees it.

import type { Regs } from '../abi/regs.js';
import type { MemoryManager } from '../mm/mm.js';
import type { PlatformThread } from '../platform/platform.js';
import type { FdTable } from '../vfs/fd_table.js';
import type { FsContext } from '../vfs/fs_context.js';
import type { Credentials } from './credentials.js';
import type { NsProxy } from './namespaces.js';
import type { Kernel } from './kernel.js';
import { SigQueue } from './sigqueue.js';
import type { ThreadGroup } from './thread_group.js';

export type TaskState = 'stopped' | 'running' | 'syscall' | 'dead';

export class Task {
  state: TaskState = 'stopped';
  /** set_tid_address / CLONE_CHILD_CLEARTID: zeroed and futex-woken at exit. */
  clearChildTid = 0;
  robustList = 0;
  sigmask = 0n;
  /** Signals sent to this thread (tkill, tgkill, faults). */
  readonly pending = new SigQueue();
  /** rt_sigsuspend/pselect/ppoll: the mask to restore after the signal is handled. */
  savedMask?: bigint;
  /** rt_sigtimedwait: the real blocked set while the waited-for signals are let through. */
  realBlocked?: bigint;
  /** Aborts the current blocking syscall when a signal must interrupt it. */
  interruptCtl?: AbortController;
  /** Set while the task is parked by a group stop: resumes it at SIGCONT. */
  stopParked?: () => void;
  /** What restart_syscall(2) continues (set by a sleep cut short by a stop). */
  restartFn?: () => number | Promise<number>;
  /** PR_SET_PDEATHSIG: sent to this task when its parent dies. */
  pdeathSig = 0;
  altStack = { sp: 0, flags: 2 /* SS_DISABLE */, size: 0 };
  /** Set by execve/sigreturn: the handler replaced the registers, do not store rax. */
  regsReplaced = false;
  comm: string;
  /** The task's namespaces (set by the kernel when it makes the task). */
  nsproxy!: NsProxy;

  constructor(
    readonly kernel: Kernel,
    public tid: number,
    readonly tg: ThreadGroup,
    public thread: PlatformThread,
    public mm: MemoryManager,
    public fds: FdTable,
    public fs: FsContext,
    public creds: Credentials,
    comm: string,
  ) {
    this.comm = comm;
  }

  get pid(): number {
    return this.tg.pid;
  }

  /** App memory, checked (AppMemory). */
  get mem(): MemoryManager {
    return this.mm;
  }

  get regs(): Regs {
    return this.thread.regs;
  }
}
