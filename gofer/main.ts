// The Gofer process: `tsvisor gofer --root DIR --io-fd 3 --donate-fd 4 [--ro]`, spawned by
// the Sentry already inside a fresh mount namespace. It confines itself before reading a
// single request: pivot_root into DIR, drop every capability but the file-owner ones,
// no-new-privs and a seccomp allowlist; then it serves 9P2000.L on the socket at --io-fd.

import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { goferNative } from './confine/native_gofer.js';
import { goferSeccompFilter } from './confine/policy.js';
import { GoferConnection } from './server/server.js';

/** CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID: serve files as their owner would. */
export const GOFER_KEEP_CAPS = 0x1f;

export interface GoferArgs {
  root: string;
  ioFd: number;
  donateFd?: number;
  readOnly: boolean;
  /** Test only: on SIGUSR2, try to spawn a process (the filter must kill us). */
  selftestForbidden: boolean;
}

export function parseGoferArgs(args: string[]): GoferArgs | string {
  const a: GoferArgs = { root: '', ioFd: -1, readOnly: false, selftestForbidden: false };
  for (let i = 0; i < args.length; i++) {
    const v = (): string => args[++i] ?? '';
    switch (args[i]) {
      case '--root': a.root = v(); break;
      case '--io-fd': a.ioFd = Number(v()); break;
      case '--donate-fd': a.donateFd = Number(v()); break;
      case '--ro': a.readOnly = true; break;
      case '--selftest-forbidden-syscall': a.selftestForbidden = true; break;
      default: return `unknown gofer flag ${args[i]}`;
    }
  }
  if (!a.root.startsWith('/')) return 'gofer: --root must be an absolute path';
  if (!Number.isInteger(a.ioFd) || a.ioFd < 0) return 'gofer: --io-fd must be an fd number';
  if (a.donateFd !== undefined && (!Number.isInteger(a.donateFd) || a.donateFd < 0)) return 'gofer: bad --donate-fd';
  return a;
}

/** Confines this process; returns the export root's fd or an error message. */
export function confine(root: string): number | string {
  const n = goferNative();
  const p = n.goferPivot(root);
  if (p < 0) return `gofer: cannot pivot_root into ${root}: errno ${-p}`;
  const rootFd = n.openRoot('/');
  if (rootFd < 0) return `gofer: cannot open the root: errno ${-rootFd}`;
  const c = n.dropCaps(GOFER_KEEP_CAPS, 0);
  if (c < 0) return `gofer: cannot drop capabilities: errno ${-c}`;
  const s = n.seccompInstall(goferSeccompFilter(process.pid).compile());
  if (s < 0) return `gofer: cannot install the seccomp filter: errno ${-s}`;
  return rootFd;
}

export async function goferMain(argv: string[]): Promise<number> {
  const a = parseGoferArgs(argv);
  if (typeof a === 'string') {
    process.stderr.write(`${a}\n`);
    return 2;
  }
  const rootFd = confine(a.root);
  if (typeof rootFd === 'string') {
    process.stderr.write(`${rootFd}\n`);
    return 1;
  }
  const sock = new net.Socket({ fd: a.ioFd, readable: true, writable: true });
  const conn = new GoferConnection(sock, {
    rootFd,
    readOnly: a.readOnly,
    donateFd: a.donateFd,
    log: (l) => process.stderr.write(`${l}\n`),
  });
  // What an attacker who took over the Gofer would try first: run something else.
  if (a.selftestForbidden) process.on('SIGUSR2', () => spawnSync('/bin/true'));
  await conn.done;
  return 0;
}
