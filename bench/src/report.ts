// The Markdown table of a run: medians with spread per runtime, ratios, and tracked targets.

import type { BenchResults, Cell, MetricResult, RuntimeId } from './model.js';
import { slowdown } from './stats.js';

/** A number with 3 significant digits, without exponent notation for usual magnitudes. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toString();
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

export function cellText(c: Cell | undefined): string {
  if (c === undefined) return 'n/a';
  switch (c.status) {
    case 'ok':
      return `${fmt(c.summary.median)} ±${c.summary.spreadPct.toFixed(0)}%`;
    case 'failed':
      return `failed: ${c.reason}`;
    case 'skipped':
      return `skipped: ${c.reason}`;
  }
}

/** Cost of runtime `a` relative to runtime `b` for one metric, or NaN if either has no value. */
export function ratio(m: MetricResult, a: RuntimeId, b: RuntimeId): number {
  const ca = m.cells[a];
  const cb = m.cells[b];
  if (ca?.status !== 'ok' || cb?.status !== 'ok') return NaN;
  return slowdown(ca.summary.median, cb.summary.median, m.unit);
}

function ratioText(r: number): string {
  return Number.isNaN(r) ? '–' : `${fmt(r)}×`;
}

/** "met", "missed", or "–" when it cannot be judged (a runtime failed or is absent). */
export function targetStatus(m: MetricResult): string {
  if (m.target === undefined) return '';
  const r = ratio(m, 'tsvisor', m.target.versus);
  const goal = `≤${m.target.max}× ${m.target.versus}`;
  if (Number.isNaN(r)) return `${goal}: –`;
  return `${goal}: ${r <= m.target.max ? 'met' : '**missed**'}`;
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function markdownTable(res: BenchResults): string {
  const head = ['metric', 'unit', 'native', 'runsc (ptrace)', 'tsvisor', 'runsc ÷ native', 'tsvisor ÷ native', 'tsvisor ÷ runsc', 'target'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const m of res.metrics) {
    const row = [
      m.id,
      m.unit,
      cellText(m.cells.native),
      cellText(m.cells.runsc),
      cellText(m.cells.tsvisor),
      ratioText(ratio(m, 'runsc', 'native')),
      ratioText(ratio(m, 'tsvisor', 'native')),
      ratioText(ratio(m, 'tsvisor', 'runsc')),
      targetStatus(m),
    ];
    lines.push(`| ${row.map(escapeCell).join(' | ')} |`);
  }
  return lines.join('\n');
}

export function markdownReport(res: BenchResults): string {
  const m = res.machine;
  const out = [
    `Run ${res.date}${res.quick ? ' (`--quick`)' : ''} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}; ` +
      `load average ${m.load.start.toFixed(1)} at the start, ${m.load.end.toFixed(1)} at the end.`,
    'Median of repeated runs ± half the range; ratios are slowdowns (for throughputs, inverted), so 2× means twice as slow.',
    '',
    ...res.runtimes.map((r) => `- **${r.id}**: ${r.available ? '' : 'not available: '}${r.detail}`),
    '',
    markdownTable(res),
  ];
  if (res.notes.length > 0) out.push('', ...res.notes.map((n) => `- ${n}`));
  return out.join('\n') + '\n';
}
