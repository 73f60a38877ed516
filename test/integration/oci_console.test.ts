// --console-socket: the pty master goes to the engine over SCM_RIGHTS (as runc does); the
// container's init, and an exec --tty, see a terminal.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';
import { OciDriver } from './oci_helpers.js';

const d = new OciDriver();
const RECEIVER = join(ROOT, 'test', 'integration', 'oci', 'console_receiver.py');

const receivers: ChildProcess[] = [];

afterAll(() => {
  d.cleanup();
  // A receiver whose container never connected would wait forever.
  for (const r of receivers) if (r.exitCode === null) r.kill('SIGKILL');
});

/** Starts a console-socket peer typing `input`; resolves once it listens. */
async function receiver(sock: string, input: string): Promise<{ proc: ChildProcess; output: Promise<string> }> {
  const proc = spawn('python3', [RECEIVER, sock, input], { stdio: ['ignore', 'pipe', 'inherit'] });
  receivers.push(proc);
  let out = '';
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  const output = new Promise<string>((resolve) => {
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.startsWith('listening\n')) listening();
    });
    proc.on('close', () => resolve(out.slice('listening\n'.length)));
  });
  await ready;
  return { proc, output };
}

describe('oci console socket', () => {
  it('init runs on a pty whose master the engine receives', async () => {
    const b = d.bundle('tty', ['sh', '-c', 'test -t 0 && echo is-a-tty; read x; echo got $x; exit 4'], (c) => {
      (c.process as Record<string, unknown>).terminal = true;
    });
    const sock = join(d.work, 'console.sock');
    const r = await receiver(sock, 'hello\n');
    expect(d.run(['create', '--bundle', b, '--console-socket', sock, 'tty']).status).toBe(0);
    expect(d.run(['start', 'tty']).status).toBe(0);
    expect(JSON.parse(d.run(['wait', 'tty']).stdout)).toEqual({ id: 'tty', exitStatus: 4 });
    // The tty echoes the input and turns \n into \r\n, as a terminal does.
    expect(await r.output).toBe('hello\r\nis-a-tty\r\ngot hello\r\n');
    expect(d.run(['delete', 'tty']).status).toBe(0);
  });

  it('exec --tty --console-socket --detach gives the process a pty too', async () => {
    const b = d.bundle('ttyexec', ['sleep', '30']);
    expect(d.run(['run', '-d', '--bundle', b, 'ttyexec']).status).toBe(0);
    const sock = join(d.work, 'exec.sock');
    const r = await receiver(sock, 'typed\n');
    const pidFile = join(d.work, 'ttyexec.pid');
    const e = d.run(['exec', '--tty', '--console-socket', sock, '--detach', '--pid-file', pidFile, 'ttyexec', 'sh', '-c', 'test -t 1 && read x && echo tty $x']);
    expect(e.stderr).toBe('');
    expect(e.status).toBe(0);
    expect(await r.output).toBe('typed\r\ntty typed\r\n');
    expect(d.run(['delete', '--force', 'ttyexec']).status).toBe(0);
  });

  it('exec --tty gives the process a sandbox pty: ttyname works and ^C reaches it', async () => {
    const b = d.bundle('ttyctl', ['sleep', '30']);
    expect(d.run(['run', '-d', '--bundle', b, 'ttyctl']).status).toBe(0);
    const named = await receiver(join(d.work, 'name.sock'), '');
    const e = d.run(['exec', '--tty', '--console-socket', join(d.work, 'name.sock'), 'ttyctl', 'busybox', 'tty']);
    expect(e.status).toBe(0);
    expect(await named.output).toMatch(/^\/dev\/pts\/\d+\r\n$/);
    // ^C typed on the engine's master is the sandbox pty's VINTR: SIGINT for the process's group.
    const intr = await receiver(join(d.work, 'intr.sock'), '\x03');
    const c = d.run(['exec', '--tty', '--console-socket', join(d.work, 'intr.sock'), 'ttyctl', 'sleep', '20']);
    expect(c.stderr).toBe('');
    expect(c.status).toBe(128 + 2);
    expect(await intr.output).toBe('^C');
    expect(d.run(['delete', '--force', 'ttyctl']).status).toBe(0);
  });
});
