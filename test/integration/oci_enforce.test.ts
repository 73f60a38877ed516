// config.json fields that change what the container's processes see: capabilities,
// noNewPrivileges, maskedPaths, readonlyPaths, sysctl. Each is checked from inside.

import { afterAll, describe, expect, it } from 'vitest';
import { OciDriver } from './oci_helpers.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const d = new OciDriver();

afterAll(() => {
  d.cleanup();
});

type Cfg = Record<string, unknown> & { process: Record<string, unknown>; linux: Record<string, unknown> };

/** `run` of sh -c script in a bundle edited by edit; returns stdout (status must be 0). */
function inside(name: string, script: string, edit: (c: Cfg) => void = () => {}, prep: (rootfs: string) => void = () => {}): string {
  const b = d.bundle(name, ['sh', '-c', script], (c) => edit(c as Cfg));
  prep(join(b, 'rootfs'));
  const r = d.run(['run', '--bundle', b, name]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

function statusField(out: string, field: string): string | undefined {
  return new RegExp(`^${field}:\\s*(\\S+)`, 'm').exec(out)?.[1];
}

describe('oci config enforcement', () => {
  it('gives init the configured capability sets (root: effective = bounding after execve)', () => {
    const out = inside('caps', 'busybox grep -E "^(Cap|NoNewPrivs)" /proc/self/status', (c) => {
      c.process.capabilities = { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN', 'CAP_KILL'] };
    });
    // CAP_CHOWN is bit 0, CAP_KILL bit 5.
    expect(statusField(out, 'CapBnd')).toBe('0000000000000021');
    expect(statusField(out, 'CapEff')).toBe('0000000000000021');
    expect(statusField(out, 'CapPrm')).toBe('0000000000000021');
    expect(statusField(out, 'CapInh')).toBe('0000000000000000');
    expect(statusField(out, 'CapAmb')).toBe('0000000000000000');
    expect(statusField(out, 'NoNewPrivs')).toBe('1');
  });

  it('drops root\'s file permission override without CAP_DAC_OVERRIDE', () => {
    // /tmp/secret is 000: root reads it only with CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH.
    const script = 'echo s > /tmp/secret; busybox chmod 000 /tmp/secret; cat /tmp/secret 2>/dev/null && echo readable || echo denied';
    const writableRoot = (c: Cfg): void => void (c.root = { path: 'rootfs', readonly: false });
    expect(inside('dacon', script, (c) => {
      writableRoot(c);
      const set = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE'];
      c.process.capabilities = { bounding: set, effective: set, permitted: set };
    }).trim()).toBe('s\nreadable');
    expect(inside('dacoff', script, (c) => {
      writableRoot(c);
      c.process.capabilities = { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] };
    }).trim()).toBe('denied');
  });

  it('keeps ambient capabilities for a non-root user', () => {
    const out = inside('ambient', 'busybox grep -E "^Cap(Eff|Amb)" /proc/self/status', (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      const set = ['CAP_NET_BIND_SERVICE'];
      c.process.capabilities = { bounding: set, effective: set, permitted: set, inheritable: set, ambient: set };
    });
    expect(statusField(out, 'CapEff')).toBe('0000000000000400');
    expect(statusField(out, 'CapAmb')).toBe('0000000000000400');
  });

  it('refuses a capability Linux does not define', () => {
    const b = d.bundle('badcap', ['true'], (c) => {
      (c as Cfg).process.capabilities = { bounding: ['CAP_FLY'] };
    });
    const r = d.run(['create', '--bundle', b, 'badcap']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('process.capabilities.bounding[0]');
  });

  it('masks linux.maskedPaths: an empty read-only directory, /dev/null for a file', () => {
    const out = inside('masked', 'ls -A /proc/sys/vm | busybox wc -l; busybox touch /proc/sys/vm/x 2>&1 | busybox grep -c "Read-only"; busybox wc -c < /proc/meminfo', (c) => {
      c.linux.maskedPaths = ['/proc/sys/vm', '/proc/meminfo', '/no/such/path'];
      c.linux.readonlyPaths = [];
    });
    expect(out.split('\n').map((l) => l.trim())).toEqual(['0', '1', '0', '']);
  });

  it('makes linux.readonlyPaths read-only (EROFS) and leaves the rest writable', () => {
    const script = '(echo b > /ro/f) 2>&1 | busybox grep -c "Read-only file system"; cat /ro/f; echo c > /rw/f && cat /rw/f; ' +
      'busybox mkdir /ro/sub 2>&1 | busybox grep -c "Read-only"';
    const out = inside('ropaths', script, (c) => {
      c.root = { path: 'rootfs', readonly: false };
      c.linux.readonlyPaths = ['/ro'];
      c.linux.maskedPaths = [];
    }, (rootfs) => {
      for (const dir of ['ro', 'rw']) mkdirSync(join(rootfs, dir));
      writeFileSync(join(rootfs, 'ro', 'f'), 'a\n');
    });
    expect(out).toBe('1\na\nc\n1\n');
  });

  it('shows linux.sysctl under /proc/sys and refuses keys that are not namespaced', () => {
    const out = inside('sysctl', 'cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/fs/mqueue/msg_max /proc/sys/kernel/domainname', (c) => {
      c.linux.sysctl = { 'kernel.shmmni': '8192', 'net.ipv4.ip_unprivileged_port_start': '0', 'fs/mqueue/msg_max': '20', 'kernel.domainname': 'example.org' };
    });
    expect(out).toBe('8192\n0\n20\nexample.org\n');
    const b = d.bundle('sysctlbad', ['true'], (c) => {
      (c as Cfg).linux.sysctl = { 'vm.swappiness': '10' };
    });
    const r = d.run(['create', '--bundle', b, 'sysctlbad']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('linux.sysctl.vm.swappiness');
    expect(d.leftovers()).not.toContain('sysctlbad');
  });

  it('shows the user namespace\'s id maps and refuses ids outside them', () => {
    const userns = (c: Cfg): void => {
      (c.linux.namespaces as unknown[]).push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 2000 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 2000 }];
      const all = ['CAP_SETUID', 'CAP_SETGID'];
      c.process.capabilities = { bounding: all, effective: all, permitted: all };
    };
    const out = inside('userns', 'cat /proc/self/uid_map /proc/self/gid_map; id -u', userns);
    expect(out).toBe('         0          0       2000\n         0          0       2000\n0\n');
    expect(inside('nouserns', 'cat /proc/self/uid_map')).toBe('         0          0 4294967295\n');
    for (const [name, edit, field] of [
      ['mapped', (c: Cfg) => { userns(c); c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }]; }, 'linux.uidMappings[0]'],
      ['unmappeduser', (c: Cfg) => { userns(c); c.process.user = { uid: 5000, gid: 0 }; }, 'process.user.uid'],
    ] as const) {
      const b = d.bundle(name, ['true'], (c) => edit(c as Cfg));
      const r = d.run(['create', '--bundle', b, name]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(field);
      expect(d.leftovers()).not.toContain(name);
    }
  });
});
