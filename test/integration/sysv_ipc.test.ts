// util-linux's ipcmk/ipcs/ipcrm under `tsvisor do`, compared with a native run in a fresh
// IPC namespace: ipcs reads /proc/sysvipc and calls shmctl/semctl/msgctl *_INFO and
// *_STAT, so the summaries, limits and listings must match Linux's byte for byte.

import { describe, expect, it } from 'vitest';
import { native, sandboxed } from './helpers.js';

const SCRIPT = [
  'ipcmk -M 10000 -p 0640 >/dev/null && ipcmk -S 3 -p 0600 >/dev/null && ipcmk -Q -p 0666 >/dev/null',
  'ipcs -u; ipcs -l',
  // ipcmk picks random keys; the creator's pid differs between the runs.
  "ipcs -m | sed -E 's/^0x[0-9a-f]+/KEY/'; ipcs -s | sed -E 's/^0x[0-9a-f]+/KEY/'; ipcs -q | sed -E 's/^0x[0-9a-f]+/KEY/'",
  "ipcs -m -i 0 | grep -v time | sed -E 's/cpid=[0-9]+/cpid=N/'",
  'ipcrm -a; ipcs',
].join('\n');

describe('SysV IPC tools', () => {
  it('ipcmk, ipcs and ipcrm print what they print natively', () => {
    const n = native(['unshare', '--ipc', 'sh', '-c', SCRIPT]);
    expect(n.status, n.stderr).toBe(0);
    const s = sandboxed(['sh', '-c', SCRIPT]);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout).toBe(n.stdout);
    expect(s.stdout).toContain('segments allocated 1');
  });
});
