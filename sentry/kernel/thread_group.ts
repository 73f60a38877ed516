// A thread group: what Linux calls a process. Holds what its threads share (signal
// actions, rlimits, children, exit status) and its place in the process tree.

import { Waiters } from './wait_queue.js';
import { SigQueue } from './sigqueue.js';
import { WaitQueue } from '../vfs/wait_queue.js';
import type { Task } from './task.js';
import { PidNamespace } from './pid_namespace.js';

export const NSIG = 64;

/** struct k_sigaction as rt_sigaction passes it. */
export interface SigAction {
  handler: bigint;
  flags: bigint;
  restorer: bigint;
  mask: bigint;
}

export interface Rlimit {
  cur: bigint;
  max: bigint;
}

export const RLIM_INFINITY = 0xffffffffffffffffn;

export class ThreadGroup {
  readonly tasks = new Set<Task>();
  readonly children = new Set<ThreadGroup>();
  /** Parked wait4/waitid callers of this group; notified when a child changes state. */
  readonly childEvents = new Waiters();
  /** wait status (as wait4 reports it) once the group has exited. */
  exitStatus?: number;
  /** Exited but not yet reaped by the parent. */
  zombie = false;
  reaped = false;
  sigactions: SigAction[];
  rlimits: Rlimit[];
  pgid: number;
  sid: number;
  /** vfork parent waiting for this child to exec or exit. */
  vforkDone?: () => void;
  exiting = false;
  /** Signals sent to the process as a whole (kill). */
  readonly sharedPending = new SigQueue();
  /** Notified (POLLIN) whenever a signal is queued to the process or a thread (signalfd). */
  readonly signalEvents = new WaitQueue();
  /** In a job-control stop (SIGSTOP/SIGTSTP...): its threads stay parked until SIGCONT. */
  stopped = false;
  /** A stop not yet reported to wait(WUNTRACED): the stopping signal, else 0. */
  waitStopSig = 0;
  /** The signal of a group stop still in progress (some threads not parked yet), else 0. */
  stoppingSig = 0;
  /** A continue not yet reported to wait(WCONTINUED). */
  waitContinued = false;
  /** PR_SET_CHILD_SUBREAPER: orphaned descendants are re-parented here, not to init. */
  childSubreaper = false;
  /** CPU time the process used, sampled as it exited (for the parent's wait4 rusage). */
  cpuNsAtExit = 0n;
  /** CPU time of reaped children and their reaped descendants (RUSAGE_CHILDREN). */
  childrenCpuNs = 0n;
  /** Called when the group is reaped or exits; timers and other per-process state hang here. */
  readonly onExit: Array<() => void> = [];
  /** Called at each successful execve (POSIX timers die there; itimers survive). */
  readonly onExec: Array<() => void> = [];
  /** Signal sent to the parent at exit (SIGCHLD for fork; clone may choose another). */
  exitSignal = 17;
  /** When the process started (for /proc); CPU time comes from the platform's clocks. */
  readonly startNs = process.hrtime.bigint();

  /** SIGNAL_UNKILLABLE: a pid namespace's init ignores default-action signals from inside it. */
  unkillable = false;
  /** The pid namespace the process lives in (fixed for its life). */
  readonly pidNs: PidNamespace;

  constructor(readonly pid: number, public parent: ThreadGroup | undefined, pidNs?: PidNamespace) {
    this.pidNs = pidNs ?? parent?.pidNs ?? DETACHED_PID_NS;
    this.pgid = parent?.pgid ?? pid;
    this.sid = parent?.sid ?? pid;
    this.sigactions = parent !== undefined
      ? parent.sigactions.map((a) => ({ ...a }))
      : Array.from({ length: NSIG + 1 }, () => ({ handler: 0n, flags: 0n, restorer: 0n, mask: 0n }));
    this.rlimits = parent !== undefined ? parent.rlimits.map((r) => ({ ...r })) : defaultRlimits();
  }

  get leader(): Task | undefined {
    for (const t of this.tasks) if (t.tid === this.pid) return t;
    return this.tasks.values().next().value;
  }
}

/** For groups made outside the kernel (the control side's stand-in parent of exec'd processes). */
const DETACHED_PID_NS = new PidNamespace(undefined, 0);

/** Linux's defaults for a fresh init (RLIMIT_* order from <asm-generic/resource.h>). */
function defaultRlimits(): Rlimit[] {
  const inf = { cur: RLIM_INFINITY, max: RLIM_INFINITY };
  const r: Rlimit[] = [];
  for (let i = 0; i < 16; i++) r.push({ ...inf });
  r[3] = { cur: 8n * 1024n * 1024n, max: RLIM_INFINITY }; // STACK
  r[4] = { cur: 0n, max: RLIM_INFINITY }; // CORE
  r[6] = { cur: 63704n, max: 63704n }; // NPROC
  r[7] = { cur: 1024n, max: 20000n }; // NOFILE (the host's hard limit here is 20000)
  r[8] = { cur: 8n * 1024n * 1024n, max: 8n * 1024n * 1024n }; // MEMLOCK
  r[11] = { cur: 63704n, max: 63704n }; // SIGPENDING
  r[12] = { cur: 819200n, max: 819200n }; // MSGQUEUE
  r[13] = { cur: 0n, max: 0n }; // NICE
  r[14] = { cur: 0n, max: 0n }; // RTPRIO
  return r;
}
