// config.json validation, runc-style flags and signals, the control protocol's input checks.

import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupPath } from '../../runsc-cli/oci/cgroups.js';
import { ConfigError, validateConfig, validateResources } from '../../runsc-cli/oci/config.js';
import { parseFlags, UsageError } from '../../runsc-cli/oci/flags.js';
import { parseSignal } from '../../runsc-cli/oci/signals.js';
import { defaultSpec } from '../../runsc-cli/oci/spec.js';
import { LineReader, parseRequest } from '../../sentry/control/protocol.js';

const bundle = mkdtempSync(join(tmpdir(), 'tsvisor-oci-unit-'));
mkdirSync(join(bundle, 'rootfs'));

function base(): Record<string, unknown> & { process: Record<string, unknown>; linux: Record<string, unknown> } {
  return JSON.parse(JSON.stringify(defaultSpec(false))) as Record<string, unknown> & { process: Record<string, unknown>; linux: Record<string, unknown> };
}

function fieldOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.field;
    throw e;
  }
  return '(accepted)';
}

describe('oci config', () => {
  it('accepts runc\'s default spec and resolves the root in the bundle', () => {
    const c = validateConfig(base(), bundle);
    expect(c.root.path).toBe(join(bundle, 'rootfs'));
    expect(c.root.readonly).toBe(true);
    expect(c.process.args).toEqual(['sh']);
    expect(c.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
    expect(c.linux.namespaces.map((n) => n.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount']);
    expect(c.mounts.find((m) => m.destination === '/proc')?.type).toBe('proc');
  });

  it('accepts the rootless spec (user namespace with mappings)', () => {
    const c = validateConfig(JSON.parse(JSON.stringify(defaultSpec(true))), bundle);
    expect(c.linux.uidMappings.length).toBe(1);
    expect(c.mounts.find((m) => m.destination === '/sys')?.type).toBe('bind');
  });

  it('names the offending field', () => {
    const cases: [string, (c: ReturnType<typeof base>) => void][] = [
      ['process.args', (c) => (c.process.args = [])],
      ['process.args[1]', (c) => (c.process.args = ['sh', 3])],
      ['process.env[0]', (c) => (c.process.env = ['NOEQUALS'])],
      ['process.user.gid', (c) => (c.process.user = { uid: 0, gid: 1.5 })],
      ['process.terminal', (c) => (c.process.terminal = 'yes')],
      ['process.consoleSize.width', (c) => (c.process.consoleSize = { height: 24 })],
      ['process.capabilities.bounding[0]', (c) => (c.process.capabilities = { bounding: ['NET_ADMIN'] })],
      ['process.oomScoreAdj', (c) => (c.process.oomScoreAdj = 5000)],
      ['process.rlimits[1].type', (c) => (c.process.rlimits = [{ type: 'RLIMIT_CPU', soft: 1, hard: 1 }, { type: 'RLIMIT_CPU', soft: 1, hard: 1 }])],
      ['linux.namespaces[0].type', (c) => (c.linux.namespaces = [{ type: 'bogus' }])],
      ['linux.namespaces[1].type', (c) => (c.linux.namespaces = [{ type: 'pid' }, { type: 'pid' }])],
      ['linux.namespaces', (c) => (c.linux.namespaces = [{ type: 'pid' }])],
      ['linux.namespaces[0].path', (c) => (c.linux.namespaces = [{ type: 'uts', path: '/proc/1/ns/uts' }, { type: 'network' }])],
      ['linux.uidMappings', (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }])],
      ['linux.sysctl.bad name', (c) => (c.linux.sysctl = { 'bad name': '1' })],
      ['linux.resources.memory.limit', (c) => (c.linux.resources = { memory: { limit: 1000 } })],
      ['linux.resources.pids.limit', (c) => (c.linux.resources = { pids: { limit: 'many' } })],
      ['hostname', (c) => (c.hostname = 'x'.repeat(65))],
      ['mounts[0].type', (c) => (c.mounts = [{ destination: '/m', type: 'none', source: '/tmp' }])],
      ['annotations.k', (c) => (c.annotations = { k: 1 })],
      ['hooks.poststop[0].path', (c) => (c.hooks = { poststop: [{ path: 'relative' }] })],
      ['hooks.prestart[0].timeout', (c) => (c.hooks = { prestart: [{ path: '/bin/true', timeout: 0 }] })],
      ['(top level)', () => undefined],
    ];
    for (const [field, edit] of cases) {
      const c = base();
      edit(c);
      expect(fieldOf(() => validateConfig(field === '(top level)' ? [] : c, bundle)), field).toBe(field);
    }
  });

  it('reads bind mounts relative to the bundle and requires their source', () => {
    const c = base();
    c.mounts = [{ destination: '/data', source: 'rootfs', options: ['rbind', 'ro'] }];
    const v = validateConfig(c, bundle);
    expect(v.mounts[0]).toEqual({ destination: '/data', type: 'bind', source: join(bundle, 'rootfs'), options: ['rbind', 'ro'] });
  });

  it('validates update resources on their own', () => {
    expect(validateResources({ cpu: { quota: 50000, period: 100000 }, pids: { limit: -1 } })).toEqual({
      cpu: { shares: undefined, quota: 50000, period: 100000, cpus: undefined, mems: undefined },
      pids: { limit: -1 },
    });
  });
});

describe('oci flags and signals', () => {
  it('parses runc-style flags', () => {
    const f = parseFlags(['--bundle=/b', '-d', '--pid-file', 'p', 'id'], { bundle: 'string', detach: 'bool', 'pid-file': 'string' }, { d: 'detach' });
    expect(f.strings.get('bundle')).toBe('/b');
    expect(f.strings.get('pid-file')).toBe('p');
    expect(f.bools.has('detach')).toBe(true);
    expect(f.positionals).toEqual(['id']);
    expect(() => parseFlags(['--nope'], {})).toThrow(UsageError);
    expect(() => parseFlags(['--bundle'], { bundle: 'string' })).toThrow(UsageError);
  });

  it('stops at the command after the id (exec)', () => {
    const f = parseFlags(['-e', 'A=1', 'box', 'ls', '-l', '--all'], { env: 'multi' }, { e: 'env' }, 1);
    expect(f.positionals).toEqual(['box']);
    expect(f.rest).toEqual(['ls', '-l', '--all']);
    expect(f.multi.get('env')).toEqual(['A=1']);
  });

  it('accepts signal numbers and names', () => {
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('KILL')).toBe(9);
    expect(parseSignal('SIGTERM')).toBe(15);
    expect(parseSignal('term')).toBe(15);
    expect(parseSignal('RTMIN+2')).toBe(36);
    expect(parseSignal('0')).toBeUndefined();
    expect(parseSignal('65')).toBeUndefined();
    expect(parseSignal('SIGFOO')).toBeUndefined();
  });

  it('maps cgroupsPath like runc', () => {
    expect(cgroupPath(undefined, 'c1')).toBe('/tsvisor/c1');
    expect(cgroupPath('/libpod_parent/libpod-c1', 'c1')).toBe('/libpod_parent/libpod-c1');
    expect(cgroupPath('machine.slice:libpod:c1', 'c1')).toBe('/machine.slice/libpod-c1.scope');
  });
});

describe('control protocol', () => {
  it('checks requests', () => {
    expect(parseRequest({ op: 'kill', signal: 9, all: true })).toEqual({ op: 'kill', signal: 9, all: true });
    expect(parseRequest({ op: 'kill', signal: 99 })).toBe('kill: bad signal');
    expect(parseRequest({ op: 'exec', spec: { args: [], env: [], cwd: '/', uid: 0, gid: 0, additionalGids: [], fds: 3 } })).toBe('exec: bad process');
    expect(parseRequest({ op: 'exec', spec: { args: ['x'], env: [], cwd: '/', uid: 0, gid: 0, additionalGids: [], fds: 9 } })).toBe('exec: bad fd count');
    expect(parseRequest({ op: 'reboot' })).toBe('unknown op reboot');
    const spec = { args: ['sh'], env: [], cwd: '/', uid: 0, gid: 0, additionalGids: [], fds: 3 };
    const pod = parseRequest({ op: 'container', id: 'c', rootfs: '/r', readonly: true, spec, mounts: [
      { kind: 'tmpfs', destination: '/tmp', sizeBytes: 1024 },
      { kind: 'file', destination: '/etc/hosts', data: 'aG9zdHM=', mode: 0o644 },
    ] });
    expect(pod).toMatchObject({ op: 'container', id: 'c', rootfs: '/r', readonly: true, mounts: [{ kind: 'tmpfs' }, { kind: 'file', data: 'aG9zdHM=' }] });
    expect(parseRequest({ op: 'container', id: 'c', rootfs: 'relative', spec, mounts: [] })).toBe('container: bad id or rootfs');
    expect(parseRequest({ op: 'container', id: 'c', rootfs: '/r', spec, mounts: [{ kind: 'dir', destination: 'x', source: '/s' }] })).toBe('container: bad mount');
    expect(parseRequest({ op: 'exec', spec: { ...spec, hook: { path: 'rel', stdin: '' } } })).toBe('exec: bad hook');
    expect(parseRequest('start')).toBe('request without op');
  });

  it('splits lines across chunks and reports malformed ones', () => {
    const got: unknown[] = [];
    const errors: string[] = [];
    const r = new LineReader((v) => got.push(v), (m) => errors.push(m));
    r.push('{"op":"st');
    r.push('art"}\n{bad}\n\n{"op":"ps"}\n');
    expect(got).toEqual([{ op: 'start' }, { op: 'ps' }]);
    expect(errors).toEqual(['malformed control message']);
  });
});
