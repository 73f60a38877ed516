// One 9P2000.L connection of the Gofer: frames in, replies out, a fid table. Path
// operations run synchronously on one component relative to a directory fd (openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS); reads and writes run on libuv's pool so a slow
// one never holds up other tags. Any malformed frame with a readable tag gets an Rlerror;
// one that breaks framing closes the connection. Nothing from the peer may throw.

import * as fs from 'node:fs';
import type { Duplex } from 'node:stream';
import { E } from '../../sentry/abi/errno.js';
import { err, isErr, type Result } from '../../sentry/abi/result.js';
import { goferNative } from '../confine/native_gofer.js';
import { decode, direntSize, encode, encodeRlerror, maxIoSize } from '../p9/codec.js';
import { AT_REMOVEDIR, DEFAULT_MSIZE, L_O, MAXWELEM, NOFID, QT, SETATTR } from '../p9/constants.js';
import { isProtocolError } from '../p9/errors.js';
import { batchedWriter } from '../p9/batched_writes.js';
import { Framer } from '../p9/framer.js';
import type { Dirent, Qid, RMessage, TMessage } from '../p9/messages.js';
import { negotiateVersion } from '../p9/version.js';
import {
  attrOf, HostPath, isDirMode, isLnkMode, isRegMode, O_DIRECTORY, PathFdCache, QidPaths, S_IFREG, validName,
} from './host_file.js';
import { commitXattr, readXattr, startXattrWrite, writeXattrBytes, type XattrFid } from './xattr.js';

export interface ServerOptions {
  /** O_PATH fd of the export's root directory (owned by the caller). */
  rootFd: number;
  /** Refuse every change with EROFS. */
  readOnly: boolean;
  /** A SOCK_SEQPACKET socket: read-only opens of regular files donate their fd here. */
  donateFd?: number;
  /** Largest msize offered. */
  maxMsize?: number;
  /** Most O_PATH fds kept open for fids (default 4096; more fids just reopen on use). */
  maxPathFds?: number;
  log?: (line: string) => void;
}

/** Flags a client may ask of lopen/lcreate; anything else (O_PATH, O_NOATIME...) is dropped. */
const OPEN_FLAGS_ALLOWED = L_O.ACCMODE | L_O.TRUNC | L_O.APPEND | L_O.DSYNC | L_O.SYNC | L_O.DIRECTORY | L_O.EXCL | L_O.NONBLOCK;
const UTIME_NOW = (1 << 30) - 1;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;

/**
 * Permission bits the Gofer lets a sandbox set on a host file: never setuid or setgid on
 * files (a host user could run them with the sandbox's ids); a directory keeps setgid,
 * which only makes new entries inherit its group.
 */
function safeMode(mode: number, dir: boolean): number {
  return mode & 0o7777 & ~(dir ? S_ISUID : S_ISUID | S_ISGID);
}
const UTIME_OMIT = (1 << 30) - 2;

/** An open host fd. Closed when its fid goes and no read or write still uses it. */
class OpenFd {
  busy = 0;
  private closeWanted = false;
  /** Readdir position: the cookie the fd's offset is at (0n after open). */
  dirCookie = 0n;

  constructor(readonly fd: number, readonly isDir: boolean) {}

  close(): void {
    this.closeWanted = true;
    if (this.busy === 0) this.release();
  }

  done(): void {
    if (--this.busy === 0 && this.closeWanted) this.release();
  }

  private released = false;
  private release(): void {
    if (this.released) return;
    this.released = true;
    goferNative().closeFd(this.fd);
  }
}

interface Fid {
  path: HostPath;
  open: OpenFd | null;
  /** Set on a fid made by Txattrwalk or turned by Txattrcreate: Tread/Twrite go to it. */
  xattr?: XattrFid;
}

type Reply = RMessage | Result<never>;

export class GoferConnection {
  private readonly framer = new Framer(DEFAULT_MSIZE);
  private msize = DEFAULT_MSIZE;
  private readonly fids = new Map<number, Fid>();
  private readonly qids = new QidPaths();
  private readonly pathFds: PathFdCache;
  /** Tags whose reply is still to come; a flushed one is dropped when it completes. */
  private readonly inflight = new Map<number, { flushed: boolean }>();
  private closed = false;
  private readonly dirBuf = new Uint8Array(64 * 1024);
  /** dirBuf as a Buffer, to slice names out of it without a new object per entry. */
  private readonly dirNames = Buffer.from(this.dirBuf.buffer, this.dirBuf.byteOffset, this.dirBuf.byteLength);
  private finish: () => void = () => {};
  private readonly writeFrame: (frame: Uint8Array) => void;
  /** Resolves when the peer has gone and every fid is released. */
  readonly done: Promise<void> = new Promise((res) => {
    this.finish = res;
  });

  constructor(private readonly stream: Duplex, private readonly opts: ServerOptions) {
    this.pathFds = new PathFdCache(opts.maxPathFds ?? 4096);
    this.writeFrame = batchedWriter(stream);
    stream.on('data', (chunk: Uint8Array) => this.onData(chunk));
    stream.on('end', () => this.close());
    stream.on('error', () => this.close());
    stream.on('close', () => this.close());
  }


  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.resetFids();
    this.stream.destroy();
    this.finish();
  }

  private onData(chunk: Uint8Array): void {
    if (this.closed) return;
    const { frames, error } = this.framer.push(chunk);
    for (const f of frames) {
      if (this.closed) return;
      this.onFrame(f);
    }
    if (error !== null) {
      this.opts.log?.(`gofer: closing connection: ${error.reason}`);
      // A reply where one is possible, then the connection goes: framing cannot recover.
      if (error.tag !== null) this.send(encodeRlerror(error.tag, error.errno));
      this.close();
    }
  }

  private onFrame(frame: Uint8Array): void {
    const m = decode(frame, this.msize);
    if (isErr(m)) {
      if (isProtocolError(m) && m.tag !== null) this.send(encodeRlerror(m.tag, m.errno));
      else this.close();
      return;
    }
    if (m.kind.startsWith('R')) {
      this.send(encodeRlerror(m.tag, E.EINVAL));
      return;
    }
    const t = m as TMessage;
    if (t.kind === 'Tflush') {
      const p = this.inflight.get(t.oldtag);
      if (p !== undefined) p.flushed = true;
      this.reply(t.tag, { kind: 'Rflush', tag: t.tag });
      return;
    }
    this.pathFds.trim();
    const slot = { flushed: false };
    this.inflight.set(t.tag, slot);
    let r: Reply | Promise<Reply>;
    try {
      r = this.handle(t);
    } catch (e) {
      // A bug of ours, not the peer's: answer EIO and keep serving.
      this.opts.log?.(`gofer: ${t.kind} failed: ${e instanceof Error ? e.message : String(e)}`);
      r = err(E.EIO);
    }
    const deliver = (v: Reply): void => {
      if (this.inflight.get(t.tag) === slot) this.inflight.delete(t.tag);
      if (slot.flushed || this.closed) return;
      this.reply(t.tag, v);
    };
    if (r instanceof Promise) r.then(deliver, () => deliver(err(E.EIO)));
    else deliver(r);
  }

  private reply(tag: number, r: Reply): void {
    if (isErr(r)) {
      this.send(encodeRlerror(tag, r.errno));
      return;
    }
    let frame: Uint8Array;
    try {
      frame = encode({ ...r, tag } as RMessage);
    } catch {
      frame = encodeRlerror(tag, E.EIO);
    }
    if (frame.length > this.msize) frame = encodeRlerror(tag, E.EMSGSIZE);
    this.send(frame);
  }

  private send(frame: Uint8Array): void {
    if (this.closed || this.stream.destroyed) return;
    this.writeFrame(frame);
  }

  private resetFids(): void {
    for (const f of this.fids.values()) this.release(f);
    this.fids.clear();
  }

  private release(f: Fid): void {
    f.open?.close();
    f.open = null;
    f.path.decRef();
  }

  /** Fid n, its path's fd open for the rest of this request. */
  private fid(n: number): Result<Fid> {
    const f = this.fids.get(n);
    if (f === undefined) return err(E.EBADF);
    const fd = f.path.ensure();
    return isErr(fd) ? fd : f;
  }

  private qidOf(p: HostPath): Result<Qid> {
    const st = p.stat();
    return isErr(st) ? st : this.qids.qid(st);
  }

  private writable(): Result<void> {
    return this.opts.readOnly ? err(E.EROFS) : undefined;
  }

  // ------------------------------------------------------------ dispatch

  private handle(t: TMessage): Reply | Promise<Reply> {
    switch (t.kind) {
      case 'Tversion': {
        const d = negotiateVersion(t, this.opts.maxMsize ?? DEFAULT_MSIZE);
        // A new version starts a new session: every fid of the old one is gone (version(5)).
        this.resetFids();
        if (d.ok) {
          this.msize = d.msize;
          this.framer.setMaxFrame(d.msize);
        }
        return { kind: 'Rversion', tag: t.tag, msize: d.msize, version: d.version };
      }
      case 'Tauth':
        // No authentication (the socket itself is the credential). ENOENT is how diod says
        // "not required", and its clients then attach without an afid.
        return err(E.ENOENT);
      case 'Tattach': {
        if (t.afid !== NOFID) return err(E.EINVAL);
        if (this.fids.has(t.fid)) return err(E.EBADF);
        const root = HostPath.root(this.opts.rootFd, this.pathFds);
        if (isErr(root)) return root;
        const q = this.qidOf(root);
        if (isErr(q)) return q;
        this.fids.set(t.fid, { path: root, open: null });
        return { kind: 'Rattach', tag: t.tag, qid: q };
      }
      case 'Twalk': return this.walk(t.fid, t.newfid, t.names, t.tag);
      case 'Tclunk': {
        const f = this.fids.get(t.fid);
        if (f === undefined) return err(E.EBADF);
        this.fids.delete(t.fid);
        // An xattr writer sets its value now; a failure is the clunk's (the fid goes anyway).
        const set = f.xattr?.kind === 'write' ? commitXattr(f.path, f.xattr) : undefined;
        this.release(f);
        return isErr(set) ? set : { kind: 'Rclunk', tag: t.tag };
      }
      case 'Tremove': {
        const f = this.fids.get(t.fid);
        if (f === undefined) return err(E.EBADF);
        // remove(5): the fid is clunked even when the remove fails.
        this.fids.delete(t.fid);
        const r = this.writable() ?? this.unlinkPath(f.path);
        this.release(f);
        return isErr(r) ? r : { kind: 'Rremove', tag: t.tag };
      }
      case 'Tlopen': return this.lopen(t.fid, t.flags, t.tag);
      case 'Tlcreate': return this.lcreate(t);
      case 'Tread': return this.read(t.fid, t.offset, t.count, t.tag);
      case 'Twrite': return this.write(t.fid, t.offset, t.data, t.tag);
      case 'Treaddir': return this.readdir(t.fid, t.offset, t.count, t.tag);
      case 'Tgetattr': {
        const f = this.fid(t.fid);
        if (isErr(f)) return f;
        const st = f.path.stat();
        if (isErr(st)) return st;
        return { kind: 'Rgetattr', tag: t.tag, attr: attrOf(st, this.qids.qid(st)) };
      }
      case 'Tsetattr': return this.setattr(t);
      case 'Tstatfs': {
        const f = this.fid(t.fid);
        if (isErr(f)) return f;
        const b = new BigInt64Array(9);
        const r = goferNative().statfsFd(f.path.fd, b);
        if (r < 0) return err(-r);
        return {
          kind: 'Rstatfs', tag: t.tag, type: Number(b[0]), bsize: Number(b[1]), blocks: Number(b[2]),
          bfree: Number(b[3]), bavail: Number(b[4]), files: Number(b[5]), ffree: Number(b[6]), fsid: 0n,
          namelen: Number(b[7]),
        };
      }
      case 'Treadlink': {
        const f = this.fid(t.fid);
        if (isErr(f)) return f;
        if (!isLnkMode(f.path.mode)) return err(E.EINVAL);
        const r = goferNative().readlinkFd(f.path.fd);
        return typeof r === 'number' ? err(-r) : { kind: 'Rreadlink', tag: t.tag, target: r };
      }
      case 'Tmkdir': {
        const d = this.dirFid(t.dfid, t.name);
        if (isErr(d)) return d;
        const r = goferNative().mkdirAt(d.fd, t.name, safeMode(t.mode, true));
        if (r < 0) return err(-r);
        return this.created(d, t.name, t.gid, (qid) => ({ kind: 'Rmkdir', tag: t.tag, qid }));
      }
      case 'Tsymlink': {
        const d = this.dirFid(t.dfid, t.name);
        if (isErr(d)) return d;
        if (t.target === '' || t.target.includes('\0')) return err(E.EINVAL);
        const r = goferNative().symlinkAt(t.target, d.fd, t.name);
        if (r < 0) return err(-r);
        return this.created(d, t.name, t.gid, (qid) => ({ kind: 'Rsymlink', tag: t.tag, qid }));
      }
      case 'Tmknod': {
        const d = this.dirFid(t.dfid, t.name);
        if (isErr(d)) return d;
        // Device nodes in the host's tree would be host devices: only fifos, sockets and files.
        const type = t.mode & 0o170000;
        if (type !== 0o010000 && type !== 0o140000 && type !== S_IFREG) return err(E.EPERM);
        const r = goferNative().mknodAt(d.fd, t.name, type | safeMode(t.mode, false), 0, 0);
        if (r < 0) return err(-r);
        return this.created(d, t.name, t.gid, (qid) => ({ kind: 'Rmknod', tag: t.tag, qid }));
      }
      case 'Tlink': {
        const d = this.dirFid(t.dfid, t.name);
        if (isErr(d)) return d;
        const f = this.fid(t.fid);
        if (isErr(f)) return f;
        if (isDirMode(f.path.mode)) return err(E.EPERM);
        const r = goferNative().linkAt(f.path.fd, d.fd, t.name);
        return r < 0 ? err(-r) : { kind: 'Rlink', tag: t.tag };
      }
      case 'Trename': {
        const f = this.fid(t.fid);
        if (isErr(f)) return f;
        const d = this.dirFid(t.dfid, t.name);
        if (isErr(d)) return d;
        const p = f.path.parent;
        if (p === null) return err(E.EBUSY);
        const r = goferNative().renameAt(p.fd, f.path.name, d.fd, t.name);
        if (r < 0) return err(-r);
        f.path.moved(d, t.name);
        return { kind: 'Rrename', tag: t.tag };
      }
      case 'Trenameat': {
        const od = this.dirFid(t.oldDirFid, t.oldName);
        if (isErr(od)) return od;
        const nd = this.dirFid(t.newDirFid, t.newName);
        if (isErr(nd)) return nd;
        const r = goferNative().renameAt(od.fd, t.oldName, nd.fd, t.newName);
        return r < 0 ? err(-r) : { kind: 'Rrenameat', tag: t.tag };
      }
      case 'Tunlinkat': {
        const d = this.dirFid(t.dfid, t.name);
        if (isErr(d)) return d;
        const r = goferNative().unlinkAt(d.fd, t.name, t.flags & AT_REMOVEDIR);
        return r < 0 ? err(-r) : { kind: 'Runlinkat', tag: t.tag };
      }
      case 'Tfsync': {
        const f = this.fid(t.fid);
        if (isErr(f)) return f;
        if (f.open === null) return err(E.EBADF);
        try {
          if (t.datasync !== 0) fs.fdatasyncSync(f.open.fd);
          else fs.fsyncSync(f.open.fd);
        } catch (e) {
          return err(errnoOf(e));
        }
        return { kind: 'Rfsync', tag: t.tag };
      }
      case 'Txattrwalk': {
        const f = this.fid(t.fid);
        if (isErr(f)) return f;
        if (this.fids.has(t.newfid)) return err(E.EBADF);
        const data = readXattr(f.path, t.name);
        if (isErr(data)) return data;
        f.path.incRef();
        this.fids.set(t.newfid, { path: f.path, open: null, xattr: { kind: 'read', data } });
        return { kind: 'Rxattrwalk', tag: t.tag, size: BigInt(data.length) };
      }
      case 'Txattrcreate': {
        const f = this.fid(t.fid);
        if (isErr(f)) return f;
        const w = this.writable();
        if (isErr(w)) return w;
        if (f.open !== null || f.xattr !== undefined) return err(E.EBUSY);
        const x = startXattrWrite(f.path, t.name, t.attrSize, t.flags);
        if (isErr(x)) return x;
        f.xattr = x;
        return { kind: 'Rxattrcreate', tag: t.tag };
      }
      // Locks stay in the Sentry.
      case 'Tlock':
      case 'Tgetlock':
        return err(E.EOPNOTSUPP);
      case 'Tflush':
        return { kind: 'Rflush', tag: t.tag };
    }
  }

  /** The directory fid `n`, checked for a change of `name` in it. */
  private dirFid(n: number, name: string): Result<HostPath> {
    const f = this.fid(n);
    if (isErr(f)) return f;
    if (!isDirMode(f.path.mode)) return err(E.ENOTDIR);
    if (!validName(name)) return err(name === '' ? E.ENOENT : E.EINVAL);
    return this.writable() ?? f.path;
  }

  /** After creating `name` in d: the wanted group, then the new file's qid. */
  private created(d: HostPath, name: string, gid: number, make: (q: Qid) => RMessage): Reply {
    const c = d.child(name);
    if (isErr(c)) return c;
    try {
      const st = c.stat();
      if (isErr(st)) return st;
      if (gid !== st.gid && gid !== NOFID) goferNative().chownFd(c.fd, -1, gid);
      return make(this.qids.qid(st));
    } finally {
      c.decRef();
    }
  }

  private unlinkPath(p: HostPath): Result<void> {
    if (p.parent === null) return err(E.EBUSY);
    const r = goferNative().unlinkAt(p.parent.fd, p.name, isDirMode(p.mode) ? AT_REMOVEDIR : 0);
    return r < 0 ? err(-r) : undefined;
  }

  private walk(fidN: number, newfid: number, names: string[], tag: number): Reply {
    const f = this.fid(fidN);
    if (isErr(f)) return f;
    // walk(5) forbids walking from an open fid; diod allows it and diodls relies on it.
    // Only the path is used, so it is harmless here.
    if (newfid !== fidN && this.fids.has(newfid)) return err(E.EBADF);
    if (newfid === fidN && f.open !== null && names.length > 0) return err(E.EBUSY);
    if (names.length > MAXWELEM) return err(E.EINVAL);
    let cur = f.path;
    cur.incRef();
    const qids: Qid[] = [];
    for (const name of names) {
      let next: Result<HostPath>;
      if (name === '..' || name === '.') {
        // The root is its own parent: `..` never leaves the export. `.` stays put.
        next = name === '.' ? cur : cur.parent ?? cur;
        next.incRef();
      } else {
        next = cur.child(name);
      }
      if (isErr(next)) {
        cur.decRef();
        // walk(5): an error only when the first name fails; otherwise the qids so far.
        return qids.length === 0 ? next : { kind: 'Rwalk', tag, qids };
      }
      cur.decRef();
      cur = next;
      const q = this.qidOf(cur);
      if (isErr(q)) {
        cur.decRef();
        return qids.length === 0 ? q : { kind: 'Rwalk', tag, qids };
      }
      qids.push(q);
    }
    if (newfid === fidN) this.release(f);
    this.fids.set(newfid, { path: cur, open: null });
    return { kind: 'Rwalk', tag, qids };
  }

  private lopen(fidN: number, flags: number, tag: number): Reply {
    const f = this.fid(fidN);
    if (isErr(f)) return f;
    if (f.open !== null || f.xattr !== undefined) return err(E.EBUSY);
    const p = f.path;
    const want = flags & OPEN_FLAGS_ALLOWED;
    const acc = want & L_O.ACCMODE;
    if ((acc !== L_O.RDONLY || (want & L_O.TRUNC) !== 0) && this.opts.readOnly) return err(E.EROFS);
    // Host devices, fifos and sockets are host objects: never opened for the sandbox.
    if (!isRegMode(p.mode) && !isDirMode(p.mode)) return err(E.EACCES);
    if (isDirMode(p.mode) && acc !== L_O.RDONLY) return err(E.EISDIR);
    const fd = p.open((want & ~L_O.EXCL) | (isDirMode(p.mode) ? O_DIRECTORY : 0));
    if (isErr(fd)) return fd;
    f.open = new OpenFd(fd, isDirMode(p.mode));
    const q = this.qidOf(p);
    if (isErr(q)) return q;
    this.donate(fidN, fd, p.mode, acc);
    return { kind: 'Rlopen', tag, qid: q, iounit: 0 };
  }

  /** Read-only regular files go to the Sentry as fds too, ahead of the reply. */
  private donate(fidN: number, fd: number, mode: number, acc: number): void {
    if (this.opts.donateFd === undefined || !isRegMode(mode) || acc !== L_O.RDONLY) return;
    const r = goferNative().sendFd(this.opts.donateFd, fd, fidN);
    if (r < 0) this.opts.log?.(`gofer: cannot donate fd: errno ${-r}`);
  }

  private lcreate(t: Extract<TMessage, { kind: 'Tlcreate' }>): Reply {
    const f = this.fid(t.fid);
    if (isErr(f)) return f;
    if (f.open !== null) return err(E.EBUSY);
    const d = this.dirFid(t.fid, t.name);
    if (isErr(d)) return d;
    const flags = (t.flags & OPEN_FLAGS_ALLOWED & ~L_O.DIRECTORY) | L_O.CREAT;
    const fd = goferNative().openComponent(d.fd, t.name, flags, safeMode(t.mode, false));
    if (fd < 0) return err(-fd);
    const c = d.child(t.name);
    if (isErr(c) || !isRegMode(c.mode)) {
      goferNative().closeFd(fd);
      if (!isErr(c)) c.decRef();
      return isErr(c) ? c : err(E.ESTALE);
    }
    const st = c.stat();
    if (!isErr(st) && t.gid !== st.gid && t.gid !== NOFID) goferNative().chownFd(c.fd, -1, t.gid);
    // lcreate(5): the directory fid becomes the new, open file.
    this.release(f);
    f.path = c;
    f.open = new OpenFd(fd, false);
    const q = this.qidOf(c);
    if (isErr(q)) return q;
    this.donate(t.fid, fd, c.mode, flags & L_O.ACCMODE);
    return { kind: 'Rlcreate', tag: t.tag, qid: q, iounit: 0 };
  }

  private read(fidN: number, offset: number, count: number, tag: number): Reply | Promise<Reply> {
    const f = this.fid(fidN);
    if (isErr(f)) return f;
    if (f.xattr !== undefined) {
      if (f.xattr.kind !== 'read') return err(E.EBADF);
      const n = Math.min(count, maxIoSize(this.msize));
      return { kind: 'Rread', tag, data: f.xattr.data.subarray(Math.min(offset, f.xattr.data.length), Math.min(offset + n, f.xattr.data.length)) };
    }
    const o = f.open;
    if (o === null) return err(E.EBADF);
    if (o.isDir) return err(E.EISDIR);
    const n = Math.min(count, maxIoSize(this.msize));
    const buf = Buffer.allocUnsafe(n);
    o.busy++;
    return new Promise<Reply>((resolve) => {
      fs.read(o.fd, buf, 0, n, offset, (e, got) => {
        o.done();
        resolve(e ? err(errnoOf(e)) : { kind: 'Rread', tag, data: buf.subarray(0, got) });
      });
    });
  }

  private write(fidN: number, offset: number, data: Uint8Array, tag: number): Reply | Promise<Reply> {
    const f = this.fid(fidN);
    if (isErr(f)) return f;
    if (f.xattr !== undefined) {
      if (f.xattr.kind !== 'write') return err(E.EBADF);
      const n = writeXattrBytes(f.xattr, offset, data);
      return isErr(n) ? n : { kind: 'Rwrite', tag, count: n };
    }
    const o = f.open;
    if (o === null) return err(E.EBADF);
    if (this.opts.readOnly) return err(E.EROFS);
    o.busy++;
    return new Promise<Reply>((resolve) => {
      fs.write(o.fd, data, 0, data.length, offset, (e, n) => {
        o.done();
        resolve(e ? err(errnoOf(e)) : { kind: 'Rwrite', tag, count: n });
      });
    });
  }

  private readdir(fidN: number, cookie: bigint, count: number, tag: number): Reply {
    const f = this.fid(fidN);
    if (isErr(f)) return f;
    const o = f.open;
    if (o === null || !o.isDir) return err(E.EBADF);
    const n = goferNative();
    const budget = Math.min(count, maxIoSize(this.msize));
    if (cookie !== o.dirCookie) {
      const r = n.seekDir(o.fd, cookie);
      if (r < 0) return err(-r);
      o.dirCookie = cookie;
    }
    const dirSt = f.path.stat();
    if (isErr(dirSt)) return dirSt;
    const entries: Dirent[] = [];
    let used = 0;
    let full = false;
    while (!full) {
      const got = n.getdents(o.fd, this.dirBuf);
      if (got < 0) return err(-got);
      if (got === 0) break;
      const view = new DataView(this.dirBuf.buffer, this.dirBuf.byteOffset, got);
      const names = this.dirNames;
      for (let at = 0; at < got;) {
        const inoLo = view.getUint32(at, true);
        const inoHi = view.getUint32(at + 4, true);
        // Below 2^53 (always, in practice) the inode number stays a plain number: cheaper to key.
        const ino = inoHi < 0x200000 ? inoHi * 0x100000000 + inoLo : view.getBigUint64(at, true);
        const off = view.getBigInt64(at + 8, true);
        const reclen = view.getUint16(at + 16, true);
        const dtype = view.getUint8(at + 18);
        const nul = names.indexOf(0, at + 19);
        const end = nul < 0 || nul > at + reclen ? at + reclen : nul;
        const name = names.toString('utf8', at + 19, end);
        const size = direntSize(name);
        if (used + size > budget) {
          full = true;
          break;
        }
        used += size;
        const qtype = dtype === 4 ? QT.DIR : dtype === 10 ? QT.SYMLINK : QT.FILE;
        entries.push({ qid: { type: qtype, version: 0, path: this.qids.of(dirSt.dev, ino) }, offset: off, type: dtype, name });
        o.dirCookie = off;
        at += reclen;
      }
      if (full) {
        // Leave the host offset at the first entry not sent.
        const r = n.seekDir(o.fd, o.dirCookie);
        if (r < 0) return err(-r);
      }
    }
    // An empty reply means end of directory: a budget too small for one entry is an error.
    if (full && entries.length === 0) return err(E.EINVAL);
    return { kind: 'Rreaddir', tag, entries };
  }

  private setattr(t: Extract<TMessage, { kind: 'Tsetattr' }>): Reply {
    const f = this.fid(t.fid);
    if (isErr(f)) return f;
    const w = this.writable();
    if (isErr(w)) return w;
    const a = t.attr;
    const n = goferNative();
    const p = f.path;
    if ((a.valid & SETATTR.MODE) !== 0) {
      if (isLnkMode(p.mode)) return err(E.EOPNOTSUPP);
      const r = n.chmodFd(p.fd, safeMode(a.mode, isDirMode(p.mode)));
      if (r < 0) return err(-r);
    }
    if ((a.valid & (SETATTR.UID | SETATTR.GID)) !== 0) {
      const r = n.chownFd(p.fd, (a.valid & SETATTR.UID) !== 0 ? a.uid : -1, (a.valid & SETATTR.GID) !== 0 ? a.gid : -1);
      if (r < 0) return err(-r);
    }
    if ((a.valid & SETATTR.SIZE) !== 0) {
      if (!isRegMode(p.mode)) return err(isDirMode(p.mode) ? E.EISDIR : E.EINVAL);
      const fd = p.open(L_O.WRONLY);
      if (isErr(fd)) return fd;
      try {
        fs.ftruncateSync(fd, a.size);
      } catch (e) {
        return err(errnoOf(e));
      } finally {
        n.closeFd(fd);
      }
    }
    if ((a.valid & (SETATTR.ATIME | SETATTR.MTIME)) !== 0) {
      const time = (bit: number, setBit: number, sec: number, nsec: number): [number, number] =>
        (a.valid & bit) === 0 ? [0, UTIME_OMIT] : (a.valid & setBit) === 0 ? [0, UTIME_NOW] : [sec, nsec];
      const [as, an] = time(SETATTR.ATIME, SETATTR.ATIME_SET, a.atimeSec, a.atimeNsec);
      const [ms, mn] = time(SETATTR.MTIME, SETATTR.MTIME_SET, a.mtimeSec, a.mtimeNsec);
      const r = n.utimesFd(p.fd, as, an, ms, mn);
      if (r < 0) return err(-r);
    }
    return { kind: 'Rsetattr', tag: t.tag };
  }
}

/** errno of a node:fs exception (its `errno` is negative libuv style). */
function errnoOf(e: unknown): number {
  const n = (e as { errno?: unknown }).errno;
  return typeof n === 'number' && n !== 0 ? Math.abs(n) : E.EIO;
}
