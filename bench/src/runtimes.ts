// The runtimes compared: the program run directly (native), under gVisor's runsc with its
// ptrace platform, and under tsvisor. Each turns a command line into the one to spawn.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execCommand } from './exec.js';
import type { RuntimeId, RuntimeInfo } from './model.js';

/** A fixed environment so every runtime's program sees the same variables. */
export const BENCH_ENV: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C',
  LC_ALL: 'C',
  TERM: 'dumb',
};

export interface WrapOptions {
  profile?: boolean;
  network?: boolean;
}

export interface Runtime {
  id: RuntimeId;
  /**
   * The command line that runs `argv` in this runtime with working directory `cwd`; with
   * `network`, the sandbox gets an interface the host can reach (native: the host's own).
   */
  wrap(argv: readonly string[], cwd: string, opts?: WrapOptions): string[];
}

export const nativeRuntime: Runtime = {
  id: 'native',
  wrap: (argv) => [...argv],
};

export const RUNSC_FLAGS = ['--platform=ptrace', '--network=none', '--ignore-cgroups'];

/**
 * runsc `do` runs in the caller's working directory; state goes to a private --root. With a
 * network, `do` builds its own netns + veth (192.168.10.2) and removes them on exit.
 */
export function runscRuntime(binary: string, stateRoot: string): Runtime {
  return {
    id: 'runsc',
    wrap: (argv, _cwd, opts) => [binary, '--root', stateRoot, ...RUNSC_FLAGS.filter((f) => opts?.network !== true || f !== '--network=none'), 'do', ...argv],
  };
}

export function tsvisorRuntime(repoRoot: string): Runtime {
  const cli = join(repoRoot, 'bin', 'tsvisor.mjs');
  return {
    id: 'tsvisor',
    wrap: (argv, cwd, opts) => [process.execPath, cli, 'do', '--cwd', cwd, ...(opts?.profile === true ? ['--profile'] : []), ...(opts?.network === true ? ['--network=sandbox'] : ['--network=none']), '--', ...argv],
  };
}

/** Checks that a runtime can run /bin/true here; returns its info line. */
export async function probeRuntime(rt: Runtime, detail: string): Promise<RuntimeInfo> {
  const r = await execCommand(rt.wrap(['/bin/true'], '/'), { cwd: '/', env: BENCH_ENV, timeoutMs: 30_000 });
  if (r.status === 0) return { id: rt.id, available: true, detail };
  const why = r.timedOut ? 'timed out' : `exit ${r.status ?? r.signal}: ${lastLine(r.stderr)}`;
  return { id: rt.id, available: false, detail: `${detail} — /bin/true failed (${why})` };
}

/** The line of a program's stderr that says what went wrong: the last one, or the message above a stack trace. */
export function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  const trace = lines.findIndex((l) => /^\s+at /.test(l));
  const line = trace > 0 ? lines[trace - 1] : lines[lines.length - 1];
  return (line ?? '').trim().slice(0, 200);
}

export interface RuntimeSet {
  runtimes: Runtime[];
  infos: RuntimeInfo[];
  /** Removes state the runtimes kept on the host (runsc's --root). */
  cleanup: () => void;
}

/** Every runtime present on this machine, with a note for those that are not. */
export async function discoverRuntimes(repoRoot: string, only?: ReadonlySet<RuntimeId>): Promise<RuntimeSet> {
  const runtimes: Runtime[] = [];
  const infos: RuntimeInfo[] = [];
  const stateDirs: string[] = [];
  const consider = async (rt: Runtime | undefined, id: RuntimeId, detail: string): Promise<void> => {
    if (only !== undefined && !only.has(id)) return;
    if (rt === undefined) {
      infos.push({ id, available: false, detail });
      return;
    }
    const info = await probeRuntime(rt, detail);
    infos.push(info);
    if (info.available) runtimes.push(rt);
  };
  await consider(nativeRuntime, 'native', 'the program run directly on the host');
  const runsc = ['/usr/bin/runsc', '/usr/local/bin/runsc'].find((p) => existsSync(p));
  if (runsc === undefined) {
    await consider(undefined, 'runsc', 'runsc is not installed');
  } else {
    const version = await execCommand([runsc, '--version'], { cwd: '/', env: BENCH_ENV, timeoutMs: 10_000 });
    const v = version.stdout.split('\n')[0]?.trim() ?? '';
    const state = mkdtempSync(join(tmpdir(), 'tsvisor-bench-runsc-state-'));
    stateDirs.push(state);
    await consider(runscRuntime(runsc, state), 'runsc', `\`${runsc} ${RUNSC_FLAGS.join(' ')} do\` (${v})`);
  }
  const cli = join(repoRoot, 'dist', 'tsvisor.mjs');
  await consider(existsSync(cli) ? tsvisorRuntime(repoRoot) : undefined, 'tsvisor', existsSync(cli) ? '`node bin/tsvisor.mjs do` (ptrace platform)' : 'dist/tsvisor.mjs is missing: run `npm run build`');
  return { runtimes, infos, cleanup: () => stateDirs.forEach((d) => rmSync(d, { recursive: true, force: true })) };
}
