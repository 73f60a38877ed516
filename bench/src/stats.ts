// Summaries of repeated measurements: median and spread, and ratios between runtimes.

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Half the range relative to the median, in percent: the ± shown next to a median. */
  spreadPct: number;
  values: number[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(values: readonly number[]): Summary {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) throw new RangeError('no finite values to summarize');
  const med = median(finite);
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const spreadPct = med === 0 ? 0 : ((max - min) / 2 / Math.abs(med)) * 100;
  return { median: med, min, max, spreadPct, values: [...finite] };
}

/** True for units that measure throughput (bigger is better), e.g. "MiB/s". */
export function higherIsBetter(unit: string): boolean {
  return unit.endsWith('/s');
}

/**
 * How many times costlier `value` is than `base` (1 = same, 2 = twice as slow), whatever the
 * unit's direction: for throughputs the ratio is inverted so every ratio reads as a slowdown.
 */
export function slowdown(value: number, base: number, unit: string): number {
  if (!(value > 0) || !(base > 0)) return NaN;
  return higherIsBetter(unit) ? base / value : value / base;
}
