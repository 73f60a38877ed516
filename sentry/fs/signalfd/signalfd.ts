// signalfd(2): a file that reads the owner's pending signals (of a chosen set) as
// struct signalfd_siginfo records instead of running handlers. The signals stay blocked;
// reading dequeues them from the thread's and the process's queues.

import { E } from '../../abi/errno.js';
import { err, type MaybePromise, type Result } from '../../abi/result.js';
import { dequeueSignal } from '../../kernel/signal_delivery.js';
import type { Task } from '../../kernel/task.js';
import { O, POLL } from '../../vfs/constants.js';
import { FileDescription, type IoCtx } from '../../vfs/file.js';
import type { Stat } from '../../vfs/stat.js';
import type { WaitQueue } from '../../vfs/wait_queue.js';
import { anonInodeStat } from '../eventfd/anon_inode.js';
import { SI_TIMER } from '../../kernel/sigqueue.js';

const RECORD = 128;
const READABLE = POLL.IN | POLL.RDNORM;
const SIGCHLD = 17;
/** Signals whose siginfo carries a fault address (SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV). */
const FAULTS = new Set([4, 5, 7, 8, 11]);

/** Converts a kernel siginfo into a signalfd_siginfo record. */
function toRecord(signo: number, info: Uint8Array, out: Uint8Array): void {
  const src = new DataView(info.buffer, info.byteOffset, 128);
  const dv = new DataView(out.buffer, out.byteOffset, RECORD);
  out.fill(0);
  const code = src.getInt32(8, true);
  dv.setUint32(0, signo, true);
  dv.setInt32(4, src.getInt32(4, true), true);
  dv.setInt32(8, code, true);
  if (code === SI_TIMER) {
    dv.setUint32(24, src.getInt32(16, true), true); // ssi_tid (timer id)
    dv.setUint32(32, src.getInt32(20, true), true); // ssi_overrun
    dv.setInt32(44, src.getInt32(24, true), true);
    dv.setBigUint64(48, src.getBigUint64(24, true), true);
  } else if (FAULTS.has(signo) && code > 0) {
    dv.setBigUint64(72, src.getBigUint64(16, true), true); // ssi_addr
  } else {
    dv.setUint32(12, src.getInt32(16, true), true); // ssi_pid
    dv.setUint32(16, src.getUint32(20, true), true); // ssi_uid
    if (signo === SIGCHLD && code > 0) dv.setInt32(40, src.getInt32(24, true), true); // ssi_status
    else {
      dv.setInt32(44, src.getInt32(24, true), true); // ssi_int
      dv.setBigUint64(48, src.getBigUint64(24, true), true); // ssi_ptr
    }
  }
}

export class SignalFdFile extends FileDescription {
  constructor(readonly owner: Task, public mask: bigint, flags: number) {
    super(O.RDWR | (flags & O.NONBLOCK), null);
    this.flags &= ~O.LARGEFILE;
  }

  override stat(): Result<Stat> {
    return anonInodeStat();
  }

  override waitQueue(): WaitQueue {
    return this.owner.tg.signalEvents;
  }

  override readiness(): number {
    const pending = this.owner.pending.mask | this.owner.tg.sharedPending.mask;
    return (pending & this.mask) !== 0n ? READABLE : 0;
  }

  private take(dst: Uint8Array): number {
    let n = 0;
    while (n + RECORD <= dst.length) {
      const s = dequeueSignal(this.owner, this.mask);
      if (s === undefined) break;
      toRecord(s.signo, s.info, dst.subarray(n, n + RECORD));
      n += RECORD;
    }
    return n;
  }

  override read(dst: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    if (dst.length < RECORD) return err(E.EINVAL);
    const n = this.take(dst);
    if (n > 0) return n;
    if (this.nonblocking) return err(E.EAGAIN);
    return this.waitThenRead(dst, ctx);
  }

  private async waitThenRead(dst: Uint8Array, ctx: IoCtx): Promise<Result<number>> {
    for (;;) {
      const o = await this.owner.tg.signalEvents.wait(READABLE, ctx.signal);
      if (o === 'interrupted') return err(E.EINTR);
      const n = this.take(dst);
      if (n > 0) return n;
    }
  }
}
