// A small in-memory filesystem whose tree the Sentry builds (devfs, the empty /proc and
// /sys placeholders; later procfs/sysfs can grow from it). Its structure is fixed: the app
// cannot create, remove or rename anything in it.

import { E } from '../abi/errno.js';
import { err, type Result } from '../abi/result.js';
import { dtFromMode, S } from './constants.js';
import type { FileDescription } from './file.js';
import type { DirEntry, Filesystem, Inode } from './inode.js';
import type { Location } from './mount.js';
import { makedev, nowNs, syntheticStatfs, type Stat, type Statfs } from './stat.js';

let nextAnonMinor = 0x80;

/** A device number for a filesystem with no backing device (Linux's anonymous "0:N"). */
export function allocAnonDev(): bigint {
  return makedev(0, nextAnonMinor++);
}

export class SyntheticFs implements Filesystem {
  readonly dev = allocAnonDev();
  private nextIno = 1n;
  readonly rootDir: SynthDir;

  constructor(readonly name: string, readonly magic: bigint, readonly readOnly = true) {
    this.rootDir = new SynthDir(this, 0o755);
  }

  allocIno(): bigint {
    return this.nextIno++;
  }

  root(): Inode {
    return this.rootDir;
  }

  statfs(): Result<Statfs> {
    return syntheticStatfs(this.magic, this.readOnly);
  }
}

export abstract class SynthInode implements Inode {
  readonly ino: bigint;
  readonly key: string;
  readonly uid = 0;
  readonly gid = 0;
  readonly mode: number;
  private readonly created = nowNs();

  constructor(readonly fs: SyntheticFs, mode: number) {
    this.mode = mode;
    this.ino = fs.allocIno();
    this.key = `synthetic:${fs.dev}:${this.ino}`;
  }

  protected get rdev(): bigint {
    return 0n;
  }
  protected get size(): bigint {
    return 0n;
  }
  protected get nlink(): number {
    return 1;
  }

  stat(): Result<Stat> {
    const t = this.created;
    return {
      dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: this.nlink, uid: this.uid,
      gid: this.gid, rdev: this.rdev, size: this.size, blksize: 4096, blocks: 0n,
      atimeNs: t, mtimeNs: t, ctimeNs: t,
    };
  }
}

export class SynthDir extends SynthInode {
  readonly children = new Map<string, SynthInode>();

  constructor(fs: SyntheticFs, perm: number) {
    super(fs, S.IFDIR | perm);
  }

  protected override get nlink(): number {
    let n = 2;
    for (const c of this.children.values()) if (c instanceof SynthDir) n++;
    return n;
  }

  lookup(name: string): Result<Inode> {
    return this.children.get(name) ?? err(E.ENOENT);
  }

  readdir(): Result<DirEntry[]> {
    return [...this.children].map(([name, c]) => ({ name, ino: c.ino, type: dtFromMode(c.mode) }));
  }

  addDir(name: string, perm = 0o755): SynthDir {
    const d = new SynthDir(this.fs, perm);
    this.children.set(name, d);
    return d;
  }

  addSymlink(name: string, target: string): SynthSymlink {
    const l = new SynthSymlink(this.fs, target);
    this.children.set(name, l);
    return l;
  }

  addDevice(name: string, dev: SynthDevice): SynthDevice {
    this.children.set(name, dev);
    return dev;
  }
}

export class SynthSymlink extends SynthInode {
  constructor(fs: SyntheticFs, readonly target: string) {
    super(fs, S.IFLNK | 0o777);
  }
  protected override get size(): bigint {
    return BigInt(new TextEncoder().encode(this.target).length);
  }
  readlink(): Result<string> {
    return this.target;
  }
}

/** A character device: opening it calls openDevice. */
export class SynthDevice extends SynthInode {
  constructor(
    fs: SyntheticFs,
    readonly major: number,
    readonly minor: number,
    perm: number,
    private readonly openDevice: (loc: Location, flags: number) => Result<FileDescription>,
  ) {
    super(fs, S.IFCHR | perm);
  }
  protected override get rdev(): bigint {
    return makedev(this.major, this.minor);
  }
  open(loc: Location, flags: number): Result<FileDescription> {
    return this.openDevice(loc, flags);
  }
}
