// Namespaces created inside the sandbox by real tools: busybox and util-linux `unshare`
// making a pid + mount namespace with its own /proc (ps sees only that namespace, the shell is
// pid 1), a UTS namespace's hostname staying inside it, and refused namespace kinds.

import { describe, expect, it } from 'vitest';
import { BUSYBOX, sandboxed } from './helpers.js';

/** The PID column of ps output (header dropped). */
function pids(psOut: string[]): number[] {
  return psOut.map((l) => Number(l.trim().split(/\s+/)[0])).filter((n) => Number.isInteger(n));
}

describe('namespaces inside the sandbox', () => {
  it('busybox unshare -p -f -m --mount-proc: the shell is pid 1 and ps lists only its namespace', () => {
    const r = sandboxed([BUSYBOX, 'unshare', '-p', '-f', '-m', '--mount-proc', BUSYBOX, 'sh', '-c', `echo $$; ${BUSYBOX} sleep 30 & ${BUSYBOX} ps; kill $!`]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('1');
    expect(lines[1]).toMatch(/PID/);
    const seen = pids(lines.slice(2));
    // sh (1), sleep and ps: nothing from outside the namespace (the sandbox's init, unshare).
    expect(seen.sort((a, b) => a - b)).toEqual([1, 2, 3]);
  });

  it('util-linux unshare from the host rootfs: ps -e shows sh as pid 1 and ps as pid 2', () => {
    const r = sandboxed(['unshare', '--pid', '--fork', '--mount', '--mount-proc', 'sh', '-c', 'echo $$; ps -e -o pid=,comm='], {});
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim());
    expect(lines).toEqual(['1', '1 sh', '2 ps']);
  });

  it('a UTS namespace keeps its hostname to itself', () => {
    const r = sandboxed(['sh', '-c', 'before=$(hostname); unshare -u sh -c "hostname inner; hostname; cat /proc/sys/kernel/hostname"; [ "$(hostname)" = "$before" ] && echo same']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['inner', 'inner', 'same']);
  });

  it('network and user namespaces are refused with EPERM', () => {
    const n = sandboxed(['unshare', '-n', 'true']);
    expect(n.status).not.toBe(0);
    expect(n.stderr).toMatch(/Operation not permitted/);
    const u = sandboxed(['unshare', '-U', 'true']);
    expect(u.status).not.toBe(0);
    expect(u.stderr).toMatch(/Operation not permitted/);
  });
});
