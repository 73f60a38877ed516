// Signal generation and delivery: queueing to threads or processes, waking the target
// (interrupting its syscall or its user code), handler frames, job-control stops, and
// the syscall restart rules (ERESTARTSYS with SA_RESTART, ERESTARTNOHAND...).

import { E } from '../abi/errno.js';
import { REG } from '../abi/regs.js';
import { isErr } from '../abi/result.js';
import type { Kernel } from './kernel.js';
import { pushSignalFrame } from './signal_frame.js';
import { defaultAction, SIG } from './signals.js';
import { CLD_CONTINUED, CLD_STOPPED, makeSiginfo, type QueuedSignal, sigbit, SIGRTMIN } from './sigqueue.js';
import type { Task } from './task.js';
import type { ThreadGroup } from './thread_group.js';

/** Internal restart codes a handler may return (never seen by the app). */
export const ERESTARTSYS = 512;
export const ERESTARTNOINTR = 513;
export const ERESTARTNOHAND = 514;
/** Restart through restart_syscall(2) and t.restartFn (sleeps continue with the time left). */
export const ERESTART_RESTARTBLOCK = 516;
const NR_RESTART_SYSCALL = 219;

export const SIG_DFL = 0n;
export const SIG_IGN = 1n;
export const SA_NOCLDSTOP = 1n;
export const SA_NOCLDWAIT = 2n;
export const SA_SIGINFO = 4n;
export const SA_ONSTACK = 0x08000000n;
export const SA_RESTART = 0x10000000n;
export const SA_NODEFER = 0x40000000n;
export const SA_RESETHAND = 0x80000000n;
export const UNBLOCKABLE = sigbit(SIG.SIGKILL) | sigbit(SIG.SIGSTOP);
const STOP_SIGNALS = [SIG.SIGSTOP, SIG.SIGTSTP, SIG.SIGTTIN, SIG.SIGTTOU];

export interface Restart {
  nr: number;
  code: number;
}

/** Whether the group's disposition for signo discards it (explicit or default ignore). */
export function isIgnored(tg: ThreadGroup, signo: number): boolean {
  const h = tg.sigactions[signo].handler;
  if (h === SIG_IGN) return true;
  if (h !== SIG_DFL) return false;
  const d = defaultAction(signo);
  return d === 'ignore' || d === 'continue';
}

/** Signals t could take now: pending for it or its process, and not blocked. */
export function deliverableMask(t: Task): bigint {
  return (t.pending.mask | t.tg.sharedPending.mask) & ~t.sigmask;
}

/**
 * Generates signo for a process (target undefined) or one of its threads.
 * Fatal default actions kill at once; anything else is queued and the chosen thread woken.
 * Returns false only when a real-time signal could not be queued.
 */
export function generateSignal(k: Kernel, tg: ThreadGroup, target: Task | undefined, signo: number, info: Uint8Array, force = true): boolean {
  if (signo === 0 || tg.zombie || tg.exiting || tg.tasks.size === 0) return true;
  const any = target ?? tg.leader;
  if (any === undefined) return true;
  // A pid namespace's init (sig_task_ignored): default-action signals are dropped unless it
  // is SIGKILL/SIGSTOP from outside its namespace or from the kernel. Blocked ones queue.
  if (tg.unkillable && tg.sigactions[signo].handler === SIG_DFL && !(force && (signo === SIG.SIGKILL || signo === SIG.SIGSTOP))
    && ((any.realBlocked ?? any.sigmask) & sigbit(signo)) === 0n) {
    if (signo === SIG.SIGCONT) continueGroup(k, tg);
    return true;
  }
  if (signo === SIG.SIGKILL) {
    k.exitGroup(any, SIG.SIGKILL);
    return true;
  }
  const bit = sigbit(signo);
  if (signo === SIG.SIGCONT) {
    for (const s of STOP_SIGNALS) {
      tg.sharedPending.discard(s);
      for (const x of tg.tasks) x.pending.discard(s);
    }
    continueGroup(k, tg);
  } else if (STOP_SIGNALS.includes(signo)) {
    tg.sharedPending.discard(SIG.SIGCONT);
    for (const x of tg.tasks) x.pending.discard(SIG.SIGCONT);
  }
  const blocks = (x: Task): boolean => ((x.realBlocked ?? x.sigmask) & bit) !== 0n;
  const blockedEverywhere = target !== undefined ? blocks(target) : [...tg.tasks].every(blocks);
  if (!blockedEverywhere && isIgnored(tg, signo)) return true;
  const q = target !== undefined ? target.pending : tg.sharedPending;
  // A real-time signal beyond the queue limit is refused (sigqueue: EAGAIN).
  if (signo >= SIGRTMIN && q.full) return false;
  q.enqueue({ signo, info });
  tg.signalEvents.notify(1);
  // A stopped process takes nothing but SIGKILL and SIGCONT until it runs again.
  if (tg.stopped) return true;
  // Who takes it: the target, else a thread not blocking it (the leader first).
  const takers = target !== undefined ? [target] : [any, ...tg.tasks];
  const taker = takers.find((x) => (x.sigmask & bit) === 0n);
  if (taker === undefined) return true;
  const act = tg.sigactions[signo];
  const d = defaultAction(signo);
  if (act.handler === SIG_DFL && (d === 'terminate' || d === 'core') && !blocks(taker) && !tg.unkillable) {
    k.exitGroup(taker, signo);
    return true;
  }
  wake(taker);
  return true;
}

/** Makes t notice its pending signals: interrupt its syscall, or stop its user code. */
export function wake(t: Task): void {
  if (t.state === 'syscall') {
    if (t.interruptCtl === undefined) t.interruptCtl = new AbortController();
    t.interruptCtl.abort();
  } else if (t.state === 'running') {
    t.thread.interrupt();
  }
}

/** The AbortSignal a blocking syscall of t waits on; already aborted if a signal is due. */
export function interruptSignal(t: Task): AbortSignal {
  if (t.interruptCtl === undefined) t.interruptCtl = new AbortController();
  if (!t.interruptCtl.signal.aborted && (deliverableMask(t) !== 0n || t.tg.stopped || t.state === 'dead')) t.interruptCtl.abort();
  return t.interruptCtl.signal;
}

/** Takes the next deliverable signal of t (its own queue first), or undefined. */
export function dequeueSignal(t: Task, allowed: bigint): QueuedSignal | undefined {
  const own = t.pending.first(allowed);
  if (own !== 0) return t.pending.take(own);
  const shared = t.tg.sharedPending.first(allowed);
  if (shared !== 0) return t.tg.sharedPending.take(shared);
  return undefined;
}

function restartRegs(t: Task, r: Restart): void {
  t.regs.set(REG.rax, r.code === ERESTART_RESTARTBLOCK ? NR_RESTART_SYSCALL : r.nr);
  t.regs.set(REG.rip, t.regs.get(REG.rip) - 2); // back over the 2-byte `syscall`
}

/**
 * Delivers t's pending signals before it returns to user code: default actions, stops,
 * and handler frames (several nest if several are due). Returns what t should do next.
 */
export function deliverPending(k: Kernel, t: Task, restart?: Restart): 'resume' | 'parked' | 'dead' {
  let rs = restart;
  for (let guard = 0; guard < 128; guard++) {
    if (t.state === 'dead') return 'dead';
    if (t.tg.stopped) {
      park(k, t, rs);
      return 'parked';
    }
    const s = dequeueSignal(t, ~t.sigmask);
    if (s === undefined) break;
    const act = t.tg.sigactions[s.signo];
    if (act.handler === SIG_IGN) continue;
    if (act.handler === SIG_DFL) {
      const d = defaultAction(s.signo);
      if (d === 'ignore' || d === 'continue') continue;
      // An unkillable init drops what got queued while blocked, but a fault still kills it.
      if (t.tg.unkillable && s.fault === undefined && s.signo !== SIG.SIGKILL && s.signo !== SIG.SIGSTOP) continue;
      if (d === 'stop') {
        // Terminal stops of an orphaned process group are discarded: nobody could continue it.
        if (s.signo !== SIG.SIGSTOP && orphanedPgrp(k, t.tg.pgid, t.tg.sid)) continue;
        stopGroup(k, t.tg, s.signo);
        continue;
      }
      k.exitGroup(t, s.signo);
      return 'dead';
    }
    if (rs !== undefined) {
      if (rs.code === ERESTARTNOINTR || (rs.code === ERESTARTSYS && (act.flags & SA_RESTART) !== 0n)) restartRegs(t, rs);
      else t.regs.set(REG.rax, -E.EINTR);
      rs = undefined;
    }
    const oldMask = t.savedMask ?? t.sigmask;
    t.savedMask = undefined;
    const r = pushSignalFrame(t, s.signo, s.info, act.handler, act.restorer, (act.flags & SA_ONSTACK) !== 0n, oldMask, s.fault);
    if (isErr(r)) {
      // No room for the frame: Linux forces SIGSEGV, which kills.
      k.exitGroup(t, SIG.SIGSEGV);
      return 'dead';
    }
    t.sigmask = (t.sigmask | act.mask | ((act.flags & SA_NODEFER) !== 0n ? 0n : sigbit(s.signo))) & ~UNBLOCKABLE;
    if ((act.flags & SA_RESETHAND) !== 0n) t.tg.sigactions[s.signo] = { handler: SIG_DFL, flags: 0n, restorer: 0n, mask: 0n };
    t.regsReplaced = true;
  }
  if (rs !== undefined) restartRegs(t, rs);
  if (t.savedMask !== undefined) {
    t.sigmask = t.savedMask;
    t.savedMask = undefined;
  }
  return 'resume';
}

/**
 * POSIX: a process group is orphaned when no member has a parent in a different group of
 * the same session (no shell left to continue it).
 */
export function orphanedPgrp(k: Kernel, pgid: number, sid: number): boolean {
  for (const g of k.groups.values()) {
    if (g.pgid !== pgid || g.zombie) continue;
    const p = g.parent;
    if (p !== undefined && p.pgid !== pgid && p.sid === sid) return false;
  }
  return true;
}

/** Parks t for a group stop; SIGCONT runs its delivery again and resumes it. */
function park(k: Kernel, t: Task, rs: Restart | undefined): void {
  t.state = 'stopped';
  t.stopParked = () => {
    t.stopParked = undefined;
    if (t.state === 'dead') return;
    t.state = 'running';
    const r = deliverPending(k, t, rs);
    if (r === 'resume') t.thread.resume();
  };
  stopProgress(k, t.tg);
}

/** The group stop completes when its last thread parks: only then does the parent hear. */
export function stopProgress(k: Kernel, tg: ThreadGroup): void {
  if (!tg.stopped || tg.stoppingSig === 0) return;
  for (const x of tg.tasks) if (x.state !== 'stopped') return;
  tg.waitStopSig = tg.stoppingSig;
  tg.stoppingSig = 0;
  notifyParent(k, tg, CLD_STOPPED, tg.waitStopSig);
}

function notifyParent(k: Kernel, tg: ThreadGroup, code: number, status: number): void {
  const parent = tg.parent;
  if (parent === undefined) return;
  parent.childEvents.notify();
  if ((parent.sigactions[SIG.SIGCHLD].flags & SA_NOCLDSTOP) !== 0n) return;
  const leader = tg.leader;
  generateSignal(k, parent, undefined, SIG.SIGCHLD, makeSiginfo(SIG.SIGCHLD, { code, pid: parent.pidNs.idOf(tg.pid), uid: leader?.creds.uid ?? 0, status }));
}

/** A stop signal took effect: every thread parks at its next chance (see stopProgress). */
export function stopGroup(k: Kernel, tg: ThreadGroup, signo: number): void {
  if (tg.stopped || tg.exiting) return;
  tg.stopped = true;
  tg.stoppingSig = signo;
  tg.waitContinued = false;
  for (const x of tg.tasks) wake(x);
}

/** SIGCONT: parked threads run again (restarting interrupted syscalls). */
export function continueGroup(k: Kernel, tg: ThreadGroup): void {
  if (!tg.stopped) return;
  tg.stopped = false;
  tg.waitStopSig = 0;
  tg.stoppingSig = 0;
  tg.waitContinued = true;
  for (const x of [...tg.tasks]) x.stopParked?.();
  notifyParent(k, tg, CLD_CONTINUED, SIG.SIGCONT);
}
