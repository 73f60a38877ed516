// Building blocks of generated filesystems (procfs, sysfs): directories whose entries are
// computed on every lookup/readdir, files whose text is generated when opened (a read
// sees one consistent snapshot, like Linux's seq_file), and symlinks computed per caller.
// Identity is the path inside the filesystem, so two lookups give the same key and ino.

import { createHash } from 'node:crypto';
import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import { dtFromMode, O, S } from '../../vfs/constants.js';
import { FileDescription, seekWith } from '../../vfs/file.js';
import type { DirEntry, Filesystem, Inode, Opener } from '../../vfs/inode.js';
import type { Location } from '../../vfs/mount.js';
import { nowNs, syntheticStatfs, type Stat, type Statfs } from '../../vfs/stat.js';
import { allocAnonDev } from '../../vfs/synthetic.js';
import type { PathCtx } from '../../vfs/vfs.js';

export class GenFs implements Filesystem {
  readonly readOnly = true;
  readonly dev = allocAnonDev();
  rootNode!: GenDir;
  readonly created = nowNs();

  constructor(readonly name: string, readonly magic: bigint) {}

  root(): Inode {
    return this.rootNode;
  }
  statfs(): Result<Statfs> {
    return syntheticStatfs(this.magic, false);
  }
}

function inoOf(path: string): bigint {
  if (path === '') return 1n;
  const h = createHash('sha1').update(path).digest();
  // Small, positive, never 1 (the root).
  return (h.readBigUInt64LE(0) & 0xffffffffn) + 2n;
}

export interface Owner {
  uid: number;
  gid: number;
}

export abstract class GenInode implements Inode {
  readonly key: string;
  readonly ino: bigint;
  constructor(readonly fs: GenFs, readonly path: string, readonly mode: number, private readonly owner: () => Owner = () => ({ uid: 0, gid: 0 })) {
    this.key = `${fs.name}:${fs.dev}:${path}`;
    this.ino = inoOf(path);
  }
  get uid(): number {
    return this.owner().uid;
  }
  get gid(): number {
    return this.owner().gid;
  }
  protected sizeHint(): bigint {
    return 0n;
  }
  stat(): Result<Stat> {
    const t = this.fs.created;
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: 1, uid: this.uid, gid: this.gid, rdev: 0n,
      size: this.sizeHint(), blksize: 1024, blocks: 0n, atimeNs: t, mtimeNs: t, ctimeNs: t,
    };
  }
}

/** Entries: name -> maker of the child (called with the child's path). */
export type Entries = Map<string, (path: string) => GenInode>;

export class GenDir extends GenInode {
  constructor(fs: GenFs, path: string, private readonly entries: () => Entries, perm = 0o555, owner?: () => Owner) {
    super(fs, path, S.IFDIR | perm, owner);
  }
  lookup(name: string): Result<Inode> {
    const make = this.entries().get(name);
    return make === undefined ? err(E.ENOENT) : make(`${this.path}/${name}`);
  }
  readdir(): Result<DirEntry[]> {
    const out: DirEntry[] = [];
    for (const [name, make] of this.entries()) {
      const c = make(`${this.path}/${name}`);
      out.push({ name, ino: c.ino, type: dtFromMode(c.mode) });
    }
    return out;
  }
}

export class GenFile extends GenInode {
  /** content gets the opener's context (the calling task) for files whose text depends on who reads. */
  constructor(fs: GenFs, path: string, private readonly content: (ctx?: object) => Result<string | Uint8Array>, perm = 0o444, owner?: () => Owner) {
    super(fs, path, S.IFREG | perm, owner);
  }
  open(loc: Location, flags: number, opener?: Opener): Result<FileDescription> {
    if ((flags & O.ACCMODE) !== O.RDONLY) return err(E.EACCES);
    const c = this.content(opener?.ctx);
    if (isErr(c)) return c;
    return new SnapshotFile(flags, loc, typeof c === 'string' ? new TextEncoder().encode(c) : c);
  }
}

export class GenSymlink extends GenInode {
  constructor(fs: GenFs, path: string, private readonly target: (ctx?: PathCtx) => Result<string>, owner?: () => Owner) {
    super(fs, path, S.IFLNK | 0o777, owner);
  }
  readlink(ctx?: PathCtx): Result<string> {
    return this.target(ctx);
  }
}

/** An open generated file: the text as it was at open. */
export class SnapshotFile extends FileDescription {
  constructor(flags: number, loc: Location, private readonly data: Uint8Array) {
    super(flags, loc);
  }
  override read(dst: Uint8Array): Result<number> {
    const n = this.pread(dst, this.offset);
    if (!isErr(n)) this.offset += n;
    return n;
  }
  override pread(dst: Uint8Array, offset: number): Result<number> {
    if (offset < 0) return err(E.EINVAL);
    const n = Math.max(0, Math.min(dst.length, this.data.length - offset));
    dst.set(this.data.subarray(offset, offset + n));
    return n;
  }
  override write(): Result<number> {
    return err(E.EBADF);
  }
  override seek(offset: number, whence: number): MaybePromise<Result<number>> {
    return seekWith(this, offset, whence, () => this.data.length);
  }
}

/** Helpers to build entry maps tersely. */
export function entries(list: [string, (path: string) => GenInode][]): Entries {
  return new Map(list);
}
