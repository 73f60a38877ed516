// Pending signals: one queue per task (tkill, faults) and one per thread group (kill).
// Standard signals (< SIGRTMIN) are pending at most once; real-time ones queue in order.

import type { FaultContext } from './signal_frame.js';

export const SIGRTMIN = 32;
/** Queued signals per queue at most (Linux's default RLIMIT_SIGPENDING). */
const MAX_QUEUED = 63704;

export const SI_USER = 0;
export const SI_KERNEL = 0x80;
export const SI_QUEUE = -1;
export const SI_TIMER = -2;
export const SI_TKILL = -6;
export const CLD_EXITED = 1;
export const CLD_KILLED = 2;
export const CLD_DUMPED = 3;
export const CLD_STOPPED = 5;
export const CLD_CONTINUED = 6;

export function sigbit(signo: number): bigint {
  return 1n << BigInt(signo - 1);
}

export interface QueuedSignal {
  signo: number;
  /** The 128-byte siginfo the handler (or sigtimedwait/signalfd) receives. */
  info: Uint8Array;
  fault?: FaultContext;
}

export interface SiginfoFields {
  code: number;
  pid?: number;
  uid?: number;
  /** sigval (rt/timer) or si_status (SIGCHLD) at offset 24. */
  value?: bigint;
  status?: number;
  addr?: number;
  timerId?: number;
  overrun?: number;
}

export function makeSiginfo(signo: number, f: SiginfoFields): Uint8Array {
  const b = new Uint8Array(128);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, signo, true);
  dv.setInt32(8, f.code, true);
  if (f.addr !== undefined) {
    dv.setBigUint64(16, BigInt(f.addr), true);
    return b;
  }
  if (f.timerId !== undefined) {
    dv.setInt32(16, f.timerId, true);
    dv.setInt32(20, f.overrun ?? 0, true);
    dv.setBigUint64(24, f.value ?? 0n, true);
    return b;
  }
  dv.setInt32(16, f.pid ?? 0, true);
  dv.setUint32(20, f.uid ?? 0, true);
  if (f.status !== undefined) dv.setInt32(24, f.status, true);
  else if (f.value !== undefined) dv.setBigUint64(24, f.value, true);
  return b;
}

export class SigQueue {
  private q: QueuedSignal[] = [];
  private bits = 0n;

  get mask(): bigint {
    return this.bits;
  }

  has(signo: number): boolean {
    return (this.bits & sigbit(signo)) !== 0n;
  }

  /** Whether a real-time signal can still be queued (RLIMIT_SIGPENDING's default). */
  get full(): boolean {
    return this.q.length >= MAX_QUEUED;
  }

  /** Queues s; returns false when a standard signal was already pending (coalesced). */
  enqueue(s: QueuedSignal): boolean {
    if (s.signo < SIGRTMIN && this.has(s.signo)) return false;
    if (this.full) return false;
    this.q.push(s);
    this.bits |= sigbit(s.signo);
    return true;
  }

  /** Whether this exact siginfo is still queued (a timer's signal not yet taken). */
  holds(info: Uint8Array): boolean {
    return this.q.some((s) => s.info === info);
  }

  /** Removes and returns the first queued instance of signo. */
  take(signo: number): QueuedSignal | undefined {
    const i = this.q.findIndex((s) => s.signo === signo);
    if (i < 0) return undefined;
    const s = this.q.splice(i, 1)[0];
    if (!this.q.some((o) => o.signo === signo)) this.bits &= ~sigbit(signo);
    return s;
  }

  /** Every instance of signo is dropped (SIGCONT discards stops and vice versa). */
  discard(signo: number): void {
    if (!this.has(signo)) return;
    this.q = this.q.filter((s) => s.signo !== signo);
    this.bits &= ~sigbit(signo);
  }

  /** Lowest-numbered pending signal within `allowed`, or 0. */
  first(allowed: bigint): number {
    const m = this.bits & allowed;
    if (m === 0n) return 0;
    let n = 1;
    let v = m;
    while ((v & 1n) === 0n) {
      v >>= 1n;
      n++;
    }
    return n;
  }

  clear(): void {
    this.q = [];
    this.bits = 0n;
  }
}
