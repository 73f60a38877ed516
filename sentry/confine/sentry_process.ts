// Starting the Sentry in namespaces of its own. The CLI process (on the host, holding the
// host-side network plumbing) re-runs itself as a child made by native sentrySpawn: new
// mount, PID, IPC, UTS and network namespaces (or the sandbox's network namespace), entered
// before Node starts a single thread. The child boots the sandbox and confines itself
// (confine.ts); the parent only waits and reports how the Sentry ended.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../platform/ptrace/native.js';
import { goferArgv, type GoferFds, type GoferOptions } from '../fs/gofer/gofer_process.js';
import { sentryConfineNative } from './native_sentry.js';

const CHILD_FLAG = '--sentry-child';
/** `--root-gofer PID`: the Gofer started by the spawn; its sockets are fds 3 (9P) and 4 (donations). */
const ROOT_GOFER_FLAG = '--root-gofer';

/** What the parent tells the confined child besides the user's own command line. */
export interface SentryChild {
  /** The network namespace (already joined) whose interfaces the Sentry takes over. */
  netns?: string;
  /** The root's Gofer, started by the spawn alongside us: its pid and our ends of its sockets. */
  rootGofer?: GoferFds;
  /** The user's command line, as the parent got it. */
  rest: string[];
}

/** Hidden: `tsvisor --sentry-child [--netns PATH] -- ARGS...`; undefined for a normal command line. */
export function parseSentryChild(raw: string[]): SentryChild | undefined {
  if (raw[0] !== CHILD_FLAG) return undefined;
  const c: SentryChild = { rest: [] };
  for (let i = 1; i < raw.length; i++) {
    if (raw[i] === '--netns' && i + 1 < raw.length) c.netns = raw[++i];
    else if (raw[i] === ROOT_GOFER_FLAG && i + 1 < raw.length) c.rootGofer = { pid: Number(raw[++i]), io: 3, donate: 4 };
    else if (raw[i] === '--') {
      c.rest = raw.slice(i + 1);
      break;
    } else throw new Error(`bad sentry child argument ${raw[i]}`);
  }
  return c;
}

const SIGNAL_NAMES: Record<number, string> = { 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 31: 'SIGSYS' };

/**
 * Runs the CLI's command line `args` again as a confined Sentry and waits for it; returns
 * the exit code to exit with. netnsPath: join that network namespace instead of a new one;
 * opts.hostNetwork: keep ours.
 */
/** The wait status of our child pid (or -errno), without blocking Node's loop. */
export function waitForChild(pid: number): Promise<number> {
  const n = sentryConfineNative();
  return new Promise<number>((resolve) => {
    const poll = (): void => {
      const s = n.childWait(pid, 0);
      if (s === -1) return;
      process.off('SIGCHLD', poll);
      clearInterval(timer);
      resolve(s);
    };
    process.on('SIGCHLD', poll);
    // A SIGCHLD that arrived before the listener: look again now and then.
    const timer = setInterval(poll, 250);
    poll();
  });
}

export async function runConfinedSentry(args: string[], netnsPath: string | undefined, report: (line: string) => void,
  opts: { hostNetwork?: boolean; becomeWaiter?: boolean; rootGofer?: GoferOptions } = {}): Promise<number> {
  const n = sentryConfineNative();
  const script = process.argv[1];
  // The root's Gofer starts with the Sentry, in its namespaces, so their Nodes start in parallel.
  const gofer = opts.rootGofer !== undefined ? [ROOT_GOFER_FLAG, '0'.repeat(10)] : [];
  const argv = [process.execPath, ...process.execArgv, script, CHILD_FLAG, ...gofer, ...(netnsPath !== undefined ? ['--netns', netnsPath] : []), '--', ...args];
  // --network=host: the Sentry stays in the host's network namespace (its sockets are the host's).
  const newNet = netnsPath === undefined && opts.hostNetwork !== true ? 1 : 0;
  const pid = opts.rootGofer !== undefined
    ? n.sentrySpawn(process.execPath, argv, 3, netnsPath ?? '', newNet, goferArgv(opts.rootGofer), argv.indexOf(ROOT_GOFER_FLAG) + 1)
    : n.sentrySpawn(process.execPath, argv, 3, netnsPath ?? '', newNet);
  if (pid < 0) {
    report(`cannot start the Sentry in new namespaces: errno ${-pid}`);
    return 125;
  }
  // Nothing left to clean up afterwards: this ~45 MiB Node becomes a tiny waiter that
  // exits and reports the same way (native/sentry_wait.c); if it cannot, we wait here.
  const waiter = join(packageRoot(), 'build', 'Release', 'tsvisor-sentry-wait');
  if (opts.becomeWaiter === true && existsSync(waiter)) {
    // The last moment of this Node: 'exit' never comes (dist/tsvisor.mjs saves its code cache).
    (process as NodeJS.EventEmitter).emit('tsvisor:exec');
    n.execSentryWait(waiter, pid);
  }
  const status = await waitForChild(pid);
  if (status < 0) {
    report(`cannot wait for the Sentry: errno ${-status}`);
    return 125;
  }
  const sig = status & 0x7f;
  if (sig === 0) return (status >> 8) & 0xff;
  const name = SIGNAL_NAMES[sig] ?? `signal ${sig}`;
  report(sig === 31
    ? `the Sentry was killed by SIGSYS: it made a syscall its seccomp filter forbids`
    : `the Sentry was killed by ${name}`);
  return 128 + sig;
}
