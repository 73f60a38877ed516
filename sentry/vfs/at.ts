// Helpers shared by the path and fd syscalls: reading a path argument, finding where a
// relative path starts for an *at() call, and the per-call I/O context.

import { E } from '../abi/errno.js';
import { err, isErr, type Result } from '../abi/result.js';
import type { Task } from '../kernel/task.js';
import { AT, isDir, PATH_MAX } from './constants.js';
import type { FileDescription, IoCtx } from './file.js';
import { vfsHooks } from './hooks.js';
import type { Location } from './mount.js';

/** A path argument: NUL-terminated, ENAMETOOLONG at PATH_MAX bytes with the NUL. */
export function readPath(t: Task, addr: number): Result<string> {
  return t.mem.readCString(addr, PATH_MAX - 1);
}

export function fileOf(t: Task, fd: number): Result<FileDescription> {
  return t.fds.get(fd) ?? err(E.EBADF);
}

/**
 * Where path starts for an *at() call: the root for absolute paths (dirfd is then ignored,
 * as Linux does), the cwd for AT_FDCWD, else dirfd's directory.
 */
export function startFor(t: Task, dirfd: number, path: string): Result<Location> {
  if (path.charCodeAt(0) === 0x2f) return t.fs.root;
  if (dirfd === AT.FDCWD) return t.fs.cwd;
  const f = fileOf(t, dirfd);
  if (isErr(f)) return f;
  if (f.location === null || !isDir(f.location.dentry.inode.mode)) return err(E.ENOTDIR);
  return f.location;
}

/** AT_EMPTY_PATH: the location dirfd names itself (any file type), or the cwd. */
export function emptyPathTarget(t: Task, dirfd: number): Result<{ file: FileDescription | null; loc: Location | null }> {
  if (dirfd === AT.FDCWD) return { file: null, loc: t.fs.cwd };
  const f = fileOf(t, dirfd);
  if (isErr(f)) return f;
  return { file: f, loc: f.location };
}

export function ioCtx(t: Task): IoCtx {
  return { signal: vfsHooks.interruptSignal(t), task: t };
}
