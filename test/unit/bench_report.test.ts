import { describe, expect, it } from 'vitest';
import type { BenchResults, MetricResult } from '../../bench/src/model.js';
import { cellText, fmt, markdownReport, markdownTable, ratio, targetStatus } from '../../bench/src/report.js';
import { summarize } from '../../bench/src/stats.js';
import { chartSvg, escapeXml, logTicks } from '../../bench/src/svg.js';

function metric(id: string, unit: string, native: number, runsc: number | string, tsvisor: number | string, target?: MetricResult['target']): MetricResult {
  const cell = (v: number | string): MetricResult['cells']['native'] => (typeof v === 'number' ? { status: 'ok', summary: summarize([v * 0.9, v, v * 1.1]) } : { status: 'failed', reason: v });
  return { id, group: 'micro', description: id, unit, target, cells: { native: cell(native), runsc: cell(runsc), tsvisor: cell(tsvisor) } };
}

const RESULTS: BenchResults = {
  date: '2026-11-23T00:00:00Z',
  quick: true,
  machine: { cpu: 'Test CPU <x>', cores: 2, memoryGiB: 24, kernel: '6.1', node: 'v20', load: { start: 0.5, end: 1.25 } },
  runtimes: [
    { id: 'native', available: true, detail: 'direct' },
    { id: 'runsc', available: true, detail: 'runsc do' },
    { id: 'tsvisor', available: true, detail: 'tsvisor do' },
  ],
  metrics: [
    metric('getppid', 'ns', 100, 20000, 10000, { versus: 'runsc', max: 1.5 }),
    metric('pipe_throughput', 'MiB/s', 8000, 800, 400, { versus: 'runsc', max: 1.5 }),
    metric('thread_create', 'us', 30, 300, 'pthread_create: Resource temporarily unavailable', { versus: 'runsc', max: 1.5 }),
  ],
  notes: [],
};

describe('bench report', () => {
  it('formats numbers to about three significant digits', () => {
    expect(fmt(12345.6)).toBe('12346');
    expect(fmt(123.4)).toBe('123');
    expect(fmt(12.34)).toBe('12.3');
    expect(fmt(1.234)).toBe('1.23');
    expect(fmt(0.01234)).toBe('0.0123');
  });

  it('computes ratios between runtimes and judges targets', () => {
    const [getppid, pipe, thread] = RESULTS.metrics;
    expect(ratio(getppid, 'tsvisor', 'native')).toBeCloseTo(100);
    expect(ratio(getppid, 'tsvisor', 'runsc')).toBeCloseTo(0.5);
    expect(ratio(pipe, 'tsvisor', 'runsc')).toBeCloseTo(2);
    expect(ratio(thread, 'tsvisor', 'native')).toBeNaN();
    expect(targetStatus(getppid)).toBe('≤1.5× runsc: met');
    expect(targetStatus(pipe)).toBe('≤1.5× runsc: **missed**');
    expect(targetStatus(thread)).toBe('≤1.5× runsc: –');
  });

  it('states the machine and how loaded it was', () => {
    expect(markdownReport(RESULTS).split('\n')[0]).toBe(
      'Run 2026-11-23T00:00:00Z (`--quick`) on Test CPU <x>, 2 cores, 24 GiB, Linux 6.1, Node v20; load average 0.5 at the start, 1.3 at the end.',
    );
  });

  it('shows failures as text in the table, with pipes escaped', () => {
    expect(cellText({ status: 'failed', reason: 'a|b' })).toBe('failed: a|b');
    const table = markdownTable(RESULTS).split('\n');
    expect(table).toHaveLength(2 + RESULTS.metrics.length);
    expect(table[2]).toBe('| getppid | ns | 100 ±10% | 20000 ±10% | 10000 ±10% | 200× | 100× | 0.500× | ≤1.5× runsc: met |');
    expect(table[4]).toContain('failed: pthread_create: Resource temporarily unavailable');
    expect(table[4].split(' | ')).toHaveLength(9);
  });
});

describe('bench chart', () => {
  it('makes 1-2-5 ticks over the range', () => {
    expect(logTicks(0.5, 10)).toEqual([0.5, 1, 2, 5, 10]);
    expect(logTicks(1, 300)).toEqual([1, 2, 5, 10, 20, 50, 100, 200]);
  });

  it('draws one bar per runtime and metric with a value, and a mark for each failure', () => {
    const svg = chartSvg(RESULTS);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const bars = svg.match(/<rect x="[\d.]+" y="[\d.]+" width="12" height="[\d.]+" fill="#[0-9a-f]{6}"><title>/g) ?? [];
    expect(bars).toHaveLength(5);
    expect(svg).toContain('<title>thread_create tsvisor: failed: pthread_create: Resource temporarily unavailable</title>');
    expect(svg).toContain('Test CPU &lt;x&gt;');
    expect(svg).not.toContain('<x>');
    // Bars are taller for bigger slowdowns: getppid under runsc (200×) beats tsvisor (100×).
    const height = (id: string): number => Number(new RegExp(`height="([\\d.]+)" fill="#[0-9a-f]{6}"><title>${id}`).exec(svg)?.[1]);
    expect(height('getppid runsc')).toBeGreaterThan(height('getppid tsvisor'));
    expect(escapeXml('a&"<')).toBe('a&amp;&quot;&lt;');
  });
});
