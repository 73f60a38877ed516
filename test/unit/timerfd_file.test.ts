import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { err } from '../../sentry/abi/result.js';
import { CLOCK, clockNow, TimerFdFile } from '../../sentry/fs/timerfd/timerfd.js';
import { O, POLL } from '../../sentry/vfs/constants.js';

const MS = 1_000_000n;
const count = (b: Uint8Array): bigint => new DataView(b.buffer).getBigUint64(0, true);

describe('timerfd', () => {
  it('a one-shot timer expires once and disarms', async () => {
    const t = new TimerFdFile(CLOCK.MONOTONIC, 0);
    t.set({ intervalNs: 0n, valueNs: 10n * MS }, false);
    const left = t.get().valueNs;
    expect(left > 0n && left <= 10n * MS).toBe(true);
    const b = new Uint8Array(8);
    expect(await t.read(b, {})).toBe(8);
    expect(count(b)).toBe(1n);
    expect(t.get()).toEqual({ intervalNs: 0n, valueNs: 0n });
    t.decRef();
  });

  it('a periodic timer counts every elapsed period; settime clears the count', async () => {
    const t = new TimerFdFile(CLOCK.MONOTONIC, O.NONBLOCK);
    t.set({ intervalNs: 5n * MS, valueNs: 5n * MS }, false);
    await new Promise((r) => setTimeout(r, 40));
    expect(t.readiness() & POLL.IN).toBe(POLL.IN);
    const b = new Uint8Array(8);
    expect(t.read(b, {})).toBe(8);
    expect(count(b) >= 3n).toBe(true);
    const old = t.set({ intervalNs: 0n, valueNs: 0n }, false);
    expect(old.intervalNs).toBe(5n * MS);
    expect(t.read(b, {})).toBe(err(E.EAGAIN));
    t.decRef();
  });

  it('an absolute time in the past fires at once; short reads are EINVAL', () => {
    const t = new TimerFdFile(CLOCK.REALTIME, O.NONBLOCK);
    t.set({ intervalNs: 0n, valueNs: clockNow(CLOCK.REALTIME) - 1000n * MS }, true);
    expect(t.read(new Uint8Array(4), {})).toBe(err(E.EINVAL));
    const b = new Uint8Array(8);
    expect(t.read(b, {})).toBe(8);
    expect(count(b)).toBe(1n);
    t.decRef();
  });
});
