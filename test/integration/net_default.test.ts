// `tsvisor do` without --network: like `runsc do`, a sandbox network (netns + veth + NAT)
// when it can be built, else loopback only with one warning line (on a terminal or under
// --debug only: piped stderr stays the program's). Parallel sandboxes get distinct subnets,
// and what a SIGKILLed `do` leaves behind is removed by the next one.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUSYBOX, ENV, TSVISOR } from './helpers.js';

const root = process.getuid?.() === 0 && existsSync('/usr/sbin/ip');

function doRun(args: string[], asNobody = false): { stdout: string; stderr: string; status: number } {
  const argv = [process.execPath, TSVISOR, ...args];
  const r = asNobody
    ? spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', ...argv], { env: ENV, encoding: 'utf8', killSignal: 'SIGKILL', timeout: 60_000 })
    : spawnSync(argv[0], argv.slice(1), { env: ENV, encoding: 'utf8', killSignal: 'SIGKILL', timeout: 60_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** The IPv4 addresses `ip -4 addr` shows inside a sandbox. */
function inet(out: string): string[] {
  return [...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]);
}

describe('tsvisor do network default', () => {
  it.skipIf(!root)('is the sandbox network: an eth0 in 10.200.0.0/16 besides loopback', () => {
    const r = doRun(['do', '--', BUSYBOX, 'ip', '-4', 'addr', 'show']);
    expect(r.status).toBe(0);
    const addrs = inet(r.stdout);
    expect(addrs[0]).toBe('127.0.0.1');
    expect(addrs[1]).toMatch(/^10\.200\./);
  });

  it('falls back to loopback only when it cannot be built, quietly unless --debug', () => {
    const quiet = doRun(['do', '--', BUSYBOX, 'ip', '-4', 'addr', 'show'], true);
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(inet(quiet.stdout)).toEqual(['127.0.0.1']);
    const loud = doRun(['--debug', 'do', '--', BUSYBOX, 'true'], true);
    expect(loud.status).toBe(0);
    expect(loud.stderr.split('\n').filter((l) => l.includes('no sandbox network'))).toEqual([
      'tsvisor: no sandbox network (needs root for a network namespace and a veth pair); running with --network=none',
    ]);
    // Asked for explicitly, it is an error instead.
    const explicit = doRun(['do', '--network=sandbox', '--', BUSYBOX, 'true'], true);
    expect(explicit.status).toBe(125);
    expect(explicit.stderr).toMatch(/cannot build the sandbox network/);
  });

  it.skipIf(!root)('gives parallel sandboxes distinct subnets', async () => {
    const runs = [0, 1, 2, 3].map(() => new Promise<string>((resolve) => {
      const c = spawn(process.execPath, [TSVISOR, 'do', '--', BUSYBOX, 'sh', '-c', 'ip -4 addr show eth0; sleep 1'], { env: ENV });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('close', () => resolve(out));
    }));
    const addrs = (await Promise.all(runs)).map((o) => inet(o)[0]);
    for (const a of addrs) expect(a).toMatch(/^10\.200\./);
    expect(new Set(addrs.map((a) => a.split('.').slice(0, 3).join('.') + '.' + (Number(a.split('.')[3]) & ~3))).size).toBe(4);
  }, 60_000);

  it.skipIf(!root)('removes what a SIGKILLed do left behind at the next start', async () => {
    const c = spawn(process.execPath, [TSVISOR, 'do', '--', BUSYBOX, 'sh', '-c', 'echo up; sleep 30'], { env: ENV });
    await new Promise<void>((resolve) => c.stdout.on('data', () => resolve()));
    const ns = `tsvisor-${c.pid}`;
    const leased = (): boolean => readdirSync('/run/tsvisor-net').some((f) => {
      try {
        return (JSON.parse(readFileSync(`/run/tsvisor-net/${f}`, 'utf8')) as { ns: string }).ns === ns;
      } catch {
        return false;
      }
    });
    expect(existsSync(`/run/netns/${ns}`)).toBe(true);
    expect(leased()).toBe(true);
    // SIGKILL: nothing runs in the CLI, its namespace, veth, NAT rule and lease stay behind...
    const exited = new Promise((r) => c.on('close', r));
    c.kill('SIGKILL');
    await exited;
    // ...until the next sandbox network is built.
    expect(doRun(['do', '--', BUSYBOX, 'true']).status).toBe(0);
    expect(existsSync(`/run/netns/${ns}`)).toBe(false);
    expect(leased()).toBe(false);
    expect(spawnSync('ip', ['-o', 'link', 'show', `tsvh${c.pid}`], { encoding: 'utf8' }).status).not.toBe(0);
  }, 60_000);
});
