import { describe, expect, it } from 'vitest';
import { higherIsBetter, median, slowdown, summarize } from '../../bench/src/stats.js';

describe('bench statistics', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow(RangeError);
  });

  it('summarizes with half the range as the spread, ignoring non-finite values', () => {
    const s = summarize([10, 12, 8, NaN, Infinity]);
    expect(s.median).toBe(10);
    expect(s.min).toBe(8);
    expect(s.max).toBe(12);
    expect(s.spreadPct).toBeCloseTo(20);
    expect(s.values).toEqual([10, 12, 8]);
    expect(() => summarize([NaN])).toThrow(RangeError);
  });

  it('reads every ratio as a slowdown, inverting throughputs', () => {
    expect(higherIsBetter('MiB/s')).toBe(true);
    expect(higherIsBetter('us')).toBe(false);
    expect(slowdown(300, 100, 'ns')).toBe(3);
    expect(slowdown(100, 400, 'MiB/s')).toBe(4);
    expect(slowdown(0, 100, 'ns')).toBeNaN();
    expect(slowdown(5, 0, 'ns')).toBeNaN();
  });
});
