// podman (through conmon, as CRI-O drives runtimes) with tsvisor as its OCI runtime.
// Needs Debian's podman (installed by .ci/run). Private storage (vfs driver, no mounts).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TSVISOR } from './helpers.js';
import { busyboxRootfs, must, onPty } from './oci/engine_image.js';

const work = mkdtempSync(join(tmpdir(), 'tsvisor-podman-'));
const GLOBAL = ['--root', join(work, 'root'), '--runroot', join(work, 'runroot'), '--storage-driver', 'vfs',
  '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', TSVISOR];
// This VM lacks CAP_SYS_RESOURCE: podman's default rlimits cannot be set (see ENVIRONMENT.md).
const RUN = ['--network', 'none', '--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768'];

function podman(args: string[], input?: string): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('podman', [...GLOBAL, ...args], { input, encoding: 'utf8', killSignal: 'SIGKILL', timeout: 120_000 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? 128 };
}

beforeAll(() => {
  const rootfs = busyboxRootfs(join(work, 'rootfs'));
  const tar = join(work, 'bb.tar');
  must('tar', ['-C', rootfs, '-cf', tar, '.']);
  must('podman', [...GLOBAL, 'import', tar, 'tsvisor-bb']);
}, 120_000);

afterAll(() => {
  podman(['rm', '--force', '--all']);
  rmSync(work, { recursive: true, force: true });
});

describe('podman with tsvisor', () => {
  it('run --rm echoes and passes exit codes through', () => {
    const r = podman(['run', '--rm', ...RUN, 'tsvisor-bb', 'echo', 'hi']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hi\n');
    expect(podman(['run', '--rm', ...RUN, 'tsvisor-bb', 'sh', '-c', 'exit 7']).status).toBe(7);
  }, 60_000);

  it('run -d, exec (plain and -it), pause/unpause, stop and rm', () => {
    const id = podman(['run', '-d', '--name', 'pd', ...RUN, 'tsvisor-bb', 'sleep', '60']).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const e = podman(['exec', 'pd', 'sh', '-c', 'echo in $(hostname); exit 4']);
    expect(e.stdout).toBe(`in ${id.slice(0, 12)}\n`);
    expect(e.status).toBe(4);
    expect(podman(['inspect', '--format', '{{.State.Status}}', 'pd']).stdout.trim()).toBe('running');
    const tty = onPty(['podman', ...GLOBAL, 'exec', '-it', 'pd', 'sh'].join(' '), 'echo exec-tty-$((6*7)); exit 3\n');
    expect(tty.output).toContain('exec-tty-42');
    expect(tty.status).toBe(3);
    expect(podman(['pause', 'pd']).status).toBe(0);
    expect(podman(['inspect', '--format', '{{.State.Status}}', 'pd']).stdout.trim()).toBe('paused');
    expect(podman(['unpause', 'pd']).status).toBe(0);
    expect(podman(['exec', 'pd', 'echo', 'thawed']).stdout).toBe('thawed\n');
    expect(podman(['stop', '-t', '5', 'pd']).status).toBe(0);
    expect(podman(['inspect', '--format', '{{.State.Status}}', 'pd']).stdout.trim()).toBe('exited');
    expect(podman(['rm', 'pd']).status).toBe(0);
  }, 90_000);

  it('run -it drives a shell through a pty, ^C included', () => {
    const cmd = ['podman', ...GLOBAL, 'run', '-it', '--rm', ...RUN, 'tsvisor-bb', 'sh'].join(' ');
    // ^C must interrupt the sleep: without it the run outlasts the 25 s limit.
    const r = onPty(cmd, [[3, 'sleep 60\n'], [1, '\x03'], [1, 'echo tty-$((6*7)); exit 5\n']], 25_000);
    expect(r.output).toContain('^C');
    expect(r.output).toContain('tty-42');
    expect(r.status).toBe(5);
  }, 90_000);
});
