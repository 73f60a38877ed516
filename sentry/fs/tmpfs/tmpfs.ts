// tmpfs: a filesystem held in Sentry memory. File data lives in 4 KiB pages allocated on
// write (sparse files keep holes), counted against the mount's size limit: a write that
// does not fit stores what fits and returns the short count, or ENOSPC when nothing fits.
// The overlay's upper layer is a TmpFs too (whiteouts and opaque marks live on TmpDir).

import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import type { Credentials } from '../../kernel/credentials.js';
import { dtFromMode, isDir, S } from '../../vfs/constants.js';
import type { FileDescription } from '../../vfs/file.js';
import type { DirEntry, ExecSource, Filesystem, Inode, SetAttr } from '../../vfs/inode.js';
import type { Location } from '../../vfs/mount.js';
import { nowNs, type Stat, type Statfs } from '../../vfs/stat.js';
import { allocAnonDev } from '../../vfs/synthetic.js';
import { FifoNode } from './fifo.js';
import { TmpFileData } from './file_data.js';
import { TmpRegularFile } from './regular_file.js';

export const TMPFS_MAGIC = 0x01021994n;
const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;

export interface TmpFsOptions {
  /** Size limit in bytes (rounded up to pages); default 2 GiB. */
  sizeBytes?: number;
  /** Inode limit; default 1M. */
  maxInodes?: number;
  /** First inode number (the overlay's upper starts high so its numbers differ from the lower's). */
  inoBase?: bigint;
  /** Root directory mode bits (default 1777, like /tmp). */
  rootMode?: number;
  /** What /proc/mounts shows as the mount's source ("tmpfs", "shm"...). */
  source?: string;
}

export class TmpFs implements Filesystem {
  readonly name = 'tmpfs';
  readonly source: string;
  readonly readOnly = false;
  readonly dev = allocAnonDev();
  readonly maxPages: number;
  readonly maxInodes: number;
  usedPages = 0;
  inodes = 0;
  private nextIno: bigint;
  readonly rootDir: TmpDir;

  constructor(opts: TmpFsOptions = {}) {
    this.source = opts.source ?? 'tmpfs';
    this.maxPages = Math.ceil((opts.sizeBytes ?? 2 * 1024 * 1024 * 1024) / 4096);
    this.maxInodes = opts.maxInodes ?? 1 << 20;
    this.nextIno = opts.inoBase ?? 1n;
    this.rootDir = new TmpDir(this, S.IFDIR | (opts.rootMode ?? 0o1777), 0, 0, null);
  }

  allocIno(): bigint {
    return this.nextIno++;
  }

  /** Reserves n pages; false when the size limit would be exceeded. */
  reservePages(n: number): boolean {
    if (this.usedPages + n > this.maxPages) return false;
    this.usedPages += n;
    return true;
  }

  releasePages(n: number): void {
    this.usedPages -= n;
  }

  root(): Inode {
    return this.rootDir;
  }

  statfs(): Result<Statfs> {
    const free = BigInt(this.maxPages - this.usedPages);
    return {
      type: TMPFS_MAGIC, bsize: 4096n, blocks: BigInt(this.maxPages), bfree: free, bavail: free,
      files: BigInt(this.maxInodes), ffree: BigInt(this.maxInodes - this.inodes), fsid: 0n,
      namelen: 255n, frsize: 4096n, flags: 0n,
    };
  }
}

/** Ownership of a new inode: the creator's fs ids, or the directory's group when setgid. */
function newOwner(dir: TmpDir, creds: Credentials, mode: number): { uid: number; gid: number; mode: number } {
  if ((dir.mode & S.ISGID) !== 0) {
    return { uid: creds.fsuid, gid: dir.gid, mode: isDir(mode) ? mode | S.ISGID : mode };
  }
  return { uid: creds.fsuid, gid: creds.fsgid, mode };
}

export abstract class TmpInode implements Inode {
  readonly ino: bigint;
  readonly key: string;
  mode: number;
  uid: number;
  gid: number;
  nlink = 1;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  readonly btimeNs: bigint;
  readonly xattrs = new Map<string, Uint8Array>();
  /** Overlay copy-up: the key and inode number of the lower file this one was copied from. */
  origin?: string;
  originIno?: bigint;

  constructor(readonly fs: TmpFs, mode: number, uid: number, gid: number) {
    this.mode = mode;
    this.uid = uid;
    this.gid = gid;
    this.ino = fs.allocIno();
    this.key = `tmpfs:${fs.dev}:${this.ino}`;
    const t = nowNs();
    this.atimeNs = this.mtimeNs = this.ctimeNs = this.btimeNs = t;
    fs.inodes++;
  }

  protected get size(): bigint {
    return 0n;
  }
  protected get blocks(): bigint {
    return 0n;
  }
  protected get rdev(): bigint {
    return 0n;
  }

  stat(): Result<Stat> {
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: this.nlink, uid: this.uid, gid: this.gid,
      rdev: this.rdev, size: this.size, blksize: 4096, blocks: this.blocks,
      atimeNs: this.atimeNs, mtimeNs: this.mtimeNs, ctimeNs: this.ctimeNs, btimeNs: this.btimeNs,
    };
  }

  touchChange(): void {
    this.ctimeNs = nowNs();
  }

  /** Called when the last link goes; files free their pages once no open file holds them. */
  dropLink(): void {
    this.nlink--;
    this.touchChange();
    if (this.nlink <= 0) this.fs.inodes--;
  }

  setattr(attr: SetAttr): Result<void> {
    if (attr.size !== undefined) {
      const r = this.truncate(attr.size);
      if (isErr(r)) return r;
    }
    if (attr.mode !== undefined) this.mode = (this.mode & S.IFMT) | (attr.mode & 0o7777);
    if (attr.uid !== undefined) this.uid = attr.uid;
    if (attr.gid !== undefined) this.gid = attr.gid;
    // chown by anyone clears setuid/setgid on a non-directory, as Linux does.
    if ((attr.uid !== undefined || attr.gid !== undefined) && !isDir(this.mode) && attr.mode === undefined) {
      this.mode &= ~(S.ISUID | ((this.mode & 0o010) !== 0 ? S.ISGID : 0));
    }
    const now = nowNs();
    if (attr.atimeNs !== undefined) this.atimeNs = attr.atimeNs === 'now' ? now : attr.atimeNs;
    if (attr.mtimeNs !== undefined) this.mtimeNs = attr.mtimeNs === 'now' ? now : attr.mtimeNs;
    this.ctimeNs = now;
    return undefined;
  }

  protected truncate(_size: bigint): Result<void> {
    return err(isDir(this.mode) ? E.EISDIR : E.EINVAL);
  }

  getxattr(name: string): Result<Uint8Array> {
    return this.xattrs.get(name) ?? err(E.ENODATA);
  }
  setxattr(name: string, value: Uint8Array, flags: number): Result<void> {
    const XATTR_CREATE = 1;
    const XATTR_REPLACE = 2;
    const has = this.xattrs.has(name);
    if ((flags & XATTR_CREATE) !== 0 && has) return err(E.EEXIST);
    if ((flags & XATTR_REPLACE) !== 0 && !has) return err(E.ENODATA);
    this.xattrs.set(name, value.slice());
    this.touchChange();
    return undefined;
  }
  listxattr(): Result<string[]> {
    return [...this.xattrs.keys()];
  }
  removexattr(name: string): Result<void> {
    if (!this.xattrs.delete(name)) return err(E.ENODATA);
    this.touchChange();
    return undefined;
  }
}

export class TmpFile extends TmpInode {
  readonly data: TmpFileData;

  constructor(fs: TmpFs, mode: number, uid: number, gid: number) {
    super(fs, mode, uid, gid);
    this.data = new TmpFileData(fs, this.key);
  }

  protected override get size(): bigint {
    return BigInt(this.data.size);
  }
  protected override get blocks(): bigint {
    return BigInt(this.data.pageCount * 8);
  }

  protected override truncate(size: bigint): Result<void> {
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) return err(E.EFBIG);
    const r = this.data.truncate(Number(size));
    if (isErr(r)) return r;
    this.mtimeNs = this.ctimeNs = nowNs();
    return undefined;
  }

  override dropLink(): void {
    super.dropLink();
    if (this.nlink <= 0) this.data.unlinked();
  }

  open(loc: Location, flags: number): Result<FileDescription> {
    return new TmpRegularFile(flags, loc, this);
  }

  openExec(): Result<ExecSource> {
    const d = this.data;
    return {
      size: d.size,
      mappable: d,
      readAt: (offset, len) => {
        if (offset < 0 || len < 0) return err(E.EINVAL);
        const n = Math.max(0, Math.min(len, d.size - offset));
        const buf = new Uint8Array(n);
        d.read(buf, offset);
        return buf;
      },
    };
  }
}

export class TmpSymlink extends TmpInode {
  constructor(fs: TmpFs, readonly target: string, uid: number, gid: number) {
    super(fs, S.IFLNK | 0o777, uid, gid);
  }
  protected override get size(): bigint {
    return BigInt(Buffer.byteLength(this.target));
  }
  readlink(): Result<string> {
    return this.target;
  }
}

/** Fifos, sockets and device nodes. Fifos open as pipes; the rest cannot be opened here. */
export class TmpSpecial extends TmpInode {
  private fifo?: FifoNode;
  constructor(fs: TmpFs, mode: number, readonly dev: bigint, uid: number, gid: number) {
    super(fs, mode, uid, gid);
  }
  protected override get rdev(): bigint {
    return this.dev;
  }
  open(loc: Location, flags: number): MaybePromise<Result<FileDescription>> {
    const type = this.mode & S.IFMT;
    if (type === S.IFIFO) return (this.fifo ??= new FifoNode()).open(loc, flags);
    return err(E.ENXIO);
  }
}

export class TmpDir extends TmpInode {
  readonly children = new Map<string, TmpInode>();
  /** Overlay: names deleted from the lower layer. */
  readonly whiteouts = new Set<string>();
  /** Overlay: the lower layer's directory is hidden entirely. */
  opaque = false;

  constructor(fs: TmpFs, mode: number, uid: number, gid: number, public parent: TmpDir | null) {
    super(fs, mode, uid, gid);
    this.nlink = 2;
  }

  lookup(name: string): Result<Inode> {
    return this.children.get(name) ?? err(E.ENOENT);
  }

  readdir(): Result<DirEntry[]> {
    return [...this.children].map(([name, c]) => ({ name, ino: c.ino, type: dtFromMode(c.mode) }));
  }

  private changed(): void {
    this.mtimeNs = this.ctimeNs = nowNs();
  }

  private room(name: string): Result<void> {
    if (this.nlink <= 0) return err(E.ENOENT);
    if (this.children.has(name)) return err(E.EEXIST);
    if (this.fs.inodes >= this.fs.maxInodes) return err(E.ENOSPC);
    return undefined;
  }

  private add(name: string, child: TmpInode): void {
    this.children.set(name, child);
    if (child instanceof TmpDir) {
      child.parent = this;
      this.nlink++;
    }
    this.changed();
  }

  create(name: string, mode: number, creds: Credentials): Result<Inode> {
    const r = this.room(name);
    if (isErr(r)) return r;
    const o = newOwner(this, creds, S.IFREG | (mode & 0o7777));
    const f = new TmpFile(this.fs, o.mode, o.uid, o.gid);
    this.add(name, f);
    return f;
  }

  /** Creates a regular file with no name (O_TMPFILE); linkat may give it one later. */
  createTmpfile(mode: number, creds: Credentials, linkable: boolean): Result<TmpFile> {
    if (this.fs.inodes >= this.fs.maxInodes) return err(E.ENOSPC);
    const o = newOwner(this, creds, S.IFREG | (mode & 0o7777));
    const f = new TmpFile(this.fs, o.mode, o.uid, o.gid);
    f.nlink = 0;
    this.fs.inodes--;
    f.data.unlinked();
    f.data.anonymousLinkable = linkable;
    return f;
  }

  mkdir(name: string, mode: number, creds: Credentials): Result<void> {
    const r = this.mkdirNode(name, mode, creds);
    return isErr(r) ? r : undefined;
  }

  mkdirNode(name: string, mode: number, creds: Credentials): Result<TmpDir> {
    const r = this.room(name);
    if (isErr(r)) return r;
    const o = newOwner(this, creds, S.IFDIR | (mode & 0o7777));
    const d = new TmpDir(this.fs, o.mode, o.uid, o.gid, this);
    this.add(name, d);
    return d;
  }

  mknod(name: string, mode: number, rdev: bigint, creds: Credentials): Result<void> {
    const r = this.room(name);
    if (isErr(r)) return r;
    const o = newOwner(this, creds, mode);
    const node = (mode & S.IFMT) === S.IFREG
      ? new TmpFile(this.fs, o.mode, o.uid, o.gid)
      : new TmpSpecial(this.fs, o.mode, rdev, o.uid, o.gid);
    this.add(name, node);
    return undefined;
  }

  symlink(name: string, target: string, creds: Credentials): Result<void> {
    const r = this.room(name);
    if (isErr(r)) return r;
    if (!this.fs.reservePages(0)) return err(E.ENOSPC);
    this.add(name, new TmpSymlink(this.fs, target, creds.fsuid, creds.fsgid));
    return undefined;
  }

  link(name: string, target: Inode): Result<void> {
    if (!(target instanceof TmpInode) || target.fs !== this.fs) return err(E.EXDEV);
    if (this.nlink <= 0) return err(E.ENOENT);
    if (this.children.has(name)) return err(E.EEXIST);
    if (target.nlink <= 0 && !(target instanceof TmpFile && target.data.anonymousLinkable)) return err(E.ENOENT);
    if (target.nlink <= 0) {
      this.fs.inodes++;
      (target as TmpFile).data.relinked();
    }
    target.nlink++;
    target.touchChange();
    this.children.set(name, target);
    this.changed();
    return undefined;
  }

  unlink(name: string): Result<void> {
    const c = this.children.get(name);
    if (c === undefined) return err(E.ENOENT);
    if (c instanceof TmpDir) return err(E.EISDIR);
    this.children.delete(name);
    c.dropLink();
    this.changed();
    return undefined;
  }

  rmdir(name: string): Result<void> {
    const c = this.children.get(name);
    if (c === undefined) return err(E.ENOENT);
    if (!(c instanceof TmpDir)) return err(E.ENOTDIR);
    if (c.children.size > 0) return err(E.ENOTEMPTY);
    this.children.delete(name);
    this.nlink--;
    c.nlink = 0;
    this.fs.inodes--;
    c.touchChange();
    this.changed();
    return undefined;
  }

  /** Whether this directory is d or one of d's ancestors. */
  private isAncestorOf(d: TmpDir): boolean {
    for (let p: TmpDir | null = d; p !== null; p = p.parent) if (p === this) return true;
    return false;
  }

  rename(oldName: string, newDirInode: Inode, newName: string, flags: number): Result<void> {
    if (!(newDirInode instanceof TmpDir) || newDirInode.fs !== this.fs) return err(E.EXDEV);
    const nd = newDirInode;
    const src = this.children.get(oldName);
    if (src === undefined) return err(E.ENOENT);
    const dst = nd.children.get(newName);
    if (src instanceof TmpDir && src.isAncestorOf(nd)) return err(E.EINVAL);
    if ((flags & RENAME_EXCHANGE) !== 0) {
      if (dst === undefined) return err(E.ENOENT);
      if (dst instanceof TmpDir && dst.isAncestorOf(this)) return err(E.EINVAL);
      this.children.set(oldName, dst);
      nd.children.set(newName, src);
      if (src instanceof TmpDir) {
        src.parent = nd;
        if (!(dst instanceof TmpDir)) {
          this.nlink--;
          nd.nlink++;
        }
      }
      if (dst instanceof TmpDir) {
        dst.parent = this;
        if (!(src instanceof TmpDir)) {
          nd.nlink--;
          this.nlink++;
        }
      }
      src.touchChange();
      dst.touchChange();
      this.changed();
      nd.changed();
      return undefined;
    }
    if (dst === src) return undefined;
    if (dst !== undefined) {
      if ((flags & RENAME_NOREPLACE) !== 0) return err(E.EEXIST);
      if (src instanceof TmpDir) {
        if (!(dst instanceof TmpDir)) return err(E.ENOTDIR);
        if (dst.children.size > 0) return err(E.ENOTEMPTY);
        if (dst.isAncestorOf(this)) return err(E.ENOTEMPTY);
      } else if (dst instanceof TmpDir) {
        return err(E.EISDIR);
      }
      if (dst instanceof TmpDir) {
        nd.rmdir(newName);
      } else {
        nd.children.delete(newName);
        dst.dropLink();
      }
    }
    this.children.delete(oldName);
    if (src instanceof TmpDir) this.nlink--;
    nd.add(newName, src);
    src.touchChange();
    this.changed();
    return undefined;
  }
}
