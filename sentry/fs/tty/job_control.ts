// Controlling terminals and job control: a session has at most one controlling terminal
// (and a terminal at most one session); only the terminal's foreground process group may
// read from it, and (with TOSTOP, or for mode changes) write to it. A background caller
// gets SIGTTIN/SIGTTOU sent to its process group and the syscall restarts after it is
// continued, or EIO when the signal is ignored/blocked (reads) or its group is orphaned.

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import type { Kernel } from '../../kernel/kernel.js';
import { SIG } from '../../kernel/signals.js';
import type { Task } from '../../kernel/task.js';
import type { ThreadGroup } from '../../kernel/thread_group.js';
import type { Tty } from './tty.js';

/** Linux's ERESTARTSYS: the kernel restarts the syscall once the stop signal is handled. */
const ERESTARTSYS = 512;
const SIG_IGN = 1n;

const cttys = new WeakMap<Kernel, Map<number, Tty>>();

function sessionAlive(k: Kernel, sid: number): boolean {
  for (const g of k.groups.values()) if (g.sid === sid && !g.zombie && !g.exiting) return true;
  return false;
}

/** The controlling terminal of t's session, if it has one. */
export function controllingTty(t: Task): Tty | undefined {
  const m = cttys.get(t.kernel);
  const tty = m?.get(t.tg.sid);
  if (tty === undefined) return undefined;
  if (tty.session?.sid !== t.tg.sid || tty.session.kernel !== t.kernel || tty.hungUp) {
    m?.delete(t.tg.sid);
    return undefined;
  }
  return tty;
}

/** Whether tty is the controlling terminal of t's session. */
export function isControllingTty(t: Task, tty: Tty): boolean {
  return controllingTty(t) === tty;
}

/** Makes tty the controlling terminal of session sid with foreground group pgid. */
export function attachSession(k: Kernel, sid: number, pgid: number, tty: Tty): void {
  let m = cttys.get(k);
  if (m === undefined) cttys.set(k, (m = new Map()));
  if (tty.session !== undefined) m.delete(tty.session.sid);
  m.set(sid, tty);
  tty.session = { kernel: k, sid, fgPgrp: pgid };
  const leader = k.groups.get(sid);
  if (leader !== undefined && !leaderWatched.has(leader)) {
    leaderWatched.add(leader);
    leader.onExit.push(() => disassociateOnExit(k, sid));
  }
}

/** Session leaders whose exit already disassociates their terminal. */
const leaderWatched = new WeakSet<ThreadGroup>();

/**
 * The session leader exited (Linux's disassociate_ctty(1)): a pty's foreground group gets
 * SIGHUP (Linux sends SIGCONT too only when the leader gives the terminal up while alive),
 * and the terminal no longer belongs to the session.
 */
function disassociateOnExit(k: Kernel, sid: number): void {
  const m = cttys.get(k);
  const tty = m?.get(sid);
  m?.delete(sid);
  const s = tty?.session;
  if (tty === undefined || s === undefined || s.sid !== sid || s.kernel !== k) return;
  tty.session = undefined;
  if (!tty.hungUp) k.signalProcessGroup(s.fgPgrp, SIG.SIGHUP);
}

/** Whether tty controls a session that still has live processes. */
function inUse(tty: Tty): boolean {
  const s = tty.session;
  return s !== undefined && sessionAlive(s.kernel, s.sid) && cttys.get(s.kernel)?.get(s.sid) === tty;
}

/**
 * TIOCSCTTY: a session leader without a controlling terminal takes tty; stealing it from
 * another live session needs force (arg 1) and CAP_SYS_ADMIN.
 */
export function setControllingTty(t: Task, tty: Tty, force: boolean): Result<void> {
  const tg = t.tg;
  if (tg.sid !== tg.pid) return err(E.EPERM);
  const current = controllingTty(t);
  if (current === tty) return undefined;
  if (current !== undefined) return err(E.EPERM);
  if (inUse(tty)) {
    if (!force || t.creds.euid !== 0) return err(E.EPERM);
    const old = tty.session;
    if (old !== undefined) cttys.get(old.kernel)?.delete(old.sid);
  }
  attachSession(t.kernel, tg.sid, tg.pgid, tty);
  return undefined;
}

/** Opening a terminal without O_NOCTTY makes it the controlling one of a session leader that has none. */
export function maybeAcquireOnOpen(t: Task, tty: Tty): void {
  const tg = t.tg;
  if (tg.sid !== tg.pid || controllingTty(t) !== undefined || inUse(tty)) return;
  attachSession(t.kernel, tg.sid, tg.pgid, tty);
}

/** TIOCNOTTY: a session leader giving up its terminal hangs up its foreground group. */
export function dropControllingTty(t: Task, tty: Tty): Result<void> {
  if (!isControllingTty(t, tty)) return err(E.ENOTTY);
  const s = tty.session;
  if (s === undefined || t.tg.sid !== t.tg.pid) return undefined;
  s.kernel.signalProcessGroup(s.fgPgrp, SIG.SIGHUP);
  s.kernel.signalProcessGroup(s.fgPgrp, SIG.SIGCONT);
  cttys.get(s.kernel)?.delete(s.sid);
  tty.session = undefined;
  return undefined;
}

/** TIOCSPGRP: pgid must be a process group of the caller's session. */
export function setForeground(t: Task, tty: Tty, pgid: number): Result<void> {
  if (!isControllingTty(t, tty) || tty.session === undefined) return err(E.ENOTTY);
  const bg = backgroundCheck(t, tty, SIG.SIGTTOU);
  if (bg !== undefined) return bg;
  if (pgid < 0) return err(E.EINVAL);
  let exists = false;
  for (const g of t.kernel.groups.values()) {
    if (g.pgid !== pgid || g.zombie) continue;
    exists = true;
    if (g.sid === t.tg.sid) {
      tty.session.fgPgrp = pgid;
      return undefined;
    }
  }
  return err(exists ? E.EPERM : E.ESRCH);
}

/** A process group is orphaned when no member has a parent in another group of the same session. */
function orphaned(k: Kernel, pgid: number, sid: number): boolean {
  for (const g of k.groups.values()) {
    if (g.pgid !== pgid || g.zombie) continue;
    const p: ThreadGroup | undefined = g.parent;
    if (p !== undefined && p.pgid !== pgid && p.sid === sid) return false;
  }
  return true;
}

function ignoredOrBlocked(t: Task, signo: number): boolean {
  return t.tg.sigactions[signo].handler === SIG_IGN || (t.sigmask & (1n << BigInt(signo - 1))) !== 0n;
}

/**
 * Linux's tty_check_change / job-control read check for a caller of tty's program side:
 * undefined when it may go ahead, else the syscall's error (ERESTARTSYS after sending
 * signo to the caller's group, or EIO).
 */
export function backgroundCheck(t: Task, tty: Tty, signo: number): Result<void> | undefined {
  const s = tty.session;
  if (s === undefined || !isControllingTty(t, tty) || t.tg.pgid === s.fgPgrp) return undefined;
  if (ignoredOrBlocked(t, signo)) return signo === SIG.SIGTTIN ? err(E.EIO) : undefined;
  if (orphaned(t.kernel, t.tg.pgid, t.tg.sid)) return err(E.EIO);
  t.kernel.signalProcessGroup(t.tg.pgid, signo);
  return err(ERESTARTSYS);
}
