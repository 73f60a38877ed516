// The host files a Gofer connection holds: a HostPath is an O_PATH fd with the parent it was
// reached from and its name there, so a file can be reopened with one openat2 component
// and `..` never goes above the export's root. Shared by fids through reference counts.

import { E } from '../../sentry/abi/errno.js';
import { err, isErr, type Result } from '../../sentry/abi/result.js';
import { goferNative } from '../confine/native_gofer.js';
import type { Attr, Qid } from '../p9/messages.js';
import { GETATTR, QT } from '../p9/constants.js';

export const O_PATH = 0o10000000;
export const O_DIRECTORY = 0o200000;
export const O_NONBLOCK = 0o4000;

const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

export interface HostStat {
  dev: bigint;
  ino: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeSec: number;
  atimeNsec: number;
  mtimeSec: number;
  mtimeNsec: number;
  ctimeSec: number;
  ctimeNsec: number;
}

const statBuf = new BigInt64Array(16);

export function statFd(fd: number): Result<HostStat> {
  const r = goferNative().statFd(fd, statBuf);
  if (r < 0) return err(-r);
  const b = statBuf;
  return {
    dev: BigInt.asUintN(64, b[0]!), ino: BigInt.asUintN(64, b[1]!), mode: Number(b[2]), nlink: Number(b[3]),
    uid: Number(b[4]), gid: Number(b[5]), rdev: Number(b[6]), size: Number(b[7]), blksize: Number(b[8]),
    blocks: Number(b[9]), atimeSec: Number(b[10]), atimeNsec: Number(b[11]), mtimeSec: Number(b[12]),
    mtimeNsec: Number(b[13]), ctimeSec: Number(b[14]), ctimeNsec: Number(b[15]),
  };
}

export const isDirMode = (m: number): boolean => (m & S_IFMT) === S_IFDIR;
export const isRegMode = (m: number): boolean => (m & S_IFMT) === S_IFREG;
export const isLnkMode = (m: number): boolean => (m & S_IFMT) === S_IFLNK;

export function qidType(mode: number): number {
  if (isDirMode(mode)) return QT.DIR;
  if (isLnkMode(mode)) return QT.SYMLINK;
  return QT.FILE;
}

const MAX_SAFE_INO = BigInt(Number.MAX_SAFE_INTEGER);

/** Stable qid paths: one small number per host (dev, ino), so the Sentry sees unique inodes. */
export class QidPaths {
  /**
   * dev -> ino -> path, keyed by value (no string built per lookup, which readdir does per
   * entry); an ino below 2^53 is always keyed as a number, whichever form it came in.
   */
  private readonly ids = new Map<bigint, Map<number | bigint, bigint>>();
  private next = 1n;

  of(dev: bigint, inoIn: bigint | number): bigint {
    const ino = typeof inoIn === 'bigint' && inoIn <= MAX_SAFE_INO ? Number(inoIn) : inoIn;
    let byIno = this.ids.get(dev);
    if (byIno === undefined) {
      byIno = new Map();
      this.ids.set(dev, byIno);
    }
    let id = byIno.get(ino);
    if (id === undefined) {
      id = this.next++;
      byIno.set(ino, id);
    }
    return id;
  }

  qid(st: HostStat): Qid {
    return { type: qidType(st.mode), version: 0, path: this.of(st.dev, st.ino) };
  }
}

export function attrOf(st: HostStat, qid: Qid): Attr {
  return {
    valid: GETATTR.BASIC, qid, mode: st.mode, uid: st.uid, gid: st.gid, nlink: st.nlink, rdev: st.rdev,
    size: st.size, blksize: st.blksize, blocks: st.blocks, atimeSec: st.atimeSec, atimeNsec: st.atimeNsec,
    mtimeSec: st.mtimeSec, mtimeNsec: st.mtimeNsec, ctimeSec: st.ctimeSec, ctimeNsec: st.ctimeNsec,
    btimeSec: 0, btimeNsec: 0, gen: 0n, dataVersion: 0n,
  };
}

/** One name inside a directory: refuses anything that is not a single plain component. */
export function validName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0') &&
    Buffer.byteLength(name) <= 255;
}

/**
 * Bounds the O_PATH fds a connection keeps open: a client may hold any number of fids
 * (a `du` of a big tree holds one per file), but only the most recently used paths keep
 * an fd; the others reopen theirs from their parent when next used. Trimmed between
 * requests only, so an fd checked at the start of a request stays open through it.
 */
export class PathFdCache {
  private readonly lru = new Set<HostPath>();
  constructor(readonly cap: number) {}

  touch(p: HostPath): void {
    this.lru.delete(p);
    this.lru.add(p);
  }

  remove(p: HostPath): void {
    this.lru.delete(p);
  }

  get size(): number {
    return this.lru.size;
  }

  trim(): void {
    for (const p of this.lru) {
      if (this.lru.size <= this.cap) return;
      this.lru.delete(p);
      p.dropFd();
    }
  }
}

export class HostPath {
  private refs = 1;
  private closed = false;

  private constructor(
    /** The O_PATH fd while open, -1 once dropped (reopened on demand). */
    private fdNum: number,
    /** null only for the export's root. */
    public parent: HostPath | null,
    public name: string,
    readonly dev: bigint,
    readonly ino: bigint,
    readonly mode: number,
    private readonly cache: PathFdCache,
  ) {}

  /** The export's root: its fd belongs to the caller and is never closed here. */
  static root(fd: number, cache: PathFdCache): Result<HostPath> {
    const st = statFd(fd);
    if (isErr(st)) return st;
    if (!isDirMode(st.mode)) return err(E.ENOTDIR);
    const p = new HostPath(fd, null, '', st.dev, st.ino, st.mode, cache);
    // Never released: the caller owns the fd.
    p.refs++;
    return p;
  }

  /**
   * This path's fd, reopened from the parent if it was dropped; the file found there must
   * still be this one (ESTALE otherwise: it was replaced or moved behind our back).
   */
  ensure(): Result<number> {
    if (this.closed) return err(E.EBADF);
    if (this.fdNum >= 0) {
      if (this.parent !== null) this.cache.touch(this);
      return this.fdNum;
    }
    const parent = this.parent;
    if (parent === null) return err(E.EBADF);
    const pfd = parent.ensure();
    if (isErr(pfd)) return pfd;
    const n = goferNative();
    const fd = n.openComponent(pfd, this.name, O_PATH, 0);
    if (fd < 0) return err(-fd === E.ENOENT ? E.ESTALE : -fd);
    const st = statFd(fd);
    if (isErr(st) || st.dev !== this.dev || st.ino !== this.ino) {
      n.closeFd(fd);
      return err(E.ESTALE);
    }
    this.fdNum = fd;
    this.cache.touch(this);
    return fd;
  }

  /** The open fd (callers have ensure()d it for this request), or -1: never AT_FDCWD. */
  get fd(): number {
    const r = this.ensure();
    return isErr(r) ? -1 : r;
  }

  /** Closes the fd to save it; the path stays valid and reopens on use. */
  dropFd(): void {
    if (this.parent === null || this.fdNum < 0) return;
    goferNative().closeFd(this.fdNum);
    this.fdNum = -1;
  }

  /** The child `name` of this directory, opened O_PATH without following a symlink. */
  child(name: string): Result<HostPath> {
    if (!isDirMode(this.mode)) return err(E.ENOTDIR);
    if (!validName(name)) return err(E.ENOENT);
    const pfd = this.ensure();
    if (isErr(pfd)) return pfd;
    const fd = goferNative().openComponent(pfd, name, O_PATH, 0);
    if (fd < 0) return err(-fd);
    const st = statFd(fd);
    if (isErr(st)) {
      goferNative().closeFd(fd);
      return st;
    }
    this.incRef();
    const c = new HostPath(fd, this, name, st.dev, st.ino, st.mode, this.cache);
    this.cache.touch(c);
    return c;
  }

  incRef(): void {
    this.refs++;
  }

  decRef(): void {
    if (--this.refs > 0 || this.closed) return;
    this.closed = true;
    this.cache.remove(this);
    this.dropFd();
    this.parent?.decRef();
  }

  stat(): Result<HostStat> {
    const fd = this.ensure();
    return isErr(fd) ? fd : statFd(fd);
  }

  /**
   * A real fd for I/O on this file. Directories reopen "." of their own O_PATH fd; other
   * files reopen their name in the parent, and must still be the same file (a swap in
   * between is ESTALE).
   */
  open(flags: number): Result<number> {
    const n = goferNative();
    const base = isDirMode(this.mode) || this.parent === null ? this.ensure() : this.parent.ensure();
    if (isErr(base)) return base;
    const fd = isDirMode(this.mode) || this.parent === null
      ? n.openComponent(base, '.', flags, 0)
      : n.openComponent(base, this.name, flags | O_NONBLOCK, 0);
    if (fd < 0) return err(-fd);
    const st = statFd(fd);
    if (isErr(st) || st.dev !== this.dev || st.ino !== this.ino) {
      n.closeFd(fd);
      return err(E.ESTALE);
    }
    return fd;
  }

  /** Moves this path to `name` in `dir` after a successful host rename. */
  moved(dir: HostPath, name: string): void {
    if (dir !== this.parent) {
      dir.incRef();
      this.parent?.decRef();
      this.parent = dir;
    }
    this.name = name;
  }
}
