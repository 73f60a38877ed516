// Bad configs are refused at create with the field named and nothing left behind; hooks of
// every kind run with the state on stdin, in order, with timeouts.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, OciDriver, processesMentioning, until } from './oci_helpers.js';

const d = new OciDriver();

afterAll(() => {
  d.cleanup();
});

type Cfg = Record<string, unknown> & { process: Record<string, unknown>; linux: Record<string, unknown>; mounts: unknown[] };

function refused(name: string, edit: (c: Cfg) => void, field: string): void {
  const b = d.bundle(name, ['true'], (c) => edit(c as Cfg));
  const r = d.run(['create', '--bundle', b, name]);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(field);
  expect(d.leftovers()).not.toContain(name);
  expect(processesMentioning(`--id ${name}`)).toEqual([]);
}

describe('oci config validation', () => {
  it('refuses missing or empty args', () => {
    refused('noargs', (c) => delete c.process.args, 'process.args');
    refused('emptyargs', (c) => (c.process.args = []), 'process.args');
  });

  it('refuses an unknown namespace type, namespace paths it cannot join, and host networking', () => {
    refused('badns', (c) => (c.linux.namespaces as unknown[]).push({ type: 'time-travel' }), 'linux.namespaces[');
    refused('nspath', (c) => (c.linux.namespaces = [{ type: 'network' }, { type: 'ipc', path: '/proc/1/ns/ipc' }]), 'linux.namespaces[1].path');
    refused('hostnet', (c) => (c.linux.namespaces = [{ type: 'network', path: '/proc/self/ns/net' }]), 'host\'s network namespace');
    refused('nonet', (c) => (c.linux.namespaces = [{ type: 'pid' }]), 'host networking is not supported');
    refused('nonetns', (c) => (c.linux.namespaces = [{ type: 'network', path: '/run/netns/no-such-ns' }]), 'does not exist');
  });

  it('refuses bad mounts', () => {
    refused('mnttype', (c) => c.mounts.push({ destination: '/x', type: 'ext4', source: '/dev/sda1' }), 'mounts[');
    refused('mntrel', (c) => c.mounts.push({ destination: 'relative', type: 'tmpfs', source: 'tmpfs' }), '.destination');
    refused('mntsrc', (c) => c.mounts.push({ destination: '/data', type: 'bind', source: '/no/such/dir', options: ['rbind'] }), '.source');
    refused('mntopt', (c) => c.mounts.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['frobnicate'] }), 'unknown mount option');
  });

  it('refuses malformed values and a bad rlimit', () => {
    refused('badcwd', (c) => (c.process.cwd = 'tmp'), 'process.cwd');
    refused('baduid', (c) => (c.process.user = { uid: -1, gid: 0 }), 'process.user.uid');
    refused('badrl', (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }]), 'process.rlimits[0]');
    refused('badrlt', (c) => (c.process.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]), 'unknown rlimit');
    refused('badhook', (c) => (c.hooks = { sometime: [] }), 'hooks.sometime');
    refused('badver', (c) => (c.ociVersion = '2.0.0'), 'ociVersion');
  });

  it('refuses a missing root and unparsable JSON', () => {
    refused('noroot', (c) => (c.root = { path: 'nowhere' }), 'root.path');
    const b = d.bundle('badjson', ['true']);
    writeFileSync(join(b, 'config.json'), '{ "ociVersion": ');
    const r = d.run(['create', '--bundle', b, 'badjson']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('not valid JSON');
    expect(d.leftovers()).not.toContain('badjson');
  });

  it('refuses a terminal without a console socket, and an invalid id', () => {
    refused('tty', (c) => (c.process.terminal = true), 'console socket');
    const b = d.bundle('idb', ['true']);
    expect(d.run(['create', '--bundle', b, '../escape']).stderr).toContain('invalid container id');
  });

  it('writes errors to --log as JSON lines with --log-format json', () => {
    const b = d.bundle('logged', ['true'], (c) => ((c as Cfg).process.cwd = 'rel'));
    const log = join(d.work, 'runtime.log');
    const r = d.run(['--log', log, '--log-format', 'json', 'create', '--bundle', b, 'logged']);
    expect(r.status).toBe(1);
    const line = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop() ?? '{}') as { level: string; msg: string };
    expect(line.level).toBe('error');
    expect(line.msg).toContain('process.cwd');
  });

  it('keeps writing --log after the Sentry confines itself (its syscall log reaches the file)', () => {
    // kexec_file_load: a syscall no sandbox will serve, so the Sentry logs it as unimplemented,
    // long after it has pivoted into its empty root.
    const b = d.bundle('logconf', ['/bin/kexec']);
    const src = join(d.work, 'kexec.c');
    writeFileSync(src, '#include <unistd.h>\n#include <sys/syscall.h>\nint main(void) { return syscall(SYS_kexec_file_load, -1, -1, 0, 0, 0) == -1 ? 0 : 1; }\n');
    const cc = spawnSync('gcc', ['-static', '-O1', '-o', join(b, 'rootfs', 'bin', 'kexec'), src], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    const log = join(d.work, 'confined.log');
    const r = d.run(['--debug', '--log', log, 'run', '--bundle', b, 'logconf']);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(log, 'utf8')).toMatch(/level=debug msg="unimplemented syscall kexec_file_load \(320\)/);
  });
});

describe('oci hooks', () => {
  const hook = (kind: string, file: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    path: '/bin/sh',
    args: ['sh', '-c', `read s; echo "${kind} $s" >> ${file}`],
    ...extra,
  });

  it('runs every kind in order with the state on stdin; startContainer inside the sandbox', async () => {
    const out = join(d.work, 'hooks.out');
    const kinds = ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop'];
    const b = d.bundle('hooked', ['sleep', '30'], (c) => {
      c.hooks = {
        ...Object.fromEntries(kinds.map((k) => [k, [hook(k, out)]])),
        // Resolved and run in the container: it writes into the container's /tmp.
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'read s; echo "$s" > /tmp/started'] }],
      };
      c.annotations = { 'org.example/key': 'value' };
      (c.root as { readonly: boolean }).readonly = false;
    });
    expect(d.run(['create', '--bundle', b, 'hooked']).status).toBe(0);
    expect(d.run(['start', 'hooked']).status).toBe(0);
    const pid = d.state('hooked').pid;
    const inside = JSON.parse(d.run(['exec', 'hooked', 'cat', '/tmp/started']).stdout) as { id: string; status: string };
    expect(inside).toMatchObject({ id: 'hooked', status: 'created' });
    expect(d.run(['kill', 'hooked', 'KILL']).status).toBe(0);
    expect(await until(() => !alive(pid), 10_000)).toBe(true);
    expect(d.run(['delete', 'hooked']).status).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(kinds);
    const state = (i: number): { id: string; status: string; bundle: string; pid: number; annotations: Record<string, string> } =>
      JSON.parse(lines[i].slice(lines[i].indexOf(' ') + 1));
    expect(state(0)).toMatchObject({ id: 'hooked', status: 'creating', bundle: b, annotations: { 'org.example/key': 'value' } });
    expect(state(0).pid).toBe(pid);
    expect(state(3).status).toBe('running');
    expect(state(4).status).toBe('stopped');
  });

  it('a failing or missing startContainer hook fails start', () => {
    const b = d.bundle('starthook', ['sleep', '30'], (c) => {
      c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }] };
    });
    expect(d.run(['create', '--bundle', b, 'starthook']).status).toBe(0);
    const r = d.run(['start', 'starthook']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('startContainer hook #0 (/bin/sh) exited with status 3');
    expect(d.state('starthook').status).toBe('created');
    expect(d.run(['delete', 'starthook']).status).toBe(0);
  });

  it('a failing createRuntime hook fails create and undoes it', () => {
    const b = d.bundle('hookfail', ['sleep', '30'], (c) => {
      c.hooks = { createRuntime: [{ path: '/bin/false' }] };
    });
    const r = d.run(['create', '--bundle', b, 'hookfail']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('createRuntime hook #0 (/bin/false) exited with status 1');
    expect(d.leftovers()).not.toContain('hookfail');
    expect(processesMentioning('--id hookfail')).toEqual([]);
  });

  it('a hook that overruns its timeout is killed and fails', () => {
    const b = d.bundle('hookslow', ['sleep', '30'], (c) => {
      c.hooks = { prestart: [{ path: '/bin/sleep', args: ['sleep', '20'], timeout: 1 }] };
    });
    const t0 = Date.now();
    const r = d.run(['create', '--bundle', b, 'hookslow']);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('timed out after 1s');
    expect(d.leftovers()).not.toContain('hookslow');
  });
});
