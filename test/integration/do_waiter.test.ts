// `tsvisor do` with no host network plumbing to remove (--network=none): once the confined
// Sentry runs, the CLI process becomes a tiny waiter (native/sentry_wait.c) instead of an
// idle Node. The caller still sees the same process, exit status, messages and cleanup.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUSYBOX, ENV, TSVISOR } from './helpers.js';

function statusField(pid: number, name: string): string {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  return (line ?? '').slice(name.length + 1).trim();
}

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((s) => s !== '').map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

async function until<T>(what: string, f: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `tsvisor do --network=none -- sleep 30`, once its Sentry child has confined itself. */
async function startSleeping(): Promise<{ cli: ChildProcess; sentry: number }> {
  const cli = spawn(process.execPath, [TSVISOR, 'do', '--network=none', '--', BUSYBOX, 'sleep', '30'], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  const sentry = await until('the confined Sentry', () => childrenOf(cli.pid ?? -1).find((p) => {
    try {
      return statusField(p, 'Seccomp') === '2';
    } catch {
      return false;
    }
  }));
  return { cli, sentry };
}

describe('tsvisor do --network=none', () => {
  it('waits for the sandbox as a small waiter process, not an idle Node', async () => {
    const { cli, sentry } = await startSleeping();
    try {
      const pid = cli.pid ?? -1;
      const exe = await until('the waiter', () => {
        const e = fs.readlinkSync(`/proc/${pid}/exe`);
        return e.endsWith('tsvisor-sentry-wait') ? e : undefined;
      });
      expect(exe).toMatch(/tsvisor-sentry-wait$/);
      expect(Number(statusField(pid, 'VmRSS').split(/\s+/)[0])).toBeLessThan(8 * 1024);
      expect(childrenOf(pid)).toContain(sentry);
    } finally {
      const exited = new Promise((r) => cli.once('exit', r));
      cli.kill('SIGKILL');
      await exited;
    }
  });

  it('ends the Sentry when the waiter is killed', async () => {
    const { cli, sentry } = await startSleeping();
    const exited = new Promise<string | null>((r) => cli.once('exit', (_code, sig) => r(sig)));
    await until('the waiter', () => (fs.readlinkSync(`/proc/${cli.pid ?? -1}/exe`).endsWith('tsvisor-sentry-wait') ? true : undefined));
    cli.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    await until('the Sentry to end', () => (alive(sentry) ? undefined : true));
  });

  it('exits with the program\'s status', () => {
    const r = spawnSync(process.execPath, [TSVISOR, 'do', '--network=none', '--', '/bin/sh', '-c', 'echo out; echo err >&2; exit 7'], { env: ENV, encoding: 'utf8', killSignal: 'SIGKILL', timeout: 30_000 });
    expect(r.status).toBe(7);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
  });

  it('reports a Sentry killed by its seccomp filter', () => {
    const r = spawnSync(process.execPath, [TSVISOR, 'do', '--network=none', '--selftest-forbidden-syscall', '--', BUSYBOX, 'sleep', '10'], { env: ENV, encoding: 'utf8', killSignal: 'SIGKILL', timeout: 30_000 });
    expect(r.status).toBe(128 + 31);
    expect(r.stderr).toBe('tsvisor: the Sentry was killed by SIGSYS: it made a syscall its seccomp filter forbids\n');
  });
});
