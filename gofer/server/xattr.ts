// Extended attributes of host files for 9P2000.L's Txattrwalk / Txattrcreate. f*xattr calls
// need a real fd (O_PATH gives EBADF), so each call opens the file read-only for its length.

import { E } from '../../sentry/abi/errno.js';
import { err, isErr, type Result } from '../../sentry/abi/result.js';
import { goferNative } from '../confine/native_gofer.js';
import { L_O } from '../p9/constants.js';
import { type HostPath, isDirMode, isRegMode, O_DIRECTORY } from './host_file.js';

/** Linux's XATTR_SIZE_MAX: no value may be larger. */
export const XATTR_SIZE_MAX = 65536;
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

/** What an xattr fid holds: the bytes Tread returns, or the value Twrite fills before Tclunk sets it. */
export type XattrFid =
  | { kind: 'read'; data: Uint8Array }
  | { kind: 'write'; name: string; flags: number; data: Uint8Array; written: number };

/** Runs `use` on a fresh read-only fd of p (directories and regular files only). */
function withFd<T>(p: HostPath, use: (fd: number) => Result<T>): Result<T> {
  const fd = p.open(L_O.RDONLY | (isDirMode(p.mode) ? O_DIRECTORY : 0));
  if (isErr(fd)) return fd;
  try {
    return use(fd);
  } finally {
    goferNative().closeFd(fd);
  }
}

/** Calls a size-returning f*xattr twice (size, then bytes), retrying if the value grew meanwhile. */
function fetch(call: (buf: Uint8Array) => number): Result<Uint8Array> {
  for (let tries = 0; tries < 4; tries++) {
    const size = call(new Uint8Array(0));
    if (size < 0) return err(-size);
    if (size === 0) return new Uint8Array(0);
    const buf = new Uint8Array(size);
    const n = call(buf);
    if (n === -E.ERANGE) continue;
    if (n < 0) return err(-n);
    return buf.subarray(0, n);
  }
  return err(E.ERANGE);
}

/**
 * The value of xattr `name` of p, or with name "" its NUL-separated names. Files other than
 * regular ones and directories are never opened: like Linux for user.*, symlinks and special
 * files have no attributes to show.
 */
export function readXattr(p: HostPath, name: string): Result<Uint8Array> {
  if (name.includes('\0')) return err(E.EINVAL);
  if (!isRegMode(p.mode) && !isDirMode(p.mode)) return name === '' ? new Uint8Array(0) : err(E.ENODATA);
  const n = goferNative();
  return withFd(p, (fd) => fetch((buf) => (name === '' ? n.xattrList(fd, buf) : n.xattrGet(fd, name, buf))));
}

/**
 * Checks a Txattrcreate: only the user.* namespace may be changed from the sandbox (trusted.*
 * and security.* need privilege on Linux: EPERM; others, e.g. system.* ACLs, EOPNOTSUPP).
 */
export function startXattrWrite(p: HostPath, name: string, size: bigint, flags: number): Result<XattrFid> {
  if (name === '' || name.includes('\0') || name.length > 255) return err(name.length > 255 ? E.ERANGE : E.EINVAL);
  if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) !== 0) return err(E.EINVAL);
  if (size < 0n || size > BigInt(XATTR_SIZE_MAX)) return err(E.E2BIG);
  if (name.startsWith('trusted.') || name.startsWith('security.')) return err(E.EPERM);
  if (!name.startsWith('user.') || name === 'user.') return err(name === 'user.' ? E.EINVAL : E.EOPNOTSUPP);
  // Linux refuses user.* on anything but regular files and directories.
  if (!isRegMode(p.mode) && !isDirMode(p.mode)) return err(E.EPERM);
  return { kind: 'write', name, flags, data: new Uint8Array(Number(size)), written: 0 };
}

/** Stores bytes of a Twrite into an xattr writer; the value must fit the size announced. */
export function writeXattrBytes(x: Extract<XattrFid, { kind: 'write' }>, offset: number, data: Uint8Array): Result<number> {
  if (offset < 0 || offset + data.length > x.data.length) return err(E.ENOSPC);
  x.data.set(data, offset);
  x.written = Math.max(x.written, offset + data.length);
  return data.length;
}

/**
 * Sets the value at Tclunk. As in QEMU's 9P server, size 0 removes the attribute (Linux's
 * v9fs sends removexattr that way); a value not written in full is EINVAL.
 */
export function commitXattr(p: HostPath, x: Extract<XattrFid, { kind: 'write' }>): Result<void> {
  if (x.written !== x.data.length) return err(E.EINVAL);
  const n = goferNative();
  return withFd(p, (fd) => {
    const r = x.data.length === 0 ? n.xattrRemove(fd, x.name) : n.xattrSet(fd, x.name, x.data, x.flags);
    return r < 0 ? err(-r) : undefined;
  });
}
