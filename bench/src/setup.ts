// Prepares what the workloads read: the microbenchmark binary, files, a 1,000-entry
// directory, a warm 64 MiB file and the SQL script. Everything lives in one host directory.

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeId } from './model.js';
import { sqliteScript, type BenchContext } from './workloads.js';

const BIG = 64 << 20;

export function prepare(repoRoot: string, dataDir: string, loopMs: number): BenchContext {
  mkdirSync(dataDir, { recursive: true });
  const micro = join(dataDir, 'micro');
  const src = join(repoRoot, 'bench', 'micro', 'micro.c');
  if (!existsSync(micro) || statSync(micro).mtimeMs < statSync(src).mtimeMs) {
    const r = spawnSync('gcc', ['-O2', '-static', '-pthread', '-Wall', '-o', micro, src], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building ${src} failed:\n${r.stderr}`);
  }
  const file4k = join(dataDir, 'file4k');
  if (!existsSync(file4k)) writeFileSync(file4k, Buffer.alloc(4096, 'a'));
  const dir1000 = join(dataDir, 'dir1000');
  if (!existsSync(join(dir1000, 'e999'))) {
    mkdirSync(dir1000, { recursive: true });
    for (let i = 0; i < 1000; i++) writeFileSync(join(dir1000, `e${i}`), '');
  }
  const big = join(dataDir, 'big');
  if (!existsSync(big) || statSync(big).size !== BIG) writeFileSync(big, Buffer.alloc(BIG, 'b'));
  warm(big);
  const sqlScript = join(dataDir, 'bench.sql');
  writeFileSync(sqlScript, sqliteScript());
  return {
    micro,
    file4k,
    dir1000,
    big,
    sqlScript,
    tarTree: '/usr/share/perl5',
    rootScratch: (rt: RuntimeId) => join(dataDir, `scratch-${rt}`),
    tmpScratch: (rt: RuntimeId) => `/tmp/tsvisor-bench-${rt}`,
    loopMs,
    dataDir,
    networkScripts: {
      http: join(repoRoot, 'bench', 'apps', 'http_loopback.sh'),
      iperf3: join(repoRoot, 'bench', 'apps', 'iperf3_loopback.sh'),
      serve: join(repoRoot, 'bench', 'apps', 'serve.sh'),
      httpClient: join(repoRoot, 'bench', 'apps', 'http_client.sh'),
      iperf3Client: join(repoRoot, 'bench', 'apps', 'iperf3_client.sh'),
    },
    networkSecs: loopMs >= 400 ? 3 : 1,
  };
}

/** Reads a file once so its pages are cached (the VM evicts pages idle for ~60 s). */
export function warm(path: string): void {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    while (readSync(fd, buf, 0, buf.length, null) > 0) {
      // Only the page cache matters.
    }
  } finally {
    closeSync(fd);
  }
}

/** Removes what native runs left in the host scratch directories. */
export function cleanScratch(ctx: BenchContext, ids: readonly RuntimeId[]): void {
  for (const id of ids) {
    for (const d of [ctx.rootScratch(id), ctx.tmpScratch(id)]) rmSync(d, { recursive: true, force: true });
  }
}

export function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m?.[1]?.trim() ?? 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
}
