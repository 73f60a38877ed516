// exec, ps, pause/resume, events and update on a running container.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, OciDriver, until } from './oci_helpers.js';

const d = new OciDriver();
const ID = 'box';
const V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
/** A file of the container's cgroup, on v1 (per controller) or v2 (unified). */
const cg = (controller: string, v1File: string, v2File: string): string =>
  V2 ? `/sys/fs/cgroup/tsvisor/${ID}/${v2File}` : `/sys/fs/cgroup/${controller}/tsvisor/${ID}/${v1File}`;

beforeAll(() => {
  const b = d.bundle('box', ['sleep', '60'], (c) => {
    (c.process as { env: string[] }).env.push('FROM_CONFIG=yes');
  });
  const r = d.run(['run', '--detach', '--bundle', b, ID]);
  if (r.status !== 0) throw new Error(`run: ${r.stderr}`);
});

afterAll(() => {
  d.cleanup();
});

describe('oci exec', () => {
  it('runs a command with the container\'s env, our stdio and its exit status', () => {
    const r = d.run(['exec', ID, 'sh', '-c', 'echo out $FROM_CONFIG; echo err >&2; exit 5']);
    expect(r.stdout).toBe('out yes\n');
    expect(r.stderr).toBe('err\n');
    expect(r.status).toBe(5);
    expect(d.run(['exec', ID, 'cat'], { input: 'piped in\n' }).stdout).toBe('piped in\n');
  });

  it('honours --env, --cwd and --user', () => {
    const r = d.run(['exec', '--env', 'X=1', '-e', 'Y=2', '--cwd', '/tmp', '--user', '1000:1001', ID, 'sh', '-c', 'echo $X$Y $(pwd) $(id -u):$(id -g)']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('12 /tmp 1000:1001\n');
  });

  it('takes a process.json with --process', () => {
    const p = join(d.work, 'process.json');
    writeFileSync(p, JSON.stringify({ args: ['sh', '-c', 'echo $A from $(pwd)'], env: ['PATH=/bin', 'A=json'], cwd: '/bin', user: { uid: 0, gid: 0 } }));
    expect(d.run(['exec', '--process', p, ID]).stdout).toBe('json from /bin\n');
    writeFileSync(p, JSON.stringify({ args: [], cwd: '/' }));
    const bad = d.run(['exec', '--process', p, ID]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('process.args');
  });

  it('reports a missing program and empty args', () => {
    const r = d.run(['exec', ID, 'nosuchprog']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('executable file not found');
    expect(d.run(['exec', ID]).stderr).toContain('exec args cannot be empty');
  });

  it('--detach --pid-file leaves a process that lives exactly as long as the exec\'d one', async () => {
    const pidFile = join(d.work, 'exec.pid');
    const r = d.run(['exec', '--detach', '--pid-file', pidFile, ID, 'sh', '-c', 'sleep 1; exit 9']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    expect(await until(() => !alive(pid), 10_000)).toBe(true);
  });

  it('signals to the exec pid reach the exec\'d process, and its death ends the process', async () => {
    const count = (): number => (JSON.parse(d.run(['ps', '--format', 'json', ID]).stdout) as number[]).length;
    const before = count();
    const pidFile = join(d.work, 'sig.pid');
    for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
      expect(d.run(['exec', '--detach', '--pid-file', pidFile, ID, 'sleep', '30']).status).toBe(0);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(count()).toBe(before + 1);
      process.kill(pid, sig);
      expect(await until(() => !alive(pid), 10_000)).toBe(true);
      expect(await until(() => count() === before, 10_000)).toBe(true);
    }
  });

  it('ps lists the host pids of the container\'s processes', () => {
    const pids = JSON.parse(d.run(['ps', '--format', 'json', ID]).stdout) as number[];
    expect(pids.length).toBeGreaterThanOrEqual(1);
    for (const p of pids) expect(alive(p)).toBe(true);
    const table = d.run(['ps', ID]).stdout.split('\n');
    expect(table[0]).toMatch(/PID/);
    expect(table.length).toBeGreaterThanOrEqual(3);
  });

  it('events --stats reports cpu, memory and pids in runc\'s shape', () => {
    const e = JSON.parse(d.run(['events', '--stats', ID]).stdout) as { type: string; id: string; data: { cpu: { usage: { total: number } }; memory: { usage: { usage: number } }; pids: { current: number } } };
    expect(e.type).toBe('stats');
    expect(e.id).toBe(ID);
    expect(e.data.cpu.usage.total).toBeGreaterThan(0);
    expect(e.data.memory.usage.usage).toBeGreaterThan(0);
    expect(e.data.pids.current).toBe(1);
  });

  it('pause freezes the sandbox and resume thaws it', () => {
    expect(d.run(['pause', ID]).status).toBe(0);
    expect(d.state(ID).status).toBe('paused');
    expect(d.run(['pause', ID]).stderr).toContain('not running');
    expect(d.run(['exec', ID, 'true']).stderr).toContain('paused');
    expect(d.run(['resume', ID]).status).toBe(0);
    expect(d.state(ID).status).toBe('running');
    expect(d.run(['exec', ID, 'echo', 'awake']).stdout).toBe('awake\n');
  });

  it('update applies resource limits to the sandbox\'s cgroup', () => {
    expect(d.run(['update', '--pids-limit', '500', '--memory', '512m', ID]).status).toBe(0);
    expect(readFileSync(cg('pids', 'pids.max', 'pids.max'), 'utf8').trim()).toBe('500');
    expect(readFileSync(cg('memory', 'memory.limit_in_bytes', 'memory.max'), 'utf8').trim()).toBe(String(512 * 1024 * 1024));
    const res = join(d.work, 'res.json');
    writeFileSync(res, JSON.stringify({ pids: { limit: 600 } }));
    expect(d.run(['update', '--resources', res, ID]).status).toBe(0);
    expect(readFileSync(cg('pids', 'pids.max', 'pids.max'), 'utf8').trim()).toBe('600');
    expect(d.run(['update', '--memory', 'lots', ID]).stderr).toContain('invalid value');
  });
});
