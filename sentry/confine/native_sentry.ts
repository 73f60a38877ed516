// Typed access to native/sentry_confine.c and the confinement calls shared with the Gofer
// (native/gofer.c, native/addon.c). Every call returns -errno on failure.

import { native } from '../platform/ptrace/native.js';

export interface SentryConfineNative {
  sentrySpawn(execPath: string, argv: string[], keepFds: number, netnsPath: string, newNet: number): number;
  sentryPivotEmpty(): number;
  childWait(pid: number, block: number): number;
  dropCaps(keepLo: number, keepHi: number): number;
  seccompInstall(filter: Uint8Array): number;
}

export function sentryConfineNative(): SentryConfineNative {
  return native() as unknown as SentryConfineNative;
}
