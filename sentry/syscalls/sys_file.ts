// File syscalls: I/O on fds, opening, closing, dup, fcntl, ioctl, stat, getdents, access,
// readlink, fadvise, sendfile.

import { vpid } from '../kernel/pid_namespace.js';
import { E } from '../abi/errno.js';
import type { SyscallArgs } from '../abi/regs.js';
import { err, isErr, toRet, type MaybePromise, type Result } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import type { Task } from '../kernel/task.js';
import { emptyPathTarget, fileOf, ioCtx, readPath, startFor } from '../vfs/at.js';
import { AT, F, IOCTL, isDir, isLnk, isReg, MAX_RW_COUNT, O, SETFL_MASK } from '../vfs/constants.js';
import { Dentry, Mount } from '../vfs/mount.js';
import { TmpFs } from '../fs/tmpfs/tmpfs.js';
import { pipeEndOf } from '../fs/pipe/pipe.js';
import { teePipe } from '../fs/pipe/tee.js';
import type { FileDescription } from '../vfs/file.js';
import { vfsHooks } from '../vfs/hooks.js';
import { anyWatches, fsnotify, IN } from '../vfs/fsnotify.js';
import { F_RDLCK, F_UNLCK, F_WRLCK, setLock, setLockWait, testLock } from '../vfs/locks.js';
import type { Location } from '../vfs/mount.js';
import { encodeStat, encodeStatx, STATX, type Stat } from '../vfs/stat.js';
import { RESOLVE, Vfs } from '../vfs/vfs.js';
import type { SyscallTable } from './types.js';

/** Largest kernel-side buffer one step of a read or write uses. */
const CHUNK = 1 << 20;
/** Linux UIO_MAXIOV. */
const IOV_MAX = 1024;

const enc = new TextEncoder();

function then<T, U>(v: MaybePromise<T>, f: (x: T) => MaybePromise<U>): MaybePromise<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}

/** A list of user memory segments read or written as one stream (read's buffer, an iovec). */
interface Segments {
  addrs: number[];
  lens: number[];
  total: number;
}

function oneSegment(addr: number, len: number): Segments {
  const l = Math.min(len, MAX_RW_COUNT);
  return { addrs: [addr], lens: [l], total: l };
}

/** Reads a struct iovec array; Linux's checks (EINVAL for a bad count or a huge length). */
function readIovec(t: Task, iov: number, cnt: number): Result<Segments> {
  if (cnt < 0 || cnt > IOV_MAX) return err(E.EINVAL);
  const raw = t.mem.copyIn(iov, cnt * 16);
  if (isErr(raw)) return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const s: Segments = { addrs: [], lens: [], total: 0 };
  for (let i = 0; i < cnt; i++) {
    const base = Number(v.getBigUint64(i * 16, true));
    const len = v.getBigUint64(i * 16 + 8, true);
    if (len > 0x7fffffffffffffffn) return err(E.EINVAL);
    // Linux truncates the total at MAX_RW_COUNT.
    const l = Math.min(Number(len), MAX_RW_COUNT - s.total);
    s.addrs.push(base);
    s.lens.push(l);
    s.total += l;
  }
  return s;
}

/** Copies data into the segments starting at stream position pos. */
function scatter(t: Task, s: Segments, pos: number, data: Uint8Array): Result<void> {
  let off = 0;
  let seg = 0;
  let skip = pos;
  while (seg < s.lens.length && skip >= s.lens[seg]) skip -= s.lens[seg++];
  while (off < data.length && seg < s.lens.length) {
    const n = Math.min(s.lens[seg] - skip, data.length - off);
    const r = t.mem.copyOut(s.addrs[seg] + skip, data.subarray(off, off + n));
    if (isErr(r)) return r;
    off += n;
    skip = 0;
    seg++;
  }
  return undefined;
}

/** Copies len bytes of the segments from stream position pos. */
function gather(t: Task, s: Segments, pos: number, len: number): Result<Uint8Array> {
  const out = new Uint8Array(len);
  const r = gatherInto(t, s, pos, out);
  return isErr(r) ? r : out;
}

/** Fills out with the segments' bytes from stream position pos. */
function gatherInto(t: Task, s: Segments, pos: number, out: Uint8Array): Result<void> {
  const len = out.length;
  let off = 0;
  let seg = 0;
  let skip = pos;
  while (seg < s.lens.length && skip >= s.lens[seg]) skip -= s.lens[seg++];
  while (off < len && seg < s.lens.length) {
    const n = Math.min(s.lens[seg] - skip, len - off);
    const r = t.mem.readInto(s.addrs[seg] + skip, out.subarray(off, off + n));
    if (isErr(r)) return r;
    off += n;
    skip = 0;
    seg++;
  }
  return undefined;
}

/**
 * Reads into the segments, in steps of at most CHUNK, until they are full or a step comes
 * back short. offset < 0: at the file offset (read); else positional (pread).
 */
function doRead(t: Task, f: FileDescription, s: Segments, offset: number): MaybePromise<number> {
  if (!f.readable) return -E.EBADF;
  // Files with their bytes at hand copy straight into the segments: no kernel buffer.
  const direct = f.readDirect?.(s.total, offset, (at, bytes) => scatter(t, s, at, bytes)) ?? null;
  if (direct !== null) {
    if (isErr(direct)) return -direct.errno;
    if (direct > 0 && anyWatches()) fsnotify(f.location?.dentry, IN.ACCESS);
    return direct;
  }
  const ctx = ioCtx(t);
  let done = 0;
  const step = (): MaybePromise<number> => {
    const want = Math.min(CHUNK, s.total - done);
    const buf = new Uint8Array(want);
    const r = offset < 0 ? f.read(buf, ctx) : f.pread(buf, offset + done, ctx);
    return then(r, (n) => {
      if (isErr(n)) return done > 0 ? done : -n.errno;
      const c = scatter(t, s, done, buf.subarray(0, n));
      if (isErr(c)) return done > 0 ? done : -c.errno;
      if (n > 0 && anyWatches()) fsnotify(f.location?.dentry, IN.ACCESS);
      done += n;
      if (n < want || done >= s.total) return done;
      return step();
    });
  };
  return step();
}

/** Writes the segments, in steps of at most CHUNK; EPIPE raises SIGPIPE through the hook. */
function doWrite(t: Task, f: FileDescription, s: Segments, offset: number): MaybePromise<number> {
  if (!f.writable) return -E.EBADF;
  const direct = f.writeDirect?.(s.total, offset, (at, dst) => gatherInto(t, s, at, dst)) ?? null;
  if (direct !== null) {
    if (isErr(direct)) return -direct.errno;
    if (direct > 0) fsnotify(f.location?.dentry, IN.MODIFY);
    return direct;
  }
  const ctx = ioCtx(t);
  let done = 0;
  const step = (): MaybePromise<number> => {
    const want = Math.min(CHUNK, s.total - done);
    const buf = gather(t, s, done, want);
    if (isErr(buf)) return done > 0 ? done : -buf.errno;
    const r = offset < 0 ? f.write(buf, ctx) : f.pwrite(buf, offset + done, ctx);
    return then(r, (n) => {
      if (isErr(n)) {
        if (n.errno === E.EPIPE) vfsHooks.onEpipe(t);
        return done > 0 ? done : -n.errno;
      }
      if (n > 0) fsnotify(f.location?.dentry, IN.MODIFY);
      done += n;
      if (n < want || done >= s.total) return done;
      return step();
    });
  };
  return step();
}

/** read(2). */
function sysRead(t: Task, a: SyscallArgs): MaybePromise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  return doRead(t, f, oneSegment(a.ptr(1), a.size(2)), -1);
}

/** write(2). */
function sysWrite(t: Task, a: SyscallArgs): MaybePromise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  return doWrite(t, f, oneSegment(a.ptr(1), a.size(2)), -1);
}

function sysReadv(t: Task, a: SyscallArgs): MaybePromise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const s = readIovec(t, a.ptr(1), a.int(2));
  if (isErr(s)) return -s.errno;
  return doRead(t, f, s, -1);
}

function sysWritev(t: Task, a: SyscallArgs): MaybePromise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const s = readIovec(t, a.ptr(1), a.int(2));
  if (isErr(s)) return -s.errno;
  return doWrite(t, f, s, -1);
}

/** pread64(2): EINVAL for a negative offset, ESPIPE on pipes. */
function sysPread64(t: Task, a: SyscallArgs): MaybePromise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const off = a.i64(3);
  if (off < 0) return -E.EINVAL;
  return doRead(t, f, oneSegment(a.ptr(1), a.size(2)), off);
}

function sysPwrite64(t: Task, a: SyscallArgs): MaybePromise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const off = a.i64(3);
  if (off < 0) return -E.EINVAL;
  return doWrite(t, f, oneSegment(a.ptr(1), a.size(2)), off);
}

/** preadv(fd, iov, iovcnt, pos_l, pos_h): on x86-64 pos_l holds the whole offset. */
function sysPreadv(t: Task, a: SyscallArgs): MaybePromise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const off = a.i64(3);
  if (off < 0) return -E.EINVAL;
  const s = readIovec(t, a.ptr(1), a.int(2));
  if (isErr(s)) return -s.errno;
  return doRead(t, f, s, off);
}

function sysPwritev(t: Task, a: SyscallArgs): MaybePromise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const off = a.i64(3);
  if (off < 0) return -E.EINVAL;
  const s = readIovec(t, a.ptr(1), a.int(2));
  if (isErr(s)) return -s.errno;
  return doWrite(t, f, s, off);
}

/** lseek(2). */
function sysLseek(t: Task, a: SyscallArgs): MaybePromise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const whence = a.uint(2);
  if (whence > 4) return -E.EINVAL;
  return then(f.seek(a.i64(1), whence), toRet);
}

/** Opens path relative to dirfd and installs the file at the lowest free fd. */
async function openAt(t: Task, dirfd: number, pathAddr: number, flags: number, mode: number): Promise<number> {
  const path = readPath(t, pathAddr);
  if (isErr(path)) return -path.errno;
  const start = startFor(t, dirfd, path);
  if (isErr(start)) return -start.errno;
  const f = await t.kernel.vfs.open(t, start, path, flags, mode);
  if (isErr(f)) return -f.errno;
  fsnotify(f.location?.dentry, IN.OPEN);
  const fd = t.fds.install(f, { cloexec: (flags & O.CLOEXEC) !== 0 });
  f.decRef();
  return toRet(fd);
}

function sysOpen(t: Task, a: SyscallArgs): Promise<number> {
  return openAt(t, AT.FDCWD, a.ptr(0), a.int(1), a.uint(2));
}

function sysOpenat(t: Task, a: SyscallArgs): Promise<number> {
  return openAt(t, a.int(0), a.ptr(1), a.int(2), a.uint(3));
}

/** creat(2) = open(path, O_CREAT|O_WRONLY|O_TRUNC, mode). */
function sysCreat(t: Task, a: SyscallArgs): Promise<number> {
  return openAt(t, AT.FDCWD, a.ptr(0), O.CREAT | O.WRONLY | O.TRUNC, a.uint(1));
}

function sysClose(t: Task, a: SyscallArgs): number {
  return toRet(t.fds.close(a.int(0)) ?? 0);
}

/**
 * close_range(first, last, flags): closes (or with CLOSE_RANGE_CLOEXEC marks) every open fd
 * in [first, last]. CLOSE_RANGE_UNSHARE is accepted; the table is not unshared (only
 * CLONE_FILES threads share one, and they are not created yet).
 */
function sysCloseRange(t: Task, a: SyscallArgs): number {
  const first = a.uint(0);
  const last = a.uint(1);
  const flags = a.uint(2);
  const UNSHARE = 2;
  const CLOEXEC = 4;
  if ((flags & ~(UNSHARE | CLOEXEC)) !== 0 || first > last) return -E.EINVAL;
  for (const fd of [...t.fds.fds()]) {
    if (fd < first || fd > last) continue;
    if ((flags & CLOEXEC) !== 0) t.fds.setCloexec(fd, true);
    else t.fds.close(fd);
  }
  return 0;
}

function sysDup(t: Task, a: SyscallArgs): number {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  return toRet(t.fds.install(f));
}

/** dup2(2): same fd is a no-op that still checks oldfd. */
function sysDup2(t: Task, a: SyscallArgs): number {
  const oldfd = a.int(0);
  const newfd = a.int(1);
  const f = fileOf(t, oldfd);
  if (isErr(f)) return -f.errno;
  if (oldfd === newfd) return newfd;
  return toRet(t.fds.installAt(newfd, f));
}

/** dup3(2): only O_CLOEXEC; equal fds are EINVAL. */
function sysDup3(t: Task, a: SyscallArgs): number {
  const oldfd = a.int(0);
  const newfd = a.int(1);
  const flags = a.int(2);
  if ((flags & ~O.CLOEXEC) !== 0) return -E.EINVAL;
  if (oldfd === newfd) return -E.EINVAL;
  const f = fileOf(t, oldfd);
  if (isErr(f)) return -f.errno;
  return toRet(t.fds.installAt(newfd, f, { cloexec: (flags & O.CLOEXEC) !== 0 }));
}

/** fcntl(2): dup, fd flags and status flags. Locks and the rest are EINVAL for now. */
function sysFcntl(t: Task, a: SyscallArgs): MaybePromise<number> {
  const fd = a.int(0);
  const cmd = a.int(1);
  const f = fileOf(t, fd);
  if (isErr(f)) return -f.errno;
  switch (cmd) {
    case F.DUPFD:
    case F.DUPFD_CLOEXEC: {
      const min = a.u64(2);
      if (min >= t.fds.limit) return -E.EINVAL;
      return toRet(t.fds.install(f, { cloexec: cmd === F.DUPFD_CLOEXEC }, min));
    }
    case F.GETFD:
      return t.fds.entry(fd)?.cloexec ? F.FD_CLOEXEC : 0;
    case F.SETFD:
      return toRet(t.fds.setCloexec(fd, (a.int(2) & F.FD_CLOEXEC) !== 0) ?? 0);
    case F.GETFL:
      return f.flags;
    case F.SETFL:
      if (f.isPath) return -E.EBADF;
      f.flags = (f.flags & ~SETFL_MASK) | (a.int(2) & SETFL_MASK);
      return 0;
    case F_GETLK: case F_SETLK: case F_SETLKW: case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
      return fcntlLock(t, f, cmd, a.ptr(2));
    case F_GETOWN:
      return owners.get(f) ?? 0;
    case F_SETOWN:
      owners.set(f, a.int(2));
      return 0;
    case F_GETLEASE:
      return f.location === null ? -E.EINVAL : F_UNLCK;
    default:
      return -E.EINVAL;
  }
}

const F_GETLK = 5;
const F_SETLK = 6;
const F_SETLKW = 7;
const F_SETOWN = 8;
const F_GETOWN = 9;
const F_OFD_GETLK = 36;
const F_OFD_SETLK = 37;
const F_OFD_SETLKW = 38;
const F_GETLEASE = 1025;
/** F_SETOWN's process (SIGIO delivery is not implemented; the value reads back). */
const owners = new WeakMap<FileDescription, number>();

/**
 * fcntl record locks. struct flock: short l_type, short l_whence, off_t l_start,
 * off_t l_len, pid_t l_pid. POSIX locks are owned by the fd table, OFD locks by the
 * description (OFD requires l_pid == 0).
 */
async function fcntlLock(t: Task, f: FileDescription, cmd: number, addr: number): Promise<number> {
  if (f.isPath) return -E.EBADF;
  const raw = t.mem.copyIn(addr, 32);
  if (isErr(raw)) return -raw.errno;
  const v = new DataView(raw.buffer, raw.byteOffset, 32);
  const type = v.getInt16(0, true);
  const whence = v.getInt16(2, true);
  const start0 = Number(v.getBigInt64(8, true));
  const len = Number(v.getBigInt64(16, true));
  const ofd = cmd >= F_OFD_GETLK;
  if (ofd && v.getInt32(24, true) !== 0) return -E.EINVAL;
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) return -E.EINVAL;
  let base: number;
  if (whence === 0) base = 0;
  else if (whence === 1) base = f.offset;
  else if (whence === 2) {
    const st = await f.stat();
    if (isErr(st)) return -st.errno;
    base = Number(st.size);
  } else return -E.EINVAL;
  let start = base + start0;
  let end = len === 0 ? Infinity : start + len;
  if (len < 0) {
    end = start;
    start += len;
  }
  if (start < 0) return -E.EINVAL;
  const key = f.location?.dentry.inode.key;
  if (key === undefined) return -E.EBADF;
  const owner: object = ofd ? f : t.fds;
  if (cmd === F_GETLK || cmd === F_OFD_GETLK) {
    if (type === F_UNLCK) return -E.EINVAL;
    const c = testLock(key, type, start, end, owner);
    const out = new Uint8Array(32);
    const ov = new DataView(out.buffer);
    if (c === null) {
      out.set(raw);
      ov.setInt16(0, F_UNLCK, true);
    } else {
      ov.setInt16(0, c.type, true);
      ov.setInt16(2, 0, true);
      ov.setBigInt64(8, BigInt(c.start), true);
      ov.setBigInt64(16, c.end === Infinity ? 0n : BigInt(c.end - c.start), true);
      ov.setInt32(24, c.pid > 0 ? vpid(t, c.pid) : c.pid, true);
    }
    return toRet(t.mem.copyOut(addr, out) ?? 0);
  }
  if (type === F_RDLCK && !f.readable) return -E.EBADF;
  if (type === F_WRLCK && !f.writable) return -E.EBADF;
  const pid = ofd ? -1 : t.tg.pid;
  if (cmd === F_SETLKW || cmd === F_OFD_SETLKW) {
    return toRet((await setLockWait(key, type, start, end, owner, pid, ioCtx(t).signal)) ?? 0);
  }
  return toRet(setLock(key, type, start, end, owner, pid) ?? 0);
}

/** ioctl(2): the generic fd ioctls here, the rest by the file (ENOTTY if it has none). */
function sysIoctl(t: Task, a: SyscallArgs): MaybePromise<number> {
  const fd = a.int(0);
  const cmd = a.uint(1);
  const arg = a.ptr(2);
  const f = fileOf(t, fd);
  if (isErr(f)) return -f.errno;
  if (f.isPath) return -E.EBADF;
  switch (cmd) {
    case IOCTL.FIOCLEX:
      return toRet(t.fds.setCloexec(fd, true) ?? 0);
    case IOCTL.FIONCLEX:
      return toRet(t.fds.setCloexec(fd, false) ?? 0);
    case IOCTL.FIONBIO: {
      const v = t.mem.readU32(arg);
      if (isErr(v)) return -v.errno;
      f.flags = v !== 0 ? f.flags | O.NONBLOCK : f.flags & ~O.NONBLOCK;
      return 0;
    }
    default:
      return then(f.ioctl(t, cmd, arg), toRet);
  }
}

function putStat(t: Task, addr: number, st: Result<Stat>): number {
  if (isErr(st)) return -st.errno;
  return toRet(t.mem.copyOut(addr, encodeStat(st)) ?? 0);
}

function sysFstat(t: Task, a: SyscallArgs): MaybePromise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const addr = a.ptr(1);
  return then(f.stat(), (st) => putStat(t, addr, st));
}

/** The stat of dirfd+path for the stat family, honouring AT_EMPTY_PATH and follow. */
async function statAt(t: Task, dirfd: number, pathAddr: number, flags: number): Promise<Result<Stat>> {
  let path = '';
  if (pathAddr !== 0 || (flags & AT.EMPTY_PATH) === 0) {
    const p = readPath(t, pathAddr);
    if (isErr(p)) return p;
    path = p;
  }
  if (path.length === 0) {
    if ((flags & AT.EMPTY_PATH) === 0) return err(E.ENOENT);
    const tgt = emptyPathTarget(t, dirfd);
    if (isErr(tgt)) return tgt;
    if (tgt.file !== null) return tgt.file.stat();
    return (tgt.loc as Location).dentry.inode.stat();
  }
  const start = startFor(t, dirfd, path);
  if (isErr(start)) return start;
  return t.kernel.vfs.stat(t, start, path, (flags & AT.SYMLINK_NOFOLLOW) === 0);
}

async function sysStat(t: Task, a: SyscallArgs): Promise<number> {
  return putStat(t, a.ptr(1), await statAt(t, AT.FDCWD, a.ptr(0), 0));
}

async function sysLstat(t: Task, a: SyscallArgs): Promise<number> {
  return putStat(t, a.ptr(1), await statAt(t, AT.FDCWD, a.ptr(0), AT.SYMLINK_NOFOLLOW));
}

/** newfstatat(dirfd, path, buf, flags). */
async function sysNewfstatat(t: Task, a: SyscallArgs): Promise<number> {
  const flags = a.int(3);
  if ((flags & ~(AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH | AT.NO_AUTOMOUNT)) !== 0) return -E.EINVAL;
  return putStat(t, a.ptr(2), await statAt(t, a.int(0), a.ptr(1), flags));
}

/** statx(dirfd, path, flags, mask, buf): we always fill the basic stats. */
async function sysStatx(t: Task, a: SyscallArgs): Promise<number> {
  const flags = a.int(2);
  const mask = a.uint(3);
  if ((flags & ~(AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH | AT.NO_AUTOMOUNT | AT.STATX_SYNC_TYPE)) !== 0) return -E.EINVAL;
  if ((flags & AT.STATX_SYNC_TYPE) === AT.STATX_SYNC_TYPE) return -E.EINVAL;
  if ((mask & STATX.RESERVED) !== 0) return -E.EINVAL;
  const st = await statAt(t, a.int(0), a.ptr(1), flags);
  if (isErr(st)) return -st.errno;
  return toRet(t.mem.copyOut(a.ptr(4), encodeStatx(st)) ?? 0);
}

/** getdents64(fd, dirp, count). */
function sysGetdents64(t: Task, a: SyscallArgs): MaybePromise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const addr = a.ptr(1);
  const buf = new Uint8Array(Math.min(a.uint(2), CHUNK));
  return then(f.getdents(buf), (n) => {
    if (isErr(n)) return -n.errno;
    return toRet(t.mem.copyOut(addr, buf.subarray(0, n)) ?? n);
  });
}

async function accessAt(t: Task, dirfd: number, pathAddr: number, mode: number, flags: number): Promise<number> {
  if ((mode & ~7) !== 0) return -E.EINVAL;
  if ((flags & ~(AT.EACCESS | AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH)) !== 0) return -E.EINVAL;
  const path = readPath(t, pathAddr);
  if (isErr(path)) return -path.errno;
  const realIds = (flags & AT.EACCESS) === 0;
  if (path.length === 0 && (flags & AT.EMPTY_PATH) !== 0) {
    const tgt = emptyPathTarget(t, dirfd);
    if (isErr(tgt)) return -tgt.errno;
    // A file with no path (a pipe) is always accessible to its holder.
    if (tgt.loc === null) return 0;
    return toRet(Vfs.accessLocation(t.creds, tgt.loc, mode, realIds) ?? 0);
  }
  const start = startFor(t, dirfd, path);
  if (isErr(start)) return -start.errno;
  const r = await t.kernel.vfs.access(t, start, path, mode, (flags & AT.SYMLINK_NOFOLLOW) === 0, realIds);
  return toRet(r ?? 0);
}

function sysAccess(t: Task, a: SyscallArgs): Promise<number> {
  return accessAt(t, AT.FDCWD, a.ptr(0), a.int(1), 0);
}

/** faccessat(2) the syscall has no flags argument. */
function sysFaccessat(t: Task, a: SyscallArgs): Promise<number> {
  return accessAt(t, a.int(0), a.ptr(1), a.int(2), 0);
}

function sysFaccessat2(t: Task, a: SyscallArgs): Promise<number> {
  return accessAt(t, a.int(0), a.ptr(1), a.int(2), a.int(3));
}

async function readlinkAt(t: Task, dirfd: number, pathAddr: number, buf: number, size: number): Promise<number> {
  if (size <= 0) return -E.EINVAL;
  const path = readPath(t, pathAddr);
  if (isErr(path)) return -path.errno;
  let target: Result<string>;
  if (path.length === 0) {
    // readlinkat(fd, "") reads the symlink an O_PATH|O_NOFOLLOW fd names.
    const tgt = emptyPathTarget(t, dirfd);
    if (isErr(tgt)) return -tgt.errno;
    if (tgt.loc === null || !isLnk(tgt.loc.dentry.inode.mode)) return -E.ENOENT;
    target = await Vfs.readlinkAt(tgt.loc, t);
  } else {
    const start = startFor(t, dirfd, path);
    if (isErr(start)) return -start.errno;
    target = await t.kernel.vfs.readlink(t, start, path);
  }
  if (isErr(target)) return -target.errno;
  const bytes = enc.encode(target);
  const n = Math.min(bytes.length, size);
  return toRet(t.mem.copyOut(buf, bytes.subarray(0, n)) ?? n);
}

function sysReadlink(t: Task, a: SyscallArgs): Promise<number> {
  return readlinkAt(t, AT.FDCWD, a.ptr(0), a.ptr(1), a.int(2));
}

function sysReadlinkat(t: Task, a: SyscallArgs): Promise<number> {
  return readlinkAt(t, a.int(0), a.ptr(1), a.ptr(2), a.int(3));
}

/** fadvise64(2): advice is only a hint; ESPIPE on pipes, EINVAL for unknown advice. */
function sysFadvise64(t: Task, a: SyscallArgs): number {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  if (f.location === null) return -E.ESPIPE;
  const advice = a.int(3);
  if (advice < 0 || advice > 5) return -E.EINVAL;
  return 0;
}

/** sendfile(out, in, *offset, count): a read-then-write loop in the Sentry. */
async function sysSendfile(t: Task, a: SyscallArgs): Promise<number> {
  const out = fileOf(t, a.int(0));
  if (isErr(out)) return -out.errno;
  const inp = fileOf(t, a.int(1));
  if (isErr(inp)) return -inp.errno;
  const offAddr = a.ptr(2);
  const count = Math.min(a.size(3), MAX_RW_COUNT);
  if (!inp.readable || !out.writable) return -E.EBADF;
  if ((out.flags & O.APPEND) !== 0) return -E.EINVAL;
  let pos = -1;
  if (offAddr !== 0) {
    const raw = t.mem.copyIn(offAddr, 8);
    if (isErr(raw)) return -raw.errno;
    pos = Number(new DataView(raw.buffer).getBigInt64(0, true));
    if (pos < 0) return -E.EINVAL;
  }
  const ctx = ioCtx(t);
  let done = 0;
  let ret = 0;
  while (done < count) {
    const buf = new Uint8Array(Math.min(65536, count - done));
    const n = await (pos >= 0 ? inp.pread(buf, pos + done, ctx) : inp.read(buf, ctx));
    if (isErr(n)) {
      ret = done > 0 ? 0 : -n.errno;
      break;
    }
    if (n === 0) break;
    let w = 0;
    while (w < n) {
      const m = await out.write(buf.subarray(w, n), ctx);
      if (isErr(m)) {
        if (m.errno === E.EPIPE) vfsHooks.onEpipe(t);
        if (done + w === 0) ret = -m.errno;
        break;
      }
      w += m;
    }
    done += w;
    if (ret < 0 || w < n || n < buf.length) break;
  }
  if (offAddr !== 0) {
    const r = t.mem.writeU64(offAddr, pos + done);
    if (isErr(r)) return -r.errno;
  }
  return ret < 0 ? ret : done;
}

export const fileSyscalls: SyscallTable = {
  [SYS.read]: sysRead,
  [SYS.write]: sysWrite,
  [SYS.readv]: sysReadv,
  [SYS.writev]: sysWritev,
  [SYS.pread64]: sysPread64,
  [SYS.pwrite64]: sysPwrite64,
  [SYS.preadv]: sysPreadv,
  [SYS.pwritev]: sysPwritev,
  [SYS.lseek]: sysLseek,
  [SYS.open]: sysOpen,
  [SYS.openat]: sysOpenat,
  [SYS.creat]: sysCreat,
  [SYS.close]: sysClose,
  [SYS.close_range]: sysCloseRange,
  [SYS.dup]: sysDup,
  [SYS.dup2]: sysDup2,
  [SYS.dup3]: sysDup3,
  [SYS.fcntl]: sysFcntl,
  [SYS.ioctl]: sysIoctl,
  [SYS.fstat]: sysFstat,
  [SYS.stat]: sysStat,
  [SYS.lstat]: sysLstat,
  [SYS.newfstatat]: sysNewfstatat,
  [SYS.statx]: sysStatx,
  [SYS.getdents64]: sysGetdents64,
  [SYS.access]: sysAccess,
  [SYS.faccessat]: sysFaccessat,
  [SYS.faccessat2]: sysFaccessat2,
  [SYS.readlink]: sysReadlink,
  [SYS.readlinkat]: sysReadlinkat,
  [SYS.fadvise64]: sysFadvise64,
  [SYS.sendfile]: sysSendfile,
  [SYS.openat2]: sysOpenat2,
  [SYS.fallocate]: sysFallocate,
  [SYS.copy_file_range]: sysCopyFileRange,
  [SYS.splice]: sysSplice,
  [SYS.tee]: sysTee,
  [SYS.sync_file_range]: sysSyncFileRange,
  [SYS.memfd_create]: sysMemfdCreate,
};

/**
 * openat2(dirfd, path, struct open_how *how, size): open_how is {u64 flags, u64 mode,
 * u64 resolve}; unknown flags or resolve bits are EINVAL, a mode without O_CREAT/O_TMPFILE
 * is EINVAL, and a larger struct must have zeros past what we know (else E2BIG).
 */
async function sysOpenat2(t: Task, a: SyscallArgs): Promise<number> {
  const size = a.size(3);
  const OPEN_HOW_SIZE = 24;
  if (size < OPEN_HOW_SIZE) return -E.EINVAL;
  if (size > 4096) return -E.E2BIG;
  const raw = t.mem.copyIn(a.ptr(2), size);
  if (isErr(raw)) return -raw.errno;
  for (let i = OPEN_HOW_SIZE; i < size; i++) if (raw[i] !== 0) return -E.E2BIG;
  const v = new DataView(raw.buffer, raw.byteOffset, size);
  const flags = v.getBigUint64(0, true);
  const mode = v.getBigUint64(8, true);
  const resolve = v.getBigUint64(16, true);
  const VALID_FLAGS = 0o37777777n & ~0o40n; // every O_* bit Linux knows (no FASYNC)
  if ((flags & ~VALID_FLAGS) !== 0n) return -E.EINVAL;
  if ((resolve & ~0x3fn) !== 0n) return -E.EINVAL;
  const f = Number(flags);
  const creating = (f & O.CREAT) !== 0 || (f & O.TMPFILE) === O.TMPFILE;
  if (mode !== 0n && !creating) return -E.EINVAL;
  if ((mode & ~0o7777n) !== 0n) return -E.EINVAL;
  const r = Number(resolve);
  if ((r & RESOLVE.BENEATH) !== 0 && (r & RESOLVE.IN_ROOT) !== 0) return -E.EINVAL;
  // RESOLVE_CACHED cannot be honoured without a lookup cache: Linux answers EAGAIN then.
  if ((r & RESOLVE.CACHED) !== 0) return -E.EAGAIN;
  const path = readPath(t, a.ptr(1));
  if (isErr(path)) return -path.errno;
  const dirfd = a.int(0);
  const start = (r & (RESOLVE.IN_ROOT | RESOLVE.BENEATH)) !== 0 && path.charCodeAt(0) === 0x2f
    ? startFor(t, dirfd, '.')
    : startFor(t, dirfd, path);
  if (isErr(start)) return -start.errno;
  const file = await t.kernel.vfs.open(t, start, path, f, Number(mode), r);
  if (isErr(file)) return -file.errno;
  const fd = t.fds.install(file, { cloexec: (f & O.CLOEXEC) !== 0 });
  file.decRef();
  return toRet(fd);
}

/** fallocate(fd, mode, offset, len): regular files only; the file decides which modes it has. */
async function sysFallocate(t: Task, a: SyscallArgs): Promise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const mode = a.int(1);
  const off = a.i64(2);
  const len = a.i64(3);
  if (off < 0 || len <= 0) return -E.EINVAL;
  if (!f.writable) return -E.EBADF;
  if (f.location === null) return -E.ESPIPE;
  const m = f.location.dentry.inode.mode;
  if (isDir(m)) return -E.EISDIR;
  if (!isReg(m)) return -E.ENODEV;
  if (off + len > Number.MAX_SAFE_INTEGER) return -E.EFBIG;
  if (Vfs.readOnlyAt(f.location)) return -E.EROFS;
  return toRet((await f.fallocate(mode, off, len)) ?? 0);
}

/** Reads an optional loff_t pointer argument; null when the pointer is NULL. */
function readOffset(t: Task, addr: number): Result<number | null> {
  if (addr === 0) return null;
  const raw = t.mem.copyIn(addr, 8);
  if (isErr(raw)) return raw;
  const off = Number(new DataView(raw.buffer, raw.byteOffset, 8).getBigInt64(0, true));
  return off < 0 ? err(E.EINVAL) : off;
}

/**
 * Copies up to count bytes from inp to out through the Sentry. inOff/outOff: explicit
 * offsets (the file offsets are left alone), or null to use and advance the file offsets.
 */
async function copyBetween(t: Task, inp: FileDescription, inOff: number | null, out: FileDescription, outOff: number | null,
  count: number, oneRead: boolean): Promise<Result<number>> {
  const ctx = ioCtx(t);
  let done = 0;
  while (done < count) {
    const buf = new Uint8Array(Math.min(CHUNK, count - done));
    const n = await (inOff !== null ? inp.pread(buf, inOff + done, ctx) : inp.read(buf, ctx));
    if (isErr(n)) return done > 0 ? done : n;
    if (n === 0) break;
    let w = 0;
    while (w < n) {
      const m = await (outOff !== null ? out.pwrite(buf.subarray(w, n), outOff + done + w, ctx) : out.write(buf.subarray(w, n), ctx));
      if (isErr(m)) {
        if (m.errno === E.EPIPE) vfsHooks.onEpipe(t);
        return done + w > 0 ? done + w : m;
      }
      w += m;
    }
    done += n;
    fsnotify(out.location?.dentry, IN.MODIFY);
    // A pipe source gives what it has: do not wait for more once something moved.
    if (oneRead || n < buf.length) break;
  }
  return done;
}

/** copy_file_range(in, *off_in, out, *off_out, len, flags): regular files, flags 0. */
async function sysCopyFileRange(t: Task, a: SyscallArgs): Promise<number> {
  const inp = fileOf(t, a.int(0));
  if (isErr(inp)) return -inp.errno;
  const out = fileOf(t, a.int(2));
  if (isErr(out)) return -out.errno;
  if (a.uint(5) !== 0) return -E.EINVAL;
  if (!inp.readable || !out.writable) return -E.EBADF;
  if ((out.flags & O.APPEND) !== 0) return -E.EBADF;
  const im = inp.location?.dentry.inode.mode ?? 0;
  const om = out.location?.dentry.inode.mode ?? 0;
  if (isDir(im) || isDir(om)) return -E.EISDIR;
  if (!isReg(im) || !isReg(om)) return -E.EINVAL;
  const inOff = readOffset(t, a.ptr(1));
  if (isErr(inOff)) return -inOff.errno;
  const outOff = readOffset(t, a.ptr(3));
  if (isErr(outOff)) return -outOff.errno;
  const count = Math.min(a.size(4), MAX_RW_COUNT);
  const sameFile = inp.location?.dentry.inode.key === out.location?.dentry.inode.key;
  const ib = inOff ?? inp.offset;
  const ob = outOff ?? out.offset;
  if (sameFile && ib < ob + count && ob < ib + count) return -E.EINVAL;
  const n = await copyBetween(t, inp, ib, out, ob, count, false);
  if (isErr(n)) return -n.errno;
  if (inOff !== null) {
    const r = t.mem.writeU64(a.ptr(1), inOff + n);
    if (isErr(r)) return -r.errno;
  } else inp.offset += n;
  if (outOff !== null) {
    const r = t.mem.writeU64(a.ptr(3), outOff + n);
    if (isErr(r)) return -r.errno;
  } else out.offset += n;
  return n;
}

function isPipe(f: FileDescription): boolean {
  const st = f.location === null ? f.stat() : null;
  return st !== null && !(st instanceof Promise) && !isErr(st) && (st.mode & 0o170000) === 0o010000;
}

/**
 * splice(in, *off_in, out, *off_out, len, flags): one side must be a pipe; a pipe side
 * takes no offset (ESPIPE). Data is copied through the Sentry.
 */
async function sysSplice(t: Task, a: SyscallArgs): Promise<number> {
  const inp = fileOf(t, a.int(0));
  if (isErr(inp)) return -inp.errno;
  const out = fileOf(t, a.int(2));
  if (isErr(out)) return -out.errno;
  if ((a.uint(5) & ~0xf) !== 0) return -E.EINVAL;
  if (!inp.readable || !out.writable) return -E.EBADF;
  const inPipe = isPipe(inp);
  const outPipe = isPipe(out);
  if (!inPipe && !outPipe) return -E.EINVAL;
  if ((inPipe && a.ptr(1) !== 0) || (outPipe && a.ptr(3) !== 0)) return -E.ESPIPE;
  if ((out.flags & O.APPEND) !== 0 && !outPipe) return -E.EINVAL;
  const inOff = readOffset(t, a.ptr(1));
  if (isErr(inOff)) return -inOff.errno;
  const outOff = readOffset(t, a.ptr(3));
  if (isErr(outOff)) return -outOff.errno;
  const count = Math.min(a.size(4), MAX_RW_COUNT);
  if (count === 0) return 0;
  const n = await copyBetween(t, inp, inOff, out, outOff, count, inPipe);
  if (isErr(n)) return -n.errno;
  if (inOff !== null) t.mem.writeU64(a.ptr(1), inOff + n);
  if (outOff !== null) t.mem.writeU64(a.ptr(3), outOff + n);
  return n;
}

/**
 * tee(fd_in, fd_out, len, flags): duplicates pipe data without consuming it; both fds must
 * be pipes (fd_in readable, fd_out writable) and not the same pipe (EINVAL).
 */
async function sysTee(t: Task, a: SyscallArgs): Promise<number> {
  const inp = fileOf(t, a.int(0));
  if (isErr(inp)) return -inp.errno;
  const out = fileOf(t, a.int(1));
  if (isErr(out)) return -out.errno;
  const SPLICE_F_NONBLOCK = 2;
  if ((a.uint(3) & ~0xf) !== 0) return -E.EINVAL;
  if (!inp.readable || !out.writable) return -E.EBADF;
  const from = pipeEndOf(inp, false);
  const to = pipeEndOf(out, true);
  if (from === null || to === null || from === to) return -E.EINVAL;
  const len = Math.min(a.size(2), MAX_RW_COUNT);
  if (len === 0) return 0;
  const n = await teePipe(from, to, len, (a.uint(3) & SPLICE_F_NONBLOCK) !== 0, ioCtx(t).signal);
  if (isErr(n)) {
    if (n.errno === E.EPIPE) vfsHooks.onEpipe(t);
    return -n.errno;
  }
  return n;
}

/** sync_file_range: nothing is cached on the way to the backing store; checks only. */
function sysSyncFileRange(t: Task, a: SyscallArgs): number {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  if (a.i64(1) < 0 || a.i64(2) < 0 || (a.uint(3) & ~7) !== 0) return -E.EINVAL;
  if (f.location === null) return -E.ESPIPE;
  return 0;
}

const memfdFs = new TmpFs({ source: 'memfd', rootMode: 0o777 });
const memfdMount = new Mount(memfdFs, null, null, false);

/** memfd_create(name, flags): an anonymous tmpfs file (MFD_CLOEXEC, MFD_ALLOW_SEALING accepted). */
function sysMemfdCreate(t: Task, a: SyscallArgs): number {
  const name = t.mem.readCString(a.ptr(0), 249);
  if (isErr(name)) return name.errno === E.ENAMETOOLONG ? -E.EINVAL : -name.errno;
  const flags = a.uint(1);
  const MFD_CLOEXEC = 1;
  const MFD_ALLOW_SEALING = 2;
  if ((flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING)) !== 0) return -E.EINVAL;
  const file = memfdFs.rootDir.createTmpfile(0o777, t.creds, false);
  if (isErr(file)) return -file.errno;
  const loc: Location = { mount: memfdMount, dentry: new Dentry(`memfd:${name} (deleted)`, memfdMount.root, file) };
  const f = file.open(loc, O.RDWR);
  if (isErr(f)) return -f.errno;
  const fd = t.fds.install(f, { cloexec: (flags & MFD_CLOEXEC) !== 0 });
  f.decRef();
  return toRet(fd);
}
