import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { err, isErr } from '../../sentry/abi/result.js';
import { DevptsFs, PtsNode, type PtyMasterFile, type PtySlaveFile } from '../../sentry/fs/devpts/devpts.js';
import type { Location } from '../../sentry/vfs/mount.js';
import { O, POLL } from '../../sentry/vfs/constants.js';

const loc = null as unknown as Location;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function openPair(fs: DevptsFs): { master: PtyMasterFile; node: PtsNode } {
  const master = fs.openMaster(loc, O.RDWR | O.NONBLOCK);
  if (isErr(master)) throw new Error('openMaster failed');
  const node = fs.rootDir.children.get(String(master.pty.index));
  if (!(node instanceof PtsNode)) throw new Error('no pts node');
  return { master, node };
}

describe('devpts', () => {
  it('allocates the lowest free index and lists ptmx and the slaves', () => {
    const fs = new DevptsFs();
    const a = openPair(fs);
    const b = openPair(fs);
    expect([a.master.pty.index, b.master.pty.index]).toEqual([0, 1]);
    expect([...fs.rootDir.children.keys()].sort()).toEqual(['0', '1', 'ptmx']);
    a.master.decRef();
    expect(fs.rootDir.children.has('0')).toBe(false);
    const c = openPair(fs);
    expect(c.master.pty.index).toBe(0);
    b.master.decRef();
    c.master.decRef();
  });

  it('a locked slave cannot be opened; data flows both ways once it is', async () => {
    const fs = new DevptsFs();
    const { master, node } = openPair(fs);
    expect(node.open(loc, O.RDWR)).toBe(err(E.EIO));
    master.pty.locked = false;
    const slave = node.open(loc, O.RDWR | O.NONBLOCK) as PtySlaveFile;
    expect(master.write(enc('hi\n'), {})).toBe(3);
    const b = new Uint8Array(16);
    expect(await slave.read(b, {})).toBe(3);
    expect(await slave.write(enc('out\n'), {})).toBe(4);
    const n = await master.read(b, {});
    expect(new TextDecoder().decode(b.subarray(0, n as number))).toBe('hi\r\nout\r\n');
    slave.decRef();
    expect(master.read(b, {})).toBe(err(E.EIO));
    expect(master.readiness() & POLL.HUP).toBe(POLL.HUP);
    master.decRef();
  });

  it('closing the master hangs the slave up', async () => {
    const fs = new DevptsFs();
    const { master, node } = openPair(fs);
    master.pty.locked = false;
    const slave = node.open(loc, O.RDWR) as PtySlaveFile;
    master.decRef();
    expect(await slave.read(new Uint8Array(4), {})).toBe(0);
    expect(await slave.write(enc('x'), {})).toBe(err(E.EIO));
    expect(slave.readiness() & POLL.HUP).toBe(POLL.HUP);
    slave.decRef();
  });
});
