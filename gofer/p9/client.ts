// An asynchronous 9P2000.L client over any duplex byte stream (a net.Socket on a unix
// socket, TCP, or a socketpair fd). Many requests may be outstanding; replies are matched
// by tag. Rlerror becomes SysError(errno); a lost or corrupt connection fails every pending
// and future request with EIO, which is how the Sentry reports a dead Gofer.

import type { Duplex } from 'node:stream';
import { E } from '../../sentry/abi/errno.js';
import { err, isErr, type Result } from '../../sentry/abi/result.js';
import { decode, encode, maxIoSize } from './codec.js';
import {
  AT_REMOVEDIR,
  DEFAULT_MSIZE,
  GETATTR,
  MAXWELEM,
  MAX_MSIZE,
  MIN_MSIZE,
  NOFID,
  NONUNAME,
  NOTAG,
  QT,
  VERSION_9P2000_L,
} from './constants.js';
import { isProtocolError } from './errors.js';
import { batchedWriter } from './batched_writes.js';
import { Framer } from './framer.js';
import type {
  Attr,
  Dirent,
  LockDesc,
  MessageOf,
  Qid,
  ReplyKind,
  Request,
  RMessage,
  SetAttr,
  StatFs,
  TMessage,
} from './messages.js';

/** The successful reply message type for a request kind. */
export type ReplyTo<K extends TMessage['kind']> = MessageOf<ReplyKind<K>>;

interface Pending {
  expect: RMessage['kind'];
  resolve: (r: Result<RMessage>) => void;
  /** Set once a Tflush was sent for this request. */
  flushing: boolean;
  detach: (() => void) | null;
  /** Called synchronously when the reply (of any kind) is processed. */
  onReply: (() => void) | null;
}

export interface ClientOptions {
  /** msize to propose; the server may lower it. Default 1 MiB. */
  msize?: number;
  /** Protocol version to propose. Default "9P2000.L". */
  version?: string;
}

export interface OpenResult {
  qid: Qid;
  iounit: number;
}

export interface WalkResult {
  /** The new fid, owned by the caller (clunk it when done). */
  fid: number;
  /** One qid per name walked (empty for a clone). */
  qids: Qid[];
}

/** How long a clunkSoon may wait for a request to travel with, and how many may wait. */
const CLUNK_DELAY_MS = 5;
const MAX_DEFERRED_CLUNKS = 64;

function lerrorToSys(ecode: number): Result<never> {
  // A server's errno is taken at its word only when it is a plausible Linux errno.
  return err(ecode > 0 && ecode < 4096 ? ecode : E.EIO);
}

export class P9Client {
  private readonly framer: Framer;
  private readonly pending = new Map<number, Pending>();
  private readonly tagWaiters: Array<() => void> = [];
  private nextTag = 0;
  private nextFid = 0;
  private readonly freeFids: number[] = [];
  private isClosed = false;
  // Set when the server answered EOPNOTSUPP once, so later calls go straight to the fallback.
  private noRenameat = false;
  private noUnlinkat = false;
  private negotiatedMsize: number;
  private negotiatedVersion = '';
  private resolveClosed!: () => void;
  /** Resolves once the connection is gone (all requests then fail with EIO). */
  readonly whenClosed: Promise<void>;

  private readonly writeFrame: (frame: Uint8Array) => void;
  /** Fids given up with clunkSoon, to go out with the next request (or after CLUNK_DELAY_MS). */
  private deferredClunks: number[] = [];
  private clunkTimer: ReturnType<typeof setTimeout> | null = null;

  private constructor(private readonly stream: Duplex, proposedMsize: number) {
    this.negotiatedMsize = proposedMsize;
    this.framer = new Framer(proposedMsize);
    this.whenClosed = new Promise((res) => {
      this.resolveClosed = res;
    });
    this.writeFrame = batchedWriter(stream);
    stream.on('data', (chunk: Uint8Array) => this.onData(chunk));
    stream.on('end', () => this.close());
    stream.on('close', () => this.shutdown());
    stream.on('error', () => this.shutdown());
  }

  /**
   * Negotiate version and msize over `stream`. On failure the stream is destroyed.
   * Errors: EPROTONOSUPPORT if the server does not speak 9P2000.L, EIO on a lost or
   * corrupt connection, or the server's Rlerror errno.
   */
  static async connect(stream: Duplex, opts: ClientOptions = {}): Promise<Result<P9Client>> {
    const proposed = Math.min(MAX_MSIZE, Math.max(MIN_MSIZE, Math.floor(opts.msize ?? DEFAULT_MSIZE)));
    const version = opts.version ?? VERSION_9P2000_L;
    const c = new P9Client(stream, proposed);
    if (stream.destroyed) {
      c.shutdown();
      return err(E.EIO);
    }
    const r = await c.send({ kind: 'Tversion', msize: proposed, version }, NOTAG);
    if (isErr(r)) {
      c.close();
      return r;
    }
    if (r.version !== version) {
      c.close();
      return err(E.EPROTONOSUPPORT);
    }
    if (r.msize > proposed || r.msize < MIN_MSIZE) {
      c.close();
      return err(E.EIO);
    }
    c.negotiatedMsize = r.msize;
    c.negotiatedVersion = r.version;
    c.framer.setMaxFrame(r.msize);
    return c;
  }

  get msize(): number {
    return this.negotiatedMsize;
  }

  get version(): string {
    return this.negotiatedVersion;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Requests sent and not yet answered. */
  get outstanding(): number {
    return this.pending.size;
  }

  /** The most data bytes one Tread/Twrite/Treaddir may carry on this connection. */
  get maxIo(): number {
    return maxIoSize(this.negotiatedMsize);
  }

  /** Close the connection; everything pending fails with EIO. */
  close(): void {
    this.stream.destroy();
    this.shutdown();
  }

  // ------------------------------------------------------------ fids

  /** A fid number not in use on this connection (the server learns of it when a request names it). */
  allocFid(): number {
    const f = this.freeFids.pop();
    if (f !== undefined) return f;
    const fid = this.nextFid++;
    return fid === NOFID ? this.nextFid++ : fid;
  }

  /** Return a fid number for reuse, without telling the server (use after clunk/remove, or a failed create). */
  releaseFid(fid: number): void {
    this.freeFids.push(fid);
  }

  // ------------------------------------------------------------ transport

  /**
   * Send one request and wait for its reply. Rlerror → SysError(ecode); a reply of the wrong
   * kind, a corrupt reply or a lost connection → EIO. If `signal` aborts, a Tflush is sent:
   * the result is then the original reply if it arrives first, else EINTR.
   */
  request<M extends Request>(msg: M, signal?: AbortSignal): Promise<Result<ReplyTo<M['kind']>>> {
    if (this.deferredClunks.length > 0) this.sendDeferredClunks();
    return this.acquireTag().then((tag) => {
      if (tag === null) return err(E.EIO);
      return this.send(msg, tag, signal);
    }) as Promise<Result<ReplyTo<M['kind']>>>;
  }

  private acquireTag(): Promise<number | null> {
    if (this.isClosed) return Promise.resolve(null);
    // NOTAG is reserved for Tversion, hence 0xffff usable tags.
    if (this.pending.size < NOTAG) {
      while (this.pending.has(this.nextTag)) this.nextTag = (this.nextTag + 1) % NOTAG;
      const tag = this.nextTag;
      this.nextTag = (this.nextTag + 1) % NOTAG;
      // Reserve it now so concurrent callers do not pick the same tag.
      this.pending.set(tag, { expect: 'Rflush', resolve: () => {}, flushing: false, detach: null, onReply: null });
      return Promise.resolve(tag);
    }
    return new Promise((res) => {
      this.tagWaiters.push(() => res(this.acquireTag()));
    });
  }

  private freeTag(tag: number): void {
    this.pending.delete(tag);
    const w = this.tagWaiters.shift();
    if (w) w();
  }

  private send<M extends Request>(
    msg: M,
    tag: number,
    signal?: AbortSignal,
    onReply?: () => void,
  ): Promise<Result<ReplyTo<M['kind']>>> {
    if (this.isClosed) return Promise.resolve(err(E.EIO));
    let frame: Uint8Array;
    try {
      frame = encode({ ...msg, tag } as TMessage);
    } catch {
      // Only our own out-of-range arguments reach here (e.g. a name over 65535 bytes).
      this.freeTag(tag);
      return Promise.resolve(err(E.EINVAL));
    }
    if (frame.length > this.negotiatedMsize) {
      this.freeTag(tag);
      return Promise.resolve(err(E.EMSGSIZE));
    }
    const expect = ('R' + msg.kind.slice(1)) as RMessage['kind'];
    return new Promise<Result<RMessage>>((resolve) => {
      const p: Pending = { expect, resolve, flushing: false, detach: null, onReply: onReply ?? null };
      this.pending.set(tag, p);
      if (signal) {
        const onAbort = (): void => this.flush(tag, p);
        if (signal.aborted) queueMicrotask(onAbort);
        else {
          signal.addEventListener('abort', onAbort, { once: true });
          p.detach = () => signal.removeEventListener('abort', onAbort);
        }
      }
      this.writeFrame(frame);
    }) as Promise<Result<ReplyTo<M['kind']>>>;
  }

  /** Ask the server to abandon `tag`; the tag stays reserved until Rflush (or the original reply) arrives. */
  private flush(tag: number, p: Pending): void {
    if (p.flushing || this.pending.get(tag) !== p || this.isClosed) return;
    p.flushing = true;
    void this.acquireTag().then((ftag) => {
      if (ftag === null) return;
      // Runs synchronously as Rflush is processed, before any later frame in the same chunk:
      // per flush(5), once Rflush is in, the original reply will never be delivered.
      void this.send({ kind: 'Tflush', oldtag: tag }, ftag, undefined, () => {
        if (this.pending.get(tag) === p) this.complete(tag, p, err(E.EINTR));
      });
    });
  }

  private complete(tag: number, p: Pending, r: Result<RMessage>): void {
    if (p.detach) p.detach();
    this.freeTag(tag);
    if (p.onReply) p.onReply();
    p.resolve(r);
  }

  private onData(chunk: Uint8Array): void {
    if (this.isClosed) return;
    const { frames, error } = this.framer.push(chunk);
    for (const f of frames) {
      this.onFrame(f);
      if (this.isClosed) return;
    }
    if (error) this.close();
  }

  private onFrame(frame: Uint8Array): void {
    const m = decode(frame, this.negotiatedMsize);
    if (isErr(m)) {
      const tag = isProtocolError(m) ? m.tag : null;
      const p = tag === null ? undefined : this.pending.get(tag);
      if (p && tag !== null) this.complete(tag, p, err(E.EIO));
      return;
    }
    const p = this.pending.get(m.tag);
    // A reply to a tag we are not waiting on (e.g. after a flush) is dropped.
    if (!p || m.kind.startsWith('T')) return;
    const reply = m as RMessage;
    if (reply.kind === 'Rlerror') this.complete(m.tag, p, lerrorToSys(reply.ecode));
    else if (reply.kind === p.expect) this.complete(m.tag, p, reply);
    else this.complete(m.tag, p, err(E.EIO));
  }

  private shutdown(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    // The server forgets every fid with the connection.
    this.deferredClunks = [];
    if (this.clunkTimer !== null) clearTimeout(this.clunkTimer);
    this.clunkTimer = null;
    const all = [...this.pending.entries()];
    this.pending.clear();
    for (const [, p] of all) {
      if (p.detach) p.detach();
      p.resolve(err(E.EIO));
    }
    for (const w of this.tagWaiters.splice(0)) w();
    this.resolveClosed();
  }

  // ------------------------------------------------------------ typed helpers

  /** Attach to the tree `aname` as `uname` (or numeric `nUname`); returns the root fid. */
  async attach(uname: string, aname: string, nUname: number = NONUNAME): Promise<Result<WalkResult & { qid: Qid }>> {
    const fid = this.allocFid();
    const r = await this.request({ kind: 'Tattach', fid, afid: NOFID, uname, aname, nUname });
    if (isErr(r)) {
      this.releaseFid(fid);
      return r;
    }
    return { fid, qid: r.qid, qids: [r.qid] };
  }

  /**
   * Walk from `fid` through `names` (any number; sent 16 at a time) to a new fid.
   * An empty list clones `fid`. A walk that stops early fails with ENOENT and leaves no new fid.
   */
  async walk(fid: number, names: readonly string[]): Promise<Result<WalkResult>> {
    const newfid = this.allocFid();
    const qids: Qid[] = [];
    let from = fid;
    let i = 0;
    do {
      const chunk = names.slice(i, i + MAXWELEM);
      const r = await this.request({ kind: 'Twalk', fid: from, newfid, names: chunk });
      const failed = isErr(r) ? r : r.qids.length !== chunk.length ? err(r.qids.length > chunk.length ? E.EIO : E.ENOENT) : null;
      if (failed) {
        // After an earlier chunk newfid exists on the server and must be clunked.
        if (from === newfid) await this.clunk(newfid);
        else this.releaseFid(newfid);
        return failed;
      }
      if (!isErr(r)) qids.push(...r.qids);
      from = newfid;
      i += MAXWELEM;
    } while (i < names.length);
    return { fid: newfid, qids };
  }

  /** Open `fid` (Linux open(2) flags, see L_O). */
  async lopen(fid: number, flags: number): Promise<Result<OpenResult>> {
    const r = await this.request({ kind: 'Tlopen', fid, flags });
    return isErr(r) ? r : { qid: r.qid, iounit: r.iounit };
  }

  /** Create and open `name` in directory `fid`; afterwards `fid` is the new open file. */
  async lcreate(fid: number, name: string, flags: number, mode: number, gid: number): Promise<Result<OpenResult>> {
    const r = await this.request({ kind: 'Tlcreate', fid, name, flags, mode, gid });
    return isErr(r) ? r : { qid: r.qid, iounit: r.iounit };
  }

  /** One Tread of at most min(count, maxIo) bytes; a short or empty result is not an error. */
  async read(fid: number, offset: number, count: number, signal?: AbortSignal): Promise<Result<Uint8Array>> {
    const r = await this.request({ kind: 'Tread', fid, offset, count: Math.min(count, this.maxIo) }, signal);
    return isErr(r) ? r : r.data;
  }

  /** Read until `count` bytes or end of file, in maxIo-sized requests. */
  async readFull(fid: number, offset: number, count: number): Promise<Result<Uint8Array>> {
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < count) {
      const r = await this.read(fid, offset + got, count - got);
      if (isErr(r)) return r;
      if (r.length === 0) break;
      parts.push(r);
      got += r.length;
    }
    return Buffer.concat(parts, got);
  }

  /** One Twrite of at most maxIo bytes of `data`; returns the count the server wrote. */
  async write(fid: number, offset: number, data: Uint8Array, signal?: AbortSignal): Promise<Result<number>> {
    const chunk = data.length > this.maxIo ? data.subarray(0, this.maxIo) : data;
    const r = await this.request({ kind: 'Twrite', fid, offset, data: chunk }, signal);
    if (isErr(r)) return r;
    return r.count > chunk.length ? err(E.EIO) : r.count;
  }

  /** Write all of `data`, in maxIo-sized requests; a zero-byte server write is EIO. */
  async writeAll(fid: number, offset: number, data: Uint8Array): Promise<Result<number>> {
    let done = 0;
    while (done < data.length) {
      const r = await this.write(fid, offset + done, data.subarray(done));
      if (isErr(r)) return r;
      if (r === 0) return err(E.EIO);
      done += r;
    }
    return done;
  }

  /** Forget `fid` on both sides. The fid is freed locally even if the server errs, as clunk(5) says. */
  async clunk(fid: number): Promise<Result<void>> {
    const r = await this.request({ kind: 'Tclunk', fid });
    this.releaseFid(fid);
    return isErr(r) ? r : undefined;
  }

  /**
   * Clunk `fid` without waiting: the Tclunk goes out with the next request (sharing its
   * write and the server's wake-up) or after a few milliseconds if none comes. The fid
   * number is reused only after the reply, so requests stay unambiguous.
   */
  clunkSoon(fid: number): void {
    if (this.isClosed) return;
    this.deferredClunks.push(fid);
    if (this.deferredClunks.length >= MAX_DEFERRED_CLUNKS) {
      this.sendDeferredClunks();
      return;
    }
    if (this.clunkTimer === null) {
      this.clunkTimer = setTimeout(() => this.sendDeferredClunks(), CLUNK_DELAY_MS);
      this.clunkTimer.unref?.();
    }
  }

  private sendDeferredClunks(): void {
    if (this.clunkTimer !== null) {
      clearTimeout(this.clunkTimer);
      this.clunkTimer = null;
    }
    const fids = this.deferredClunks;
    this.deferredClunks = [];
    for (const fid of fids) void this.clunk(fid);
  }

  /** Remove the file `fid` names; the fid is clunked whatever the outcome. */
  async remove(fid: number): Promise<Result<void>> {
    const r = await this.request({ kind: 'Tremove', fid });
    this.releaseFid(fid);
    return isErr(r) ? r : undefined;
  }

  async getattr(fid: number, requestMask: number = GETATTR.ALL): Promise<Result<Attr>> {
    const r = await this.request({ kind: 'Tgetattr', fid, requestMask });
    return isErr(r) ? r : r.attr;
  }

  /** Set the attributes selected by `attr.valid` (SETATTR bits); omitted fields are sent as 0. */
  async setattr(fid: number, attr: Partial<SetAttr> & { valid: number }): Promise<Result<void>> {
    const full: SetAttr = {
      mode: 0, uid: 0, gid: 0, size: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0, ...attr,
    };
    const r = await this.request({ kind: 'Tsetattr', fid, attr: full });
    return isErr(r) ? r : undefined;
  }

  /** One Treaddir from cookie `offset` (0n to start); an empty list is the end of the directory. */
  async readdir(fid: number, offset: bigint, count: number = this.maxIo): Promise<Result<Dirent[]>> {
    const r = await this.request({ kind: 'Treaddir', fid, offset, count: Math.min(count, this.maxIo) });
    return isErr(r) ? r : r.entries;
  }

  /** Every entry of the open directory `fid`, following cookies until an empty reply. */
  async readdirAll(fid: number): Promise<Result<Dirent[]>> {
    const all: Dirent[] = [];
    let offset = 0n;
    for (;;) {
      const r = await this.readdir(fid, offset);
      if (isErr(r)) return r;
      if (r.length === 0) return all;
      all.push(...r);
      offset = r[r.length - 1]!.offset;
    }
  }

  async mkdir(dfid: number, name: string, mode: number, gid: number): Promise<Result<Qid>> {
    const r = await this.request({ kind: 'Tmkdir', dfid, name, mode, gid });
    return isErr(r) ? r : r.qid;
  }

  async symlink(dfid: number, name: string, target: string, gid: number): Promise<Result<Qid>> {
    const r = await this.request({ kind: 'Tsymlink', dfid, name, target, gid });
    return isErr(r) ? r : r.qid;
  }

  async mknod(dfid: number, name: string, mode: number, major: number, minor: number, gid: number): Promise<Result<Qid>> {
    const r = await this.request({ kind: 'Tmknod', dfid, name, mode, major, minor, gid });
    return isErr(r) ? r : r.qid;
  }

  /** Hard-link the file `fid` as `name` in directory `dfid`. */
  async link(dfid: number, fid: number, name: string): Promise<Result<void>> {
    const r = await this.request({ kind: 'Tlink', dfid, fid, name });
    return isErr(r) ? r : undefined;
  }

  async readlink(fid: number): Promise<Result<string>> {
    const r = await this.request({ kind: 'Treadlink', fid });
    return isErr(r) ? r : r.target;
  }

  /** Move the file `fid` to `name` in directory `dfid` (the older form of renameat). */
  async rename(fid: number, dfid: number, name: string): Promise<Result<void>> {
    const r = await this.request({ kind: 'Trename', fid, dfid, name });
    return isErr(r) ? r : undefined;
  }

  /**
   * Rename `oldName` in `oldDirFid` to `newName` in `newDirFid`. Servers without Trenameat
   * (diod answers EOPNOTSUPP) get walk + Trename instead, as Linux's v9fs does.
   */
  async renameat(oldDirFid: number, oldName: string, newDirFid: number, newName: string): Promise<Result<void>> {
    if (!this.noRenameat) {
      const r = await this.request({ kind: 'Trenameat', oldDirFid, oldName, newDirFid, newName });
      if (!isErr(r)) return undefined;
      if (r.errno !== E.EOPNOTSUPP) return r;
      this.noRenameat = true;
    }
    const w = await this.walk(oldDirFid, [oldName]);
    if (isErr(w)) return w;
    const r = await this.rename(w.fid, newDirFid, newName);
    await this.clunk(w.fid);
    return r;
  }

  /**
   * Unlink `name` from directory `dfid`; flags AT_REMOVEDIR removes a directory. Servers
   * without Tunlinkat get walk + Tremove, with the file-type checks unlinkat(2) makes.
   */
  async unlinkat(dfid: number, name: string, flags = 0): Promise<Result<void>> {
    if (!this.noUnlinkat) {
      const r = await this.request({ kind: 'Tunlinkat', dfid, name, flags });
      if (!isErr(r)) return undefined;
      if (r.errno !== E.EOPNOTSUPP) return r;
      this.noUnlinkat = true;
    }
    const w = await this.walk(dfid, [name]);
    if (isErr(w)) return w;
    const isDir = (w.qids[0]!.type & QT.DIR) !== 0;
    const wantDir = (flags & AT_REMOVEDIR) !== 0;
    if (isDir !== wantDir) {
      await this.clunk(w.fid);
      return err(isDir ? E.EISDIR : E.ENOTDIR);
    }
    return this.remove(w.fid);
  }

  async statfs(fid: number): Promise<Result<StatFs>> {
    const r = await this.request({ kind: 'Tstatfs', fid });
    if (isErr(r)) return r;
    const { kind: _k, tag: _t, ...fs } = r;
    return fs;
  }

  async fsync(fid: number, datasync = false): Promise<Result<void>> {
    const r = await this.request({ kind: 'Tfsync', fid, datasync: datasync ? 1 : 0 });
    return isErr(r) ? r : undefined;
  }

  /** A POSIX record lock request; returns the LOCK_STATUS value. */
  async lock(fid: number, flags: number, desc: LockDesc): Promise<Result<number>> {
    const r = await this.request({ kind: 'Tlock', fid, flags, ...desc });
    return isErr(r) ? r : r.status;
  }

  /** Test for a conflicting lock; type UNLCK in the answer means none. */
  async getlock(fid: number, desc: LockDesc): Promise<Result<LockDesc>> {
    const r = await this.request({ kind: 'Tgetlock', fid, ...desc });
    if (isErr(r)) return r;
    return { type: r.type, start: r.start, length: r.length, procId: r.procId, clientId: r.clientId };
  }

  /** A new fid for reading xattr `name` of `fid` ("" lists names); returns it with the value's size. */
  async xattrwalk(fid: number, name: string): Promise<Result<{ fid: number; size: bigint }>> {
    const newfid = this.allocFid();
    const r = await this.request({ kind: 'Txattrwalk', fid, newfid, name });
    if (isErr(r)) {
      this.releaseFid(newfid);
      return r;
    }
    return { fid: newfid, size: r.size };
  }

  /** Turn `fid` into a writer for xattr `name`; the value is set when the fid is clunked. */
  async xattrcreate(fid: number, name: string, attrSize: bigint, flags: number): Promise<Result<void>> {
    const r = await this.request({ kind: 'Txattrcreate', fid, name, attrSize, flags });
    return isErr(r) ? r : undefined;
  }
}
