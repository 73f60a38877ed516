// Filesystem-context and path-changing syscalls: getcwd, chdir, fchdir, chroot, umask,
// statfs, and the write side (mkdir, unlink, rename, link, symlink, mknod, chmod, chown,
// utimes, truncate, sync, flock). On a read-only root the write side answers EROFS after
// the checks Linux makes first (ENOENT, ENOTDIR, EEXIST...).

import { E } from '../abi/errno.js';
import type { SyscallArgs } from '../abi/regs.js';
import { err, isErr, toRet, type MaybePromise, type Result } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import type { Task } from '../kernel/task.js';
import { emptyPathTarget, fileOf, ioCtx, readPath, startFor } from '../vfs/at.js';
import { flockWait, tryFlock, unflock } from '../vfs/locks.js';
import { AT, isDir, isReg, W_OK, X_OK } from '../vfs/constants.js';
import type { SetAttr } from '../vfs/inode.js';
import type { Location } from '../vfs/mount.js';
import { CAP, capable, permits } from '../vfs/permissions.js';
import { encodeStatfs, syntheticStatfs } from '../vfs/stat.js';
import { Vfs } from '../vfs/vfs.js';
import type { SyscallTable } from './types.js';

const enc = new TextEncoder();
const PIPEFS_MAGIC = 0x50495045n;

/** getcwd(buf, size): ERANGE if the path and its NUL do not fit; returns the length with NUL. */
function sysGetcwd(t: Task, a: SyscallArgs): number {
  const { path, reachable } = t.kernel.vfs.pathOf(t.fs.cwd, t.fs.root);
  const bytes = enc.encode((reachable ? '' : '(unreachable)') + path + '\0');
  if (bytes.length > a.size(1)) return -E.ERANGE;
  return toRet(t.mem.copyOut(a.ptr(0), bytes) ?? bytes.length);
}

/** A directory the caller may search, for chdir/chroot. */
async function searchableDir(t: Task, pathAddr: number): Promise<Result<Location>> {
  const path = readPath(t, pathAddr);
  if (isErr(path)) return path;
  const loc = await t.kernel.vfs.walk(t, t.fs.cwd, path, true);
  if (isErr(loc)) return loc;
  if (!isDir(loc.dentry.inode.mode)) return err(E.ENOTDIR);
  if (!permits(t.creds, loc.dentry.inode, X_OK)) return err(E.EACCES);
  return loc;
}

async function sysChdir(t: Task, a: SyscallArgs): Promise<number> {
  const loc = await searchableDir(t, a.ptr(0));
  if (isErr(loc)) return -loc.errno;
  t.fs.cwd = loc;
  return 0;
}

function sysFchdir(t: Task, a: SyscallArgs): number {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const loc = f.location;
  if (loc === null || !isDir(loc.dentry.inode.mode)) return -E.ENOTDIR;
  if (!permits(t.creds, loc.dentry.inode, X_OK)) return -E.EACCES;
  t.fs.cwd = loc;
  return 0;
}

/** chroot(2): needs CAP_SYS_CHROOT (checked after the path, as Linux does); the cwd is left as it is. */
async function sysChroot(t: Task, a: SyscallArgs): Promise<number> {
  const loc = await searchableDir(t, a.ptr(0));
  if (isErr(loc)) return -loc.errno;
  if (!capable(t.creds, CAP.SYS_CHROOT)) return -E.EPERM;
  t.fs.root = loc;
  return 0;
}

function sysUmask(t: Task, a: SyscallArgs): number {
  const old = t.fs.umask;
  t.fs.umask = a.uint(0) & 0o777;
  return old;
}

async function sysStatfs(t: Task, a: SyscallArgs): Promise<number> {
  const path = readPath(t, a.ptr(0));
  if (isErr(path)) return -path.errno;
  const loc = await t.kernel.vfs.walk(t, t.fs.cwd, path, true);
  if (isErr(loc)) return -loc.errno;
  const s = await t.kernel.vfs.statfs(loc);
  if (isErr(s)) return -s.errno;
  return toRet(t.mem.copyOut(a.ptr(1), encodeStatfs(s)) ?? 0);
}

async function sysFstatfs(t: Task, a: SyscallArgs): Promise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const s = f.location === null ? syntheticStatfs(PIPEFS_MAGIC, false) : await t.kernel.vfs.statfs(f.location);
  if (isErr(s)) return -s.errno;
  return toRet(t.mem.copyOut(a.ptr(1), encodeStatfs(s)) ?? 0);
}

/** Runs op with a path argument and where it starts (dirfd rules of *at calls). */
async function withPath(
  t: Task, dirfd: number, pathAddr: number,
  op: (start: Location, path: string) => Promise<Result<void>>,
): Promise<number> {
  const path = readPath(t, pathAddr);
  if (isErr(path)) return -path.errno;
  const start = startFor(t, dirfd, path);
  if (isErr(start)) return -start.errno;
  return toRet((await op(start, path)) ?? 0);
}

const mkdirAt = (t: Task, dirfd: number, p: number, mode: number): Promise<number> =>
  withPath(t, dirfd, p, (s, path) => t.kernel.vfs.mkdir(t, s, path, mode));

const unlinkPath = (t: Task, dirfd: number, p: number): Promise<number> =>
  withPath(t, dirfd, p, (s, path) => t.kernel.vfs.unlink(t, s, path));

const rmdirPath = (t: Task, dirfd: number, p: number): Promise<number> =>
  withPath(t, dirfd, p, (s, path) => t.kernel.vfs.rmdir(t, s, path));

async function renameAt(t: Task, olddirfd: number, oldAddr: number, newdirfd: number, newAddr: number, flags: number): Promise<number> {
  const oldPath = readPath(t, oldAddr);
  if (isErr(oldPath)) return -oldPath.errno;
  const newPath = readPath(t, newAddr);
  if (isErr(newPath)) return -newPath.errno;
  const os = startFor(t, olddirfd, oldPath);
  if (isErr(os)) return -os.errno;
  const ns = startFor(t, newdirfd, newPath);
  if (isErr(ns)) return -ns.errno;
  return toRet((await t.kernel.vfs.rename(t, os, oldPath, ns, newPath, flags)) ?? 0);
}

async function symlinkAt(t: Task, targetAddr: number, dirfd: number, pathAddr: number): Promise<number> {
  const target = readPath(t, targetAddr);
  if (isErr(target)) return -target.errno;
  return withPath(t, dirfd, pathAddr, (s, path) => t.kernel.vfs.symlink(t, target, s, path));
}

async function linkAt(t: Task, olddirfd: number, oldAddr: number, newdirfd: number, newAddr: number, flags: number): Promise<number> {
  if ((flags & ~(AT.SYMLINK_FOLLOW | AT.EMPTY_PATH)) !== 0) return -E.EINVAL;
  const oldPath = readPath(t, oldAddr);
  if (isErr(oldPath)) return -oldPath.errno;
  if (oldPath.length === 0 && (flags & AT.EMPTY_PATH) !== 0) {
    const tgt = emptyPathTarget(t, olddirfd);
    if (isErr(tgt)) return -tgt.errno;
    if (tgt.loc === null) return -E.ENOENT;
    const old = tgt.loc;
    return withPath(t, newdirfd, newAddr, (s, path) => t.kernel.vfs.linkLocation(t, old, s, path));
  }
  const os = startFor(t, olddirfd, oldPath);
  if (isErr(os)) return -os.errno;
  const follow = (flags & AT.SYMLINK_FOLLOW) !== 0;
  return withPath(t, newdirfd, newAddr, (s, path) => t.kernel.vfs.link(t, os, oldPath, follow, s, path));
}

const mknodAt = (t: Task, dirfd: number, p: number, mode: number, dev: number): Promise<number> =>
  withPath(t, dirfd, p, (s, path) => t.kernel.vfs.mknod(t, s, path, mode, BigInt(dev)));

/** Applies attr to dirfd+path (flags: AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH). */
async function setattrAt(t: Task, dirfd: number, pathAddr: number, flags: number, attr: SetAttr): Promise<number> {
  let path = '';
  if (pathAddr !== 0 || (flags & AT.EMPTY_PATH) === 0) {
    const p = readPath(t, pathAddr);
    if (isErr(p)) return -p.errno;
    path = p;
  }
  let loc: Result<Location>;
  if (path.length === 0) {
    if ((flags & AT.EMPTY_PATH) === 0) return -E.ENOENT;
    const tgt = emptyPathTarget(t, dirfd);
    if (isErr(tgt)) return -tgt.errno;
    // Files without a path (pipes) keep their attributes in memory nobody sees again.
    if (tgt.loc === null) return 0;
    loc = tgt.loc;
  } else {
    const start = startFor(t, dirfd, path);
    if (isErr(start)) return -start.errno;
    loc = await t.kernel.vfs.walk(t, start, path, (flags & AT.SYMLINK_NOFOLLOW) === 0);
  }
  if (isErr(loc)) return -loc.errno;
  return toRet((await t.kernel.vfs.setattr(t, loc, attr)) ?? 0);
}

/** The fd variants (fchmod, fchown, futimens): EBADF for O_PATH fds. */
function setattrFd(t: Task, fd: number, attr: SetAttr): MaybePromise<number> {
  const f = fileOf(t, fd);
  if (isErr(f)) return -f.errno;
  if (f.isPath) return -E.EBADF;
  if (f.location === null) return 0;
  return t.kernel.vfs.setattr(t, f.location, attr).then((r) => toRet(r ?? 0));
}

/** chown's uid/gid: -1 leaves it unchanged. */
function owner(uid: number, gid: number): SetAttr {
  return { uid: uid === -1 ? undefined : uid >>> 0, gid: gid === -1 ? undefined : gid >>> 0 };
}

const UTIME_NOW = 0x3fffffff;
const UTIME_OMIT = 0x3ffffffe;

/** Reads a struct timespec[2] for utimensat; EINVAL for a bad tv_nsec. */
function readUtimens(t: Task, addr: number): Result<SetAttr | null> {
  if (addr === 0) return { atimeNs: 'now', mtimeNs: 'now' };
  const raw = t.mem.copyIn(addr, 32);
  if (isErr(raw)) return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, 32);
  const out: SetAttr = {};
  let omitted = 0;
  for (let i = 0; i < 2; i++) {
    const sec = v.getBigInt64(i * 16, true);
    const nsec = v.getBigInt64(i * 16 + 8, true);
    let val: bigint | 'now' | undefined;
    if (nsec === BigInt(UTIME_NOW)) val = 'now';
    else if (nsec === BigInt(UTIME_OMIT)) {
      val = undefined;
      omitted++;
    } else if (nsec < 0n || nsec >= 1_000_000_000n) return err(E.EINVAL);
    else val = sec * 1_000_000_000n + nsec;
    if (i === 0) out.atimeNs = val;
    else out.mtimeNs = val;
  }
  return omitted === 2 ? null : out;
}

/** Reads a struct timeval[2] (utimes/futimesat); NULL means now. */
function readUtimes(t: Task, addr: number): Result<SetAttr> {
  if (addr === 0) return { atimeNs: 'now', mtimeNs: 'now' };
  const raw = t.mem.copyIn(addr, 32);
  if (isErr(raw)) return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, 32);
  const ts: bigint[] = [];
  for (let i = 0; i < 2; i++) {
    const sec = v.getBigInt64(i * 16, true);
    const usec = v.getBigInt64(i * 16 + 8, true);
    if (usec < 0n || usec >= 1_000_000n) return err(E.EINVAL);
    ts.push(sec * 1_000_000_000n + usec * 1000n);
  }
  return { atimeNs: ts[0], mtimeNs: ts[1] };
}

async function sysUtimensat(t: Task, a: SyscallArgs): Promise<number> {
  const dirfd = a.int(0);
  const pathAddr = a.ptr(1);
  const flags = a.int(3);
  if ((flags & ~(AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH)) !== 0) return -E.EINVAL;
  const attr = readUtimens(t, a.ptr(2));
  if (isErr(attr)) return -attr.errno;
  if (attr === null) return 0;
  // A NULL path is futimens(dirfd).
  if (pathAddr === 0) return setattrFd(t, dirfd, attr);
  return setattrAt(t, dirfd, pathAddr, flags, attr);
}

async function futimesAt(t: Task, dirfd: number, pathAddr: number, timesAddr: number): Promise<number> {
  const attr = readUtimes(t, timesAddr);
  if (isErr(attr)) return -attr.errno;
  return setattrAt(t, dirfd, pathAddr, 0, attr);
}

/** utime(path, struct utimbuf *): seconds only. */
async function sysUtime(t: Task, a: SyscallArgs): Promise<number> {
  let attr: SetAttr = { atimeNs: 'now', mtimeNs: 'now' };
  if (a.ptr(1) !== 0) {
    const raw = t.mem.copyIn(a.ptr(1), 16);
    if (isErr(raw)) return -raw.errno;
    const v = new DataView(raw.buffer, raw.byteOffset, 16);
    attr = { atimeNs: v.getBigInt64(0, true) * 1_000_000_000n, mtimeNs: v.getBigInt64(8, true) * 1_000_000_000n };
  }
  return setattrAt(t, AT.FDCWD, a.ptr(0), 0, attr);
}

async function sysTruncate(t: Task, a: SyscallArgs): Promise<number> {
  return withPath(t, AT.FDCWD, a.ptr(0), (s, path) => t.kernel.vfs.truncate(t, s, path, a.i64(1)));
}

/** ftruncate(2): EINVAL unless a regular file open for writing. */
function sysFtruncate(t: Task, a: SyscallArgs): MaybePromise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const len = a.i64(1);
  if (len < 0) return -E.EINVAL;
  if (f.isPath) return -E.EBADF;
  if (!f.writable || f.location === null || !isReg(f.location.dentry.inode.mode)) return -E.EINVAL;
  return t.kernel.vfs.setattr(t, f.location, { size: BigInt(len) }).then((r) => toRet(r ?? 0));
}

/** fsync/fdatasync: nothing is cached in the Sentry yet; pipes are EINVAL as on Linux. */
function sysFsync(t: Task, a: SyscallArgs): number {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  if (f.isPath) return -E.EBADF;
  return f.location === null ? -E.EINVAL : 0;
}

function sysSync(): number {
  return 0;
}

function sysSyncfs(t: Task, a: SyscallArgs): number {
  const f = fileOf(t, a.int(0));
  return isErr(f) ? -f.errno : 0;
}

const anonKeys = new WeakMap<object, string>();
let nextAnonKey = 1;

/** A lock identity for a file with no inode in the tree (a pipe): the description itself. */
function anonLockKey(f: object): string {
  let k = anonKeys.get(f);
  if (k === undefined) {
    k = `anon:${nextAnonKey++}`;
    anonKeys.set(f, k);
  }
  return k;
}

/**
 * flock(2): whole-file advisory locks owned by the open file description (dup'd and
 * inherited fds share them). LOCK_NB gives EWOULDBLOCK instead of waiting.
 */
function sysFlock(t: Task, a: SyscallArgs): MaybePromise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  if (f.isPath) return -E.EBADF;
  const LOCK_SH = 1;
  const LOCK_EX = 2;
  const LOCK_NB = 4;
  const LOCK_UN = 8;
  const op = a.int(1) & ~LOCK_NB;
  if (op !== LOCK_SH && op !== LOCK_EX && op !== LOCK_UN) return -E.EINVAL;
  const key = f.location?.dentry.inode.key ?? anonLockKey(f);
  if (op === LOCK_UN) {
    unflock(key, f);
    return 0;
  }
  const exclusive = op === LOCK_EX;
  if ((a.int(1) & LOCK_NB) !== 0) return toRet(tryFlock(key, f, exclusive) ?? 0);
  return flockWait(key, f, exclusive, ioCtx(t).signal).then((r) => toRet(r ?? 0));
}

// Extended attributes, stored by filesystems that have them (tmpfs, the overlay's upper).

/** The location an xattr call's first argument names: a path (following or not) or an fd. */
async function xattrTarget(t: Task, kind: 'path' | 'lpath' | 'fd', a: SyscallArgs): Promise<Result<Location | null>> {
  if (kind === 'fd') {
    const f = fileOf(t, a.int(0));
    if (isErr(f)) return f;
    if (f.isPath) return err(E.EBADF);
    return f.location;
  }
  const path = readPath(t, a.ptr(0));
  if (isErr(path)) return path;
  return t.kernel.vfs.walk(t, t.fs.cwd, path, kind === 'path');
}

/** Validates an attribute name argument (ERANGE for empty or over XATTR_NAME_MAX). */
function xattrName(t: Task, addr: number): Result<string> {
  const name = t.mem.readCString(addr, 255);
  if (isErr(name)) return name.errno === E.ENAMETOOLONG ? err(E.ERANGE) : name;
  if (name.length === 0) return err(E.ERANGE);
  return name;
}

/** Copies an attribute value (or name list) out: size 0 asks for the length; ERANGE if short. */
function putSized(t: Task, addr: number, size: number, data: Uint8Array): number {
  if (size === 0) return data.length;
  if (data.length > size) return -E.ERANGE;
  return toRet(t.mem.copyOut(addr, data) ?? data.length);
}

/** Only these namespaces exist; others are EOPNOTSUPP as on Linux. */
function xattrNamespaceOk(name: string): boolean {
  return /^(user|trusted|security|system)\./.test(name);
}

async function getxattr(t: Task, kind: 'path' | 'lpath' | 'fd', a: SyscallArgs): Promise<number> {
  const loc = await xattrTarget(t, kind, a);
  if (isErr(loc)) return -loc.errno;
  const name = xattrName(t, a.ptr(1));
  if (isErr(name)) return -name.errno;
  if (!xattrNamespaceOk(name)) return -E.EOPNOTSUPP;
  const inode = loc?.dentry.inode;
  if (inode?.getxattr === undefined) return -E.ENODATA;
  const v = await inode.getxattr(name);
  if (isErr(v)) return -v.errno;
  return putSized(t, a.ptr(2), a.size(3), v);
}

async function listxattr(t: Task, kind: 'path' | 'lpath' | 'fd', a: SyscallArgs): Promise<number> {
  const loc = await xattrTarget(t, kind, a);
  if (isErr(loc)) return -loc.errno;
  const inode = loc?.dentry.inode;
  if (inode?.listxattr === undefined) return 0;
  const names = await inode.listxattr();
  if (isErr(names)) return -names.errno;
  return putSized(t, a.ptr(1), a.size(2), enc.encode(names.map((n) => n + '\0').join('')));
}

async function setxattr(t: Task, kind: 'path' | 'lpath' | 'fd', a: SyscallArgs, remove: boolean): Promise<number> {
  const loc = await xattrTarget(t, kind, a);
  if (isErr(loc)) return -loc.errno;
  const name = xattrName(t, a.ptr(1));
  if (isErr(name)) return -name.errno;
  const flags = remove ? 0 : a.int(4);
  if ((flags & ~3) !== 0) return -E.EINVAL;
  if (loc === null) return -E.EOPNOTSUPP;
  if (!xattrNamespaceOk(name)) return -E.EOPNOTSUPP;
  if (Vfs.readOnlyAt(loc)) return -E.EROFS;
  const inode = loc.dentry.inode;
  // user.* attributes: only regular files and directories, and only with write permission.
  if (name.startsWith('user.')) {
    if (!isReg(inode.mode) && !isDir(inode.mode)) return -E.EPERM;
    if (!permits(t.creds, inode, W_OK)) return -E.EACCES;
  } else if (!capable(t.creds, CAP.SYS_ADMIN)) return -E.EPERM;
  if (remove) {
    if (inode.removexattr === undefined) return -E.EOPNOTSUPP;
    return toRet((await inode.removexattr(name)) ?? 0);
  }
  const size = a.size(3);
  if (size > 65536) return -E.E2BIG;
  const value = t.mem.copyIn(a.ptr(2), size);
  if (isErr(value)) return -value.errno;
  if (inode.setxattr === undefined) return -E.EOPNOTSUPP;
  return toRet((await inode.setxattr(name, value, flags)) ?? 0);
}

export const fsSyscalls: SyscallTable = {
  [SYS.getxattr]: (t, a) => getxattr(t, 'path', a),
  [SYS.lgetxattr]: (t, a) => getxattr(t, 'lpath', a),
  [SYS.fgetxattr]: (t, a) => getxattr(t, 'fd', a),
  [SYS.listxattr]: (t, a) => listxattr(t, 'path', a),
  [SYS.llistxattr]: (t, a) => listxattr(t, 'lpath', a),
  [SYS.flistxattr]: (t, a) => listxattr(t, 'fd', a),
  [SYS.setxattr]: (t, a) => setxattr(t, 'path', a, false),
  [SYS.lsetxattr]: (t, a) => setxattr(t, 'lpath', a, false),
  [SYS.fsetxattr]: (t, a) => setxattr(t, 'fd', a, false),
  [SYS.removexattr]: (t, a) => setxattr(t, 'path', a, true),
  [SYS.lremovexattr]: (t, a) => setxattr(t, 'lpath', a, true),
  [SYS.fremovexattr]: (t, a) => setxattr(t, 'fd', a, true),
  [SYS.getcwd]: sysGetcwd,
  [SYS.chdir]: sysChdir,
  [SYS.fchdir]: sysFchdir,
  [SYS.chroot]: sysChroot,
  [SYS.umask]: sysUmask,
  [SYS.statfs]: sysStatfs,
  [SYS.fstatfs]: sysFstatfs,
  [SYS.mkdir]: (t, a) => mkdirAt(t, AT.FDCWD, a.ptr(0), a.uint(1)),
  [SYS.mkdirat]: (t, a) => mkdirAt(t, a.int(0), a.ptr(1), a.uint(2)),
  [SYS.unlink]: (t, a) => unlinkPath(t, AT.FDCWD, a.ptr(0)),
  [SYS.rmdir]: (t, a) => rmdirPath(t, AT.FDCWD, a.ptr(0)),
  [SYS.unlinkat]: (t, a) => {
    const flags = a.int(2);
    if ((flags & ~AT.REMOVEDIR) !== 0) return -E.EINVAL;
    return (flags & AT.REMOVEDIR) !== 0 ? rmdirPath(t, a.int(0), a.ptr(1)) : unlinkPath(t, a.int(0), a.ptr(1));
  },
  [SYS.rename]: (t, a) => renameAt(t, AT.FDCWD, a.ptr(0), AT.FDCWD, a.ptr(1), 0),
  [SYS.renameat]: (t, a) => renameAt(t, a.int(0), a.ptr(1), a.int(2), a.ptr(3), 0),
  [SYS.renameat2]: (t, a) => renameAt(t, a.int(0), a.ptr(1), a.int(2), a.ptr(3), a.uint(4)),
  [SYS.symlink]: (t, a) => symlinkAt(t, a.ptr(0), AT.FDCWD, a.ptr(1)),
  [SYS.symlinkat]: (t, a) => symlinkAt(t, a.ptr(0), a.int(1), a.ptr(2)),
  [SYS.link]: (t, a) => linkAt(t, AT.FDCWD, a.ptr(0), AT.FDCWD, a.ptr(1), 0),
  [SYS.linkat]: (t, a) => linkAt(t, a.int(0), a.ptr(1), a.int(2), a.ptr(3), a.int(4)),
  [SYS.mknod]: (t, a) => mknodAt(t, AT.FDCWD, a.ptr(0), a.uint(1), a.uint(2)),
  [SYS.mknodat]: (t, a) => mknodAt(t, a.int(0), a.ptr(1), a.uint(2), a.uint(3)),
  [SYS.chmod]: (t, a) => setattrAt(t, AT.FDCWD, a.ptr(0), 0, { mode: a.uint(1) & 0o7777 }),
  [SYS.fchmod]: (t, a) => setattrFd(t, a.int(0), { mode: a.uint(1) & 0o7777 }),
  [SYS.fchmodat]: (t, a) => setattrAt(t, a.int(0), a.ptr(1), 0, { mode: a.uint(2) & 0o7777 }),
  [SYS.chown]: (t, a) => setattrAt(t, AT.FDCWD, a.ptr(0), 0, owner(a.int(1), a.int(2))),
  [SYS.lchown]: (t, a) => setattrAt(t, AT.FDCWD, a.ptr(0), AT.SYMLINK_NOFOLLOW, owner(a.int(1), a.int(2))),
  [SYS.fchown]: (t, a) => setattrFd(t, a.int(0), owner(a.int(1), a.int(2))),
  [SYS.fchownat]: (t, a) => {
    const flags = a.int(4);
    if ((flags & ~(AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH)) !== 0) return -E.EINVAL;
    return setattrAt(t, a.int(0), a.ptr(1), flags, owner(a.int(2), a.int(3)));
  },
  [SYS.utime]: sysUtime,
  [SYS.utimes]: (t, a) => futimesAt(t, AT.FDCWD, a.ptr(0), a.ptr(1)),
  [SYS.futimesat]: (t, a) => futimesAt(t, a.int(0), a.ptr(1), a.ptr(2)),
  [SYS.utimensat]: sysUtimensat,
  [SYS.truncate]: sysTruncate,
  [SYS.ftruncate]: sysFtruncate,
  [SYS.fsync]: sysFsync,
  [SYS.fdatasync]: sysFsync,
  [SYS.sync]: sysSync,
  [SYS.syncfs]: sysSyncfs,
  [SYS.flock]: sysFlock,
};
