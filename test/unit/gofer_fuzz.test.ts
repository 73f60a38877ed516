// Robustness of the Gofer's server: thousands of random, mutated, truncated and oversized
// frames, each on a session that has a real export attached and a file open. Nothing may
// throw, nothing may hang: every frame is answered (a reply with its tag) or the
// connection is closed; and nothing outside the export changes.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isErr } from '../../sentry/abi/result.js';
import { goferNative } from '../../gofer/confine/native_gofer.js';
import { decode, encode } from '../../gofer/p9/codec.js';
import { L_O, NOFID, T } from '../../gofer/p9/constants.js';
import { Framer } from '../../gofer/p9/framer.js';
import type { P9Message, TMessage } from '../../gofer/p9/messages.js';
import { GoferConnection } from '../../gofer/server/server.js';
import { rng } from './xorshift.js';

/** A stream end whose writes we collect and whose input we push synchronously. */
class Wire extends Duplex {
  readonly out = new Framer(1 << 20);
  readonly replies: P9Message[] = [];
  gone = false;
  constructor() {
    super();
    this.on('close', () => (this.gone = true));
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    for (const f of this.out.push(chunk).frames) {
      const m = decode(f);
      if (!isErr(m)) this.replies.push(m);
    }
    cb();
  }
  override _destroy(_e: Error | null, cb: () => void): void {
    this.gone = true;
    cb();
  }
  feed(b: Uint8Array): void {
    this.emit('data', b);
  }
}

const setup: TMessage[] = [
  { kind: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000.L' },
  { kind: 'Tattach', tag: 1, fid: 0, afid: NOFID, uname: 'u', aname: '', nUname: 0 },
  { kind: 'Twalk', tag: 2, fid: 0, newfid: 1, names: ['dir', 'file'] },
  { kind: 'Tlopen', tag: 3, fid: 1, flags: L_O.RDWR },
  { kind: 'Twalk', tag: 4, fid: 0, newfid: 2, names: ['dir'] },
];

const seeds: TMessage[] = [
  { kind: 'Tread', tag: 10, fid: 1, offset: 0, count: 100 },
  { kind: 'Twrite', tag: 11, fid: 1, offset: 3, data: new Uint8Array(40).fill(7) },
  { kind: 'Twalk', tag: 12, fid: 0, newfid: 5, names: ['dir', '..', 'dir', 'file'] },
  { kind: 'Tgetattr', tag: 13, fid: 1, requestMask: 0x7ff },
  { kind: 'Treaddir', tag: 14, fid: 2, offset: 0n, count: 500 },
  { kind: 'Tlcreate', tag: 15, fid: 2, name: 'n', flags: 2, mode: 0o644, gid: 0 },
  { kind: 'Tmkdir', tag: 16, dfid: 2, name: 'm', mode: 0o755, gid: 0 },
  { kind: 'Tsymlink', tag: 17, dfid: 2, name: 's', target: '/etc/passwd', gid: 0 },
  { kind: 'Trenameat', tag: 18, oldDirFid: 2, oldName: 'file', newDirFid: 0, newName: 'x' },
  { kind: 'Tunlinkat', tag: 19, dfid: 2, name: 'file', flags: 0 },
  {
    kind: 'Tsetattr', tag: 20, fid: 1,
    attr: { valid: 8, mode: 0, uid: 0, gid: 0, size: 3, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0 },
  },
  { kind: 'Tflush', tag: 21, oldtag: 10 },
  { kind: 'Tclunk', tag: 22, fid: 1 },
  { kind: 'Tremove', tag: 23, fid: 2 },
  { kind: 'Tstatfs', tag: 24, fid: 0 },
  { kind: 'Treadlink', tag: 25, fid: 1 },
  { kind: 'Txattrwalk', tag: 26, fid: 1, newfid: 9, name: 'user.x' },
];
const seedFrames = seeds.map(encode);
const types = Object.values(T);

function withSize(b: Uint8Array): Uint8Array {
  if (b.length >= 4) new DataView(b.buffer, b.byteOffset).setUint32(0, b.length, true);
  return b;
}

function mutate(next: () => number): Uint8Array {
  const b = new Uint8Array(seedFrames[next() % seedFrames.length]!);
  switch (next() % 8) {
    case 0: {
      const r = new Uint8Array(next() % 80);
      for (let i = 0; i < r.length; i++) r[i] = next() & 0xff;
      if (r.length > 4) r[4] = types[next() % types.length]!;
      return next() % 2 ? withSize(r) : r;
    }
    case 1:
      for (let k = 0; k < 1 + (next() % 4); k++) b[7 + (next() % Math.max(1, b.length - 7))] ^= 1 << (next() % 8);
      return b;
    case 2:
      return withSize(b.slice(0, next() % (b.length + 1)));
    case 3:
      return b.slice(0, next() % (b.length + 1));
    case 4: {
      const e = new Uint8Array(b.length + 1 + (next() % 20));
      e.set(b);
      for (let i = b.length; i < e.length; i++) e[i] = next() & 0xff;
      return next() % 2 ? withSize(e) : e;
    }
    case 5: {
      const at = 7 + (next() % Math.max(1, b.length - 8));
      if (at + 2 <= b.length) b[at] = b[at + 1] = 0xff;
      return b;
    }
    case 6: {
      // Oversized: a size field far beyond msize, with or without the bytes.
      const big = new Uint8Array(next() % 2 ? 70_000 : 16);
      big.set(b.subarray(0, Math.min(b.length, big.length)));
      new DataView(big.buffer).setUint32(0, next() % 2 ? big.length : 0xfffffff0, true);
      return big;
    }
    default:
      b[4] = types[next() % types.length]!;
      return b;
  }
}

async function settle(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setImmediate(r));
  return done();
}

describe('gofer server fuzz', () => {
  let parent: string;
  let dir: string;
  beforeAll(() => {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-fuzz-'));
    dir = path.join(parent, 'export');
    fs.writeFileSync(path.join(parent, 'outside.txt'), 'keep');
  });
  afterAll(() => {
    fs.rmSync(parent, { recursive: true, force: true });
  });

  it('answers or closes on every frame, and never throws or hangs', async () => {
    const next = rng(0xc0ffee);
    const n = goferNative();
    let answered = 0;
    let closed = 0;
    const started = Date.now();
    for (let i = 0; i < 3000; i++) {
      // A fresh tree only when an earlier frame changed it.
      const entries = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
      if (entries.length !== 1 || !fs.existsSync(path.join(dir, 'dir', 'file')) || fs.readdirSync(path.join(dir, 'dir')).length !== 1) {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(path.join(dir, 'dir'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'dir', 'file'), 'contents');
      }
      const exportFd = n.openRoot(dir);
      const w = new Wire();
      const conn = new GoferConnection(w, { rootFd: exportFd, readOnly: false });
      for (const m of setup) w.feed(encode(m));
      expect(await settle(() => w.replies.length >= setup.length)).toBe(true);
      const before = w.replies.length;
      const frame = mutate(next);
      const tag = frame.length >= 7 ? frame[5]! | (frame[6]! << 8) : -1;
      w.feed(frame);
      const replied = (): boolean => w.replies.slice(before).some((r) => r.tag === tag);
      if (!(await settle(() => replied() || w.gone))) {
        // Still waiting for the rest of a frame: complete it with zeros, which must end in
        // an answer or a closed connection (a zero size field cannot be framed).
        w.feed(new Uint8Array(70_000));
        expect(await settle(() => replied() || w.gone), `frame ${i}: ${Buffer.from(frame.subarray(0, 32)).toString('hex')}`).toBe(true);
      }
      if (replied()) answered++;
      else closed++;
      conn.close();
      await conn.done;
      n.closeFd(exportFd);
    }
    expect(answered).toBeGreaterThan(1000);
    expect(closed).toBeGreaterThan(100);
    expect(fs.readFileSync(path.join(parent, 'outside.txt'), 'utf8')).toBe('keep');
    expect(fs.readdirSync(parent).sort()).toEqual(['export', 'outside.txt']);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);
});
