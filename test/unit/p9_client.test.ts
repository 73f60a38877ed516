// The 9P client against a scripted in-process server: version negotiation, tag matching
// with replies out of order, Rlerror as SysError, long walks split in 16s, flush, fallbacks,
// and EIO for every pending request when the connection breaks or turns to garbage.

import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr, SysError, type Result } from '../../sentry/abi/result.js';
import { P9Client } from '../../gofer/p9/client.js';
import { decode, encode } from '../../gofer/p9/codec.js';
import { AT_REMOVEDIR, QT } from '../../gofer/p9/constants.js';
import { Framer } from '../../gofer/p9/framer.js';
import type { Qid, RMessage, TMessage } from '../../gofer/p9/messages.js';

/** Two in-memory stream ends: what one writes the other reads; destroying one closes both. */
function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        peer().push(chunk);
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
      destroy(e, cb) {
        const p = peer();
        if (!p.destroyed) p.destroy();
        cb(e);
      },
    });
  ends.push(make(() => ends[1]!), make(() => ends[0]!));
  return [ends[0]!, ends[1]!];
}

type Handler = (m: TMessage, srv: FakeServer) => void;

/** A server that answers Tversion itself and hands every other request to a script. */
class FakeServer {
  readonly seen: TMessage[] = [];
  private readonly framer = new Framer(1 << 20);
  constructor(readonly end: Duplex, private handler: Handler, private msize = 8192, private version = '9P2000.L') {
    end.on('data', (c: Buffer) => {
      for (const f of this.framer.push(c).frames) {
        const m = decode(f);
        if (isErr(m)) throw new Error('client sent a malformed frame');
        this.seen.push(m as TMessage);
        if (m.kind === 'Tversion') {
          this.reply({ kind: 'Rversion', tag: m.tag, msize: Math.min(m.msize, this.msize), version: this.version });
        } else this.handler(m as TMessage, this);
      }
    });
    end.on('error', () => {});
  }
  reply(m: RMessage): void {
    this.end.write(encode(m));
  }
  raw(b: Uint8Array): void {
    this.end.write(b);
  }
}

async function setup(handler: Handler, msize = 8192): Promise<{ c: P9Client; srv: FakeServer }> {
  const [a, b] = duplexPair();
  const srv = new FakeServer(b, handler, msize);
  const c = await P9Client.connect(a, { msize: 65536 });
  if (isErr(c)) throw new Error(`connect failed ${c.errno}`);
  return { c, srv };
}

const qid = (path: number, type = 0): Qid => ({ type, version: 0, path: BigInt(path) });
const errnoOf = (r: Result<unknown>): number => (r instanceof SysError ? r.errno : 0);

describe('P9Client', () => {
  it('negotiates the smaller msize and sends Tversion with NOTAG', async () => {
    const { c, srv } = await setup(() => {}, 4096);
    expect(c.msize).toBe(4096);
    expect(c.version).toBe('9P2000.L');
    expect(c.maxIo).toBe(4096 - 24);
    expect(srv.seen[0]).toEqual({ kind: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000.L' });
    c.close();
  });

  it('fails connect with EPROTONOSUPPORT when the server does not speak 9P2000.L', async () => {
    const [a, b] = duplexPair();
    new FakeServer(b, () => {}, 8192, 'unknown');
    const r = await P9Client.connect(a);
    expect(errnoOf(r)).toBe(E.EPROTONOSUPPORT);
    expect(a.destroyed).toBe(true);
  });

  it('fails connect with EIO when the server hangs up', async () => {
    const [a, b] = duplexPair();
    b.on('data', () => b.destroy());
    expect(errnoOf(await P9Client.connect(a))).toBe(E.EIO);
  });

  it('matches replies to requests by tag even when answered out of order', async () => {
    const held: TMessage[] = [];
    const { c, srv } = await setup((m, s) => {
      held.push(m);
      if (held.length === 3) {
        for (const h of held.reverse()) {
          if (h.kind === 'Tread') s.reply({ kind: 'Rread', tag: h.tag, data: new Uint8Array([h.offset]) });
        }
      }
    });
    const rs = await Promise.all([c.read(1, 10, 1), c.read(1, 20, 1), c.read(1, 30, 1)]);
    expect(rs.map((r) => (r as Uint8Array)[0])).toEqual([10, 20, 30]);
    const tags = srv.seen.filter((m) => m.kind === 'Tread').map((m) => m.tag);
    expect(new Set(tags).size).toBe(3);
    expect(c.outstanding).toBe(0);
    c.close();
  });

  it('keeps many requests in flight with distinct tags', async () => {
    const { c, srv } = await setup((m, s) => {
      if (m.kind === 'Tgetattr') {
        // Answer later, from a timer, so all 200 are outstanding together.
        setTimeout(() => s.reply({ kind: 'Rlerror', tag: m.tag, ecode: m.fid }), 0);
      }
    });
    const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => c.getattr(i + 1)));
    expect(rs.map(errnoOf)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(new Set(srv.seen.filter((m) => m.kind === 'Tgetattr').map((m) => m.tag)).size).toBe(200);
    c.close();
  });

  it('turns Rlerror into SysError(errno), and an implausible errno into EIO', async () => {
    const { c } = await setup((m, s) => s.reply({ kind: 'Rlerror', tag: m.tag, ecode: m.kind === 'Tclunk' ? 0 : E.EACCES }));
    expect(errnoOf(await c.lopen(1, 0))).toBe(E.EACCES);
    expect(errnoOf(await c.clunk(1))).toBe(E.EIO);
    c.close();
  });

  it('fails only the affected request with EIO on a wrong-kind or malformed reply', async () => {
    const { c } = await setup((m, s) => {
      if (m.kind === 'Tlopen') s.reply({ kind: 'Rclunk', tag: m.tag });
      else if (m.kind === 'Treadlink') {
        // Rreadlink whose string length runs past the frame.
        s.raw(new Uint8Array([10, 0, 0, 0, 23, m.tag & 0xff, m.tag >> 8, 50, 0, 0x61]));
      } else if (m.kind === 'Tclunk') s.reply({ kind: 'Rclunk', tag: m.tag });
    });
    expect(errnoOf(await c.lopen(1, 0))).toBe(E.EIO);
    expect(errnoOf(await c.readlink(1))).toBe(E.EIO);
    expect(await c.clunk(1)).toBeUndefined();
    expect(c.closed).toBe(false);
    c.close();
  });

  it('fails every pending and later request with EIO when the connection drops', async () => {
    const { c, srv } = await setup(() => {});
    const pending = [c.read(1, 0, 10), c.getattr(1), c.walk(1, ['a'])];
    await new Promise((r) => setTimeout(r, 5));
    srv.end.destroy();
    expect((await Promise.all(pending)).map(errnoOf)).toEqual([E.EIO, E.EIO, E.EIO]);
    await c.whenClosed;
    expect(errnoOf(await c.statfs(1))).toBe(E.EIO);
  });

  it('closes the connection when the server sends an oversized frame', async () => {
    const { c } = await setup((m, s) => {
      if (m.kind === 'Tread') s.raw(new Uint8Array([0xff, 0xff, 0xff, 0x7f, 117, m.tag & 0xff, m.tag >> 8]));
    });
    const other = c.getattr(5);
    expect(errnoOf(await c.read(1, 0, 10))).toBe(E.EIO);
    expect(errnoOf(await other)).toBe(E.EIO);
    expect(c.closed).toBe(true);
  });

  it('splits a walk of more than 16 names and returns every qid', async () => {
    const { c, srv } = await setup((m, s) => {
      if (m.kind === 'Twalk') s.reply({ kind: 'Rwalk', tag: m.tag, qids: m.names.map((_, i) => qid(i, QT.DIR)) });
    });
    const names = Array.from({ length: 20 }, (_, i) => `d${i}`);
    const r = await c.walk(0, names);
    if (isErr(r)) throw new Error('walk failed');
    expect(r.qids).toHaveLength(20);
    const walks = srv.seen.filter((m) => m.kind === 'Twalk');
    expect(walks.map((w) => [w.fid, w.newfid, w.names.length])).toEqual([
      [0, r.fid, 16],
      [r.fid, r.fid, 4],
    ]);
    c.close();
  });

  it('reports a walk that stops early as ENOENT and clunks the half-made fid', async () => {
    const { c, srv } = await setup((m, s) => {
      if (m.kind === 'Twalk') {
        const n = m.fid === m.newfid ? 1 : m.names.length; // second chunk stops after one name
        s.reply({ kind: 'Rwalk', tag: m.tag, qids: m.names.slice(0, n).map((_, i) => qid(i)) });
      } else if (m.kind === 'Tclunk') s.reply({ kind: 'Rclunk', tag: m.tag });
    });
    const r = await c.walk(0, Array.from({ length: 18 }, () => 'x'));
    expect(errnoOf(r)).toBe(E.ENOENT);
    const walkFid = srv.seen.find((m) => m.kind === 'Twalk')!;
    expect(srv.seen.filter((m) => m.kind === 'Tclunk')).toEqual([
      { kind: 'Tclunk', tag: expect.any(Number), fid: (walkFid as { newfid: number }).newfid },
    ]);
    // The fid number is reusable afterwards.
    expect(c.allocFid()).toBe((walkFid as { newfid: number }).newfid);
    c.close();
  });

  it('sends Tflush when a request is aborted and answers EINTR once Rflush arrives', async () => {
    let readTag = -1;
    const { c, srv } = await setup((m, s) => {
      if (m.kind === 'Tread') readTag = m.tag;
      if (m.kind === 'Tflush') {
        s.reply({ kind: 'Rflush', tag: m.tag });
        // A late original reply after Rflush must be ignored.
        s.reply({ kind: 'Rread', tag: m.oldtag, data: new Uint8Array([1]) });
      }
    });
    const ac = new AbortController();
    const p = c.read(1, 0, 10, ac.signal);
    await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    expect(errnoOf(await p)).toBe(E.EINTR);
    expect(srv.seen.find((m) => m.kind === 'Tflush')).toMatchObject({ oldtag: readTag });
    expect(c.outstanding).toBe(0);
    c.close();
  });

  it('delivers the original reply if it beats Rflush', async () => {
    const { c } = await setup((m, s) => {
      if (m.kind === 'Tflush') {
        s.reply({ kind: 'Rread', tag: m.oldtag, data: new Uint8Array([42]) });
        s.reply({ kind: 'Rflush', tag: m.tag });
      }
    });
    const ac = new AbortController();
    const p = c.read(1, 0, 10, ac.signal);
    ac.abort();
    expect(Array.from((await p) as Uint8Array)).toEqual([42]);
    c.close();
  });

  it('splits large writes and reads to the negotiated msize', async () => {
    const file = new Uint8Array(10_000);
    const { c, srv } = await setup((m, s) => {
      if (m.kind === 'Twrite') {
        file.set(m.data, m.offset);
        s.reply({ kind: 'Rwrite', tag: m.tag, count: m.data.length });
      } else if (m.kind === 'Tread') {
        s.reply({ kind: 'Rread', tag: m.tag, data: file.subarray(m.offset, m.offset + m.count) });
      }
    }, 4096);
    const data = new Uint8Array(10_000).map((_, i) => i & 0xff);
    expect(await c.writeAll(1, 0, data)).toBe(10_000);
    const writes = srv.seen.filter((m) => m.kind === 'Twrite');
    expect(writes.length).toBe(3);
    for (const w of writes) expect(encode(w).length).toBeLessThanOrEqual(4096);
    const back = await c.readFull(1, 0, 20_000);
    expect(Buffer.from(back as Uint8Array).equals(Buffer.from(data))).toBe(true);
    c.close();
  });

  it('falls back to walk+Trename and walk+Tremove when renameat/unlinkat are unsupported', async () => {
    const { c, srv } = await setup((m, s) => {
      switch (m.kind) {
        case 'Trenameat':
        case 'Tunlinkat':
          return s.reply({ kind: 'Rlerror', tag: m.tag, ecode: E.EOPNOTSUPP });
        case 'Twalk':
          return s.reply({ kind: 'Rwalk', tag: m.tag, qids: [qid(5, m.names[0] === 'dir' ? QT.DIR : 0)] });
        case 'Trename':
          return s.reply({ kind: 'Rrename', tag: m.tag });
        case 'Tremove':
          return s.reply({ kind: 'Rremove', tag: m.tag });
        case 'Tclunk':
          return s.reply({ kind: 'Rclunk', tag: m.tag });
      }
    });
    expect(await c.renameat(0, 'a', 0, 'b')).toBeUndefined();
    expect(await c.renameat(0, 'c', 0, 'd')).toBeUndefined();
    expect(srv.seen.filter((m) => m.kind === 'Trenameat')).toHaveLength(1); // remembered
    expect(srv.seen.filter((m) => m.kind === 'Trename').map((m) => (m as { name: string }).name)).toEqual(['b', 'd']);
    expect(await c.unlinkat(0, 'file', 0)).toBeUndefined();
    expect(errnoOf(await c.unlinkat(0, 'dir', 0))).toBe(E.EISDIR);
    expect(errnoOf(await c.unlinkat(0, 'file', AT_REMOVEDIR))).toBe(E.ENOTDIR);
    expect(await c.unlinkat(0, 'dir', AT_REMOVEDIR)).toBeUndefined();
    expect(srv.seen.filter((m) => m.kind === 'Tremove')).toHaveLength(2);
    c.close();
  });

  it('refuses a name too long to encode with EINVAL, without sending anything', async () => {
    const { c, srv } = await setup(() => {});
    const before = srv.seen.length;
    expect(errnoOf(await c.mkdir(0, 'x'.repeat(70_000), 0o755, 0))).toBe(E.EINVAL);
    expect(srv.seen.length).toBe(before);
    expect(c.outstanding).toBe(0);
    c.close();
  });

  it('reuses fid numbers after clunk and never hands out NOFID', async () => {
    const { c } = await setup((m, s) => {
      if (m.kind === 'Tattach') s.reply({ kind: 'Rattach', tag: m.tag, qid: qid(1, QT.DIR) });
      if (m.kind === 'Tclunk') s.reply({ kind: 'Rclunk', tag: m.tag });
    });
    const a = await c.attach('u', '/');
    if (isErr(a)) throw new Error('attach failed');
    await c.clunk(a.fid);
    expect(c.allocFid()).toBe(a.fid);
    c.close();
  });
});
