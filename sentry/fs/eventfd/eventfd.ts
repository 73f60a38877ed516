// eventfd(2): a 64-bit counter. write adds to it (blocking while it would exceed
// 0xfffffffffffffffe), read returns and zeroes it, or in EFD_SEMAPHORE mode returns 1 and
// decrements it; a read of a zero counter blocks (EAGAIN with O_NONBLOCK).

import { E } from '../../abi/errno.js';
import { err, type MaybePromise, type Result } from '../../abi/result.js';
import { O, POLL } from '../../vfs/constants.js';
import { FileDescription, type IoCtx } from '../../vfs/file.js';
import type { Stat } from '../../vfs/stat.js';
import { WaitQueue } from '../../vfs/wait_queue.js';
import { anonInodeStat } from './anon_inode.js';

export const EFD_SEMAPHORE = 1;
const MAX = 0xfffffffffffffffen;
const READABLE = POLL.IN | POLL.RDNORM;
const WRITABLE = POLL.OUT | POLL.WRNORM;

export class EventFdFile extends FileDescription {
  private readonly queue = new WaitQueue();

  constructor(private count: bigint, readonly semaphore: boolean, flags: number) {
    super(O.RDWR | (flags & O.NONBLOCK), null);
    // Anonymous files are not O_LARGEFILE (F_GETFL shows O_RDWR and O_NONBLOCK only).
    this.flags &= ~O.LARGEFILE;
  }

  get counter(): bigint {
    return this.count;
  }

  override stat(): Result<Stat> {
    return anonInodeStat();
  }
  override waitQueue(): WaitQueue {
    return this.queue;
  }
  override readiness(): number {
    let m = 0;
    if (this.count > 0n) m |= READABLE;
    if (this.count < MAX) m |= WRITABLE;
    return m;
  }

  /** The value read, or null when the reader must wait. */
  private tryRead(dst: Uint8Array): Result<number> | null {
    if (this.count === 0n) return this.nonblocking ? err(E.EAGAIN) : null;
    const v = this.semaphore ? 1n : this.count;
    this.count -= v;
    new DataView(dst.buffer, dst.byteOffset, 8).setBigUint64(0, v, true);
    this.queue.notify(WRITABLE);
    return 8;
  }

  override read(dst: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    if (dst.length < 8) return err(E.EINVAL);
    return this.tryRead(dst) ?? this.waitThen(READABLE, ctx, () => this.tryRead(dst));
  }

  private tryWrite(v: bigint): Result<number> | null {
    if (v > MAX - this.count) return this.nonblocking ? err(E.EAGAIN) : null;
    this.count += v;
    if (v > 0n) this.queue.notify(READABLE);
    return 8;
  }

  override write(src: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    if (src.length < 8) return err(E.EINVAL);
    const v = new DataView(src.buffer, src.byteOffset, 8).getBigUint64(0, true);
    if (v === 0xffffffffffffffffn) return err(E.EINVAL);
    return this.tryWrite(v) ?? this.waitThen(WRITABLE, ctx, () => this.tryWrite(v));
  }

  private async waitThen(mask: number, ctx: IoCtx, attempt: () => Result<number> | null): Promise<Result<number>> {
    for (;;) {
      const o = await this.queue.wait(mask, ctx.signal);
      if (o === 'interrupted') return err(E.EINTR);
      const r = attempt();
      if (r !== null) return r;
    }
  }
}
