// What a seccomp filter decides for a syscall, as a value, and its 32-bit return encoding.

import {
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_DATA,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
} from './bpf.js';

export type SeccompAction =
  | { readonly kind: 'ALLOW' }
  | { readonly kind: 'LOG' }
  | { readonly kind: 'KILL_PROCESS' }
  | { readonly kind: 'KILL_THREAD' }
  | { readonly kind: 'USER_NOTIF' }
  /** The syscall fails with -data (the kernel caps data at MAX_ERRNO, 4095). */
  | { readonly kind: 'ERRNO'; readonly data: number }
  /** SIGSYS with si_errno = data. */
  | { readonly kind: 'TRAP'; readonly data: number }
  /** A ptrace tracer sees PTRACE_EVENT_SECCOMP with data as the event message. */
  | { readonly kind: 'TRACE'; readonly data: number };

export const Action = {
  ALLOW: { kind: 'ALLOW' } as SeccompAction,
  LOG: { kind: 'LOG' } as SeccompAction,
  KILL_PROCESS: { kind: 'KILL_PROCESS' } as SeccompAction,
  KILL_THREAD: { kind: 'KILL_THREAD' } as SeccompAction,
  USER_NOTIF: { kind: 'USER_NOTIF' } as SeccompAction,
  ERRNO: (errno: number): SeccompAction => ({ kind: 'ERRNO', data: errno & SECCOMP_RET_DATA }),
  TRAP: (data = 0): SeccompAction => ({ kind: 'TRAP', data: data & SECCOMP_RET_DATA }),
  TRACE: (data = 0): SeccompAction => ({ kind: 'TRACE', data: data & SECCOMP_RET_DATA }),
} as const;

/** The value a filter's RET instruction returns for `a`. */
export function actionToRet(a: SeccompAction): number {
  switch (a.kind) {
    case 'ALLOW':
      return SECCOMP_RET_ALLOW;
    case 'LOG':
      return SECCOMP_RET_LOG;
    case 'KILL_PROCESS':
      return SECCOMP_RET_KILL_PROCESS;
    case 'KILL_THREAD':
      return SECCOMP_RET_KILL_THREAD;
    case 'USER_NOTIF':
      return SECCOMP_RET_USER_NOTIF;
    case 'ERRNO':
      return (SECCOMP_RET_ERRNO | (a.data & SECCOMP_RET_DATA)) >>> 0;
    case 'TRAP':
      return (SECCOMP_RET_TRAP | (a.data & SECCOMP_RET_DATA)) >>> 0;
    case 'TRACE':
      return (SECCOMP_RET_TRACE | (a.data & SECCOMP_RET_DATA)) >>> 0;
  }
}

/** What the kernel does with a filter's return value; unknown actions kill the process. */
export function retToAction(ret: number): SeccompAction {
  const data = ret & SECCOMP_RET_DATA;
  switch ((ret & SECCOMP_RET_ACTION_FULL) >>> 0) {
    case SECCOMP_RET_ALLOW:
      return Action.ALLOW;
    case SECCOMP_RET_LOG:
      return Action.LOG;
    case SECCOMP_RET_KILL_THREAD:
      return Action.KILL_THREAD;
    case SECCOMP_RET_USER_NOTIF:
      return Action.USER_NOTIF;
    case SECCOMP_RET_ERRNO:
      return Action.ERRNO(data);
    case SECCOMP_RET_TRAP:
      return Action.TRAP(data);
    case SECCOMP_RET_TRACE:
      return Action.TRACE(data);
    default:
      return Action.KILL_PROCESS;
  }
}

/** seccomp-tools spelling: ALLOW, KILL, KILL_PROCESS, ERRNO(13), TRAP, TRACE(5), ... */
export function formatAction(a: SeccompAction): string {
  switch (a.kind) {
    case 'KILL_THREAD':
      return 'KILL';
    case 'ERRNO':
      return `ERRNO(${a.data})`;
    case 'TRAP':
    case 'TRACE':
      return a.data === 0 ? a.kind : `${a.kind}(${a.data})`;
    default:
      return a.kind;
  }
}

/** Spells a raw return value; values with an unknown action show as hex. */
export function formatRet(ret: number): string {
  const a = retToAction(ret);
  if (a.kind === 'KILL_PROCESS' && (ret & SECCOMP_RET_ACTION_FULL) >>> 0 !== SECCOMP_RET_KILL_PROCESS) {
    return `0x${(ret >>> 0).toString(16)}`;
  }
  return formatAction(a);
}

/**
 * With several filters installed the kernel runs all and keeps the most restrictive
 * result: the lowest action compared as a signed 32-bit value (KILL_PROCESS first).
 */
export function combineRets(rets: readonly number[]): number {
  let best = SECCOMP_RET_ALLOW;
  for (const r of rets) {
    if ((r & SECCOMP_RET_ACTION_FULL) < (best & SECCOMP_RET_ACTION_FULL)) best = r >>> 0;
  }
  return best;
}
