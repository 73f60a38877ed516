// A process's file descriptor table: small integers naming open file descriptions, with the
// per-fd close-on-exec flag. fork() copies the table (the descriptions, and so the offsets,
// are shared); CLONE_FILES shares the table object itself.

import { E } from '../abi/errno.js';
import { err, type Result } from '../abi/result.js';
import type { FileDescription } from './file.js';
import { ownsAny, releaseOwnerOn } from './locks.js';

export interface FdEntry {
  readonly file: FileDescription;
  cloexec: boolean;
}

export interface InstallOpts {
  cloexec?: boolean;
}

/** Default RLIMIT_NOFILE soft limit, as Linux starts init with. */
export const DEFAULT_NOFILE = 1024;

export class FdTable {
  private readonly slots: (FdEntry | undefined)[] = [];
  private count = 0;

  /** limit is RLIMIT_NOFILE: fds must be below it (EMFILE otherwise). */
  constructor(public limit = DEFAULT_NOFILE) {}

  get(fd: number): FileDescription | undefined {
    return fd >= 0 ? this.slots[fd]?.file : undefined;
  }

  entry(fd: number): FdEntry | undefined {
    return fd >= 0 ? this.slots[fd] : undefined;
  }

  get size(): number {
    return this.count;
  }

  /** Installs file at the lowest free fd >= minFd; takes a reference on the file. */
  install(file: FileDescription, opts: InstallOpts = {}, minFd = 0): Result<number> {
    for (let fd = Math.max(0, minFd); fd < this.limit; fd++) {
      if (this.slots[fd] === undefined) {
        this.put(fd, file, opts.cloexec ?? false);
        return fd;
      }
    }
    return err(E.EMFILE);
  }

  /** Installs file at exactly fd (dup2/dup3), closing what was there. */
  installAt(fd: number, file: FileDescription, opts: InstallOpts = {}): Result<number> {
    if (fd < 0 || fd >= this.limit) return err(E.EBADF);
    const old = this.slots[fd];
    // Take the new reference first: dup2(fd, fd2) where both name one file must not release it.
    this.put(fd, file, opts.cloexec ?? false);
    if (old !== undefined) {
      this.count--;
      this.dropPosixLocks(old.file);
      old.file.decRef();
    }
    return fd;
  }

  private put(fd: number, file: FileDescription, cloexec: boolean): void {
    file.incRef();
    this.slots[fd] = { file, cloexec };
    this.count++;
  }

  close(fd: number): Result<void> {
    const e = fd >= 0 ? this.slots[fd] : undefined;
    if (e === undefined) return err(E.EBADF);
    this.slots[fd] = undefined;
    this.count--;
    this.dropPosixLocks(e.file);
    e.file.decRef();
    return undefined;
  }

  /** POSIX record locks belong to the fd table: closing any fd of the file drops them. */
  private dropPosixLocks(f: FileDescription): void {
    const key = f.location?.dentry.inode.key;
    if (key !== undefined && ownsAny(this, key)) releaseOwnerOn(this, key);
  }

  setCloexec(fd: number, on: boolean): Result<void> {
    const e = this.entry(fd);
    if (e === undefined) return err(E.EBADF);
    e.cloexec = on;
    return undefined;
  }

  /** A copy for a forked child: same descriptions (shared offsets), same cloexec flags. */
  fork(): FdTable {
    const t = new FdTable(this.limit);
    for (let fd = 0; fd < this.slots.length; fd++) {
      const e = this.slots[fd];
      if (e !== undefined) t.put(fd, e.file, e.cloexec);
    }
    return t;
  }

  /** execve: closes every fd marked close-on-exec. */
  closeOnExec(): void {
    for (let fd = 0; fd < this.slots.length; fd++) {
      if (this.slots[fd]?.cloexec) this.close(fd);
    }
  }

  /** Process exit (last user of the table): closes everything. */
  closeAll(): void {
    for (let fd = 0; fd < this.slots.length; fd++) {
      if (this.slots[fd] !== undefined) this.close(fd);
    }
    this.slots.length = 0;
  }

  /** Open fds in increasing order. */
  *fds(): IterableIterator<number> {
    for (let fd = 0; fd < this.slots.length; fd++) if (this.slots[fd] !== undefined) yield fd;
  }
}
