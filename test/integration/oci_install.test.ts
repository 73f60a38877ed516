// `tsvisor install` writes the containerd runtime handler and podman runtime entries, once.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OciDriver } from './oci_helpers.js';

const d = new OciDriver();

describe('tsvisor install', () => {
  it('adds a containerd runtime handler and a podman runtime, idempotently', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-install-'));
    const ctd = join(dir, 'config.toml');
    const pod = join(dir, 'containers.conf.d', 'tsvisor.conf');
    writeFileSync(ctd, 'version = 2\n[grpc]\n  address = "/run/containerd/containerd.sock"\n');
    const args = ['install', '--containerd-config', ctd, '--podman-config', pod, '--binary', '/usr/local/bin/tsvisor'];
    expect(d.run(args).status).toBe(0);
    const text = readFileSync(ctd, 'utf8');
    expect(text).toContain('address = "/run/containerd/containerd.sock"');
    expect(text).toContain('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.tsvisor]');
    expect(text).toContain('runtime_type = "io.containerd.runc.v2"');
    expect(text).toContain('BinaryName = "/usr/local/bin/tsvisor"');
    expect(readFileSync(pod, 'utf8')).toContain('tsvisor = ["/usr/local/bin/tsvisor"]');
    const again = d.run(args);
    expect(again.stdout).toContain('already configured');
    expect(readFileSync(ctd, 'utf8')).toBe(text);
  });

  it('refuses a version 1 containerd config and prints the snippet instead', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-install-'));
    const ctd = join(dir, 'config.toml');
    writeFileSync(ctd, '[plugins.cri]\n');
    const r = d.run(['install', '--no-podman', '--containerd-config', ctd]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('not a version 2 containerd config');
    expect(readFileSync(ctd, 'utf8')).toBe('[plugins.cri]\n');
  });
});
