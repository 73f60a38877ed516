// A read-only filesystem serving a host directory (the --rootfs). Temporary: the Gofer
// replaces it, and until then this file is the only place in the Sentry that opens host
// paths. It never follows a host symlink: names are lstat'ed and symlinks go back to the
// VFS, which resolves them inside the sandbox root. Host devices, fifos and sockets are
// host objects and are never opened.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { E } from '../../abi/errno.js';
import { err, isErr, type Result } from '../../abi/result.js';
import type { Mappable } from '../../mm/mappable.js';
import { dtFromMode, isDir, isReg, S } from '../../vfs/constants.js';
import { FileDescription, seekWith } from '../../vfs/file.js';
import type { DirEntry, ExecSource, Filesystem, Inode } from '../../vfs/inode.js';
import type { Location } from '../../vfs/mount.js';
import type { Stat, Statfs } from '../../vfs/stat.js';
import { hostErr } from '../host/host_errno.js';
import { statFromHost } from '../host/host_stat.js';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = fs.constants;
/** O_NONBLOCK: a fifo swapped in after our lstat must not block the open. */
const HOST_OPEN_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;

function lstatHost(p: string): Result<fs.BigIntStats> {
  try {
    const st = fs.lstatSync(p, { bigint: true, throwIfNoEntry: false });
    return st ?? err(E.ENOENT);
  } catch (e) {
    return hostErr(e);
  }
}

/** Reads until dst is full or EOF; returns the bytes read. */
function preadFull(fd: number, dst: Uint8Array, offset: number): number {
  let done = 0;
  while (done < dst.length) {
    const n = fs.readSync(fd, dst, done, dst.length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * A host regular file's bytes for mmap and execve. Shared by every user of one host file
 * (same id, one host fd); the fd is closed when no mapping or open file holds it any more.
 */
class HostMappable implements Mappable {
  constructor(readonly id: string, readonly fd: number) {}
  readSync(offset: number, dst: Uint8Array): number {
    try {
      return preadFull(this.fd, dst, offset);
    } catch {
      // A page fault cannot fail softly here; what was not read stays as the caller left it.
      return 0;
    }
  }
}

const mappables = new Map<string, WeakRef<HostMappable>>();
const closer = new FinalizationRegistry<{ fd: number; id: string }>(({ fd, id }) => {
  const ref = mappables.get(id);
  if (ref !== undefined && ref.deref() === undefined) mappables.delete(id);
  try {
    fs.closeSync(fd);
  } catch {
    // Already closed: nothing to do.
  }
});

/** Opens the host regular file at hostPath, checking it is still the file we looked up. */
function openChecked(hostPath: string, dev: bigint, ino: bigint): Result<number> {
  let fd: number;
  try {
    fd = fs.openSync(hostPath, HOST_OPEN_FLAGS);
  } catch (e) {
    return hostErr(e);
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    if (st.dev === dev && st.ino === ino && isReg(Number(st.mode))) return fd;
  } catch {
    // Fall through: refuse.
  }
  fs.closeSync(fd);
  // Replaced on the host between lookup and open.
  return err(E.ESTALE);
}

function mappableFor(hostPath: string, dev: bigint, ino: bigint): Result<HostMappable> {
  const id = `hostdir:${dev}:${ino}`;
  const cached = mappables.get(id)?.deref();
  if (cached !== undefined) return cached;
  const fd = openChecked(hostPath, dev, ino);
  if (isErr(fd)) return fd;
  const m = new HostMappable(id, fd);
  mappables.set(id, new WeakRef(m));
  closer.register(m, { fd, id });
  return m;
}

export class HostDirFs implements Filesystem {
  readonly name = 'hostdir';
  readonly readOnly = true;
  private readonly rootInode: HostInode;

  private constructor(readonly hostRoot: string, rootStat: fs.BigIntStats) {
    this.rootInode = new HostInode(this, hostRoot, rootStat);
  }

  /** Serves hostDir (resolved once, here, at boot: it may itself be a symlink). */
  static create(hostDir: string): Result<HostDirFs> {
    let real: string;
    try {
      real = fs.realpathSync(nodePath.resolve(hostDir));
    } catch (e) {
      return hostErr(e);
    }
    const st = lstatHost(real);
    if (isErr(st)) return st;
    if (!isDir(Number(st.mode))) return err(E.ENOTDIR);
    return new HostDirFs(real, st);
  }

  root(): Inode {
    return this.rootInode;
  }

  statfs(): Result<Statfs> {
    try {
      const s = fs.statfsSync(this.hostRoot, { bigint: true });
      return {
        type: s.type, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
        files: s.files, ffree: s.ffree, fsid: 0n, namelen: 255n, frsize: s.bsize, flags: 1n,
      };
    } catch (e) {
      return hostErr(e);
    }
  }
}

class HostInode implements Inode {
  readonly key: string;
  readonly ino: bigint;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  private readonly dev: bigint;

  constructor(readonly fs: HostDirFs, readonly hostPath: string, st: fs.BigIntStats) {
    this.dev = st.dev;
    this.ino = st.ino;
    this.key = `hostdir:${st.dev}:${st.ino}`;
    this.mode = Number(st.mode);
    this.uid = Number(st.uid);
    this.gid = Number(st.gid);
  }

  stat(): Result<Stat> {
    const st = lstatHost(this.hostPath);
    return isErr(st) ? st : statFromHost(st);
  }

  lookup(name: string): Result<Inode> {
    if (!isDir(this.mode)) return err(E.ENOTDIR);
    // The VFS hands us single components; refuse anything that could leave this directory.
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      return err(E.ENOENT);
    }
    const p = nodePath.join(this.hostPath, name);
    const st = lstatHost(p);
    if (isErr(st)) return st;
    return new HostInode(this.fs, p, st);
  }

  readdir(): Result<DirEntry[]> {
    let list: fs.Dirent[];
    try {
      list = fs.readdirSync(this.hostPath, { withFileTypes: true });
    } catch (e) {
      return hostErr(e);
    }
    const out: DirEntry[] = [];
    for (const d of list) {
      const st = lstatHost(nodePath.join(this.hostPath, d.name));
      // Gone since readdir: leave it out, as a later readdir would.
      if (isErr(st)) continue;
      out.push({ name: d.name, ino: st.ino, type: dtFromMode(Number(st.mode)) });
    }
    return out;
  }

  readlink(): Result<string> {
    try {
      return fs.readlinkSync(this.hostPath);
    } catch (e) {
      return hostErr(e);
    }
  }

  open(loc: Location, flags: number): Result<FileDescription> {
    // Host devices, fifos and sockets are host objects: never reachable from the sandbox.
    if (!isReg(this.mode)) return err(E.EACCES);
    const fd = openChecked(this.hostPath, this.dev, this.ino);
    if (isErr(fd)) return fd;
    return new HostRegularFile(flags, loc, fd, this);
  }

  openExec(): Result<ExecSource> {
    if ((this.mode & S.IFMT) !== S.IFREG) return err(E.EACCES);
    const m = mappableFor(this.hostPath, this.dev, this.ino);
    if (isErr(m)) return m;
    let size: number;
    try {
      size = Number(fs.fstatSync(m.fd, { bigint: true }).size);
    } catch (e) {
      return hostErr(e);
    }
    return {
      size,
      mappable: m,
      readAt: (offset: number, len: number): Result<Uint8Array> => {
        if (offset < 0 || len < 0) return err(E.EINVAL);
        const n = Math.max(0, Math.min(len, size - offset));
        const buf = new Uint8Array(n);
        try {
          return buf.subarray(0, preadFull(m.fd, buf, offset));
        } catch (e) {
          return hostErr(e);
        }
      },
    };
  }

  mappable(): Result<Mappable> {
    return mappableFor(this.hostPath, this.dev, this.ino);
  }
}

/** An open host regular file (read-only): its own host fd, closed on last close. */
class HostRegularFile extends FileDescription {
  private closed = false;

  constructor(flags: number, loc: Location, private readonly fd: number, private readonly inode: HostInode) {
    super(flags, loc);
  }

  protected override release(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      fs.closeSync(this.fd);
    } catch {
      // Nothing useful to report at close.
    }
  }

  override read(dst: Uint8Array): Result<number> {
    const n = this.pread(dst, this.offset);
    if (!isErr(n)) this.offset += n;
    return n;
  }

  override pread(dst: Uint8Array, offset: number): Result<number> {
    if (offset < 0) return err(E.EINVAL);
    try {
      return preadFull(this.fd, dst, offset);
    } catch (e) {
      return hostErr(e);
    }
  }

  override write(): Result<number> {
    return err(E.EBADF);
  }
  override pwrite(): Result<number> {
    return err(E.EBADF);
  }

  override seek(offset: number, whence: number): Result<number> | Promise<Result<number>> {
    return seekWith(this, offset, whence, () => {
      try {
        return Number(fs.fstatSync(this.fd, { bigint: true }).size);
      } catch (e) {
        return hostErr(e);
      }
    });
  }

  override stat(): Result<Stat> {
    try {
      return statFromHost(fs.fstatSync(this.fd, { bigint: true }));
    } catch (e) {
      return hostErr(e);
    }
  }

  override mappable(): Result<Mappable> {
    return this.inode.mappable();
  }
}
