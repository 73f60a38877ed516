// The two places where file syscalls need the kernel's signal machinery. The kernel sets
// these at boot (setVfsHooks); the defaults make the VFS usable alone in unit tests.

import type { Task } from '../kernel/task.js';

export interface VfsHooks {
  /**
   * A write-like syscall (write, writev, pwrite64, pwritev, sendfile) on a pipe failed with
   * EPIPE: Linux sends SIGPIPE to the calling thread, and the syscall still returns -EPIPE.
   */
  onEpipe(t: Task): void;
  /**
   * An AbortSignal that aborts when a signal must interrupt t's current blocking syscall
   * (undefined: never interrupted). Blocking file operations then return EINTR without
   * consuming data.
   */
  interruptSignal(t: Task): AbortSignal | undefined;
}

export const vfsHooks: VfsHooks = {
  onEpipe: () => {},
  interruptSignal: () => undefined,
};

export function setVfsHooks(h: Partial<VfsHooks>): void {
  Object.assign(vfsHooks, h);
}
