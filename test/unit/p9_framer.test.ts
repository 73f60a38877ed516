// The framer turns a byte stream cut anywhere into whole 9P frames, and refuses a frame
// size it cannot trust (below a header, above msize) for good.

import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { encode } from '../../gofer/p9/codec.js';
import { Framer } from '../../gofer/p9/framer.js';

const frames = [
  encode({ kind: 'Tclunk', tag: 1, fid: 7 }),
  encode({ kind: 'Twrite', tag: 2, fid: 3, offset: 0, data: new Uint8Array(300).fill(9) }),
  encode({ kind: 'Rflush', tag: 3 }),
  encode({ kind: 'Twalk', tag: 4, fid: 1, newfid: 2, names: ['usr', 'lib'] }),
];
const stream = Buffer.concat(frames);
const hex = (a: Uint8Array[]) => a.map((f) => Buffer.from(f).toString('hex'));

describe('9P framer', () => {
  it('yields each frame once whatever the chunk boundaries', () => {
    for (let cut = 1; cut <= stream.length; cut += 1) {
      const fr = new Framer(4096);
      const out: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += cut) {
        const r = fr.push(stream.subarray(i, i + cut));
        expect(r.error).toBeNull();
        out.push(...r.frames);
      }
      expect(hex(out)).toEqual(hex(frames));
      expect(fr.buffered).toBe(0);
    }
  });

  it('returns independent copies that later input does not overwrite', () => {
    const fr = new Framer(4096);
    const first = fr.push(frames[0]!).frames[0]!;
    const copy = Buffer.from(first).toString('hex');
    fr.push(stream);
    expect(Buffer.from(first).toString('hex')).toBe(copy);
  });

  it('holds a partial frame until the rest arrives', () => {
    const fr = new Framer(4096);
    const f = frames[1]!;
    expect(fr.push(f.subarray(0, 3)).frames).toHaveLength(0);
    expect(fr.push(f.subarray(3, 100)).frames).toHaveLength(0);
    expect(fr.buffered).toBe(100);
    expect(fr.push(f.subarray(100)).frames).toHaveLength(1);
  });

  it('refuses a frame over the limit as soon as its size is readable, with the tag if present', () => {
    const fr = new Framer(256);
    const big = frames[1]!; // 300 data bytes, over 256
    const r = fr.push(big.subarray(0, 7));
    expect(r.frames).toHaveLength(0);
    expect(r.error?.errno).toBe(E.EMSGSIZE);
    expect(r.error?.tag).toBe(2);
    // Poisoned: nothing more comes out, even valid frames.
    expect(fr.push(frames[0]!)).toEqual({ frames: [], error: r.error });
    expect(fr.buffered).toBe(0);
  });

  it('delivers the good frames before a bad size and then stops', () => {
    const fr = new Framer(4096);
    const bad = new Uint8Array([3, 0, 0, 0, 120, 1, 0]);
    const r = fr.push(Buffer.concat([frames[0]!, bad, frames[2]!]));
    expect(hex(r.frames)).toEqual(hex([frames[0]!]));
    expect(r.error?.errno).toBe(E.EINVAL);
  });

  it('applies a new limit after msize negotiation', () => {
    const fr = new Framer(1 << 20);
    fr.setMaxFrame(100);
    expect(fr.maxFrame).toBe(100);
    expect(fr.push(frames[1]!).error?.errno).toBe(E.EMSGSIZE);
  });
});
