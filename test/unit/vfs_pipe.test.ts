import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr, type MaybePromise, type Result } from '../../sentry/abi/result.js';
import { createPipe, PIPE_BUF, PIPE_CAPACITY } from '../../sentry/fs/pipe/pipe.js';
import { O, POLL } from '../../sentry/vfs/constants.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Whether p has settled within a few event-loop turns. */
async function settled<T>(p: MaybePromise<T>): Promise<boolean> {
  if (!(p instanceof Promise)) return true;
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 20));
  return done;
}

describe('pipe', () => {
  it('passes data in order and reports EOF once the writers are gone', async () => {
    const { read, write } = createPipe();
    expect(write.write(bytes('hello '), {})).toBe(6);
    expect(write.write(bytes('world'), {})).toBe(5);
    const buf = new Uint8Array(8);
    expect(read.read(buf, {})).toBe(8);
    expect(Buffer.from(buf).toString()).toBe('hello wo');
    write.decRef();
    expect(read.read(buf, {})).toBe(3);
    expect(read.read(buf, {})).toBe(0);
    expect(read.readiness() & POLL.HUP).toBe(POLL.HUP);
    read.decRef();
  });

  it('EPIPE when no reader is left, and a blocked writer is released with what it wrote', async () => {
    const { read, write } = createPipe();
    read.decRef();
    expect(write.write(bytes('x'), {})).toEqual(expect.objectContaining({ errno: E.EPIPE }));
    expect(write.readiness() & POLL.ERR).toBe(POLL.ERR);
    write.decRef();

    const p2 = createPipe();
    const big = new Uint8Array(PIPE_CAPACITY + 100);
    const pending = p2.write.write(big, {});
    expect(await settled(pending)).toBe(false);
    p2.read.decRef();
    // A partial large write returns the bytes it got in.
    expect(await pending).toBe(PIPE_CAPACITY);
    p2.write.decRef();
  });

  it('O_NONBLOCK: EAGAIN on an empty pipe and on a full one; 64 KiB capacity', () => {
    const { read, write } = createPipe(O.NONBLOCK);
    expect(read.read(new Uint8Array(10), {})).toEqual(expect.objectContaining({ errno: E.EAGAIN }));
    expect(write.write(new Uint8Array(PIPE_CAPACITY - 10), {})).toBe(PIPE_CAPACITY - 10);
    // A small write is atomic: all or EAGAIN.
    expect(write.write(new Uint8Array(20), {})).toEqual(expect.objectContaining({ errno: E.EAGAIN }));
    // A large one takes what fits.
    expect(write.write(new Uint8Array(PIPE_BUF + 1), {})).toBe(10);
    expect(write.write(new Uint8Array(1), {})).toEqual(expect.objectContaining({ errno: E.EAGAIN }));
    expect(write.readiness() & POLL.OUT).toBe(0);
    expect(read.read(new Uint8Array(PIPE_CAPACITY * 2), {})).toBe(PIPE_CAPACITY);
    expect(write.readiness() & POLL.OUT).toBe(POLL.OUT);
  });

  it('a blocking read waits for a later write', async () => {
    const { read, write } = createPipe();
    const buf = new Uint8Array(16);
    const r = read.read(buf, {});
    expect(r).toBeInstanceOf(Promise);
    expect(await settled(r)).toBe(false);
    expect(write.write(bytes('late'), {})).toBe(4);
    expect(await r).toBe(4);
    expect(Buffer.from(buf.subarray(0, 4)).toString()).toBe('late');
  });

  it('a blocking read ends with EOF when the last writer closes, even a dup of it', async () => {
    const { read, write } = createPipe();
    write.incRef(); // a second fd on the write end
    const r = read.read(new Uint8Array(4), {});
    write.decRef();
    expect(await settled(r)).toBe(false);
    write.decRef();
    expect(await r).toBe(0);
  });

  it('a blocking atomic write waits until the whole buffer fits', async () => {
    const { read, write } = createPipe();
    expect(write.write(new Uint8Array(PIPE_CAPACITY - 100), {})).toBe(PIPE_CAPACITY - 100);
    const w = write.write(new Uint8Array(200).fill(9), {});
    expect(await settled(w)).toBe(false);
    // Freeing 50 bytes is not enough for an atomic 200-byte write.
    expect(read.read(new Uint8Array(50), {})).toBe(50);
    expect(await settled(w)).toBe(false);
    expect(read.read(new Uint8Array(100), {})).toBe(100);
    expect(await w).toBe(200);
    const rest = new Uint8Array(PIPE_CAPACITY);
    expect(read.read(rest, {})).toBe(PIPE_CAPACITY - 250 + 200);
    expect(rest[PIPE_CAPACITY - 250]).toBe(9);
  });

  it('an interrupted blocking read returns EINTR and consumes nothing', async () => {
    const { read, write } = createPipe();
    const ac = new AbortController();
    const r = read.read(new Uint8Array(4), { signal: ac.signal });
    ac.abort();
    const res: Result<number> = await r;
    expect(isErr(res) && res.errno).toBe(E.EINTR);
    write.write(bytes('ab'), {});
    expect(read.read(new Uint8Array(4), {})).toBe(2);
  });

  it('stat says FIFO', () => {
    const { read } = createPipe();
    const st = read.stat();
    expect(isErr(st) ? st : st.mode & 0o170000).toBe(0o010000);
  });
});
