// The runner and the benchmark programs agree: every workload, run natively for a moment,
// prints a result in the unit the runner expects. (No timings are checked.)

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processLabel, sampleTreeRss } from '../../bench/src/exec.js';
import { parseResultLines } from '../../bench/src/parse.js';
import { BENCH_ENV } from '../../bench/src/runtimes.js';
import { prepare } from '../../bench/src/setup.js';
import { WORKLOADS, type BenchContext } from '../../bench/src/workloads.js';

const ROOT = resolve(__dirname, '..', '..');
let dir: string;
let ctx: BenchContext;

function runMicro(args: string[]): { stdout: string; status: number | null } {
  const r = spawnSync(ctx.micro, args, { encoding: 'utf8', env: BENCH_ENV, timeout: 30_000 });
  return { stdout: r.stdout, status: r.status };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsvisor-bench-test-'));
  const prepared = prepare(ROOT, join(dir, 'data'), 1);
  ctx = { ...prepared, rootScratch: () => join(dir, 'root'), tmpScratch: () => join(dir, 'tmp') };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench workloads run natively', () => {
  // Network workloads bind fixed loopback ports and need wrk/iperf3: the bench runs them.
  const runnable = WORKLOADS.filter((w) => w.kind === 'program' && w.metrics.every((m) => m.group !== 'network'));
  it.each(runnable.map((w) => [w.id, w] as const))('%s prints every metric it declares', (_id, w) => {
    const argv = w.argv(ctx, 'native');
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: BENCH_ENV, cwd: '/', timeout: 30_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const parsed = parseResultLines(r.stdout);
    expect(parsed.failures).toEqual([]);
    for (const m of w.metrics) {
      const res = parsed.results.find((x) => x.metric === m.id);
      expect(res, `${m.id} in ${r.stdout}`).toBeDefined();
      expect(res?.unit).toBe(m.unit);
      expect(res?.value).toBeGreaterThan(0);
    }
  });

  it('declares each metric once', () => {
    const ids = WORKLOADS.flatMap((w) => w.metrics.map((m) => m.id));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('micro failures', () => {
  it('reports a failed operation as FAIL with the errno text and exits 1', () => {
    const r = runMicro(['--ms', '1', 'stat', join(dir, 'missing')]);
    expect(r.status).toBe(1);
    expect(parseResultLines(r.stdout).failures).toEqual([{ metric: 'stat', reason: 'stat: No such file or directory' }]);
  });

  it('checks what it measures: a short directory and a failing program are failures', () => {
    expect(parseResultLines(runMicro(['--ms', '1', 'getdents', dir]).stdout).failures[0]?.reason).toMatch(/^fewer than 1000 entries/);
    expect(parseResultLines(runMicro(['--ms', '1', 'run', 'false', '/bin/false']).stdout).failures).toEqual([{ metric: 'false', reason: 'program exited with status 1' }]);
  });

  it('rejects an unknown benchmark with usage', () => {
    expect(runMicro(['nonsense']).status).toBe(2);
  });
});

describe('idle memory sampling', () => {
  it('sums RSS over a process tree and names each kind of process', async () => {
    const child = spawn('/bin/sleep', ['5'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const s = sampleTreeRss(process.pid);
      expect(s.totalMiB).toBeGreaterThan(1);
      expect(s.breakdown).toMatch(/(^|, )sleep: \d+\.\d MiB/);
      expect(processLabel(child.pid as number)).toBe('sleep');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
