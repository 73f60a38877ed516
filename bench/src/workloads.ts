// What is measured: microbenchmarks (bench/micro/micro.c), applications, lifecycle, network.
// Every workload runs unchanged under each runtime; a runtime that cannot run it reports
// "failed: <reason>" instead of a number.

import { existsSync } from 'node:fs';
import type { Group, RuntimeId, Target } from './model.js';

export interface MetricDef {
  id: string;
  unit: string;
  group: Group;
  description: string;
  target?: Target;
}

/** Paths a workload needs, prepared on the host before any run (see setup.ts). */
export interface BenchContext {
  /** The static microbenchmark binary. */
  micro: string;
  file4k: string;
  dir1000: string;
  /** 64 MiB file, read warm. */
  big: string;
  sqlScript: string;
  tarTree: string;
  /** A writable directory on the root filesystem, per runtime (created by the program). */
  rootScratch: (rt: RuntimeId) => string;
  /** A directory under /tmp, per runtime (created by the program). */
  tmpScratch: (rt: RuntimeId) => string;
  /** Minimum duration of one timed loop inside a program. */
  loopMs: number;
  /** The host directory holding file4k and the rest. */
  dataDir: string;
  /**
   * bench/apps scripts: a server and a load generator on the sandbox's loopback (http,
   * iperf3); a server in the sandbox (serve) and its clients on the host.
   */
  networkScripts: { http: string; iperf3: string; serve: string; httpClient: string; iperf3Client: string };
  networkSecs: number;
}

export type WorkloadKind =
  /** The program prints RESULT/FAIL lines (micro, python loop). */
  | 'program'
  /** Wall time of the whole runtime invocation, as a user sees it. */
  | 'wall'
  /** Sum of the RSS of the process tree while the program idles. */
  | 'rss'
  /** `argv` is a server run with a network; `client` runs on the host and prints RESULT lines. */
  | 'served';

export interface Workload {
  id: string;
  kind: WorkloadKind;
  metrics: MetricDef[];
  argv: (ctx: BenchContext, rt: RuntimeId) => string[];
  /** Why it cannot run on this machine at all (reported as skipped), if so. */
  unavailable?: () => string | undefined;
  /** Working directory inside the sandbox. */
  cwd?: string;
  /** For 'served': the host command that loads the server at `address`. */
  client?: (ctx: BenchContext, address: string) => string[];
}

const SYSCALL_TARGET: Target = { versus: 'runsc', max: 1.5 };
const CPU_TARGET: Target = { versus: 'native', max: 1.05 };

function micro(id: string, unit: string, description: string, args: (ctx: BenchContext, rt: RuntimeId) => string[] = () => [], target: Target | undefined = SYSCALL_TARGET): Workload {
  return {
    id,
    kind: 'program',
    metrics: [{ id, unit, group: 'micro', description, target }],
    argv: (ctx, rt) => [ctx.micro, '--ms', String(ctx.loopMs), id, ...args(ctx, rt)],
  };
}

/** An application run repeatedly by `micro run` inside one sandbox: sandbox start-up excluded. */
function app(id: string, description: string, argv: (ctx: BenchContext, rt: RuntimeId) => string[], target?: Target): Workload {
  return {
    id,
    kind: 'program',
    metrics: [{ id, unit: 'ms', group: 'app', description, target }],
    argv: (ctx, rt) => [ctx.micro, '--ms', String(ctx.loopMs), 'run', id, ...argv(ctx, rt)],
  };
}

function seqMetric(id: string, description: string): MetricDef {
  return { id, unit: 'MiB/s', group: 'micro', description, target: SYSCALL_TARGET };
}

// The fastest of 5 runs: on a shared machine that is the run nobody preempted.
const PYTHON_LOOP = [
  'import time',
  'def loop():',
  '    t = time.perf_counter()',
  '    s = 0',
  '    for i in range(1000000): s += i * i % 7',
  '    return time.perf_counter() - t',
  "print('RESULT python_loop %.6g ms' % (min(loop() for _ in range(5)) * 1e3))",
].join('\n');

const SHELL_SPAWNS = 20;

/** Why a workload cannot run here: the tools it needs that are not installed. */
function missingTools(tools: readonly string[]): string | undefined {
  const missing = tools.filter((t) => !['/usr/bin', '/usr/local/bin'].some((d) => existsSync(`${d}/${t}`)));
  return missing.length === 0 ? undefined : `${missing.join(', ')} not installed on this machine`;
}

export const WORKLOADS: readonly Workload[] = [
  micro('getppid', 'ns', 'syscall round trip: getppid(2)'),
  micro('clock_gettime', 'ns', 'clock_gettime(CLOCK_MONOTONIC): no trap once a vDSO is provided'),
  micro('cpu', 'ms/Mstep', 'user-mode integer loop (10 M xorshift steps), no syscalls; fastest run', () => [], CPU_TARGET),
  micro('open_read_close', 'us', 'open + read 4 KiB + close of a host file', (c) => [c.file4k]),
  micro('stat', 'ns', 'stat(2) of a host file', (c) => [c.file4k]),
  micro('getdents', 'us', 'open + getdents64 of a 1,000-entry directory + close', (c) => [c.dir1000]),
  micro('pipe_latency', 'us', '1-byte ping-pong between two processes over pipes'),
  micro('pipe_throughput', 'MiB/s', '64 MiB through a pipe in 64 KiB writes, between two processes'),
  micro('unix_pingpong', 'us', '1-byte ping-pong over an AF_UNIX socketpair between two processes'),
  micro('futex_pingpong', 'us', 'futex wait/wake ping-pong between two threads'),
  micro('thread_create', 'us', 'pthread_create + pthread_join'),
  micro('fork_wait', 'us', 'fork + _exit + waitpid'),
  micro('fork_exec_wait', 'us', 'fork + execve of a static binary + waitpid'),
  micro('mmap_touch', 'ms', 'mmap 64 MiB anonymous, write every page, munmap'),
  micro('create_delete', 'ms', 'create (100 B each) then unlink 1,000 files in /tmp', (c, rt) => [c.tmpScratch(rt)]),
  {
    id: 'seq_read_root',
    kind: 'program',
    metrics: [seqMetric('seq_read_root', 'sequential read of a warm 64 MiB host file on the root, 1 MiB reads')],
    argv: (c) => [c.micro, 'seqread', c.big, 'root'],
  },
  {
    id: 'seq_rw_root',
    kind: 'program',
    metrics: [
      seqMetric('seq_write_root', 'sequential write of 64 MiB on the root filesystem (no fsync)'),
      seqMetric('seq_readback_root', 'reading back the 64 MiB just written on the root'),
    ],
    argv: (c, rt) => [c.micro, 'seqwrite', c.rootScratch(rt), 'root'],
  },
  {
    id: 'seq_rw_tmp',
    kind: 'program',
    metrics: [
      seqMetric('seq_write_tmp', 'sequential write of 64 MiB in /tmp (no fsync)'),
      seqMetric('seq_readback_tmp', 'reading back the 64 MiB just written in /tmp'),
    ],
    argv: (c, rt) => [c.micro, 'seqwrite', c.tmpScratch(rt), 'tmp'],
  },
  app('python_startup', 'python3 -c pass, started from inside the sandbox', () => ['/usr/bin/python3', '-c', 'pass']),
  {
    id: 'python_loop',
    kind: 'program',
    metrics: [{ id: 'python_loop', unit: 'ms', group: 'app', description: 'CPU-bound Python loop (1 M iterations), timed inside Python; fastest of 5', target: CPU_TARGET }],
    argv: () => ['/usr/bin/python3', '-c', PYTHON_LOOP],
  },
  app('sqlite_memory', 'sqlite3: 20,000 inserts in 40 transactions, index, 60 range queries; in-memory database', (c) => ['/usr/bin/sqlite3', ':memory:', `.read ${c.sqlScript}`]),
  app('sqlite_file', 'the same sqlite3 script on a database file in /tmp (rollback journal, synchronous=OFF)', (c, rt) => [
    '/bin/sh',
    '-c',
    `mkdir -p ${c.tmpScratch(rt)} && rm -f ${c.tmpScratch(rt)}/bench.db ${c.tmpScratch(rt)}/bench.db-journal && exec /usr/bin/sqlite3 ${c.tmpScratch(rt)}/bench.db '.read ${c.sqlScript}'`,
  ]),
  app('tar_gzip', 'tar -czf - of a 1.9 MiB tree of ~600 files (/usr/share/perl5), output drained through a pipe', (c) => ['/bin/tar', '-czf', '-', '-C', c.tarTree, '.']),
  app('shell_spawn', `a /bin/sh loop running /bin/true ${SHELL_SPAWNS} times`, () => ['/bin/sh', '-c', `i=0; while [ $i -lt ${SHELL_SPAWNS} ]; do /bin/true; i=$((i+1)); done`]),
  {
    id: 'startup_true',
    kind: 'wall',
    metrics: [{ id: 'startup_true', unit: 'ms', group: 'lifecycle', description: '`<runtime> /bin/true` end to end, as a user waits for it', target: { versus: 'runsc', max: 1 } }],
    argv: () => ['/bin/true'],
  },
  {
    id: 'idle_rss',
    kind: 'rss',
    metrics: [{ id: 'idle_rss', unit: 'MiB', group: 'lifecycle', description: 'RSS summed over every process of the sandbox (runtime, gofer, stubs, app) while `sleep` idles' }],
    argv: () => ['/bin/sleep', '2'],
  },
  {
    id: 'http_loopback',
    kind: 'program',
    metrics: [{ id: 'http_loopback', unit: 'req/s', group: 'network', description: 'python3 http.server and wrk (1 thread, 4 connections, 4 KiB file) on the sandbox\'s own loopback' }],
    argv: (c) => [c.networkScripts.http, String(c.networkSecs), c.dataDir, 'file4k'],
    unavailable: () => missingTools(['wrk', 'python3']),
  },
  {
    id: 'iperf3_loopback',
    kind: 'program',
    metrics: [{ id: 'iperf3_loopback', unit: 'Mbit/s', group: 'network', description: 'iperf3 TCP throughput, server and client on the sandbox\'s own loopback' }],
    argv: (c) => [c.networkScripts.iperf3, String(c.networkSecs)],
    unavailable: () => missingTools(['iperf3']),
  },
  {
    id: 'http_host',
    kind: 'served',
    metrics: [{ id: 'http_host', unit: 'req/s', group: 'network', description: 'python3 http.server in the sandbox, wrk (1 thread, 4 connections, 4 KiB file) on the host through the sandbox network (native: host loopback)' }],
    argv: (c, rt) => [c.networkScripts.serve, 'http', rt === 'native' ? 'loopback' : 'net', c.dataDir],
    client: (c, address) => [c.networkScripts.httpClient, 'http_host', address, String(c.networkSecs), 'file4k'],
    unavailable: () => missingTools(['wrk', 'python3']),
  },
  {
    id: 'iperf3_host',
    kind: 'served',
    metrics: [{ id: 'iperf3_host', unit: 'Mbit/s', group: 'network', description: 'iperf3 -s in the sandbox, iperf3 -c on the host (TCP, host to sandbox) through the sandbox network (native: host loopback)' }],
    argv: (c, rt) => [c.networkScripts.serve, 'iperf3', rt === 'native' ? 'loopback' : 'net', '/'],
    client: (c, address) => [c.networkScripts.iperf3Client, 'iperf3_host', address, String(c.networkSecs)],
    unavailable: () => missingTools(['iperf3']),
  },
];

/** The SQL run by the sqlite workloads: inserts in batches, an index, range queries. */
export function sqliteScript(): string {
  const out = ['PRAGMA synchronous=OFF;', 'DROP TABLE IF EXISTS t;', 'CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, v TEXT);'];
  for (let i = 0; i < 40; i++) {
    out.push('BEGIN;');
    out.push(`INSERT INTO t(k, v) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500) SELECT (x * 7919 + ${i}) % 1000, hex(zeroblob(24)) || x FROM c;`);
    out.push('COMMIT;');
  }
  out.push('CREATE INDEX tk ON t(k);');
  for (let i = 0; i < 60; i++) out.push(`SELECT count(*), sum(length(v)) FROM t WHERE k BETWEEN ${i * 15} AND ${i * 15 + 40};`);
  return out.join('\n') + '\n';
}
