// The vDSO clock's calibration and rebasing, against a scripted TSC and host clock: it
// starts on the host's values, tracks the host's rate, never steps MONOTONIC backwards,
// pulls a clock that ran ahead back by slewing and follows host REALTIME steps.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLOCK, VdsoClock, type VdsoClockNative } from '../../sentry/kernel/vdso_clock.js';

/** A host whose TSC runs at `ghz` and whose clocks the test moves by hand. */
class FakeHost implements VdsoClockNative {
  tsc = 1_000_000n;
  mono = 5_000_000_000n;
  realOff = 1_700_000_000_000_000_000n;
  page?: DataView;
  constructor(readonly ticksPerNs: bigint) {}
  advance(ns: bigint, tscNs = ns): void {
    this.mono += ns;
    this.tsc += tscNs * this.ticksPerNs;
  }
  vdsoClockAttach(page: Uint8Array): number {
    this.page = new DataView(page.buffer, page.byteOffset, page.byteLength);
    return 0;
  }
  /** The same computation as native/vdso/vdso_params.h. */
  vdsoClockRead(clk: number): bigint | undefined {
    const p = this.page!;
    if ((p.getUint32(0, true) & 1) !== 0 || p.getUint32(4, true) === 0) return undefined;
    const base = p.getBigUint64(8, true);
    const d = this.tsc > base ? this.tsc - base : 0n;
    const off = clk === CLOCK.REALTIME ? 24 : clk === CLOCK.BOOTTIME ? 32 : 16;
    return p.getBigInt64(off, true) + ((d * p.getBigUint64(40, true)) >> 32n);
  }
  vdsoClockSample(out: BigInt64Array): number {
    out[0] = this.tsc;
    out[1] = this.mono;
    out[2] = this.mono + this.realOff;
    out[3] = this.mono;
    return 0;
  }
  hostClockNs(clk: number): bigint {
    return clk === CLOCK.REALTIME ? this.mono + this.realOff : this.mono;
  }
}

describe('VdsoClock', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(ghz = 3n): { host: FakeHost; clock: VdsoClock } {
    const host = new FakeHost(ghz);
    const page = new Uint8Array(new ArrayBuffer(4096));
    return { host, clock: new VdsoClock(host, page, 1, true) };
  }

  it('answers with the host clock until calibrated, then from the page at the host rate', () => {
    const { host, clock } = setup();
    expect(host.vdsoClockRead(CLOCK.MONOTONIC)).toBeUndefined();
    expect(clock.now(CLOCK.MONOTONIC)).toBe(host.mono);
    host.advance(20_000_000n);
    vi.advanceTimersByTime(20);
    expect(host.vdsoClockRead(CLOCK.MONOTONIC)).toBe(host.mono);
    host.advance(1_000_000n);
    const v = clock.now(CLOCK.MONOTONIC);
    expect(v - host.mono).toBeGreaterThanOrEqual(-1n);
    expect(v - host.mono).toBeLessThanOrEqual(1n);
    expect(clock.now(CLOCK.REALTIME) - (host.mono + host.realOff)).toBeLessThanOrEqual(1n);
  });

  it('never steps back when it ran ahead of the host, and slews back toward it', () => {
    const { host, clock } = setup();
    host.advance(20_000_000n);
    vi.advanceTimersByTime(20);
    // The host clock runs 100 ppm slower than the TSC from here on: our clock gets ahead.
    let last = clock.now(CLOCK.MONOTONIC);
    let lead = 0n;
    for (let i = 0; i < 40; i++) {
      host.advance(250_000_000n - 25_000n, 250_000_000n);
      const before = clock.now(CLOCK.MONOTONIC);
      vi.advanceTimersByTime(250);
      const after = clock.now(CLOCK.MONOTONIC);
      expect(after).toBeGreaterThanOrEqual(before);
      expect(after).toBeGreaterThanOrEqual(last);
      last = after;
      lead = after - host.mono;
    }
    // Recalibration against the long baseline plus slewing keep the lead small.
    expect(lead).toBeGreaterThanOrEqual(0n);
    expect(lead).toBeLessThan(100_000n);
  });

  it('jumps forward to a host clock that got ahead, and follows a REALTIME step', () => {
    const { host, clock } = setup();
    host.advance(20_000_000n);
    vi.advanceTimersByTime(20);
    host.advance(250_000_000n + 40_000n, 250_000_000n);
    vi.advanceTimersByTime(250);
    expect(clock.now(CLOCK.MONOTONIC)).toBe(host.mono);
    host.realOff += 3_600_000_000_000n;
    host.advance(250_000_000n);
    vi.advanceTimersByTime(250);
    // Within the lead the 40 µs burst taught the rate estimate (an hour's step is followed).
    const diff = clock.now(CLOCK.REALTIME) - (host.mono + host.realOff);
    expect(diff).toBeGreaterThanOrEqual(0n);
    expect(diff).toBeLessThan(100_000n);
  });

  it('stays on the host clock when the TSC is not usable', () => {
    const host = new FakeHost(3n);
    const clock = new VdsoClock(host, new Uint8Array(new ArrayBuffer(4096)), 1, false);
    host.advance(1_000_000_000n);
    vi.advanceTimersByTime(1000);
    expect(host.vdsoClockRead(CLOCK.MONOTONIC)).toBeUndefined();
    expect(clock.now(CLOCK.MONOTONIC)).toBe(host.mono);
  });
});
