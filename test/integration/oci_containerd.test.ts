// containerd's runc v2 shim pointed at tsvisor (`ctr run --runc-binary`). Starts a private
// containerd (CRI plugin off) and imports a busybox image built offline with umoci.
// Needs Debian's containerd and umoci (installed by .ci/run).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TSVISOR } from './helpers.js';
import { busyboxRootfs, must, onPty } from './oci/engine_image.js';
import { until } from './oci_helpers.js';

const work = mkdtempSync(join(tmpdir(), 'tsvisor-ctd-'));
const SOCK = join(work, 'containerd.sock');
const IMAGE = 'docker.io/library/tsvisor-bb:latest';
const RUNTIME = ['--runc-binary', TSVISOR, '--runc-root', join(work, 'runc-root'), '--snapshotter', 'native'];
let daemon: ChildProcess | undefined;

function ctr(args: string[]): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('ctr', ['--address', SOCK, ...args], { encoding: 'utf8', killSignal: 'SIGKILL', timeout: 120_000, input: '' });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? 128 };
}

beforeAll(async () => {
  writeFileSync(join(work, 'config.toml'), [
    'version = 2',
    `root = "${join(work, 'root')}"`,
    `state = "${join(work, 'state')}"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = "${SOCK}"`,
    '[ttrpc]',
    `  address = "${SOCK}.ttrpc"`,
  ].join('\n') + '\n');
  daemon = spawn('containerd', ['--config', join(work, 'config.toml')], { stdio: 'ignore' });
  if (!(await until(() => existsSync(SOCK), 20_000))) throw new Error('containerd did not start');
  // An OCI image from a busybox rootfs, without a registry.
  const layout = join(work, 'img');
  const bundle = join(work, 'bundle');
  must('umoci', ['init', '--layout', layout]);
  must('umoci', ['new', '--image', `${layout}:latest`]);
  must('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
  busyboxRootfs(join(bundle, 'rootfs'));
  must('umoci', ['repack', '--image', `${layout}:latest`, bundle]);
  must('umoci', ['config', '--image', `${layout}:latest`, '--config.cmd', 'sh']);
  must('tar', ['-C', layout, '-cf', join(work, 'bb.tar'), '.']);
  const imp = ctr(['images', 'import', '--snapshotter', 'native', '--base-name', 'docker.io/library/tsvisor-bb', join(work, 'bb.tar')]);
  if (imp.status !== 0) throw new Error(`ctr images import: ${imp.stderr}`);
}, 120_000);

/** Removes container id and its task, whatever state they are in. */
function forget(id: string): void {
  ctr(['task', 'kill', '-s', 'SIGKILL', id]);
  ctr(['task', 'delete', '--force', id]);
  ctr(['container', 'rm', id]);
}

afterAll(async () => {
  for (const id of ['c1', 'c2', 'c3']) forget(id);
  if (daemon?.pid !== undefined) {
    daemon.kill('SIGTERM');
    await until(() => daemon?.exitCode !== null || daemon?.signalCode !== null, 10_000);
  }
  rmSync(work, { recursive: true, force: true });
});

describe('containerd with tsvisor', () => {
  it('ctr run --rm passes output and the exit code through', () => {
    const r = ctr(['run', '--rm', ...RUNTIME, IMAGE, 'c1', 'sh', '-c', 'echo hi from ctr; exit 6']);
    expect(r.stdout).toBe('hi from ctr\n');
    expect(r.status).toBe(6);
  }, 60_000);

  // One retry: this drives containerd and its shim, whose timing we do not control. A first
  // failure is printed (so CI logs keep the evidence) and the retry starts from a clean slate.
  it('run -d, exec, kill and delete', async (tc) => {
    if (tc.task.result?.retryCount) forget('c2');
    const started = ctr(['run', '-d', ...RUNTIME, IMAGE, 'c2', 'sleep', '60']);
    expect(started.status, started.stderr).toBe(0);
    expect(await until(() => /c2\s+\d+\s+RUNNING/.test(ctr(['task', 'ls']).stdout), 20_000)).toBe(true);
    const e = ctr(['task', 'exec', '--exec-id', 'e1', 'c2', 'sh', '-c', 'echo exec in ctr; exit 4']);
    if (e.stdout !== 'exec in ctr\n' || e.status !== 4) console.warn(`ctr task exec: status ${e.status}, stdout ${JSON.stringify(e.stdout)}, stderr ${JSON.stringify(e.stderr)}`);
    expect(e.status, e.stderr).toBe(4);
    expect(e.stdout).toBe('exec in ctr\n');
    expect(ctr(['task', 'kill', '-s', 'SIGKILL', 'c2']).status).toBe(0);
    expect(await until(() => /c2\s+\d+\s+STOPPED/.test(ctr(['task', 'ls']).stdout), 10_000)).toBe(true);
    expect(ctr(['task', 'delete', 'c2']).status).toBe(0);
    expect(ctr(['container', 'rm', 'c2']).status).toBe(0);
  }, { timeout: 90_000, retry: 1 });

  it('run -t gives the shell a pty', () => {
    const cmd = ['ctr', '--address', SOCK, 'run', '-t', '--rm', ...RUNTIME, IMAGE, 'c3', 'sh'].join(' ');
    const r = onPty(cmd, 'echo ctr-tty-$((6*7)); exit 3\n');
    expect(r.output).toContain('ctr-tty-42');
    expect(r.status).toBe(3);
  }, 90_000);
});
