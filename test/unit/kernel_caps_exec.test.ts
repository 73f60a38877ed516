// execve's capability rules (capabilities(7)) for files without file capabilities, and
// the sets an OCI config gives a process.

import { describe, expect, it } from 'vitest';
import { CAP_FULL, Credentials } from '../../sentry/kernel/credentials.js';
import { capSets } from '../../runsc-cli/oci/capabilities.js';

const bit = (n: number): bigint => 1n << BigInt(n);
const CHOWN = 0;
const KILL = 5;
const NET_BIND = 10;

describe('capabilities across execve', () => {
  it('root gets bounding | inheritable | ambient, effective too', () => {
    const c = Credentials.withCaps(0, 0, [], { bounding: bit(CHOWN) | bit(KILL), effective: 0n, permitted: bit(CHOWN), inheritable: 0n, ambient: 0n });
    c.keepCaps = true;
    c.applyExec();
    expect(c.capPermitted).toBe(bit(CHOWN) | bit(KILL));
    expect(c.capEffective).toBe(bit(CHOWN) | bit(KILL));
    expect(c.keepCaps).toBe(false);
  });

  it('a non-root process keeps only its ambient set', () => {
    const set = bit(NET_BIND) | bit(KILL);
    const c = Credentials.withCaps(1000, 1000, [], { bounding: CAP_FULL, effective: set, permitted: set, inheritable: bit(NET_BIND), ambient: set });
    // Ambient is clipped to permitted & inheritable.
    expect(c.capAmbient).toBe(bit(NET_BIND));
    c.applyExec();
    expect(c.capPermitted).toBe(bit(NET_BIND));
    expect(c.capEffective).toBe(bit(NET_BIND));
  });

  it('leaving uid 0 clears ambient with permitted; clone keeps every set', () => {
    const c = Credentials.withCaps(0, 0, [], { bounding: bit(KILL), effective: bit(KILL), permitted: bit(KILL), inheritable: bit(KILL), ambient: bit(KILL) });
    const d = c.clone();
    expect([d.capBounding, d.capAmbient, d.capInheritable]).toEqual([bit(KILL), bit(KILL), bit(KILL)]);
    c.setUids(1000, 1000, 1000);
    expect([c.capPermitted, c.capEffective, c.capAmbient]).toEqual([0n, 0n, 0n]);
  });

  it('maps OCI names to bits; a set left out is empty', () => {
    const s = capSets({ bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN'] });
    expect(s).toEqual({ bounding: bit(CHOWN) | bit(KILL), effective: bit(CHOWN), permitted: 0n, inheritable: 0n, ambient: 0n });
    expect(capSets({ bounding: ['CAP_CHECKPOINT_RESTORE'] }).bounding).toBe(bit(40));
  });
});
