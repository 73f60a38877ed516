// Direct waits: a wake during a trap finishes the parked syscall when the trap is handled,
// without waiting for the event loop; elsewhere it behaves like a Promise.

import { describe, expect, it } from 'vitest';
import { attachDirect, directWait, enterTrap, leaveTrap } from '../../sentry/kernel/direct_wait.js';

describe('directWait', () => {
  it('finishes an attached wait right after the trap that woke it', () => {
    let wake!: (r: number) => void;
    const p = directWait((c) => (wake = c));
    const got: number[] = [];
    expect(attachDirect(p, (r) => got.push(r))).toBe(true);
    enterTrap();
    wake(7);
    wake(8); // the first completion wins
    expect(got).toEqual([]);
    leaveTrap();
    expect(got).toEqual([7]);
  });

  it('chains: a finish that wakes another wait runs it in the same drain', () => {
    let wakeA!: (r: number) => void;
    let wakeB!: (r: number) => void;
    const a = directWait((c) => (wakeA = c));
    const b = directWait((c) => (wakeB = c));
    const got: string[] = [];
    attachDirect(a, (r) => { got.push(`a${r}`); wakeB(2); });
    attachDirect(b, (r) => got.push(`b${r}`));
    enterTrap();
    wakeA(1);
    leaveTrap();
    expect(got).toEqual(['a1', 'b2']);
  });

  it('outside a trap, finishes on the next microtask', async () => {
    let wake!: (r: number) => void;
    const p = directWait((c) => (wake = c));
    const got: number[] = [];
    attachDirect(p, (r) => got.push(r));
    wake(3);
    expect(got).toEqual([]);
    await Promise.resolve();
    expect(got).toEqual([3]);
  });

  it('a wait completed before the kernel attaches resolves its Promise', async () => {
    const p = directWait((c) => c(5));
    expect(attachDirect(p, () => undefined)).toBe(false);
    await expect(p).resolves.toBe(5);
  });

  it('an unattached wait resolves its Promise', async () => {
    let wake!: (r: number) => void;
    const p = directWait((c) => (wake = c));
    wake(9);
    await expect(p).resolves.toBe(9);
  });
});
