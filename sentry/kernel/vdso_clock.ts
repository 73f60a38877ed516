// The sandbox's clocks for REALTIME, MONOTONIC and BOOTTIME: TSC-based, from one page of
// parameters that every app's vDSO also reads (native/vdso/vdso_params.h), so clock_gettime
// runs in user space at native speed and a syscall reading the same clock (through the very
// same C code) never disagrees with it. The Sentry rebases the page from the host's clocks a
// few times a second, never letting MONOTONIC step backwards.

import type { MemoryFile } from '../mm/memory_file.js';

export interface VdsoClockNative {
  vdsoClockAttach(page: Uint8Array): number;
  vdsoClockRead(clk: number): bigint | undefined;
  vdsoClockSample(out: BigInt64Array): number;
  hostClockNs(clk: number): bigint | number;
}

const OFF = { seq: 0, ready: 4, tsc: 8, mono: 16, real: 24, boot: 32, mult: 40 } as const;
export const CLOCK = { REALTIME: 0, MONOTONIC: 1, BOOTTIME: 7 } as const;
/** First calibration after this long; then the page is rebased at REBASE_MS. */
const CALIBRATE_MS = 20;
const REBASE_MS = 250;
/** Largest rate correction used to pull a clock that ran ahead back to the host's (200 ppm). */
const MAX_SLEW = 200e-6;
/** Offsets of REALTIME/BOOTTIME to MONOTONIC move only on host steps; ignore smaller noise. */
const OFFSET_STEP_NS = 100_000n;

interface Sample { tsc: bigint; mono: bigint; real: bigint; boot: bigint }

export class VdsoClock {
  private readonly dv: DataView;
  private readonly seq: Int32Array;
  private first?: Sample;
  /** The calibrated rate: ns per tick, scaled by 2^32. */
  private multCal = 0n;
  private realOff = 0n;
  private bootOff = 0n;
  private timer?: NodeJS.Timeout;

  /**
   * page: a memory-file page shared read-only into every app as [vvar]. tscUsable: the host
   * has an invariant TSC synchronised across CPUs; without it the page never becomes ready
   * and every vDSO call falls back to the syscall.
   */
  constructor(private readonly n: VdsoClockNative, readonly page: Uint8Array, readonly ppn: number, tscUsable: boolean) {
    this.dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
    this.seq = new Int32Array(page.buffer, page.byteOffset, 2);
    if (n.vdsoClockAttach(page) !== 0 || !tscUsable) return;
    this.first = this.sample();
    this.timer = setTimeout(() => this.calibrate(), CALIBRATE_MS);
    this.timer.unref();
  }

  /** Allocates the page from the memory file (kept for the Sentry's life). */
  static create(n: VdsoClockNative, mf: MemoryFile, tscUsable: boolean): VdsoClock | undefined {
    const got = mf.alloc(1);
    if (!Array.isArray(got)) return undefined;
    return new VdsoClock(n, mf.page(got[0]), got[0], tscUsable);
  }

  /** The clock's value in ns: the vDSO's computation once calibrated, the host's before. */
  now(clk: number): bigint {
    const v = this.n.vdsoClockRead(clk);
    if (v !== undefined) return v;
    const h = this.n.hostClockNs(clk === CLOCK.REALTIME || clk === CLOCK.BOOTTIME ? clk : CLOCK.MONOTONIC);
    return typeof h === 'bigint' ? h : 0n;
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private sample(): Sample {
    const out = new BigInt64Array(4);
    this.n.vdsoClockSample(out);
    return { tsc: BigInt.asUintN(64, out[0]), mono: out[1], real: out[2], boot: out[3] };
  }

  private calibrate(): void {
    const first = this.first;
    if (first === undefined) return;
    const s = this.sample();
    const ticks = s.tsc - first.tsc;
    if (ticks <= 0n || s.mono <= first.mono) return; // a TSC that does not advance: stay on syscalls
    this.multCal = ((s.mono - first.mono) << 32n) / ticks;
    const ready = this.dv.getUint32(OFF.ready, true) !== 0;
    if (!ready) {
      // Start from the host's own values: every earlier read came from the host clock.
      this.realOff = s.real - s.mono;
      this.bootOff = s.boot - s.mono;
      this.publish(s.tsc, s.mono, this.multCal);
    } else {
      this.rebase(s);
    }
    this.timer = setTimeout(() => this.calibrate(), REBASE_MS);
    this.timer.unref();
  }

  /** Moves the base to sample s: continuous if we ran ahead (slewing back), a small jump forward if behind. */
  private rebase(s: Sample): void {
    const base = this.dv.getBigUint64(OFF.tsc, true);
    const cur = this.dv.getBigInt64(OFF.mono, true) + (((s.tsc > base ? s.tsc - base : 0n) * this.dv.getBigUint64(OFF.mult, true)) >> 32n);
    const lead = cur - s.mono;
    let mult = this.multCal;
    if (lead > 0n) {
      const slew = Math.min(Number(lead) / (REBASE_MS * 1e6), MAX_SLEW);
      mult -= BigInt(Math.round(Number(this.multCal) * slew));
    }
    const realOff = s.real - s.mono;
    if (realOff - this.realOff > OFFSET_STEP_NS || this.realOff - realOff > OFFSET_STEP_NS) this.realOff = realOff;
    const bootOff = s.boot - s.mono;
    if (bootOff - this.bootOff > OFFSET_STEP_NS || this.bootOff - bootOff > OFFSET_STEP_NS) this.bootOff = bootOff;
    this.publish(s.tsc, lead > 0n ? cur : s.mono, mult);
  }

  /** Writes the page under the seqlock (Atomics keep the stores in order). */
  private publish(tsc: bigint, mono: bigint, mult: bigint): void {
    Atomics.add(this.seq, 0, 1);
    this.dv.setBigUint64(OFF.tsc, tsc, true);
    this.dv.setBigInt64(OFF.mono, mono, true);
    this.dv.setBigInt64(OFF.real, mono + this.realOff, true);
    this.dv.setBigInt64(OFF.boot, mono + this.bootOff, true);
    this.dv.setBigUint64(OFF.mult, mult, true);
    Atomics.store(this.seq, 1, 1);
    Atomics.add(this.seq, 0, 1);
  }
}

/** REALTIME, MONOTONIC or BOOTTIME as the app sees them: the vDSO's clock, or the host's without one. */
export function clockNow(clock: VdsoClock | undefined, clk: number): bigint {
  if (clock !== undefined) return clock.now(clk);
  if (clk === CLOCK.REALTIME) return BigInt(Date.now()) * 1_000_000n;
  return process.hrtime.bigint();
}
