// Pipes with Linux semantics: a 64 KiB buffer; writes of at most PIPE_BUF bytes are atomic;
// read returns EOF once every write end is closed; write fails with EPIPE once every read
// end is closed (the syscall layer then raises SIGPIPE through vfsHooks.onEpipe);
// O_NONBLOCK gives EAGAIN; blocking calls wait on the pipe's WaitQueue without blocking Node.

import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import type { Task } from '../../kernel/task.js';
import { IOCTL, O, POLL, S } from '../../vfs/constants.js';
import { FileDescription, type IoCtx } from '../../vfs/file.js';
import { nowNs, type Stat } from '../../vfs/stat.js';
import { allocAnonDev } from '../../vfs/synthetic.js';
import { WaitQueue } from '../../vfs/wait_queue.js';

export const PIPE_BUF = 4096;
export const PIPE_CAPACITY = 65536;

const pipefsDev = allocAnonDev();
let nextPipeIno = 1n;

const READABLE = POLL.IN | POLL.RDNORM;
const WRITABLE = POLL.OUT | POLL.WRNORM;

/** The shared buffer between a pipe's ends. */
export class Pipe {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes already consumed from chunks[0]. */
  private head = 0;
  size = 0;
  readers = 0;
  writers = 0;
  readonly capacity = PIPE_CAPACITY;
  readonly queue = new WaitQueue();
  readonly ino = nextPipeIno++;
  private readonly created = nowNs();

  get space(): number {
    return this.capacity - this.size;
  }

  /** Moves up to dst.length buffered bytes into dst. */
  take(dst: Uint8Array): number {
    let n = 0;
    while (n < dst.length && this.chunks.length > 0) {
      const c = this.chunks[0];
      const k = Math.min(dst.length - n, c.length - this.head);
      dst.set(c.subarray(this.head, this.head + k), n);
      n += k;
      this.head += k;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.size -= n;
    return n;
  }

  /** Copies up to dst.length buffered bytes into dst without consuming them (tee). */
  peek(dst: Uint8Array): number {
    let n = 0;
    let head = this.head;
    for (const c of this.chunks) {
      if (n === dst.length) break;
      const k = Math.min(dst.length - n, c.length - head);
      dst.set(c.subarray(head, head + k), n);
      n += k;
      head = 0;
    }
    return n;
  }

  put(src: Uint8Array): void {
    this.chunks.push(src.slice());
    this.size += src.length;
  }

  stat(): Stat {
    const t = this.created;
    return {
      dev: pipefsDev, ino: this.ino, mode: S.IFIFO | 0o600, nlink: 1, uid: 0, gid: 0,
      rdev: 0n, size: 0n, blksize: 4096, blocks: 0n, atimeNs: t, mtimeNs: t, ctimeNs: t,
    };
  }
}

abstract class PipeEnd extends FileDescription {
  constructor(flags: number, readonly pipe: Pipe) {
    super(flags, null);
    // Linux does not mark pipe files O_LARGEFILE (F_GETFL shows 0 / 1).
    this.flags = flags;
  }
  override stat(): Result<Stat> {
    return this.pipe.stat();
  }
  override waitQueue(): WaitQueue {
    return this.pipe.queue;
  }
  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    if (cmd !== IOCTL.FIONREAD) return err(E.ENOTTY);
    const r = t.mem.writeU32(arg, this.pipe.size);
    return isErr(r) ? r : 0;
  }
}

export class PipeReadFile extends PipeEnd {
  constructor(flags: number, pipe: Pipe) {
    super((flags & ~O.ACCMODE) | O.RDONLY, pipe);
    pipe.readers++;
  }

  protected override release(): void {
    this.pipe.readers--;
    // Blocked writers must now fail with EPIPE.
    this.pipe.queue.notify(POLL.OUT | POLL.ERR);
  }

  /** Data, EOF, or null when a blocking reader would have to wait. */
  private tryRead(dst: Uint8Array): Result<number> | null {
    const p = this.pipe;
    if (dst.length === 0) return 0;
    if (p.size > 0) {
      const n = p.take(dst);
      p.queue.notify(WRITABLE);
      return n;
    }
    if (p.writers === 0) return 0;
    if (this.nonblocking) return err(E.EAGAIN);
    return null;
  }

  override read(dst: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    const r = this.tryRead(dst);
    return r !== null ? r : this.readSlow(dst, ctx);
  }

  private async readSlow(dst: Uint8Array, ctx: IoCtx): Promise<Result<number>> {
    for (;;) {
      const o = await this.pipe.queue.wait(READABLE | POLL.HUP, ctx.signal);
      if (o === 'interrupted') return err(E.EINTR);
      const r = this.tryRead(dst);
      if (r !== null) return r;
    }
  }

  override readiness(): number {
    const p = this.pipe;
    let m = 0;
    if (p.size > 0) m |= READABLE;
    if (p.writers === 0) m |= POLL.HUP;
    return m;
  }

  override write(): Result<number> {
    return err(E.EBADF);
  }
}

export class PipeWriteFile extends PipeEnd {
  constructor(flags: number, pipe: Pipe) {
    super((flags & ~O.ACCMODE) | O.WRONLY, pipe);
    pipe.writers++;
  }

  protected override release(): void {
    this.pipe.writers--;
    // Blocked readers now see EOF.
    this.pipe.queue.notify(POLL.IN | POLL.HUP);
  }

  /**
   * Writes what it can of src after st.done bytes (advancing st.done); returns the total,
   * an error, or null when a blocking writer must wait for space.
   */
  private tryWrite(src: Uint8Array, st: { done: number }): Result<number> | null {
    const p = this.pipe;
    const atomic = src.length <= PIPE_BUF;
    for (;;) {
      if (p.readers === 0) return st.done > 0 ? st.done : err(E.EPIPE);
      if (st.done === src.length) return st.done;
      const space = p.space;
      const fits = atomic ? space >= src.length : space > 0;
      if (!fits) {
        if (this.nonblocking) return st.done > 0 ? st.done : err(E.EAGAIN);
        return null;
      }
      const n = Math.min(space, src.length - st.done);
      p.put(src.subarray(st.done, st.done + n));
      st.done += n;
      p.queue.notify(READABLE);
    }
  }

  override write(src: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    if (src.length === 0) return this.pipe.readers === 0 ? err(E.EPIPE) : 0;
    const st = { done: 0 };
    const r = this.tryWrite(src, st);
    return r !== null ? r : this.writeSlow(src, st, ctx);
  }

  private async writeSlow(src: Uint8Array, st: { done: number }, ctx: IoCtx): Promise<Result<number>> {
    for (;;) {
      const o = await this.pipe.queue.wait(WRITABLE | POLL.ERR, ctx.signal);
      if (o === 'interrupted') return st.done > 0 ? st.done : err(E.EINTR);
      const r = this.tryWrite(src, st);
      if (r !== null) return r;
    }
  }

  override readiness(): number {
    const p = this.pipe;
    if (p.readers === 0) return POLL.ERR;
    return p.space >= PIPE_BUF ? WRITABLE : 0;
  }

  override read(): Result<number> {
    return err(E.EBADF);
  }
}

/**
 * A FIFO opened O_RDWR (Linux allows it, POSIX leaves it undefined): one description that is
 * both a reader and a writer, so the open never waits and the pipe never sees EOF or EPIPE.
 */
export class PipeRdwrFile extends PipeEnd {
  private readonly r: PipeReadFile;
  private readonly w: PipeWriteFile;

  constructor(flags: number, pipe: Pipe) {
    super((flags & ~O.ACCMODE) | O.RDWR, pipe);
    this.r = new PipeReadFile(flags, pipe);
    this.w = new PipeWriteFile(flags, pipe);
  }

  protected override release(): void {
    this.r.decRef();
    this.w.decRef();
  }

  /** The ends follow this description's O_NONBLOCK (fcntl F_SETFL may change it). */
  private sync<T extends FileDescription>(f: T): T {
    f.flags = (f.flags & ~O.NONBLOCK) | (this.flags & O.NONBLOCK);
    return f;
  }

  override read(dst: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    return this.sync(this.r).read(dst, ctx);
  }

  override write(src: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    return this.sync(this.w).write(src, ctx);
  }

  override readiness(): number {
    return this.r.readiness() | this.w.readiness();
  }
}

/** The pipe f reads from (write: writes to), or null when f is not such a pipe end. */
export function pipeEndOf(f: FileDescription, write: boolean): Pipe | null {
  if (f instanceof PipeRdwrFile) return f.pipe;
  if (write ? f instanceof PipeWriteFile : f instanceof PipeReadFile) return (f as PipeEnd).pipe;
  return null;
}

/** A new pipe's two ends, each holding its creator's reference. flags: O_NONBLOCK. */
export function createPipe(flags = 0): { read: PipeReadFile; write: PipeWriteFile } {
  const p = new Pipe();
  const st = flags & O.NONBLOCK;
  return { read: new PipeReadFile(st, p), write: new PipeWriteFile(st, p) };
}
