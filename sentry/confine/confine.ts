// The Sentry's own confinement once the sandbox is booted: every capability dropped (the
// stubs are our tracees already, the packet sockets are open), no-new-privs and the
// seccomp allowlist. Namespaces come earlier, from the spawn (sentry_process.ts).

import { spawnSync } from 'node:child_process';
import { sentryConfineNative } from './native_sentry.js';
import { sentrySeccompFilter } from './policy.js';

export interface ConfineOptions {
  /** The spawned Sentry (pid 1 of its own namespaces): swap the root for an empty one. */
  pivot?: boolean;
  /** --network=host: the seccomp policy also allows hostinet's socket calls. */
  hostNetwork?: boolean;
  /** Test only: right after confinement, try to run a program (the filter must kill us). */
  selftestForbidden?: boolean;
}

/** Confines the calling Sentry process; an error message on failure. */
export function confineSentry(opts: ConfineOptions = {}): string | undefined {
  const n = sentryConfineNative();
  if (opts.pivot === true) {
    const p = n.sentryPivotEmpty();
    if (p < 0) return `cannot give the Sentry an empty root: errno ${-p}`;
  }
  const c = n.dropCaps(0, 0);
  if (c < 0) return `cannot drop the Sentry's capabilities: errno ${-c}`;
  const s = n.seccompInstall(sentrySeccompFilter({ hostNetwork: opts.hostNetwork === true }).compile());
  if (s < 0) return `cannot install the Sentry's seccomp filter: errno ${-s}`;
  // What an attacker who took over the Sentry would try first: run something on the host.
  if (opts.selftestForbidden === true) setImmediate(() => spawnSync('/bin/true'));
  return undefined;
}
