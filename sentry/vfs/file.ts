// An open file description (Linux struct file): shared by dup'd fds and by fork, it holds
// the offset and the status flags. Subclasses implement the operations their kind of file
// supports; the defaults are what Linux answers for a file that lacks them.

import { E } from '../abi/errno.js';
import { err, type MaybePromise, type Result } from '../abi/result.js';
import type { Task } from '../kernel/task.js';
import type { Mappable } from '../mm/mappable.js';
import { O, POLL, SEEK } from './constants.js';
import { anyWatches, fsnotify, IN } from './fsnotify.js';
import { releaseOwner } from './locks.js';
import type { Location } from './mount.js';
import type { Stat } from './stat.js';
import type { WaitQueue } from './wait_queue.js';

/** Per-call context of a possibly blocking operation. */
export interface IoCtx {
  /** Aborts when a signal interrupts the syscall; the operation then returns EINTR. */
  signal?: AbortSignal;
  /** The calling task (terminals apply job control to it). */
  task?: Task;
}

/** Takes bytes read from a file, `at` bytes into the request (copies them before returning). */
export type PutBytes = (at: number, bytes: Uint8Array) => Result<void>;
/** Fills dst with the request's bytes from `at` on. */
export type GetBytes = (at: number, dst: Uint8Array) => Result<void>;

export abstract class FileDescription {
  /** Access mode and status flags (O_ACCMODE | O_APPEND | O_NONBLOCK | O_LARGEFILE ...). */
  flags: number;
  offset = 0;
  private refs = 1;

  /**
   * A new description holds one reference, owned by its creator: install it in an fd
   * table (which takes its own) and then decRef().
   */
  constructor(flags: number, readonly location: Location | null) {
    this.flags = flags | O.LARGEFILE;
  }

  get readable(): boolean {
    const a = this.flags & O.ACCMODE;
    return (this.flags & O.PATH) === 0 && (a === O.RDONLY || a === O.RDWR);
  }
  get writable(): boolean {
    const a = this.flags & O.ACCMODE;
    return (this.flags & O.PATH) === 0 && (a === O.WRONLY || a === O.RDWR);
  }
  get nonblocking(): boolean {
    return (this.flags & O.NONBLOCK) !== 0;
  }
  get isPath(): boolean {
    return (this.flags & O.PATH) !== 0;
  }

  incRef(): void {
    this.refs++;
  }
  /** Drops a reference; the last one releases the file. */
  decRef(): void {
    if (--this.refs === 0) {
      // OFD and flock locks belong to the description.
      releaseOwner(this);
      if (anyWatches() && this.location !== null && !this.isPath) {
        fsnotify(this.location.dentry, this.writable ? IN.CLOSE_WRITE : IN.CLOSE_NOWRITE);
      }
      this.release();
    }
  }
  get refCount(): number {
    return this.refs;
  }

  /** Called once when the last reference goes (close host fds, wake a pipe's peers...). */
  protected release(): void {}

  /** Reads at the file offset and advances it. */
  read(_dst: Uint8Array, _ctx: IoCtx): MaybePromise<Result<number>> {
    return err(E.EINVAL);
  }
  pread(_dst: Uint8Array, _offset: number, _ctx: IoCtx): MaybePromise<Result<number>> {
    return err(E.ESPIPE);
  }
  /** Writes at the file offset (or the end with O_APPEND) and advances it. */
  write(_src: Uint8Array, _ctx: IoCtx): MaybePromise<Result<number>> {
    return err(E.EINVAL);
  }
  pwrite(_src: Uint8Array, _offset: number, _ctx: IoCtx): MaybePromise<Result<number>> {
    return err(E.ESPIPE);
  }
  seek(_offset: number, _whence: number): MaybePromise<Result<number>> {
    return err(E.ESPIPE);
  }
  /**
   * Optional fast path for read/pread (offset < 0: at the file offset, advancing it) of files
   * whose bytes are at hand: each piece goes to put(at, bytes) with no staging buffer.
   * null: no fast path for this call, use read/pread.
   */
  readDirect?(len: number, offset: number, put: PutBytes): Result<number> | null;
  /** The same for write/pwrite: get(at, dst) fills each piece of the file straight from the source. */
  writeDirect?(len: number, offset: number, get: GetBytes): Result<number> | null;
  /** Fills buf with linux_dirent64 records; returns the bytes used. */
  getdents(_buf: Uint8Array): MaybePromise<Result<number>> {
    return err(E.ENOTDIR);
  }
  stat(): MaybePromise<Result<Stat>> {
    if (this.location === null) return err(E.EBADF);
    return this.location.dentry.inode.stat();
  }
  ioctl(_t: Task, _cmd: number, _arg: number): MaybePromise<Result<number>> {
    return err(E.ENOTTY);
  }
  /** Backing for mmap of this file. */
  mappable(): MaybePromise<Result<Mappable>> {
    return err(E.ENODEV);
  }
  /** Current readiness, as poll(2) event bits. Files that never block are always ready. */
  readiness(): number {
    return POLL.IN | POLL.RDNORM | POLL.OUT | POLL.WRNORM;
  }
  /** The queue notified when readiness changes (null: readiness never changes). */
  waitQueue(): WaitQueue | null {
    return null;
  }
  /**
   * Called before waiting on waitQueue() for mask: a file whose readiness needs work to
   * learn (a host fd) starts it here.
   */
  prepareWait(_mask: number): void {}
  /** fallocate(2) on this open file (mode, offset and length already validated). */
  fallocate(_mode: number, _offset: number, _len: number): MaybePromise<Result<void>> {
    return err(E.ENODEV);
  }
}

/** Seek arithmetic shared by seekable files; size() is asked only for SEEK_END/DATA/HOLE. */
export function seekWith(
  f: FileDescription, offset: number, whence: number, size: () => MaybePromise<Result<number>>,
): MaybePromise<Result<number>> {
  switch (whence) {
    case SEEK.SET: return setOffset(f, offset);
    case SEEK.CUR: return setOffset(f, f.offset + offset);
    case SEEK.END:
    case SEEK.DATA:
    case SEEK.HOLE: {
      const s = size();
      return s instanceof Promise ? s.then((v) => seekFromSize(f, offset, whence, v)) : seekFromSize(f, offset, whence, s);
    }
    default: return err(E.EINVAL);
  }
}

function seekFromSize(f: FileDescription, offset: number, whence: number, s: Result<number>): Result<number> {
  if (typeof s !== 'number') return s;
  if (whence === SEEK.END) return setOffset(f, s + offset);
  // No holes: data everywhere before EOF, the only hole at EOF.
  if (offset < 0 || offset >= s) return err(E.ENXIO);
  return setOffset(f, whence === SEEK.DATA ? offset : s);
}

function setOffset(f: FileDescription, n: number): Result<number> {
  if (n < 0 || !Number.isSafeInteger(n)) return err(E.EINVAL);
  f.offset = n;
  return n;
}
