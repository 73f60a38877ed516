import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { err } from '../../sentry/abi/result.js';
import { EventFdFile } from '../../sentry/fs/eventfd/eventfd.js';
import { O, POLL } from '../../sentry/vfs/constants.js';

const u64 = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
};
const val = (b: Uint8Array): bigint => new DataView(b.buffer).getBigUint64(0, true);

describe('eventfd', () => {
  it('adds writes, reads and resets the counter, EAGAIN when empty and non-blocking', () => {
    const f = new EventFdFile(2n, false, O.NONBLOCK);
    expect(f.write(u64(5n), {})).toBe(8);
    const b = new Uint8Array(8);
    expect(f.read(b, {})).toBe(8);
    expect(val(b)).toBe(7n);
    expect(f.read(b, {})).toBe(err(E.EAGAIN));
    expect(f.readiness()).toBe(POLL.OUT | POLL.WRNORM);
    f.decRef();
  });

  it('semaphore mode reads 1 at a time', () => {
    const f = new EventFdFile(2n, true, O.NONBLOCK);
    const b = new Uint8Array(8);
    expect(f.read(b, {})).toBe(8);
    expect(val(b)).toBe(1n);
    expect(f.counter).toBe(1n);
    f.decRef();
  });

  it('rejects short buffers and the all-ones value; a full counter blocks writers', () => {
    const f = new EventFdFile(0n, false, O.NONBLOCK);
    expect(f.read(new Uint8Array(4), {})).toBe(err(E.EINVAL));
    expect(f.write(u64(0xffffffffffffffffn), {})).toBe(err(E.EINVAL));
    expect(f.write(u64(0xfffffffffffffffen), {})).toBe(8);
    expect(f.write(u64(1n), {})).toBe(err(E.EAGAIN));
    expect(f.readiness()).toBe(POLL.IN | POLL.RDNORM);
    f.decRef();
  });

  it('a blocked read resumes on write and returns EINTR when interrupted', async () => {
    const f = new EventFdFile(0n, false, 0);
    const b = new Uint8Array(8);
    const pending = f.read(b, {});
    expect(pending).toBeInstanceOf(Promise);
    f.write(u64(3n), {});
    expect(await pending).toBe(8);
    expect(val(b)).toBe(3n);
    const ac = new AbortController();
    const p2 = f.read(b, { signal: ac.signal });
    ac.abort();
    expect(await p2).toBe(err(E.EINTR));
    f.decRef();
  });
});
