// Runs command lines natively and under `tsvisor do`, for side-by-side comparison.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TSVISOR = join(ROOT, 'bin', 'tsvisor.mjs');

export interface RunResult {
  stdout: string;
  stderr: string;
  status: number;
}

/** A fixed environment so native and sandboxed runs see the same variables. */
export const ENV: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C',
  LC_ALL: 'C',
  TERM: 'dumb',
};

function run(cmd: string, args: string[], input?: string, timeoutMs = 60_000): RunResult {
  // SIGKILL on timeout: a hung program must not hang the suite (unshare --fork ignores SIGTERM).
  const r = spawnSync(cmd, args, { input: input ?? '', env: ENV, timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  const status = r.status ?? (r.signal !== null ? 128 + (signalNumber(r.signal) ?? 0) : -1);
  return { stdout: r.stdout, stderr: r.stderr, status };
}

function signalNumber(name: string): number | undefined {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };
  return table[name];
}

export function native(argv: string[], input?: string): RunResult {
  return run(argv[0], argv.slice(1), input);
}

export function sandboxed(argv: string[], opts: { input?: string; flags?: string[] } = {}): RunResult {
  // Loopback only unless a test asks: its programs are compared with runs in a fresh netns
  // (`do` itself defaults to --network=sandbox, which the network tests cover).
  const flags = opts.flags ?? [];
  const net = flags.some((f) => f.startsWith('--network')) ? [] : ['--network=none'];
  return run(process.execPath, [TSVISOR, 'do', ...net, ...flags, '--', ...argv], opts.input);
}

/** Compiles a C program (static unless told otherwise) into a temp dir; returns its path. */
export function compileC(name: string, source: string, extra: string[] = ['-static']): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-test-'));
  const src = join(dir, `${name}.c`);
  const out = join(dir, name);
  writeFileSync(src, source);
  const r = spawnSync('gcc', ['-O1', '-o', out, src, ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc failed for ${name}: ${r.stderr}`);
  return out;
}

export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p)) ?? '/bin/busybox';
