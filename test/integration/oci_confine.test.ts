// Invariant 6 on the OCI path: the pid file's process stays on the host; the Sentry is its
// child in namespaces of its own, without capabilities, with no-new-privs and seccomp.

import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, OciDriver, until } from './oci_helpers.js';

const d = new OciDriver();

afterAll(() => {
  d.cleanup();
});

function statusField(pid: number, name: string): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  return (line ?? '').slice(name.length + 1).trim();
}

function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((x) => x !== '').map(Number);
}

const NAMESPACES = ['mnt', 'pid', 'ipc', 'uts', 'net'];

describe('oci confined sentry', () => {
  it('runs the sandbox\'s Sentry confined under a host-side pid-file process', async () => {
    const b = d.bundle('conf', ['sleep', '30']);
    expect(d.run(['create', '--bundle', b, 'conf']).status).toBe(0);
    const pid = d.state('conf').pid;
    // The pid-file process: on the host, unconfined.
    expect(readlinkSync(`/proc/${pid}/ns/pid`)).toBe(readlinkSync('/proc/self/ns/pid'));
    expect(statusField(pid, 'Seccomp')).toBe('0');
    const sentry = childrenOf(pid).find((c) => readlinkSync(`/proc/${c}/ns/pid`) !== readlinkSync('/proc/self/ns/pid'));
    expect(sentry).toBeDefined();
    const s = sentry as number;
    expect(d.run(['start', 'conf']).status).toBe(0);
    // Confinement comes once booted: wait for init to run.
    expect(await until(() => statusField(s, 'Seccomp') === '2')).toBe(true);
    expect(statusField(s, 'NoNewPrivs')).toBe('1');
    expect(statusField(s, 'CapEff')).toBe('0000000000000000');
    for (const ns of NAMESPACES) expect(readlinkSync(`/proc/${s}/ns/${ns}`)).not.toBe(readlinkSync(`/proc/self/ns/${ns}`));
    // The Sentry is pid 1 of its namespace; ps still reports host pids (the stubs').
    expect(statusField(s, 'NSpid').split(/\s+/).pop()).toBe('1');
    const pids = JSON.parse(d.run(['ps', '--format', 'json', 'conf']).stdout) as number[];
    expect(pids.length).toBe(1);
    expect(alive(pids[0])).toBe(true);
    expect(readlinkSync(`/proc/${pids[0]}/ns/pid`)).toBe(readlinkSync(`/proc/${s}/ns/pid`));
    // The control socket still answers (exec), and a signal ends init and both processes.
    expect(d.run(['exec', 'conf', 'echo', 'inside']).stdout).toBe('inside\n');
    expect(d.run(['kill', 'conf', 'KILL']).status).toBe(0);
    expect(await until(() => !alive(pid) && !alive(s))).toBe(true);
    expect(JSON.parse(d.run(['wait', 'conf']).stdout)).toEqual({ id: 'conf', exitStatus: 137 });
    expect(d.run(['delete', 'conf']).status).toBe(0);
  });

  it('passes the engine\'s console resizes on to the confined Sentry', async () => {
    const b = d.bundle('confTty', ['sh', '-c', 'read x; stty size'], (c) => {
      (c.process as Record<string, unknown>).terminal = true;
    });
    const sock = join(d.work, 'confTty.sock');
    // A console-socket peer that resizes the pty, then lets the container ask its size.
    const py = [
      'import fcntl, os, socket, struct, sys, termios, time',
      's = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); print("listening", flush=True)',
      'c, _ = s.accept(); _, fds, _, _ = socket.recv_fds(c, 1024, 4); m = fds[0]',
      'fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 77, 0, 0)); time.sleep(0.5); os.write(m, b"go\\n")',
      'out = b""',
      'while True:',
      '    try: chunk = os.read(m, 4096)',
      '    except OSError: break',
      '    if not chunk: break',
      '    out += chunk',
      'sys.stdout.write(out.decode(errors="replace"))',
    ].join('\n');
    const proc = spawn('python3', ['-c', py, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const closed = new Promise<void>((r) => proc.on('close', () => r()));
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    expect(await until(() => out.startsWith('listening\n'))).toBe(true);
    expect(d.run(['create', '--bundle', b, '--console-socket', sock, 'confTty']).status).toBe(0);
    expect(d.run(['start', 'confTty']).status).toBe(0);
    expect(JSON.parse(d.run(['wait', 'confTty']).stdout)).toEqual({ id: 'confTty', exitStatus: 0 });
    await closed;
    expect(out).toBe('listening\ngo\r\n33 77\r\n');
    expect(d.run(['delete', 'confTty']).status).toBe(0);
  });

  it('a pod\'s confined Sentry gets Gofers for later containers from its parent', async () => {
    const ann = (type: string): Record<string, string> => ({ 'io.kubernetes.cri.container-type': type, 'io.kubernetes.cri.sandbox-id': 'cpod' });
    const pause = d.bundle('cpause', ['sleep', '60'], (c) => (c.annotations = ann('sandbox')));
    expect(d.run(['run', '-d', '--bundle', pause, 'cpod']).status).toBe(0);
    const pid = d.state('cpod').pid;
    const sentry = childrenOf(pid).find((c) => readlinkSync(`/proc/${c}/ns/pid`) !== readlinkSync('/proc/self/ns/pid'));
    expect(sentry).toBeDefined();
    expect(await until(() => statusField(sentry as number, 'Seccomp') === '2')).toBe(true);
    expect(statusField(sentry as number, 'CapEff')).toBe('0000000000000000');
    // Its root needs a new Gofer, which the confined Sentry could not start itself.
    const app = d.bundle('capp', ['sh', '-c', 'cat /marker; sleep 30'], (c) => (c.annotations = ann('container')));
    writeFileSync(join(app, 'rootfs', 'marker'), 'app\n');
    expect(d.run(['create', '--bundle', app, 'capp']).status).toBe(0);
    expect(d.run(['start', 'capp']).status).toBe(0);
    expect(d.run(['exec', 'capp', 'cat', '/marker']).stdout).toBe('app\n');
    const pids = JSON.parse(d.run(['ps', '--format', 'json', 'capp']).stdout) as number[];
    expect(pids.length).toBe(1);
    expect(readlinkSync(`/proc/${pids[0]}/ns/pid`)).toBe(readlinkSync(`/proc/${sentry as number}/ns/pid`));
    expect(d.run(['delete', '--force', 'capp']).status).toBe(0);
    expect(d.run(['delete', '--force', 'cpod']).status).toBe(0);
    expect(await until(() => !alive(pid))).toBe(true);
  });
});
