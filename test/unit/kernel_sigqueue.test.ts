import { describe, expect, it } from 'vitest';
import { makeSiginfo, SigQueue, sigbit, SI_QUEUE } from '../../sentry/kernel/sigqueue.js';
import { Credentials } from '../../sentry/kernel/credentials.js';

const info = (signo: number, v = 0): Uint8Array => makeSiginfo(signo, { code: SI_QUEUE, pid: 1, value: BigInt(v) });
const value = (b: Uint8Array): number => Number(new DataView(b.buffer).getBigUint64(24, true));

describe('SigQueue', () => {
  it('keeps a standard signal pending once', () => {
    const q = new SigQueue();
    expect(q.enqueue({ signo: 10, info: info(10) })).toBe(true);
    expect(q.enqueue({ signo: 10, info: info(10) })).toBe(false);
    expect(q.mask).toBe(sigbit(10));
    expect(q.take(10)?.signo).toBe(10);
    expect(q.take(10)).toBeUndefined();
    expect(q.mask).toBe(0n);
  });

  it('queues real-time signals in order and keeps the bit until the last is taken', () => {
    const q = new SigQueue();
    for (const v of [1, 2, 3]) q.enqueue({ signo: 34, info: info(34, v) });
    expect(value(q.take(34)!.info)).toBe(1);
    expect(q.has(34)).toBe(true);
    expect(value(q.take(34)!.info)).toBe(2);
    expect(value(q.take(34)!.info)).toBe(3);
    expect(q.has(34)).toBe(false);
  });

  it('picks the lowest allowed signal and discards on request', () => {
    const q = new SigQueue();
    q.enqueue({ signo: 15, info: info(15) });
    q.enqueue({ signo: 2, info: info(2) });
    q.enqueue({ signo: 40, info: info(40) });
    expect(q.first(~0n)).toBe(2);
    expect(q.first(~sigbit(2))).toBe(15);
    expect(q.first(sigbit(40))).toBe(40);
    expect(q.first(sigbit(3))).toBe(0);
    q.discard(15);
    expect(q.has(15)).toBe(false);
    const kept = info(40);
    q.enqueue({ signo: 40, info: kept });
    expect(q.holds(kept)).toBe(true);
  });

  it('lays out siginfo as Linux does', () => {
    const b = makeSiginfo(17, { code: 1, pid: 42, uid: 1000, status: 3 });
    const dv = new DataView(b.buffer);
    expect([dv.getInt32(0, true), dv.getInt32(8, true), dv.getInt32(16, true), dv.getUint32(20, true), dv.getInt32(24, true)]).toEqual([17, 1, 42, 1000, 3]);
    const f = makeSiginfo(11, { code: 2, addr: 0xdead000 });
    expect(new DataView(f.buffer).getBigUint64(16, true)).toBe(0xdead000n);
    const tm = makeSiginfo(34, { code: -2, timerId: 7, overrun: 4, value: 99n });
    const tv = new DataView(tm.buffer);
    expect([tv.getInt32(16, true), tv.getInt32(20, true), Number(tv.getBigUint64(24, true))]).toEqual([7, 4, 99]);
  });
});

describe('Credentials', () => {
  it('drops capabilities when every uid leaves 0, unless keepCaps', () => {
    const c = new Credentials();
    expect(c.hasCap(7)).toBe(true);
    c.setUids(1000, 1000, 1000);
    expect(c.capPermitted).toBe(0n);
    expect(c.capEffective).toBe(0n);
    const k = new Credentials();
    k.keepCaps = true;
    k.setUids(1000, 1000, 1000);
    expect(k.capPermitted).not.toBe(0n);
    expect(k.capEffective).toBe(0n);
  });

  it('clears and restores effective capabilities with the effective uid', () => {
    const c = new Credentials();
    c.setUids(0, 1000, 0);
    expect(c.capEffective).toBe(0n);
    expect(c.hasCap(7)).toBe(false);
    c.setUids(0, 0, 0);
    expect(c.hasCap(7)).toBe(true);
    expect(c.fsuid).toBe(0);
  });
});
