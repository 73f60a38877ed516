// A server run in a runtime for a client on the host: started, awaited until it announces
// its address ("READY <addr>"), then stopped so the runtime removes what it built (netns, veth).

import { spawn } from 'node:child_process';
import { readyAddress } from './parse.js';

export interface ServerRun {
  /** The address the server announced, or why it never did. */
  ready: { ok: true; address: string } | { ok: false; reason: string };
  /** Stops the server and everything it started; resolves with its stdout and stderr. */
  stop: () => Promise<{ stdout: string; stderr: string }>;
}

const STOP_GRACE_MS = 10_000;

export function startServer(argv: readonly string[], opts: { cwd: string; env: Record<string, string>; readyTimeoutMs: number }): Promise<ServerRun> {
  return new Promise((resolve) => {
    // Its own process group, so whatever the runtime leaves behind can be killed at the end.
    const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let exited = false;
    let settled = false;
    // 'exit' is the runtime ending; 'close' also waits for whatever still holds its pipes.
    const ended = new Promise<void>((res) => child.on('exit', () => ((exited = true), res())));
    const closed = new Promise<void>((res) => child.on('close', () => res()));
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already empty.
      }
    };
    // SIGTERM to the runtime alone: tsvisor and runsc then tear down their network.
    const stop = async (): Promise<{ stdout: string; stderr: string }> => {
      if (!exited) child.kill('SIGTERM');
      const grace = new Promise<void>((res) => setTimeout(res, STOP_GRACE_MS).unref());
      await Promise.race([ended, grace]);
      killGroup();
      await closed;
      return { stdout, stderr };
    };
    const settle = (ready: ServerRun['ready']): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ready, stop });
    };
    const timer = setTimeout(() => settle({ ok: false, reason: `no READY line within ${opts.readyTimeoutMs / 1000} s` }), opts.readyTimeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const address = readyAddress(stdout);
      if (address !== undefined) settle({ ok: true, address });
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => settle({ ok: false, reason: String(e) }));
    void ended.then(() => settle({ ok: false, reason: 'server exited before it was ready' }));
  });
}
