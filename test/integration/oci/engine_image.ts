// A busybox image for the engine tests, made offline from Debian's busybox-static.

import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX } from '../helpers.js';

export const APPLETS = ['sh', 'echo', 'cat', 'sleep', 'true', 'false', 'env', 'pwd', 'id', 'hostname', 'ls'];

/** A rootfs folder holding busybox and its applets. */
export function busyboxRootfs(dir: string): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  for (const d of ['tmp', 'etc', 'proc', 'sys', 'dev', 'root']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(dir, 'bin', a));
  return dir;
}

/** Runs a command; throws with its output when it fails. */
export function must(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, encoding: 'utf8', killSignal: 'SIGKILL', timeout: 120_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Runs `command` on a pty (script(1)), typing `input` after a pause (or each [pause, text]
 * step in turn); returns output and status. Killed after timeoutMs.
 */
export function onPty(command: string, input: string | [number, string][], timeoutMs = 90_000): { output: string; status: number } {
  const steps: [number, string][] = typeof input === 'string' ? [[3, input]] : input;
  const env: Record<string, string> = { CMD: command };
  const typing = steps.map(([delay, text], i) => {
    env[`STEP${i}`] = text;
    return `sleep ${delay}; printf '%s' "$STEP${i}"`;
  });
  const r = spawnSync('sh', ['-c', `(${typing.join('; ')}; sleep 3) | script -qec "$CMD" /dev/null`], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (r.error) throw r.error;
  return { output: r.stdout, status: r.status ?? 128 };
}
