// A confined OCI Sentry is pid 1 of its own PID namespace: the pids it reports for its stubs
// are that namespace's. runc's `ps` reports host pids, so the host side translates them.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function pidNs(pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** The child of sandboxPid that lives in another PID namespace (the confined Sentry), if any. */
function confinedChild(sandboxPid: number): number | undefined {
  let kids: string;
  try {
    kids = readFileSync(`/proc/${sandboxPid}/task/${sandboxPid}/children`, 'utf8');
  } catch {
    return undefined;
  }
  const own = pidNs('self');
  for (const k of kids.trim().split(/\s+/).filter((x) => x !== '').map(Number)) {
    const ns = pidNs(k);
    if (ns !== undefined && ns !== own) return k;
  }
  return undefined;
}

/**
 * Host pids for pids reported by the Sentry under sandboxPid: unchanged when that Sentry
 * shares our PID namespace; else looked up through /proc/N/status's NSpid line.
 */
export function hostPidsOf(sandboxPid: number, pids: number[]): number[] {
  const child = confinedChild(sandboxPid);
  if (child === undefined) return pids;
  const ns = pidNs(child);
  const byInner = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || pidNs(Number(e)) !== ns) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${e}/status`, 'utf8');
    } catch {
      continue;
    }
    const line = status.split('\n').find((l) => l.startsWith('NSpid:'));
    const ids = line?.slice(6).trim().split(/\s+/).map(Number);
    if (ids !== undefined && ids.length > 1) byInner.set(ids[ids.length - 1], Number(e));
  }
  // A process gone since the Sentry answered has no host pid left to report.
  return pids.flatMap((p) => (byInner.has(p) ? [byInner.get(p) as number] : []));
}
