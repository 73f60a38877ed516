// The 9P2000.L codec: every message encodes to exactly the bytes the spec lays out (frames
// built here by hand, field by field) and decodes back; malformed frames become
// P9ProtocolError values carrying the tag, never exceptions.

import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr } from '../../sentry/abi/result.js';
import { decode, direntSize, direntsThatFit, encode, encodeRlerror } from '../../gofer/p9/codec.js';
import { negotiateVersion } from '../../gofer/p9/version.js';
import { T } from '../../gofer/p9/constants.js';
import { P9ProtocolError } from '../../gofer/p9/errors.js';
import type { Attr, P9Message, Qid } from '../../gofer/p9/messages.js';

// ---- hand-built wire fields (independent of the codec's writer)
const le = (n: number | bigint, bytes: number): number[] => {
  let v = BigInt.asUintN(bytes * 8, BigInt(n));
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
};
const u8 = (n: number) => le(n, 1);
const u16 = (n: number) => le(n, 2);
const u32 = (n: number) => le(n, 4);
const u64 = (n: number | bigint) => le(n, 8);
const str = (s: string) => {
  const b = [...Buffer.from(s, 'utf8')];
  return [...u16(b.length), ...b];
};
const qidBytes = (q: Qid) => [...u8(q.type), ...u32(q.version), ...u64(q.path)];
function frame(type: number, tag: number, ...parts: number[][]): Uint8Array {
  const body = parts.flat();
  return new Uint8Array([...u32(7 + body.length), type, ...u16(tag), ...body]);
}

const q1: Qid = { type: 0x80, version: 7, path: 0x0102030405060708n };
const q2: Qid = { type: 0x02, version: 0xffffffff, path: 0xfedcba9876543210n };
const attr: Attr = {
  valid: 0x3fff, qid: q1, mode: 0o100644, uid: 1000, gid: 100, nlink: 3, rdev: 0x0801, size: 123456789,
  blksize: 4096, blocks: 242, atimeSec: 1700000000, atimeNsec: 123, mtimeSec: -5, mtimeNsec: 999999999,
  ctimeSec: 1, ctimeNsec: 2, btimeSec: 0, btimeNsec: 0, gen: 77n, dataVersion: 0xffffffffffffffffn,
};

// [message, its exact frame]
const cases: Array<[P9Message, Uint8Array]> = [
  [{ kind: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000.L' }, frame(100, 0xffff, u32(65536), str('9P2000.L'))],
  [{ kind: 'Rversion', tag: 0xffff, msize: 8192, version: '9P2000.L' }, frame(101, 0xffff, u32(8192), str('9P2000.L'))],
  [{ kind: 'Tauth', tag: 1, afid: 5, uname: 'root', aname: '/x', nUname: 0 }, frame(102, 1, u32(5), str('root'), str('/x'), u32(0))],
  [{ kind: 'Rauth', tag: 1, aqid: q1 }, frame(103, 1, qidBytes(q1))],
  [
    { kind: 'Tattach', tag: 2, fid: 0, afid: 0xffffffff, uname: 'bob', aname: '/srv', nUname: 1000 },
    frame(104, 2, u32(0), u32(0xffffffff), str('bob'), str('/srv'), u32(1000)),
  ],
  [{ kind: 'Rattach', tag: 2, qid: q1 }, frame(105, 2, qidBytes(q1))],
  [{ kind: 'Rlerror', tag: 3, ecode: 2 }, frame(7, 3, u32(2))],
  [{ kind: 'Tflush', tag: 4, oldtag: 3 }, frame(108, 4, u16(3))],
  [{ kind: 'Rflush', tag: 4 }, frame(109, 4)],
  [
    { kind: 'Twalk', tag: 5, fid: 1, newfid: 2, names: ['a', 'bc', 'é'] },
    frame(110, 5, u32(1), u32(2), u16(3), str('a'), str('bc'), str('é')),
  ],
  [{ kind: 'Twalk', tag: 5, fid: 1, newfid: 2, names: [] }, frame(110, 5, u32(1), u32(2), u16(0))],
  [{ kind: 'Rwalk', tag: 5, qids: [q1, q2] }, frame(111, 5, u16(2), qidBytes(q1), qidBytes(q2))],
  [{ kind: 'Tread', tag: 6, fid: 9, offset: 2 ** 40, count: 4096 }, frame(116, 6, u32(9), u64(2 ** 40), u32(4096))],
  [{ kind: 'Rread', tag: 6, data: new Uint8Array([1, 2, 3]) }, frame(117, 6, u32(3), [1, 2, 3])],
  [
    { kind: 'Twrite', tag: 7, fid: 9, offset: 10, data: new Uint8Array([0xaa, 0xbb]) },
    frame(118, 7, u32(9), u64(10), u32(2), [0xaa, 0xbb]),
  ],
  [{ kind: 'Rwrite', tag: 7, count: 2 }, frame(119, 7, u32(2))],
  [{ kind: 'Tclunk', tag: 8, fid: 9 }, frame(120, 8, u32(9))],
  [{ kind: 'Rclunk', tag: 8 }, frame(121, 8)],
  [{ kind: 'Tremove', tag: 9, fid: 4 }, frame(122, 9, u32(4))],
  [{ kind: 'Rremove', tag: 9 }, frame(123, 9)],
  [{ kind: 'Tstatfs', tag: 10, fid: 1 }, frame(8, 10, u32(1))],
  [
    {
      kind: 'Rstatfs', tag: 10, type: 0xef53, bsize: 4096, blocks: 1000, bfree: 500, bavail: 400, files: 64,
      ffree: 32, fsid: 0x1234567890abcdefn, namelen: 255,
    },
    frame(9, 10, u32(0xef53), u32(4096), u64(1000), u64(500), u64(400), u64(64), u64(32), u64(0x1234567890abcdefn), u32(255)),
  ],
  [{ kind: 'Tlopen', tag: 11, fid: 3, flags: 0o100002 }, frame(12, 11, u32(3), u32(0o100002))],
  [{ kind: 'Rlopen', tag: 11, qid: q2, iounit: 8192 }, frame(13, 11, qidBytes(q2), u32(8192))],
  [
    { kind: 'Tlcreate', tag: 12, fid: 3, name: 'new', flags: 0o102, mode: 0o644, gid: 50 },
    frame(14, 12, u32(3), str('new'), u32(0o102), u32(0o644), u32(50)),
  ],
  [{ kind: 'Rlcreate', tag: 12, qid: q2, iounit: 0 }, frame(15, 12, qidBytes(q2), u32(0))],
  [
    { kind: 'Tsymlink', tag: 13, dfid: 1, name: 'ln', target: '../t', gid: 0 },
    frame(16, 13, u32(1), str('ln'), str('../t'), u32(0)),
  ],
  [{ kind: 'Rsymlink', tag: 13, qid: q2 }, frame(17, 13, qidBytes(q2))],
  [
    { kind: 'Tmknod', tag: 14, dfid: 1, name: 'fifo', mode: 0o10644, major: 8, minor: 1, gid: 5 },
    frame(18, 14, u32(1), str('fifo'), u32(0o10644), u32(8), u32(1), u32(5)),
  ],
  [{ kind: 'Rmknod', tag: 14, qid: q1 }, frame(19, 14, qidBytes(q1))],
  [{ kind: 'Trename', tag: 15, fid: 4, dfid: 1, name: 'to' }, frame(20, 15, u32(4), u32(1), str('to'))],
  [{ kind: 'Rrename', tag: 15 }, frame(21, 15)],
  [{ kind: 'Treadlink', tag: 16, fid: 4 }, frame(22, 16, u32(4))],
  [{ kind: 'Rreadlink', tag: 16, target: '/etc/x' }, frame(23, 16, str('/etc/x'))],
  [{ kind: 'Tgetattr', tag: 17, fid: 4, requestMask: 0x7ff }, frame(24, 17, u32(4), u64(0x7ff))],
  [
    { kind: 'Rgetattr', tag: 17, attr },
    frame(
      25, 17, u64(0x3fff), qidBytes(q1), u32(0o100644), u32(1000), u32(100), u64(3), u64(0x0801), u64(123456789),
      u64(4096), u64(242), u64(1700000000), u64(123), u64(-5), u64(999999999), u64(1), u64(2), u64(0), u64(0),
      u64(77), u64(0xffffffffffffffffn),
    ),
  ],
  [
    {
      kind: 'Tsetattr', tag: 18, fid: 4,
      attr: { valid: 0x1ff, mode: 0o600, uid: 1, gid: 2, size: 4096, atimeSec: 10, atimeNsec: 11, mtimeSec: 12, mtimeNsec: 13 },
    },
    frame(26, 18, u32(4), u32(0x1ff), u32(0o600), u32(1), u32(2), u64(4096), u64(10), u64(11), u64(12), u64(13)),
  ],
  [{ kind: 'Rsetattr', tag: 18 }, frame(27, 18)],
  [{ kind: 'Txattrwalk', tag: 19, fid: 4, newfid: 5, name: 'user.x' }, frame(30, 19, u32(4), u32(5), str('user.x'))],
  [{ kind: 'Rxattrwalk', tag: 19, size: 12n }, frame(31, 19, u64(12))],
  [
    { kind: 'Txattrcreate', tag: 20, fid: 5, name: 'user.y', attrSize: 3n, flags: 1 },
    frame(32, 20, u32(5), str('user.y'), u64(3), u32(1)),
  ],
  [{ kind: 'Rxattrcreate', tag: 20 }, frame(33, 20)],
  [{ kind: 'Treaddir', tag: 21, fid: 6, offset: 0x7fffffffffffffffn, count: 8000 }, frame(40, 21, u32(6), u64(0x7fffffffffffffffn), u32(8000))],
  [
    {
      kind: 'Rreaddir', tag: 21,
      entries: [
        { qid: q1, offset: 1n, type: 4, name: '.' },
        { qid: q2, offset: 0x8000000000000001n, type: 10, name: 'link' },
      ],
    },
    frame(
      41, 21, u32(direntSize('.') + direntSize('link')),
      qidBytes(q1), u64(1), u8(4), str('.'),
      qidBytes(q2), u64(0x8000000000000001n), u8(10), str('link'),
    ),
  ],
  [{ kind: 'Rreaddir', tag: 21, entries: [] }, frame(41, 21, u32(0))],
  [{ kind: 'Tfsync', tag: 22, fid: 6, datasync: 1 }, frame(50, 22, u32(6), u32(1))],
  [{ kind: 'Rfsync', tag: 22 }, frame(51, 22)],
  [
    { kind: 'Tlock', tag: 23, fid: 6, type: 1, flags: 1, start: 100, length: 0, procId: 42, clientId: 'host' },
    frame(52, 23, u32(6), u8(1), u32(1), u64(100), u64(0), u32(42), str('host')),
  ],
  [{ kind: 'Rlock', tag: 23, status: 1 }, frame(53, 23, u8(1))],
  [
    { kind: 'Tgetlock', tag: 24, fid: 6, type: 0, start: 0, length: 10, procId: 7, clientId: 'c' },
    frame(54, 24, u32(6), u8(0), u64(0), u64(10), u32(7), str('c')),
  ],
  [
    { kind: 'Rgetlock', tag: 24, type: 2, start: 5, length: 6, procId: 8, clientId: 'd' },
    frame(55, 24, u8(2), u64(5), u64(6), u32(8), str('d')),
  ],
  [{ kind: 'Tlink', tag: 25, dfid: 1, fid: 6, name: 'hard' }, frame(70, 25, u32(1), u32(6), str('hard'))],
  [{ kind: 'Rlink', tag: 25 }, frame(71, 25)],
  [{ kind: 'Tmkdir', tag: 26, dfid: 1, name: 'd', mode: 0o755, gid: 3 }, frame(72, 26, u32(1), str('d'), u32(0o755), u32(3))],
  [{ kind: 'Rmkdir', tag: 26, qid: q1 }, frame(73, 26, qidBytes(q1))],
  [
    { kind: 'Trenameat', tag: 27, oldDirFid: 1, oldName: 'a', newDirFid: 2, newName: 'b' },
    frame(74, 27, u32(1), str('a'), u32(2), str('b')),
  ],
  [{ kind: 'Rrenameat', tag: 27 }, frame(75, 27)],
  [{ kind: 'Tunlinkat', tag: 28, dfid: 1, name: 'x', flags: 0x200 }, frame(76, 28, u32(1), str('x'), u32(0x200))],
  [{ kind: 'Runlinkat', tag: 28 }, frame(77, 28)],
];

function expectProtocolError(r: unknown, errno: number, tag: number | null): P9ProtocolError {
  expect(r).toBeInstanceOf(P9ProtocolError);
  const e = r as P9ProtocolError;
  expect(e.errno).toBe(errno);
  expect(e.tag).toBe(tag);
  return e;
}

describe('9P2000.L codec: byte-exact encoding and decoding', () => {
  it('covers every message kind we speak', () => {
    const covered = new Set(cases.map(([m]) => m.kind));
    const all = Object.keys(T).filter((k) => k !== 'Tlerror');
    expect([...covered].sort()).toEqual(all.sort());
  });

  for (const [msg, bytes] of cases) {
    it(`${msg.kind} (${msg.kind === 'Rreaddir' ? msg.entries.length + ' entries' : 'tag ' + msg.tag})`, () => {
      expect(Buffer.from(encode(msg)).toString('hex')).toBe(Buffer.from(bytes).toString('hex'));
      const back = decode(bytes);
      expect(isErr(back)).toBe(false);
      expect(back).toEqual(msg);
    });
  }

  it('keeps the low 32 bits of 64-bit getattr masks and drops undefined high bits', () => {
    const f = frame(24, 1, u32(4), u64(0xffff_0000_0000_3fffn));
    expect(decode(f)).toEqual({ kind: 'Tgetattr', tag: 1, fid: 4, requestMask: 0x3fff });
  });

  it('accepts the short Tfsync (fid only) of early 9P2000.L clients', () => {
    expect(decode(frame(50, 1, u32(6)))).toEqual({ kind: 'Tfsync', tag: 1, fid: 6, datasync: 0 });
  });

  it('clamps Tread and Treaddir counts so the reply fits msize', () => {
    expect(decode(frame(116, 1, u32(1), u64(0), u32(1 << 20)), 8192)).toMatchObject({ count: 8192 - 24 });
    expect(decode(frame(40, 1, u32(1), u64(0), u32(1 << 20)), 8192)).toMatchObject({ count: 8192 - 24 });
  });
});

describe('9P2000.L codec: strict decoding', () => {
  it('rejects a frame shorter than a header without a tag', () => {
    expectProtocolError(decode(new Uint8Array([5, 0, 0, 0, 120])), E.EINVAL, null);
    expectProtocolError(decode(new Uint8Array(0)), E.EINVAL, null);
  });

  it('rejects a size field that disagrees with the frame, keeping the tag', () => {
    const f = frame(120, 33, u32(1));
    f[0] = f[0]! + 1;
    expectProtocolError(decode(f), E.EINVAL, 33);
  });

  it('rejects a frame larger than msize', () => {
    const f = frame(118, 9, u32(1), u64(0), u32(100), new Array(100).fill(1));
    expectProtocolError(decode(f, 64), E.EMSGSIZE, 9);
    expect(isErr(decode(f, f.length))).toBe(false);
  });

  it('rejects unknown message types (9P2000 Topen, Tstat) with EOPNOTSUPP', () => {
    expectProtocolError(decode(frame(112, 4, u32(1), u8(0))), E.EOPNOTSUPP, 4);
    expectProtocolError(decode(frame(124, 5, u32(1))), E.EOPNOTSUPP, 5);
    expectProtocolError(decode(frame(6, 6, u32(1))), E.EOPNOTSUPP, 6);
  });

  it('rejects a string whose length runs past the frame', () => {
    expectProtocolError(decode(frame(20, 7, u32(1), u32(2), u16(50), [0x61, 0x62])), E.EINVAL, 7);
    expectProtocolError(decode(frame(23, 7, u16(3), [0x61, 0x62])), E.EINVAL, 7);
  });

  it('rejects trailing bytes after a complete body', () => {
    expectProtocolError(decode(frame(120, 8, u32(1), [0])), E.EINVAL, 8);
    expectProtocolError(decode(frame(121, 8, [0])), E.EINVAL, 8);
  });

  it('rejects truncated fixed fields', () => {
    expectProtocolError(decode(frame(24, 9, u32(1), [1, 2, 3])), E.EINVAL, 9);
    expectProtocolError(decode(frame(25, 9, u64(0x7ff))), E.EINVAL, 9);
  });

  it('rejects walks of more than 16 names or qids', () => {
    const names = Array.from({ length: 17 }, () => str('a')).flat();
    expectProtocolError(decode(frame(110, 10, u32(1), u32(2), u16(17), names)), E.EINVAL, 10);
    const qids = Array.from({ length: 17 }, () => qidBytes(q1)).flat();
    expectProtocolError(decode(frame(111, 10, u16(17), qids)), E.EINVAL, 10);
  });

  it('rejects a walk whose name count exceeds the names present', () => {
    expectProtocolError(decode(frame(110, 11, u32(1), u32(2), u16(3), str('a'), str('b'))), E.EINVAL, 11);
  });

  it('rejects data counts that run past the frame', () => {
    expectProtocolError(decode(frame(117, 12, u32(10), [1, 2, 3])), E.EINVAL, 12);
    expectProtocolError(decode(frame(118, 12, u32(1), u64(0), u32(0xffffffff), [1])), E.EINVAL, 12);
    expectProtocolError(decode(frame(41, 12, u32(100), [1])), E.EINVAL, 12);
  });

  it('rejects a readdir payload with a partial entry', () => {
    const entry = [...qidBytes(q1), ...u64(1), ...u8(4), ...str('name')];
    const cut = entry.slice(0, entry.length - 2);
    expectProtocolError(decode(frame(41, 13, u32(cut.length), cut)), E.EINVAL, 13);
  });

  it('rejects offsets and sizes beyond 2^53 rather than rounding them', () => {
    expectProtocolError(decode(frame(116, 14, u32(1), u64(2n ** 60n), u32(10))), E.EINVAL, 14);
    expectProtocolError(
      decode(frame(26, 14, u32(4), u32(8), u32(0), u32(0), u32(0), u64(2n ** 63n), u64(0), u64(0), u64(0), u64(0))),
      E.EINVAL,
      14,
    );
  });

  it('decodes invalid UTF-8 in names without failing the frame', () => {
    const m = decode(frame(23, 15, u16(2), [0xff, 0x41]));
    expect(m).toEqual({ kind: 'Rreadlink', tag: 15, target: '\ufffdA' });
  });
});

describe('9P2000.L codec: encoding our own bad values', () => {
  it('refuses names over 65535 bytes and out-of-range integers', () => {
    expect(() => encode({ kind: 'Treadlink', tag: 1, fid: -1 })).toThrow(RangeError);
    expect(() => encode({ kind: 'Tmkdir', tag: 1, dfid: 1, name: 'x'.repeat(70000), mode: 0, gid: 0 })).toThrow(RangeError);
    expect(() => encode({ kind: 'Twalk', tag: 1, fid: 1, newfid: 2, names: new Array(17).fill('a') })).toThrow(RangeError);
    expect(() => encode({ kind: 'Tread', tag: 1, fid: 1, offset: 0.5, count: 1 })).toThrow(RangeError);
  });
});

describe('9P2000.L codec: server helpers', () => {
  it('counts how many directory entries fit a Treaddir budget', () => {
    const e = (name: string) => ({ qid: q1, offset: 1n, type: 8, name });
    const entries = [e('a'), e('bb'), e('ccc')];
    expect(direntsThatFit(entries, direntSize('a') + direntSize('bb'))).toBe(2);
    expect(direntsThatFit(entries, direntSize('a') + direntSize('bb') - 1)).toBe(1);
    expect(direntsThatFit(entries, 10_000)).toBe(3);
    expect(direntsThatFit(entries, 0)).toBe(0);
    // The encoded reply's data is exactly the sum of the entry sizes.
    const f = encode({ kind: 'Rreaddir', tag: 1, entries });
    expect(f.length).toBe(7 + 4 + entries.reduce((n, x) => n + direntSize(x.name), 0));
  });

  it('builds Rlerror for a request that failed to decode', () => {
    const bad = decode(frame(20, 42, u32(1)));
    expect(bad).toBeInstanceOf(P9ProtocolError);
    const e = bad as P9ProtocolError;
    expect(Buffer.from(encodeRlerror(e.tag!, e.errno))).toEqual(Buffer.from(frame(7, 42, u32(E.EINVAL))));
  });

  it('negotiates versions as version(5) says', () => {
    const t = (msize: number, version: string) => ({ kind: 'Tversion' as const, tag: 0xffff, msize, version });
    expect(negotiateVersion(t(1 << 20, '9P2000.L'), 65536)).toEqual({ ok: true, msize: 65536, version: '9P2000.L' });
    expect(negotiateVersion(t(8192, '9P2000.L.Google.1'), 65536)).toEqual({ ok: true, msize: 8192, version: '9P2000.L' });
    expect(negotiateVersion(t(8192, '9P2000.u'), 65536)).toMatchObject({ ok: false, version: 'unknown' });
    expect(negotiateVersion(t(100, '9P2000.L'), 65536)).toMatchObject({ ok: false });
  });
});
