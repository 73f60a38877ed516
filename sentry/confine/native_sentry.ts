// Typed access to native/sentry_confine.c and the confinement calls shared with the Gofer
// (native/gofer.c, native/addon.c). Every call returns -errno on failure.

import { native } from '../platform/ptrace/native.js';

export interface SentryConfineNative {
  /** With goferArgv: the root's Gofer starts first; argv[goferPidSlot] (>= 10 chars) becomes its pid. */
  sentrySpawn(execPath: string, argv: string[], keepFds: number, netnsPath: string, newNet: number, goferArgv?: string[], goferPidSlot?: number): number;
  sentryPivotEmpty(): number;
  /** Execs the waiter at path for our child pid; returns only on failure (-errno). */
  execSentryWait(path: string, pid: number): number;
  childWait(pid: number, block: number): number;
  dropCaps(keepLo: number, keepHi: number): number;
  seccompInstall(filter: Uint8Array): number;
}

export function sentryConfineNative(): SentryConfineNative {
  return native() as unknown as SentryConfineNative;
}
