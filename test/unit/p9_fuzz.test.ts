// Fuzz: thousands of random, mutated, truncated and oversized frames fed to decode and to
// the framer. Nothing may throw or hang; anything that decodes must re-encode to a frame
// that decodes to the same message.

import { describe, expect, it } from 'vitest';
import { SysError } from '../../sentry/abi/result.js';
import { decode, encode } from '../../gofer/p9/codec.js';
import { MAX_MSIZE, T } from '../../gofer/p9/constants.js';
import { P9ProtocolError } from '../../gofer/p9/errors.js';
import { Framer } from '../../gofer/p9/framer.js';
import type { P9Message } from '../../gofer/p9/messages.js';
import { rng } from './xorshift.js';

const q = { type: 0x80, version: 1, path: 99n };
const seeds: P9Message[] = [
  { kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' },
  { kind: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'u', aname: '/', nUname: 0 },
  { kind: 'Twalk', tag: 2, fid: 0, newfid: 1, names: ['a', 'bb', 'ccc'] },
  { kind: 'Rwalk', tag: 2, qids: [q, q] },
  { kind: 'Tread', tag: 3, fid: 1, offset: 5, count: 100 },
  { kind: 'Rread', tag: 3, data: new Uint8Array([1, 2, 3, 4]) },
  { kind: 'Twrite', tag: 4, fid: 1, offset: 0, data: new Uint8Array(40).fill(7) },
  { kind: 'Rreaddir', tag: 5, entries: [{ qid: q, offset: 1n, type: 4, name: '.' }, { qid: q, offset: 2n, type: 8, name: 'file' }] },
  { kind: 'Tlcreate', tag: 6, fid: 1, name: 'n', flags: 0, mode: 0o644, gid: 0 },
  {
    kind: 'Tsetattr', tag: 7, fid: 1,
    attr: { valid: 8, mode: 0, uid: 0, gid: 0, size: 3, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0 },
  },
  { kind: 'Tlock', tag: 8, fid: 1, type: 1, flags: 0, start: 0, length: 0, procId: 1, clientId: 'x' },
  { kind: 'Trenameat', tag: 9, oldDirFid: 1, oldName: 'a', newDirFid: 2, newName: 'b' },
  { kind: 'Rlerror', tag: 10, ecode: 2 },
  { kind: 'Tflush', tag: 11, oldtag: 10 },
];
const seedFrames = seeds.map(encode);
const types = Object.values(T);

function withSize(b: Uint8Array): Uint8Array {
  if (b.length >= 4) new DataView(b.buffer, b.byteOffset).setUint32(0, b.length, true);
  return b;
}

function mutate(next: () => number): Uint8Array {
  const base = seedFrames[next() % seedFrames.length]!;
  const b = new Uint8Array(base);
  switch (next() % 7) {
    case 0: // random bytes, random length, random type byte
    {
      const r = new Uint8Array(next() % 80);
      for (let i = 0; i < r.length; i++) r[i] = next() & 0xff;
      if (r.length > 4) r[4] = types[next() % types.length]!;
      return next() % 2 ? withSize(r) : r;
    }
    case 1: // flip a few bytes in the body, keep the size right
      for (let k = 0; k < 1 + (next() % 4); k++) b[7 + (next() % Math.max(1, b.length - 7))] ^= 1 << (next() % 8);
      return b.subarray(0, b.length);
    case 2: // truncate, fix the size field (a shortened but self-consistent frame)
      return withSize(b.slice(0, next() % (b.length + 1)));
    case 3: // truncate, leave the size field lying
      return b.slice(0, next() % (b.length + 1));
    case 4: // extend with junk
    {
      const e = new Uint8Array(b.length + 1 + (next() % 20));
      e.set(b);
      for (let i = b.length; i < e.length; i++) e[i] = next() & 0xff;
      return next() % 2 ? withSize(e) : e;
    }
    case 5: // make a length or count field huge
    {
      const at = 7 + (next() % Math.max(1, b.length - 8));
      if (at + 2 <= b.length) b[at] = b[at + 1] = 0xff;
      return b;
    }
    default: // wrong type byte for a valid body
      b[4] = types[next() % types.length]!;
      return b;
  }
}

describe('9P fuzz', () => {
  it('decode never throws, and whatever decodes round-trips', () => {
    const next = rng(0x9e3779b9);
    const started = Date.now();
    let decoded = 0;
    let rejected = 0;
    for (let i = 0; i < 20_000; i++) {
      const f = mutate(next);
      const msize = next() % 4 === 0 ? 7 + (next() % 64) : MAX_MSIZE;
      const m = decode(f, msize);
      if (m instanceof SysError) {
        expect(m).toBeInstanceOf(P9ProtocolError);
        // The tag is reported exactly when the header was present.
        if ((m as P9ProtocolError).tag !== null) expect(f.length).toBeGreaterThanOrEqual(7);
        rejected++;
      } else {
        decoded++;
        // Re-encoding may grow a frame (invalid UTF-8 becomes U+FFFD), so re-decode without the msize cap.
        const again = decode(encode(m));
        expect(again).toEqual(m);
      }
    }
    expect(decoded).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(1000);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('the framer survives random streams and recovers every frame of a clean one', () => {
    const next = rng(12345);
    const started = Date.now();
    for (let round = 0; round < 300; round++) {
      // A clean stream of valid frames in random chunks: all frames come out, in order.
      const picked = Array.from({ length: 1 + (next() % 12) }, () => seedFrames[next() % seedFrames.length]!);
      const stream = Buffer.concat(picked);
      const fr = new Framer(8192);
      const out: Uint8Array[] = [];
      for (let i = 0; i < stream.length; ) {
        const n = 1 + (next() % 64);
        const r = fr.push(stream.subarray(i, i + n));
        expect(r.error).toBeNull();
        out.push(...r.frames);
        i += n;
      }
      expect(out.map((f) => Buffer.from(f).toString('hex'))).toEqual(picked.map((f) => Buffer.from(f).toString('hex')));

      // A garbage stream: no throw, frames bounded by the limit, and once poisoned it stays so.
      const junk = new Uint8Array(next() % 2000);
      for (let i = 0; i < junk.length; i++) junk[i] = next() & 0xff;
      const g = new Framer(64 + (next() % 512));
      let poisoned = false;
      for (let i = 0; i < junk.length; i += 1 + (next() % 100)) {
        const r = g.push(junk.subarray(i, i + 1 + (next() % 100)));
        for (const f of r.frames) {
          expect(f.length).toBeLessThanOrEqual(g.maxFrame);
          expect(f.length).toBeGreaterThanOrEqual(7);
          expect(isErrOrMsg(decode(f, g.maxFrame))).toBe(true);
        }
        if (poisoned) expect(r.frames).toHaveLength(0);
        if (r.error) poisoned = true;
      }
    }
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

function isErrOrMsg(x: unknown): boolean {
  return x instanceof P9ProtocolError || (typeof x === 'object' && x !== null && 'kind' in x);
}
