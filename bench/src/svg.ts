// An SVG grouped-bar chart: for each metric, one bar per sandbox runtime showing its
// slowdown versus native on a log scale (bars grow up from 1×; below 1× means faster).

import type { BenchResults, RuntimeId } from './model.js';
import { fmt, ratio } from './report.js';

const COLORS: Partial<Record<RuntimeId, string>> = { runsc: '#4e79a7', tsvisor: '#e15759' };
const SERIES: readonly RuntimeId[] = ['runsc', 'tsvisor'];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Tick values 1, 2, 5, 10, 20, 50... covering [lo, hi]. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(Number(v.toPrecision(3)));
    }
  }
  return ticks;
}

export function chartSvg(res: BenchResults, title = 'tsvisor and gVisor (runsc, ptrace): slowdown versus native'): string {
  const metrics = res.metrics;
  const values: number[] = [];
  for (const m of metrics) for (const s of SERIES) {
    const r = ratio(m, s, 'native');
    if (Number.isFinite(r)) values.push(r);
  }
  // The axis spans the data, never less than 0.5×–10×, in whole 1-2-5 steps.
  const lo = Math.min(0.5, ...values.map((v) => v / 1.2));
  const hi = Math.max(10, ...values.map((v) => v * 1.2));
  const groupW = 14 * SERIES.length + 14;
  const left = 64;
  const top = 76;
  const plotH = 320;
  const bottom = 130;
  const width = Math.max(760, left + Math.max(1, metrics.length) * groupW + 24);
  const height = top + plotH + bottom;
  const y = (v: number): number => top + plotH - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${left}" y="38" fill="#555">${escapeXml(`${res.date}${res.quick ? ' (quick)' : ''} · ${res.machine.cpu}, ${res.machine.cores} cores · log scale, lower is better · ✗ = failed or skipped`)}</text>`,
  ];
  for (const t of logTicks(lo, hi)) {
    const ty = y(t).toFixed(1);
    parts.push(`<line x1="${left}" x2="${width - 16}" y1="${ty}" y2="${ty}" stroke="${t === 1 ? '#000' : '#ddd'}"/>`);
    parts.push(`<text x="${left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${t}×</text>`);
  }
  const base = y(1);
  metrics.forEach((m, i) => {
    const gx = left + i * groupW + 7;
    SERIES.forEach((s, j) => {
      const x = gx + j * 14;
      const r = ratio(m, s, 'native');
      const cell = m.cells[s];
      if (Number.isFinite(r)) {
        const ry = y(r);
        const y0 = Math.min(ry, base);
        const h = Math.max(1, Math.abs(ry - base));
        parts.push(`<rect x="${x}" y="${y0.toFixed(1)}" width="12" height="${h.toFixed(1)}" fill="${COLORS[s]}"><title>${escapeXml(`${m.id} ${s}: ${fmt(r)}× native`)}</title></rect>`);
      } else if (cell !== undefined) {
        const why = cell.status === 'ok' ? 'no native value' : `${cell.status}: ${cell.reason}`;
        parts.push(`<text x="${x + 6}" y="${(base - 4).toFixed(1)}" text-anchor="middle" fill="${COLORS[s]}" font-weight="bold">✗<title>${escapeXml(`${m.id} ${s}: ${why}`)}</title></text>`);
      }
    });
    const lx = gx + (SERIES.length * 14) / 2;
    const ly = top + plotH + 10;
    parts.push(`<text x="${lx}" y="${ly}" text-anchor="end" transform="rotate(-55 ${lx} ${ly})">${escapeXml(m.id)}</text>`);
  });
  SERIES.forEach((s, j) => {
    const lx = left + j * 90;
    parts.push(`<rect x="${lx}" y="48" width="12" height="12" fill="${COLORS[s]}"/><text x="${lx + 16}" y="58">${s}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
