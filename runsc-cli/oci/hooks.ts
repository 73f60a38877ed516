// OCI hooks: each runs with the container's state JSON on stdin — on the host, except
// startContainer hooks, which run inside the sandbox. A non-zero exit or an overrun timeout
// fails it (fatal for prestart/createRuntime/createContainer/startContainer, logged for
// poststart/poststop, as the runtime spec says).

import { spawnSync } from 'node:child_process';
import { execRequest, request } from '../../sentry/control/client.js';
import type { HookKind, OciHooks, OciState } from './spec.js';

/** Runs the hooks of one kind in order; returns an error message at the first failure. */
export function runHooks(hooks: OciHooks, kind: HookKind, state: OciState): string | undefined {
  for (const [i, h] of (hooks[kind] ?? []).entries()) {
    const args = h.args ?? [h.path];
    const r = spawnSync(h.path, args.slice(1), {
      argv0: args[0] ?? h.path,
      // Like runc (Go's exec): a hook without env inherits the runtime's environment.
      env: h.env === undefined ? process.env : Object.fromEntries(h.env.map((e) => {
        const eq = e.indexOf('=');
        return eq < 0 ? [e, ''] : [e.slice(0, eq), e.slice(eq + 1)];
      })),
      input: JSON.stringify(state),
      timeout: h.timeout !== undefined ? h.timeout * 1000 : undefined,
      killSignal: 'SIGKILL',
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    const what = `${kind} hook #${i} (${h.path})`;
    // A hook need not read its stdin: EPIPE on the state is no failure.
    const epipe = r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'EPIPE';
    if (r.error !== undefined && !epipe) {
      const code = (r.error as NodeJS.ErrnoException).code;
      return code === 'ETIMEDOUT' ? `${what} timed out after ${h.timeout}s` : `${what} failed: ${r.error.message}`;
    }
    if (r.signal !== null) return h.timeout !== undefined && r.signal === 'SIGKILL' ? `${what} timed out after ${h.timeout}s` : `${what} killed by ${r.signal}`;
    if (r.status !== 0) return `${what} exited with status ${r.status}`;
  }
  return undefined;
}

/**
 * startContainer hooks run inside the sandbox, as the runtime spec asks (path resolved in
 * the container): each is a process of the sandbox, before init, with the state on stdin
 * and this command's stdout/stderr. container names a pod member's root.
 */
export async function runHooksInSandbox(socket: string, hooks: OciHooks, state: OciState, container?: string): Promise<string | undefined> {
  for (const [i, h] of (hooks.startContainer ?? []).entries()) {
    const what = `startContainer hook #${i} (${h.path})`;
    const args = h.args ?? [h.path];
    let pid = 0;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const run = execRequest(socket, {
      args: args.length > 0 ? args : [h.path], env: h.env ?? [], cwd: '/', uid: 0, gid: 0, additionalGids: [], fds: 3,
      container, hook: { path: h.path, stdin: JSON.stringify(state) },
    }, [0, 1, 2], (p) => {
      pid = p;
      if (h.timeout !== undefined) {
        timer = setTimeout(() => {
          timedOut = true;
          void request(socket, { op: 'kill', signal: 9, all: false, pid }).catch(() => undefined);
        }, h.timeout * 1000);
      }
    });
    let status: number;
    try {
      status = await run;
    } catch (e) {
      return `${what} failed: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    if (timedOut) return `${what} timed out after ${h.timeout}s`;
    if ((status & 0x7f) !== 0) return `${what} killed by signal ${status & 0x7f}`;
    if (status !== 0) return `${what} exited with status ${(status >> 8) & 0xff}`;
  }
  return undefined;
}
