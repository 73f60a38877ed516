// encode(msg) -> frame bytes and decode(frame) -> message or P9ProtocolError, for every
// 9P2000.L message both sides use. Decoding is strict: the size field must equal the frame
// length, the frame must fit msize, every string/array/data length must fit the frame, walks
// carry at most MAXWELEM names, and no byte may be left over.

import { E } from '../../sentry/abi/errno.js';
import type { Result } from '../../sentry/abi/result.js';
import {
  HEADER_SIZE,
  IOHDRSZ,
  MAXWELEM,
  MAX_MSIZE,
  T,
} from './constants.js';
import { P9ProtocolError } from './errors.js';
import type { Attr, Dirent, LockDesc, P9Message, Qid, SetAttr } from './messages.js';
import { QID_SIZE, WireReader, WireWriter } from './wire.js';

const typeToKind = new Map<number, P9Message['kind']>();
for (const [k, v] of Object.entries(T)) {
  if (k !== 'Tlerror') typeToKind.set(v, k as P9Message['kind']);
}

/** The kind name for a type byte, or undefined for a type we do not speak. */
export function kindOfType(type: number): P9Message['kind'] | undefined {
  return typeToKind.get(type);
}

/** Smallest wire size of one Rreaddir record (an empty name). */
export const DIRENT_MIN_SIZE = QID_SIZE + 8 + 1 + 2;

/** Wire size of one Rreaddir record for `name`: lets a server fill a reply up to `count`. */
export function direntSize(name: string): number {
  return DIRENT_MIN_SIZE + Buffer.byteLength(name, 'utf8');
}

/** How many leading `entries` fit in an Rreaddir data budget of `count` bytes. */
export function direntsThatFit(entries: readonly Dirent[], count: number): number {
  let used = 0;
  for (let i = 0; i < entries.length; i++) {
    used += direntSize(entries[i]!.name);
    if (used > count) return i;
  }
  return entries.length;
}

/** The most data bytes a Tread/Twrite/Treaddir may move at this msize. */
export function maxIoSize(msize: number): number {
  return Math.max(0, msize - IOHDRSZ);
}

// ---------------------------------------------------------------- encode

function writeAttr(w: WireWriter, a: Attr): void {
  w.u64(a.valid, 'valid');
  w.qid(a.qid);
  w.u32(a.mode, 'mode');
  w.u32(a.uid, 'uid');
  w.u32(a.gid, 'gid');
  w.u64(a.nlink, 'nlink');
  w.u64(a.rdev, 'rdev');
  w.u64(a.size, 'size');
  w.u64(a.blksize, 'blksize');
  w.u64(a.blocks, 'blocks');
  w.i64(a.atimeSec, 'atime_sec');
  w.u64(a.atimeNsec, 'atime_nsec');
  w.i64(a.mtimeSec, 'mtime_sec');
  w.u64(a.mtimeNsec, 'mtime_nsec');
  w.i64(a.ctimeSec, 'ctime_sec');
  w.u64(a.ctimeNsec, 'ctime_nsec');
  w.i64(a.btimeSec, 'btime_sec');
  w.u64(a.btimeNsec, 'btime_nsec');
  w.u64big(a.gen, 'gen');
  w.u64big(a.dataVersion, 'data_version');
}

function writeSetAttr(w: WireWriter, a: SetAttr): void {
  w.u32(a.valid, 'valid');
  w.u32(a.mode, 'mode');
  w.u32(a.uid, 'uid');
  w.u32(a.gid, 'gid');
  w.u64(a.size, 'size');
  w.i64(a.atimeSec, 'atime_sec');
  w.u64(a.atimeNsec, 'atime_nsec');
  w.i64(a.mtimeSec, 'mtime_sec');
  w.u64(a.mtimeNsec, 'mtime_nsec');
}

function writeLock(w: WireWriter, l: LockDesc): void {
  w.u64(l.start, 'start');
  w.u64(l.length, 'length');
  w.u32(l.procId, 'proc_id');
  w.str(l.clientId, 'client_id');
}

function writeBody(w: WireWriter, m: P9Message): void {
  switch (m.kind) {
    case 'Tversion':
    case 'Rversion':
      w.u32(m.msize, 'msize');
      w.str(m.version, 'version');
      return;
    case 'Tauth':
      w.u32(m.afid, 'afid');
      w.str(m.uname, 'uname');
      w.str(m.aname, 'aname');
      w.u32(m.nUname, 'n_uname');
      return;
    case 'Rauth':
      w.qid(m.aqid);
      return;
    case 'Tattach':
      w.u32(m.fid, 'fid');
      w.u32(m.afid, 'afid');
      w.str(m.uname, 'uname');
      w.str(m.aname, 'aname');
      w.u32(m.nUname, 'n_uname');
      return;
    case 'Rattach':
    case 'Rsymlink':
    case 'Rmknod':
    case 'Rmkdir':
      w.qid(m.qid);
      return;
    case 'Rlerror':
      w.u32(m.ecode, 'ecode');
      return;
    case 'Tflush':
      w.u16(m.oldtag, 'oldtag');
      return;
    case 'Twalk':
      if (m.names.length > MAXWELEM) throw new RangeError(`9P encode: Twalk with ${m.names.length} names`);
      w.u32(m.fid, 'fid');
      w.u32(m.newfid, 'newfid');
      w.u16(m.names.length);
      for (const n of m.names) w.str(n, 'wname');
      return;
    case 'Rwalk':
      if (m.qids.length > MAXWELEM) throw new RangeError(`9P encode: Rwalk with ${m.qids.length} qids`);
      w.u16(m.qids.length);
      for (const q of m.qids) w.qid(q);
      return;
    case 'Tread':
      w.u32(m.fid, 'fid');
      w.u64(m.offset, 'offset');
      w.u32(m.count, 'count');
      return;
    case 'Rread':
      w.u32(m.data.length, 'count');
      w.bytes(m.data);
      return;
    case 'Twrite':
      w.u32(m.fid, 'fid');
      w.u64(m.offset, 'offset');
      w.u32(m.data.length, 'count');
      w.bytes(m.data);
      return;
    case 'Rwrite':
      w.u32(m.count, 'count');
      return;
    case 'Tclunk':
    case 'Tremove':
    case 'Tstatfs':
    case 'Treadlink':
      w.u32(m.fid, 'fid');
      return;
    case 'Rflush':
    case 'Rclunk':
    case 'Rremove':
    case 'Rrename':
    case 'Rsetattr':
    case 'Rxattrcreate':
    case 'Rfsync':
    case 'Rlink':
    case 'Rrenameat':
    case 'Runlinkat':
      return;
    case 'Rstatfs':
      w.u32(m.type, 'type');
      w.u32(m.bsize, 'bsize');
      w.u64(m.blocks, 'blocks');
      w.u64(m.bfree, 'bfree');
      w.u64(m.bavail, 'bavail');
      w.u64(m.files, 'files');
      w.u64(m.ffree, 'ffree');
      w.u64big(m.fsid, 'fsid');
      w.u32(m.namelen, 'namelen');
      return;
    case 'Tlopen':
      w.u32(m.fid, 'fid');
      w.u32(m.flags, 'flags');
      return;
    case 'Rlopen':
    case 'Rlcreate':
      w.qid(m.qid);
      w.u32(m.iounit, 'iounit');
      return;
    case 'Tlcreate':
      w.u32(m.fid, 'fid');
      w.str(m.name, 'name');
      w.u32(m.flags, 'flags');
      w.u32(m.mode, 'mode');
      w.u32(m.gid, 'gid');
      return;
    case 'Tsymlink':
      w.u32(m.dfid, 'dfid');
      w.str(m.name, 'name');
      w.str(m.target, 'symtgt');
      w.u32(m.gid, 'gid');
      return;
    case 'Tmknod':
      w.u32(m.dfid, 'dfid');
      w.str(m.name, 'name');
      w.u32(m.mode, 'mode');
      w.u32(m.major, 'major');
      w.u32(m.minor, 'minor');
      w.u32(m.gid, 'gid');
      return;
    case 'Trename':
      w.u32(m.fid, 'fid');
      w.u32(m.dfid, 'dfid');
      w.str(m.name, 'name');
      return;
    case 'Rreadlink':
      w.str(m.target, 'target');
      return;
    case 'Tgetattr':
      w.u32(m.fid, 'fid');
      w.u64(m.requestMask, 'request_mask');
      return;
    case 'Rgetattr':
      writeAttr(w, m.attr);
      return;
    case 'Tsetattr':
      w.u32(m.fid, 'fid');
      writeSetAttr(w, m.attr);
      return;
    case 'Txattrwalk':
      w.u32(m.fid, 'fid');
      w.u32(m.newfid, 'newfid');
      w.str(m.name, 'name');
      return;
    case 'Rxattrwalk':
      w.u64big(m.size, 'size');
      return;
    case 'Txattrcreate':
      w.u32(m.fid, 'fid');
      w.str(m.name, 'name');
      w.u64big(m.attrSize, 'attr_size');
      w.u32(m.flags, 'flags');
      return;
    case 'Treaddir':
      w.u32(m.fid, 'fid');
      w.u64big(m.offset, 'offset');
      w.u32(m.count, 'count');
      return;
    case 'Rreaddir': {
      const countAt = w.length;
      w.u32(0);
      const start = w.length;
      for (const d of m.entries) {
        w.qid(d.qid);
        w.u64big(d.offset, 'dirent offset');
        w.u8(d.type, 'dirent type');
        w.str(d.name, 'dirent name');
      }
      w.patchU32(countAt, w.length - start);
      return;
    }
    case 'Tfsync':
      w.u32(m.fid, 'fid');
      w.u32(m.datasync, 'datasync');
      return;
    case 'Tlock':
      w.u32(m.fid, 'fid');
      w.u8(m.type, 'type');
      w.u32(m.flags, 'flags');
      writeLock(w, m);
      return;
    case 'Rlock':
      w.u8(m.status, 'status');
      return;
    case 'Tgetlock':
      w.u32(m.fid, 'fid');
      w.u8(m.type, 'type');
      writeLock(w, m);
      return;
    case 'Rgetlock':
      w.u8(m.type, 'type');
      writeLock(w, m);
      return;
    case 'Tlink':
      w.u32(m.dfid, 'dfid');
      w.u32(m.fid, 'fid');
      w.str(m.name, 'name');
      return;
    case 'Tmkdir':
      w.u32(m.dfid, 'dfid');
      w.str(m.name, 'name');
      w.u32(m.mode, 'mode');
      w.u32(m.gid, 'gid');
      return;
    case 'Trenameat':
      w.u32(m.oldDirFid, 'olddirfid');
      w.str(m.oldName, 'oldname');
      w.u32(m.newDirFid, 'newdirfid');
      w.str(m.newName, 'newname');
      return;
    case 'Tunlinkat':
      w.u32(m.dfid, 'dirfd');
      w.str(m.name, 'name');
      w.u32(m.flags, 'flags');
      return;
  }
}

/**
 * Serialise a message into one frame (size[4] type[1] tag[2] body). Throws RangeError
 * only when our own code passes an out-of-range field (a name over 65535 bytes, a
 * non-integer count, more than 16 walk names); callers holding untrusted values check first.
 */
export function encode(msg: P9Message): Uint8Array {
  const dataLen = msg.kind === 'Rread' || msg.kind === 'Twrite' ? msg.data.length : 0;
  const w = new WireWriter(64 + dataLen);
  w.u32(0);
  w.u8(T[msg.kind]);
  w.u16(msg.tag, 'tag');
  writeBody(w, msg);
  if (w.length > MAX_MSIZE) throw new RangeError(`9P encode: ${msg.kind} is ${w.length} bytes`);
  w.patchU32(0, w.length);
  return w.finish();
}

/** An Rlerror frame: what a server sends for a failed request or a P9ProtocolError with a tag. */
export function encodeRlerror(tag: number, ecode: number): Uint8Array {
  return encode({ kind: 'Rlerror', tag, ecode });
}

// ---------------------------------------------------------------- decode

function readAttr(r: WireReader): Attr {
  return {
    valid: r.mask64('valid'),
    qid: r.qid(),
    mode: r.u32('mode'),
    uid: r.u32('uid'),
    gid: r.u32('gid'),
    nlink: r.u64('nlink'),
    rdev: r.u64('rdev'),
    size: r.u64('size'),
    blksize: r.u64('blksize'),
    blocks: r.u64('blocks'),
    atimeSec: r.i64('atime_sec'),
    atimeNsec: r.u64('atime_nsec'),
    mtimeSec: r.i64('mtime_sec'),
    mtimeNsec: r.u64('mtime_nsec'),
    ctimeSec: r.i64('ctime_sec'),
    ctimeNsec: r.u64('ctime_nsec'),
    btimeSec: r.i64('btime_sec'),
    btimeNsec: r.u64('btime_nsec'),
    gen: r.u64big('gen'),
    dataVersion: r.u64big('data_version'),
  };
}

function readSetAttr(r: WireReader): SetAttr {
  return {
    valid: r.u32('valid'),
    mode: r.u32('mode'),
    uid: r.u32('uid'),
    gid: r.u32('gid'),
    size: r.u64('size'),
    atimeSec: r.i64('atime_sec'),
    atimeNsec: r.u64('atime_nsec'),
    mtimeSec: r.i64('mtime_sec'),
    mtimeNsec: r.u64('mtime_nsec'),
  };
}

function readLock(r: WireReader, type: number): LockDesc {
  return { type, start: r.u64('start'), length: r.u64('length'), procId: r.u32('proc_id'), clientId: r.str('client_id') };
}

function readDirents(data: Uint8Array, outer: WireReader): Dirent[] {
  const r = new WireReader(data);
  const entries: Dirent[] = [];
  while (r.remaining > 0 && r.bad === null) {
    const qid = r.qid('dirent qid');
    const offset = r.u64big('dirent offset');
    const type = r.u8('dirent type');
    const name = r.str('dirent name');
    entries.push({ qid, offset, type, name });
  }
  if (r.bad !== null) outer.fail(r.bad);
  return entries;
}

function qidArray(r: WireReader, n: number): Qid[] {
  const qids: Qid[] = [];
  for (let i = 0; i < n && r.bad === null; i++) qids.push(r.qid('wqid'));
  return qids;
}

function readBody(r: WireReader, kind: P9Message['kind'], tag: number, msize: number): P9Message | string {
  switch (kind) {
    case 'Tversion':
    case 'Rversion':
      return { kind, tag, msize: r.u32('msize'), version: r.str('version') };
    case 'Tauth':
      return { kind, tag, afid: r.u32('afid'), uname: r.str('uname'), aname: r.str('aname'), nUname: r.u32('n_uname') };
    case 'Rauth':
      return { kind, tag, aqid: r.qid('aqid') };
    case 'Tattach':
      return {
        kind, tag, fid: r.u32('fid'), afid: r.u32('afid'), uname: r.str('uname'), aname: r.str('aname'),
        nUname: r.u32('n_uname'),
      };
    case 'Rattach':
    case 'Rsymlink':
    case 'Rmknod':
    case 'Rmkdir':
      return { kind, tag, qid: r.qid() };
    case 'Rlerror':
      return { kind, tag, ecode: r.u32('ecode') };
    case 'Tflush':
      return { kind, tag, oldtag: r.u16('oldtag') };
    case 'Twalk': {
      const fid = r.u32('fid');
      const newfid = r.u32('newfid');
      const n = r.u16('nwname');
      if (n > MAXWELEM) return `Twalk nwname ${n} over ${MAXWELEM}`;
      const names: string[] = [];
      for (let i = 0; i < n && r.bad === null; i++) names.push(r.str('wname'));
      return { kind, tag, fid, newfid, names };
    }
    case 'Rwalk': {
      const n = r.u16('nwqid');
      if (n > MAXWELEM) return `Rwalk nwqid ${n} over ${MAXWELEM}`;
      return { kind, tag, qids: qidArray(r, n) };
    }
    case 'Tread': {
      const fid = r.u32('fid');
      const offset = r.u64('offset');
      // A reply must fit msize, so a larger count is clamped rather than trusted.
      const count = Math.min(r.u32('count'), maxIoSize(msize));
      return { kind, tag, fid, offset, count };
    }
    case 'Rread': {
      const n = r.u32('count');
      return { kind, tag, data: r.bytes(n, 'Rread data') };
    }
    case 'Twrite': {
      const fid = r.u32('fid');
      const offset = r.u64('offset');
      const n = r.u32('count');
      return { kind, tag, fid, offset, data: r.bytes(n, 'Twrite data') };
    }
    case 'Rwrite':
      return { kind, tag, count: r.u32('count') };
    case 'Tclunk':
    case 'Tremove':
    case 'Tstatfs':
    case 'Treadlink':
      return { kind, tag, fid: r.u32('fid') };
    case 'Rflush':
    case 'Rclunk':
    case 'Rremove':
    case 'Rrename':
    case 'Rsetattr':
    case 'Rxattrcreate':
    case 'Rfsync':
    case 'Rlink':
    case 'Rrenameat':
    case 'Runlinkat':
      return { kind, tag };
    case 'Rstatfs':
      return {
        kind, tag, type: r.u32('type'), bsize: r.u32('bsize'), blocks: r.u64('blocks'), bfree: r.u64('bfree'),
        bavail: r.u64('bavail'), files: r.u64('files'), ffree: r.u64('ffree'), fsid: r.u64big('fsid'),
        namelen: r.u32('namelen'),
      };
    case 'Tlopen':
      return { kind, tag, fid: r.u32('fid'), flags: r.u32('flags') };
    case 'Rlopen':
    case 'Rlcreate':
      return { kind, tag, qid: r.qid(), iounit: r.u32('iounit') };
    case 'Tlcreate':
      return {
        kind, tag, fid: r.u32('fid'), name: r.str('name'), flags: r.u32('flags'), mode: r.u32('mode'),
        gid: r.u32('gid'),
      };
    case 'Tsymlink':
      return { kind, tag, dfid: r.u32('dfid'), name: r.str('name'), target: r.str('symtgt'), gid: r.u32('gid') };
    case 'Tmknod':
      return {
        kind, tag, dfid: r.u32('dfid'), name: r.str('name'), mode: r.u32('mode'), major: r.u32('major'),
        minor: r.u32('minor'), gid: r.u32('gid'),
      };
    case 'Trename':
      return { kind, tag, fid: r.u32('fid'), dfid: r.u32('dfid'), name: r.str('name') };
    case 'Rreadlink':
      return { kind, tag, target: r.str('target') };
    case 'Tgetattr':
      return { kind, tag, fid: r.u32('fid'), requestMask: r.mask64('request_mask') };
    case 'Rgetattr':
      return { kind, tag, attr: readAttr(r) };
    case 'Tsetattr':
      return { kind, tag, fid: r.u32('fid'), attr: readSetAttr(r) };
    case 'Txattrwalk':
      return { kind, tag, fid: r.u32('fid'), newfid: r.u32('newfid'), name: r.str('name') };
    case 'Rxattrwalk':
      return { kind, tag, size: r.u64big('size') };
    case 'Txattrcreate':
      return { kind, tag, fid: r.u32('fid'), name: r.str('name'), attrSize: r.u64big('attr_size'), flags: r.u32('flags') };
    case 'Treaddir': {
      const fid = r.u32('fid');
      const offset = r.u64big('offset');
      const count = Math.min(r.u32('count'), maxIoSize(msize));
      return { kind, tag, fid, offset, count };
    }
    case 'Rreaddir': {
      const n = r.u32('count');
      const data = r.bytes(n, 'Rreaddir data');
      return { kind, tag, entries: r.bad === null ? readDirents(data, r) : [] };
    }
    case 'Tfsync': {
      const fid = r.u32('fid');
      // Early 9P2000.L clients sent only fid; Linux since 2.6.38 adds datasync[4].
      const datasync = r.remaining === 0 ? 0 : r.u32('datasync');
      return { kind, tag, fid, datasync };
    }
    case 'Tlock': {
      const fid = r.u32('fid');
      const type = r.u8('type');
      const flags = r.u32('flags');
      return { kind, tag, fid, flags, ...readLock(r, type) };
    }
    case 'Rlock':
      return { kind, tag, status: r.u8('status') };
    case 'Tgetlock': {
      const fid = r.u32('fid');
      return { kind, tag, fid, ...readLock(r, r.u8('type')) };
    }
    case 'Rgetlock':
      return { kind, tag, ...readLock(r, r.u8('type')) };
    case 'Tlink':
      return { kind, tag, dfid: r.u32('dfid'), fid: r.u32('fid'), name: r.str('name') };
    case 'Tmkdir':
      return { kind, tag, dfid: r.u32('dfid'), name: r.str('name'), mode: r.u32('mode'), gid: r.u32('gid') };
    case 'Trenameat':
      return {
        kind, tag, oldDirFid: r.u32('olddirfid'), oldName: r.str('oldname'), newDirFid: r.u32('newdirfid'),
        newName: r.str('newname'),
      };
    case 'Tunlinkat':
      return { kind, tag, dfid: r.u32('dirfd'), name: r.str('name'), flags: r.u32('flags') };
  }
}

/**
 * Parse one whole frame (starting at its size[4] field). Returns the message, or a
 * P9ProtocolError carrying the tag when the header was readable so a server can answer
 * Rlerror for that request. Never throws.
 */
export function decode(frame: Uint8Array, msize: number = MAX_MSIZE): Result<P9Message> {
  if (frame.length < HEADER_SIZE) {
    return new P9ProtocolError(E.EINVAL, null, null, `frame of ${frame.length} bytes is shorter than a header`);
  }
  const r = new WireReader(frame);
  const size = r.u32();
  const type = r.u8();
  const tag = r.u16();
  if (size !== frame.length) {
    return new P9ProtocolError(E.EINVAL, tag, type, `size field ${size} but frame is ${frame.length} bytes`);
  }
  if (size > msize) {
    return new P9ProtocolError(E.EMSGSIZE, tag, type, `frame of ${size} bytes exceeds msize ${msize}`);
  }
  const kind = typeToKind.get(type);
  if (kind === undefined) {
    return new P9ProtocolError(E.EOPNOTSUPP, tag, type, `unknown message type ${type}`);
  }
  const msg = readBody(r, kind, tag, msize);
  if (typeof msg === 'string') return new P9ProtocolError(E.EINVAL, tag, type, msg);
  if (r.bad !== null) return new P9ProtocolError(E.EINVAL, tag, type, `${kind}: ${r.bad}`);
  if (r.remaining !== 0) {
    return new P9ProtocolError(E.EINVAL, tag, type, `${kind}: ${r.remaining} trailing bytes`);
  }
  return msg;
}
