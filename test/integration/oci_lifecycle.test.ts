// The runc-compatible lifecycle driven like an engine would: create/start/state/kill/
// delete/list/run/wait, with state, processes and pid files checked at every step.

import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, OciDriver, processesMentioning, until } from './oci_helpers.js';

const d = new OciDriver();

/** The container's cgroup folders (default path /tsvisor/<id>), on v2 or per v1 controller. */
function cgroupDirsOf(id: string): string[] {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return [`/sys/fs/cgroup/tsvisor/${id}`];
  return ['memory', 'cpu', 'pids', 'freezer'].map((c) => `/sys/fs/cgroup/${c}/tsvisor/${id}`);
}

afterAll(() => {
  d.cleanup();
});

describe('oci lifecycle', () => {
  it('spec writes runc\'s default config once', () => {
    const b = d.bundle('specb', ['true']);
    const cfg = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')) as { ociVersion: string; root: { path: string } };
    expect(cfg.ociVersion).toMatch(/^1\.0\./);
    expect(cfg.root.path).toBe('rootfs');
    const again = d.run(['spec', '--bundle', b]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('config.json exists');
  });

  it('run passes output and the exit status through and leaves nothing behind', () => {
    const b = d.bundle('run1', ['sh', '-c', 'echo hello $0; exit 7']);
    const r = d.run(['run', '--bundle', b, 'run1']);
    expect(r.stdout).toBe('hello sh\n');
    expect(r.status).toBe(7);
    expect(d.leftovers()).not.toContain('run1');
    expect(processesMentioning(`--id run1`)).toEqual([]);
  });

  it('create, start, state, kill, wait and delete follow runc', async () => {
    // init is pid 1 of the container: like runc's, it only takes SIGTERM through a handler.
    const b = d.bundle('life', ['sh', '-c', 'trap "exit 143" TERM; sleep 30 & wait']);
    const pidFile = join(d.work, 'life.pid');
    const c = d.run(['create', '--bundle', b, '--pid-file', pidFile, 'life']);
    expect(c.stderr).toBe('');
    expect(c.status).toBe(0);
    const created = d.state('life');
    expect(created.status).toBe('created');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBe(created.pid);
    expect(alive(pid)).toBe(true);

    expect(d.run(['create', '--bundle', b, 'life']).stderr).toContain('container with id exists');
    expect(d.run(['start', 'life']).status).toBe(0);
    expect(d.state('life').status).toBe('running');
    expect(d.run(['start', 'life']).stderr).toContain('already running');
    expect(d.run(['delete', 'life']).stderr).toContain('not stopped');

    const list = JSON.parse(d.run(['list', '--format', 'json']).stdout) as { id: string; status: string }[];
    expect(list.find((x) => x.id === 'life')?.status).toBe('running');
    expect(d.run(['list']).stdout).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\n/);

    // Engines send numbers, runtime-tools sends names.
    expect(d.run(['kill', 'life', 'SIGFOO']).stderr).toContain('invalid signal');
    expect(d.run(['kill', 'life', '15']).status).toBe(0);
    // Until the shell has set its trap, init drops SIGTERM (as Linux does): send until it lands.
    expect(await until(() => !alive(pid) || (d.run(['kill', 'life', '15']), false))).toBe(true);
    expect(d.state('life').status).toBe('stopped');
    expect(JSON.parse(d.run(['wait', 'life']).stdout)).toEqual({ id: 'life', exitStatus: 143 });
    expect(d.run(['kill', 'life', 'KILL']).stderr).toContain('not running');
    expect(cgroupDirsOf('life').every((p) => existsSync(p))).toBe(true);
    expect(d.run(['delete', 'life']).status).toBe(0);
    expect(d.leftovers()).not.toContain('life');
    expect(cgroupDirsOf('life').filter((p) => existsSync(p))).toEqual([]);
    const gone = d.run(['state', 'life']);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain('does not exist');
  });

  it('the pid-file process exits with init\'s status', async () => {
    const b = d.bundle('status', ['sh', '-c', 'sleep 1; exit 42']);
    expect(d.run(['create', '--bundle', b, 'status']).status).toBe(0);
    const pid = d.state('status').pid;
    expect(d.run(['start', 'status']).status).toBe(0);
    const w = d.run(['wait', 'status']);
    expect(JSON.parse(w.stdout)).toEqual({ id: 'status', exitStatus: 42 });
    expect(await until(() => !alive(pid))).toBe(true);
    expect(d.run(['delete', 'status']).status).toBe(0);
  });

  it('delete --force kills a running container; a created one needs no force', async () => {
    const b = d.bundle('force', ['sleep', '30']);
    expect(d.run(['run', '--detach', '--bundle', b, 'force']).status).toBe(0);
    const pid = d.state('force').pid;
    expect(d.run(['delete', '--force', 'force']).status).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(d.leftovers()).not.toContain('force');
    expect(processesMentioning('--id force')).toEqual([]);

    expect(d.run(['create', '--bundle', b, 'created']).status).toBe(0);
    const cpid = d.state('created').pid;
    expect(d.run(['delete', 'created']).status).toBe(0);
    expect(await until(() => !alive(cpid))).toBe(true);
    expect(d.run(['delete', 'nosuch']).stderr).toContain('does not exist');
    expect(d.run(['delete', '--force', 'nosuch']).status).toBe(0);
  });

  it('kill --all signals every process; kill of a created container ends it', async () => {
    const b = d.bundle('all', ['sh', '-c', 'sleep 30 & sleep 30']);
    expect(d.run(['run', '-d', '--bundle', b, 'all']).status).toBe(0);
    const pid = d.state('all').pid;
    expect(d.run(['kill', '--all', 'all', 'KILL']).status).toBe(0);
    expect(await until(() => !alive(pid))).toBe(true);
    expect(d.run(['delete', 'all']).status).toBe(0);

    expect(d.run(['create', '--bundle', b, 'ckill']).status).toBe(0);
    const cpid = d.state('ckill').pid;
    expect(d.run(['kill', 'ckill', 'TERM']).status).toBe(0);
    expect(await until(() => !alive(cpid))).toBe(true);
    expect(d.state('ckill').status).toBe('stopped');
    expect(d.run(['delete', 'ckill']).status).toBe(0);
  });

  it('concurrent creates of 20 containers all succeed and clean up', async () => {
    const b = d.bundle('many', ['sleep', '30']);
    const ids = Array.from({ length: 20 }, (_, i) => `many${i}`);
    const creates = await Promise.all(ids.map((id) => d.start(['create', '--bundle', b, id])));
    for (const c of creates) expect(c.stderr).toBe('');
    const list = JSON.parse(d.run(['list', '--format', 'json']).stdout) as { id: string; status: string; pid: number }[];
    const mine = list.filter((x) => x.id.startsWith('many'));
    expect(mine.map((x) => x.status)).toEqual(ids.map(() => 'created'));
    // Same id twice at once: exactly one wins.
    const dup = await Promise.all([d.start(['create', '--bundle', b, 'dup']), d.start(['create', '--bundle', b, 'dup'])]);
    expect(dup.map((x) => x.status).sort()).toEqual([0, 1]);
    const deletes = await Promise.all([...ids, 'dup'].map((id) => d.start(['delete', '--force', id])));
    for (const r of deletes) expect(r.status).toBe(0);
    expect(await until(() => mine.every((x) => !alive(x.pid)))).toBe(true);
    expect(d.leftovers().filter((x) => x.startsWith('many') || x === 'dup')).toEqual([]);
  }, 120_000);

  it('--preserve-fds hands the caller\'s extra fds to init', () => {
    const b = d.bundle('fds', ['sh', '-c', 'echo preserved >&3']);
    const file = join(d.work, 'fd3.out');
    const fd = openSync(file, 'w');
    try {
      expect(d.run(['run', '--preserve-fds', '1', '--bundle', b, 'fds'], { extraFds: [fd] }).status).toBe(0);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, 'utf8')).toBe('preserved\n');
    expect(d.run(['run', '--preserve-fds', 'x', '--bundle', b, 'fds2']).stderr).toContain('invalid --preserve-fds');
  });

  it('features reports hooks, namespaces and mount types', () => {
    const f = JSON.parse(d.run(['features']).stdout) as { hooks: string[]; linux: { namespaces: string[] } };
    expect(f.hooks).toContain('poststop');
    expect(f.linux.namespaces).toContain('network');
  });
});
