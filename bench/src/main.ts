// `npm run bench [-- --quick] [--only a,b] [--runtimes native,runsc,tsvisor] [--reps N]
//                [--profile | --profile-only] [--readme]`
// Runs every workload under every runtime present, interleaving runtimes rep by rep, and
// writes bench/results/latest.{json,md,svg}.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { execCommand, sampleTreeRss, type ExecResult, type RssSample } from './exec.js';
import { RUNTIME_IDS, type BenchResults, type Cell, type MetricResult, type RuntimeId, type RuntimeInfo } from './model.js';
import { parseResultLines } from './parse.js';
import { markdownReport } from './report.js';
import { BENCH_ENV, discoverRuntimes, lastLine, type Runtime } from './runtimes.js';
import { cleanScratch, cpuModel, prepare, warm } from './setup.js';
import { summarize } from './stats.js';
import { chartSvg } from './svg.js';
import { WORKLOADS, type BenchContext, type Workload } from './workloads.js';
import { replaceReadmeSection } from './readme.js';
import { startServer } from './served.js';

interface Options {
  quick: boolean;
  only?: Set<string>;
  runtimes?: Set<RuntimeId>;
  reps?: number;
  profile: boolean;
  /** Only the tsvisor profiles: no measurements, latest.* untouched. */
  profileOnly: boolean;
  readme: boolean;
}

function parseArgs(args: string[]): Options {
  const o: Options = { quick: false, profile: false, profileOnly: false, readme: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--profile': o.profile = true; break;
      case '--profile-only': o.profileOnly = true; break;
      case '--readme': o.readme = true; break;
      case '--only': o.only = new Set(next().split(',')); break;
      case '--reps': o.reps = Number(next()); break;
      case '--runtimes': {
        const ids = next().split(',');
        for (const id of ids) if (!(RUNTIME_IDS as readonly string[]).includes(id)) throw new Error(`unknown runtime ${id}`);
        o.runtimes = new Set(ids as RuntimeId[]);
        break;
      }
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  return o;
}

type Outcome = { ok: true; value: number } | { ok: false; reason: string };

function failureReason(r: ExecResult, timeoutMs: number): string {
  if (r.timedOut) return `timed out after ${timeoutMs / 1000} s`;
  const how = r.signal !== null ? `killed by ${r.signal}` : `exit status ${r.status}`;
  const why = lastLine(r.stderr);
  return why === '' ? how : `${how}: ${why}`;
}

/** One run of a workload under one runtime: a value or a failure per metric. */
async function runOnce(w: Workload, rt: Runtime, ctx: BenchContext, timeoutMs: number, rssNotes: Map<RuntimeId, string>): Promise<Map<string, Outcome>> {
  const cwd = '/';
  const argv = rt.wrap(w.argv(ctx, rt.id), cwd);
  if (w.kind === 'served') return servedOutcomes(w, rt, ctx, timeoutMs);
  const out = new Map<string, Outcome>();
  let rss: RssSample | undefined;
  const probe = w.kind === 'rss' ? { afterMs: 1000, fn: (pid: number) => (rss = sampleTreeRss(pid)) } : undefined;
  const r = await execCommand(argv, { cwd, env: BENCH_ENV, timeoutMs, probe });
  const failed = r.status !== 0 || r.timedOut;
  if (w.kind === 'program') return programOutcomes(w, r, timeoutMs);
  const m = w.metrics[0];
  if (failed) out.set(m.id, { ok: false, reason: failureReason(r, timeoutMs) });
  else if (w.kind === 'wall') out.set(m.id, { ok: true, value: r.wallMs });
  else {
    const sample: RssSample | undefined = rss;
    if (sample === undefined || sample.totalMiB === 0) out.set(m.id, { ok: false, reason: 'process gone before the RSS sample' });
    else {
      out.set(m.id, { ok: true, value: sample.totalMiB });
      rssNotes.set(rt.id, sample.breakdown);
    }
  }
  return out;
}

/** What a program printed: a value or a failure for each of the workload's metrics. */
function programOutcomes(w: Workload, r: ExecResult, timeoutMs: number): Map<string, Outcome> {
  const out = new Map<string, Outcome>();
  const failed = r.status !== 0 || r.timedOut;
  const parsed = parseResultLines(r.stdout);
  for (const m of w.metrics) {
    const res = parsed.results.find((x) => x.metric === m.id);
    const fail = parsed.failures.find((x) => x.metric === m.id);
    if (res !== undefined && res.unit !== m.unit) out.set(m.id, { ok: false, reason: `unit ${res.unit}, expected ${m.unit}` });
    else if (res !== undefined) out.set(m.id, { ok: true, value: res.value });
    else if (fail !== undefined) out.set(m.id, { ok: false, reason: withStderr(fail.reason, r.stderr) });
    else if (parsed.failures.length > 0) out.set(m.id, { ok: false, reason: `not measured: ${parsed.failures[0].metric} failed first` });
    else out.set(m.id, { ok: false, reason: failed ? failureReason(r, timeoutMs) : `exit status 0 but no result printed (stdout: ${JSON.stringify(r.stdout.slice(0, 60))})` });
  }
  return out;
}

/** A server in the runtime with a network, loaded by a client on the host. */
async function servedOutcomes(w: Workload, rt: Runtime, ctx: BenchContext, timeoutMs: number): Promise<Map<string, Outcome>> {
  if (w.client === undefined) throw new Error(`${w.id}: a served workload needs a client`);
  const server = await startServer(rt.wrap(w.argv(ctx, rt.id), '/', { network: true }), { cwd: '/', env: BENCH_ENV, readyTimeoutMs: 60_000 });
  const ready = server.ready;
  let r: ExecResult | undefined;
  let stopped: { stdout: string; stderr: string };
  try {
    if (ready.ok) r = await execCommand(w.client(ctx, ready.address), { cwd: '/', env: BENCH_ENV, timeoutMs });
  } finally {
    stopped = await server.stop();
  }
  if (r !== undefined) return programOutcomes(w, r, timeoutMs);
  const failure = parseResultLines(stopped.stdout).failures[0];
  const why = failure !== undefined ? failure.reason : ready.ok ? 'no client run' : ready.reason;
  return new Map(w.metrics.map((m) => [m.id, { ok: false, reason: `server: ${withStderr(why, stopped.stderr)}` }]));
}

/** A program's own last stderr line says why a command it ran failed (sqlite3, mkdir...). */
function withStderr(reason: string, stderr: string): string {
  const why = lastLine(stderr);
  return why === '' ? reason : `${reason} (${why})`;
}

function fmtOutcome(o: Outcome | undefined, unit: string): string {
  if (o === undefined) return '?';
  return o.ok ? `${o.value.toPrecision(4)} ${unit}` : `failed: ${o.reason}`;
}

/** Per metric and runtime: the values of the reps so far, or the first failure. */
class Tally {
  private readonly values = new Map<string, number[]>();
  private readonly failures = new Map<string, string>();

  add(metric: string, rt: RuntimeId, o: Outcome): void {
    const key = `${metric}\0${rt}`;
    if (this.failures.has(key)) return;
    if (!o.ok) this.failures.set(key, o.reason);
    else this.values.set(key, [...(this.values.get(key) ?? []), o.value]);
  }

  failed(metric: string, rt: RuntimeId): boolean {
    return this.failures.has(`${metric}\0${rt}`);
  }

  /** A runtime that failed any rep is reported failed: a number from the other reps would hide it. */
  cell(metric: string, rt: RuntimeId): Cell | undefined {
    const key = `${metric}\0${rt}`;
    const failure = this.failures.get(key);
    if (failure !== undefined) return { status: 'failed', reason: failure };
    const vs = this.values.get(key);
    return vs === undefined ? undefined : { status: 'ok', summary: summarize(vs) };
  }
}

function repsFor(w: Workload, opts: Options): number {
  if (opts.reps !== undefined) return opts.reps;
  if (w.kind === 'wall') return opts.quick ? 5 : 10;
  if (w.kind === 'rss') return opts.quick ? 1 : 3;
  return opts.quick ? 3 : 5;
}

const log = (s: string): void => void process.stderr.write(s + '\n');

/** Runs one workload under every runtime, rep by rep, and returns its metrics' rows. */
async function measure(w: Workload, runtimes: readonly Runtime[], infos: readonly RuntimeInfo[], ctx: BenchContext, opts: Options, rssNotes: Map<RuntimeId, string>): Promise<MetricResult[]> {
  const tally = new Tally();
  const reps = repsFor(w, opts);
  const timeoutMs = opts.quick ? 60_000 : 180_000;
  const skipped = w.unavailable?.();
  if (skipped === undefined) {
    warm(ctx.big);
    for (let rep = 0; rep < reps; rep++) {
      // Runtimes alternate within each rep so drift on the shared machine hits all alike.
      for (const rt of runtimes) {
        if (w.metrics.every((m) => tally.failed(m.id, rt.id))) continue;
        const res = await runOnce(w, rt, ctx, timeoutMs, rssNotes);
        for (const [metric, o] of res) tally.add(metric, rt.id, o);
        log(`  ${w.id} [${rt.id}] rep ${rep + 1}/${reps}: ${w.metrics.map((m) => fmtOutcome(res.get(m.id), m.unit)).join(', ')}`);
      }
    }
    cleanScratch(ctx, runtimes.map((r) => r.id));
  }
  return w.metrics.map((m) => {
    const cells: Partial<Record<RuntimeId, Cell>> = {};
    for (const info of infos) {
      if (!info.available) continue;
      const cell = skipped !== undefined ? { status: 'skipped' as const, reason: skipped } : tally.cell(m.id, info.id);
      if (cell !== undefined) cells[info.id] = cell;
    }
    return { id: m.id, group: m.group, description: m.description, unit: m.unit, target: m.target, cells };
  });
}

/** One `tsvisor do --profile` run per program workload, saved as profile/<workload>.txt. */
async function profileAll(ts: Runtime, workloads: readonly Workload[], ctx: BenchContext, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const w of workloads.filter((x) => x.kind === 'program')) {
    const argv = w.argv(ctx, ts.id);
    const run = (): Promise<ExecResult> => execCommand(ts.wrap(argv, '/', { profile: true }), { cwd: '/', env: BENCH_ENV, timeoutMs: 120_000 });
    // Profiles are diagnostics, not measurements: one retry when a run produced none.
    let r = await run();
    if (!r.stderr.includes('tsvisor profile:')) r = await run();
    const at = r.stderr.indexOf('tsvisor profile:');
    const text = at >= 0 ? r.stderr.slice(at) : `no profile (${failureReason(r, 120_000)})\n`;
    writeFileSync(join(dir, `${w.id}.txt`), `$ tsvisor do --profile -- ${argv.join(' ')}\n${r.stdout}${text}`);
    log(`  profile ${w.id}: ${text.split('\n')[0]}`);
  }
  cleanScratch(ctx, [ts.id]);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const repoRoot = process.env.TSVISOR_BENCH_ROOT ?? process.cwd();
  const started = Date.now();
  const loadAtStart = loadavg()[0];
  const ctx = prepare(repoRoot, '/var/tmp/tsvisor-bench', opts.quick ? 100 : 400);
  const { runtimes, infos, cleanup } = await discoverRuntimes(repoRoot, opts.runtimes);
  const workloads = WORKLOADS.filter((w) => opts.only === undefined || opts.only.has(w.id));
  log(`bench: ${workloads.length} workloads × ${runtimes.map((r) => r.id).join(', ')}${opts.quick ? ' (quick)' : ''}`);
  for (const i of infos) if (!i.available) log(`bench: ${i.id} not available: ${i.detail}`);
  const resultsDir = join(repoRoot, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const ts = runtimes.find((r) => r.id === 'tsvisor');
  if (opts.profileOnly) {
    if (ts === undefined) throw new Error('--profile-only needs tsvisor');
    await profileAll(ts, workloads, ctx, join(resultsDir, 'profile'));
    cleanup();
    return;
  }
  const metrics: MetricResult[] = [];
  const notes: string[] = [];
  try {
    const rssNotes = new Map<RuntimeId, string>();
    for (const w of workloads) metrics.push(...(await measure(w, runtimes, infos, ctx, opts, rssNotes)));
    for (const [id, breakdown] of rssNotes) notes.push(`idle_rss, ${id}: ${breakdown}.`);
    // The runsc in Debian (2022) decides it is in the root netns when /proc/sys/net/core/rmem_default
    // is visible, which it is in every netns since Linux 6.11 (gVisor issue #10704).
    const rootNsCheck = 'cannot run with network enabled in root network namespace';
    const runscNet = metrics.filter((m) => {
      const c = m.cells.runsc;
      return c?.status === 'failed' && c.reason.includes(rootNsCheck);
    });
    if (runscNet.length > 0) {
      notes.push(`${runscNet.map((m) => m.id).join(', ')}, runsc: "${rootNsCheck}" is a false positive of this runsc build's root-netns check on Linux >= 6.11 (gVisor issue #10704); its sandbox network cannot start on this kernel.`);
    }
    if (opts.profile && ts !== undefined) {
      await profileAll(ts, workloads, ctx, join(resultsDir, 'profile'));
      notes.push('Per-syscall profiles of the tsvisor runs (`tsvisor do --profile`): bench/results/profile/<workload>.txt.');
    }
  } finally {
    cleanup();
  }
  const results: BenchResults = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    quick: opts.quick,
    machine: { cpu: cpuModel(), cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version, load: { start: loadAtStart, end: loadavg()[0] } },
    runtimes: infos,
    metrics,
    notes,
  };
  writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  const md = markdownReport(results);
  writeFileSync(join(resultsDir, 'latest.md'), md);
  writeFileSync(join(resultsDir, 'latest.svg'), chartSvg(results));
  if (opts.readme) {
    const readme = join(repoRoot, 'README.md');
    writeFileSync(readme, replaceReadmeSection(readFileSync(readme, 'utf8'), md + '\n![slowdown versus native](bench/results/latest.svg)\n'));
  }
  process.stdout.write(md);
  log(`bench: done in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote bench/results/latest.{json,md,svg}${opts.readme ? ' and README.md' : ''}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
