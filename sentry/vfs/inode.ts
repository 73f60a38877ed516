// What a filesystem implements for the VFS: a Filesystem with a root Inode, and Inodes that
// answer lookups, stats, readdirs, readlinks and opens. Every operation may answer
// synchronously or with a Promise (the 9P-backed filesystem is asynchronous).

import type { MaybePromise, Result } from '../abi/result.js';
import type { Credentials } from '../kernel/credentials.js';
import type { Mappable } from '../mm/mappable.js';
import type { FileDescription } from './file.js';
import type { Location } from './mount.js';
import type { Stat, Statfs } from './stat.js';
import type { PathCtx } from './vfs.js';

export interface DirEntry {
  name: string;
  ino: bigint;
  /** DT_* type. */
  type: number;
}

export interface Filesystem {
  /** Short type name ("gofer", "devfs", ...), shown in errors and later in /proc/mounts. */
  readonly name: string;
  /** Nothing on this filesystem can be created, removed, renamed or changed. */
  readonly readOnly: boolean;
  root(): Inode;
  statfs(): MaybePromise<Result<Statfs>>;
}

/** What execve and file mmap need from a regular file: positional reads and a Mappable. */
export interface ExecSource {
  size: number;
  readAt(offset: number, len: number): Result<Uint8Array>;
  mappable: Mappable;
}

/** Attribute changes (chmod, chown, utimensat, truncate); undefined fields are unchanged. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: bigint;
  atimeNs?: bigint | 'now';
  mtimeNs?: bigint | 'now';
}

/** Who opens a file, for devices that care (a terminal may become the opener's controlling tty). */
export interface Opener {
  /** The open's path context (the calling Task for syscalls). */
  readonly ctx: object;
  /** open(2) had O_NOCTTY. */
  readonly noctty: boolean;
}

export interface Inode {
  readonly fs: Filesystem;
  /** Identity within the sandbox: two lookups of one file give equal keys. */
  readonly key: string;
  readonly ino: bigint;
  /** st_mode (type and permission bits) as of lookup; used for walk and permission checks. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;

  /** Fresh attributes. */
  stat(): MaybePromise<Result<Stat>>;
  /** Directory: the child called name (never "." or ".."; ENOENT if absent). */
  lookup?(name: string): MaybePromise<Result<Inode>>;
  /** Directory: its entries, without "." and "..". */
  readdir?(): MaybePromise<Result<DirEntry[]>>;
  /** Symlink: its target. ctx is the caller (procfs's /proc/self depends on who asks). */
  readlink?(ctx?: PathCtx): MaybePromise<Result<string>>;
  /**
   * Non-directory: an open file. The VFS has already checked access mode, permissions and
   * read-only mounts; flags are the open(2) flags.
   */
  open?(loc: Location, flags: number, opener?: Opener): MaybePromise<Result<FileDescription>>;
  /** Regular file: a source for execve / mmap. */
  openExec?(): MaybePromise<Result<ExecSource>>;

  // Write side. A filesystem leaves these out when it cannot do them (the VFS answers EROFS
  // on read-only mounts before calling them, EPERM when they are absent).
  create?(name: string, mode: number, creds: Credentials): MaybePromise<Result<Inode>>;
  /** O_TMPFILE: a regular file with no name; linkable: linkat(AT_EMPTY_PATH) may name it. */
  createTmpfile?(mode: number, creds: Credentials, linkable: boolean): MaybePromise<Result<Inode>>;
  mkdir?(name: string, mode: number, creds: Credentials): MaybePromise<Result<void>>;
  mknod?(name: string, mode: number, rdev: bigint, creds: Credentials): MaybePromise<Result<void>>;
  symlink?(name: string, target: string, creds: Credentials): MaybePromise<Result<void>>;
  link?(name: string, target: Inode): MaybePromise<Result<void>>;
  unlink?(name: string): MaybePromise<Result<void>>;
  rmdir?(name: string): MaybePromise<Result<void>>;
  rename?(oldName: string, newDir: Inode, newName: string, flags: number): MaybePromise<Result<void>>;
  setattr?(attr: SetAttr): MaybePromise<Result<void>>;

  // Extended attributes, where the filesystem stores them (absent: EOPNOTSUPP).
  getxattr?(name: string): MaybePromise<Result<Uint8Array>>;
  setxattr?(name: string, value: Uint8Array, flags: number): MaybePromise<Result<void>>;
  listxattr?(): MaybePromise<Result<string[]>>;
  removexattr?(name: string): MaybePromise<Result<void>>;
}
