// Runs one command and captures its output and wall time; and measures a process tree's RSS.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface ExecResult {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  timedOut: boolean;
}

export interface ExecOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Called once, `afterMs` after the start, with the child's pid (memory sampling). */
  probe?: { afterMs: number; fn: (pid: number) => void };
}

export function execCommand(argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    // Its own process group, so a timeout can end the whole tree it started.
    const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killTree = (): void => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killTree();
    }, opts.timeoutMs);
    const probe = opts.probe;
    const probeTimer = probe !== undefined && child.pid !== undefined ? setTimeout(() => probe.fn(child.pid as number), probe.afterMs) : undefined;
    child.on('error', (e) => {
      clearTimeout(timer);
      if (probeTimer !== undefined) clearTimeout(probeTimer);
      resolve({ status: null, signal: null, stdout, stderr: stderr + String(e), wallMs: 0, timedOut });
    });
    child.on('close', (status, signal) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      clearTimeout(timer);
      if (probeTimer !== undefined) clearTimeout(probeTimer);
      resolve({ status, signal, stdout, stderr, wallMs, timedOut });
    });
  });
}

/** pid → parent pid for every process now visible in /proc. */
function parentMap(): Map<number, number> {
  const m = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may contain spaces and parentheses: fields start after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      m.set(Number(name), Number(rest[1]));
    } catch {
      // The process exited while we looked.
    }
  }
  return m;
}

/** The pid and all its descendants. */
export function processTree(root: number): number[] {
  const parents = parentMap();
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parents) if (ppid === tree[i] && !tree.includes(pid)) tree.push(pid);
  }
  return tree;
}

/** Resident set size in KiB (VmRSS), 0 for a process that is gone or has none (a zombie). */
export function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

/** A short name for a process: its program, and for node the script and subcommand. */
export function processLabel(pid: number): string {
  try {
    const words = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((w) => w !== '');
    // A process that rewrote or cleared its argv (runsc's stubs) still has a comm.
    if (words.length === 0) return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const prog = basename(words[0]);
    return prog === 'node' && words.length > 2 ? `${prog} ${basename(words[1])} ${words[2]}` : prog;
  } catch {
    return '?';
  }
}

export interface RssSample {
  totalMiB: number;
  /** "label ×count: N MiB" per kind of process, biggest first. */
  breakdown: string;
}

/** RSS of a process tree, in total and by kind of process. */
export function sampleTreeRss(root: number): RssSample {
  const byLabel = new Map<string, { count: number; kib: number }>();
  let total = 0;
  for (const pid of processTree(root)) {
    const kib = rssKiB(pid);
    if (kib === 0) continue;
    total += kib;
    const label = processLabel(pid);
    const e = byLabel.get(label) ?? { count: 0, kib: 0 };
    e.count++;
    e.kib += kib;
    byLabel.set(label, e);
  }
  const breakdown = [...byLabel.entries()]
    .sort((a, b) => b[1].kib - a[1].kib)
    .map(([label, e]) => `${label}${e.count > 1 ? ` ×${e.count}` : ''}: ${(e.kib / 1024).toFixed(1)} MiB`)
    .join(', ');
  return { totalMiB: total / 1024, breakdown };
}
