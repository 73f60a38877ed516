// timerfd(2): a timer on CLOCK_REALTIME, MONOTONIC or BOOTTIME whose expirations are read
// as a u64 count (read blocks while it is 0). The Sentry arms a host timer (Node's
// setTimeout) for the next expiry and, when it fires, counts every period that has passed.

import { E } from '../../abi/errno.js';
import { err, type MaybePromise, type Result } from '../../abi/result.js';
import { O, POLL } from '../../vfs/constants.js';
import { FileDescription, type IoCtx } from '../../vfs/file.js';
import type { Stat } from '../../vfs/stat.js';
import { WaitQueue } from '../../vfs/wait_queue.js';
import { anonInodeStat } from '../eventfd/anon_inode.js';

export const CLOCK = { REALTIME: 0, MONOTONIC: 1, BOOTTIME: 7, REALTIME_ALARM: 8, BOOTTIME_ALARM: 9 } as const;
export const TFD = { TIMER_ABSTIME: 1, TIMER_CANCEL_ON_SET: 2 } as const;

const READABLE = POLL.IN | POLL.RDNORM;
/** Node's timers take at most 2^31-1 ms; longer waits re-arm on the way. */
const MAX_TIMEOUT_MS = 0x7fffffff;

// CLOCK_REALTIME as the Sentry's clock_gettime shows it (wall clock, ms resolution from
// Date plus sub-ms digits of the monotonic clock).
function realtimeNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}

/** The current time on clock (process.hrtime is CLOCK_MONOTONIC; no suspend here, so BOOTTIME equals it). */
export function clockNow(clock: number): bigint {
  return clock === CLOCK.REALTIME ? realtimeNs() : process.hrtime.bigint();
}

export interface TimerSpec {
  intervalNs: bigint;
  valueNs: bigint;
}

export class TimerFdFile extends FileDescription {
  private readonly queue = new WaitQueue();
  private expirations = 0n;
  /** Absolute expiry on the file's clock; 0n when disarmed. */
  private nextNs = 0n;
  private intervalNs = 0n;
  private host: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly clock: number, flags: number) {
    super(O.RDWR | (flags & O.NONBLOCK), null);
    // Anonymous files are not O_LARGEFILE (F_GETFL shows O_RDWR and O_NONBLOCK only).
    this.flags &= ~O.LARGEFILE;
  }

  override stat(): Result<Stat> {
    return anonInodeStat();
  }
  override waitQueue(): WaitQueue {
    return this.queue;
  }
  override readiness(): number {
    return this.expirations > 0n ? READABLE : 0;
  }
  protected override release(): void {
    this.disarmHost();
  }

  /** Time left and period (timerfd_gettime / the old value of timerfd_settime). */
  get(): TimerSpec {
    if (this.nextNs === 0n) return { intervalNs: this.intervalNs, valueNs: 0n };
    const left = this.nextNs - clockNow(this.clock);
    // An expired one-shot still armed on the host shows 1 ns, as Linux shows a tiny remainder.
    return { intervalNs: this.intervalNs, valueNs: left > 0n ? left : 1n };
  }

  /** Arms (valueNs > 0) or disarms the timer; clears pending expirations like Linux. */
  set(spec: TimerSpec, absolute: boolean): TimerSpec {
    const old = this.get();
    this.disarmHost();
    this.expirations = 0n;
    this.intervalNs = spec.intervalNs;
    if (spec.valueNs === 0n) {
      this.nextNs = 0n;
      return old;
    }
    const now = clockNow(this.clock);
    this.nextNs = absolute ? spec.valueNs : now + spec.valueNs;
    this.schedule();
    return old;
  }

  private disarmHost(): void {
    if (this.host !== undefined) clearTimeout(this.host);
    this.host = undefined;
  }

  private schedule(): void {
    const now = clockNow(this.clock);
    if (this.nextNs <= now) {
      this.fire(now);
      return;
    }
    const ms = Math.min(MAX_TIMEOUT_MS, Math.ceil(Number(this.nextNs - now) / 1e6));
    this.host = setTimeout(() => {
      this.host = undefined;
      this.schedule();
    }, ms);
  }

  /** Counts the expirations up to now and re-arms a periodic timer. */
  private fire(now: bigint): void {
    if (this.intervalNs > 0n) {
      const n = 1n + (now - this.nextNs) / this.intervalNs;
      this.expirations += n;
      this.nextNs += n * this.intervalNs;
      this.schedule();
    } else {
      this.expirations += 1n;
      this.nextNs = 0n;
    }
    this.queue.notify(READABLE);
  }

  /** The count, or null when a blocking reader must wait. */
  private tryRead(dst: Uint8Array): Result<number> | null {
    if (this.expirations === 0n) return this.nonblocking ? err(E.EAGAIN) : null;
    new DataView(dst.buffer, dst.byteOffset, 8).setBigUint64(0, this.expirations, true);
    this.expirations = 0n;
    return 8;
  }

  override read(dst: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    if (dst.length < 8) return err(E.EINVAL);
    return this.tryRead(dst) ?? this.readSlow(dst, ctx);
  }

  private async readSlow(dst: Uint8Array, ctx: IoCtx): Promise<Result<number>> {
    for (;;) {
      const o = await this.queue.wait(READABLE, ctx.signal);
      if (o === 'interrupted') return err(E.EINTR);
      const r = this.tryRead(dst);
      if (r !== null) return r;
    }
  }

  override write(): Result<number> {
    return err(E.EINVAL);
  }
}
