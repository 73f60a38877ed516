// AF_UNIX sockets inside the Sentry: SOCK_STREAM (a byte stream whose writes may carry
// SCM_RIGHTS/SCM_CREDENTIALS at their first byte), SOCK_SEQPACKET (connected, message
// boundaries kept) and SOCK_DGRAM (messages to a bound name or a connected peer). A sender's
// unread bytes count against its SO_SNDBUF; a datagram receiver queues at most
// max_dgram_qlen + 1 messages, as Linux does.

import { vpid } from '../../kernel/pid_namespace.js';
import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import type { Task } from '../../kernel/task.js';
import { startFor } from '../../vfs/at.js';
import { AT, IOCTL, O, POLL, S, W_OK } from '../../vfs/constants.js';
import type { FileDescription, IoCtx } from '../../vfs/file.js';
import { permits } from '../../vfs/permissions.js';
import { waitAny } from '../../vfs/wait_queue.js';
import { AF, MSG, SHUT, SIOC, SO, SOCK, SOL } from '../constants.js';
import {
  credOf, int32, releaseControl, SocketFile, waitErrno, type Accepted, type Control, type Received,
  type SendRequest, type UCred,
} from '../socket_file.js';
import { retryUntilReady } from '../retry.js';
import { abstractAddress, parseUnixAddress, unnamedAddress, type UnixAddress } from './address.js';
import type { UnixNamespace } from './namespace.js';

/** Linux net.unix.max_dgram_qlen. */
export const MAX_DGRAM_QLEN = 10;
/** Linux caps listen backlogs at net.core.somaxconn. */
export const SOMAXCONN = 4096;
/** What SO_PEERCRED reports with no peer: pid 0 and invalid ids (-1). */
const NO_PEER: UCred = { pid: 0, uid: 0xffffffff, gid: 0xffffffff };

const READABLE = POLL.IN | POLL.RDNORM;
const WRITABLE = POLL.OUT | POLL.WRNORM | POLL.WRBAND;

interface Message {
  data: Uint8Array;
  /** Bytes already read (streams). */
  off: number;
  control: Control;
  cred: UCred;
  from: Uint8Array | null;
  sender: UnixSocket;
}

type State = 'unconnected' | 'listening' | 'connected';

export class UnixSocket extends SocketFile {
  private state: State = 'unconnected';
  private addr: UnixAddress | null = null;
  /** The registered names this socket owns (the accepted ends share the listener's addr). */
  private ownsName = false;
  private inodeKey: string | null = null;
  private peer: UnixSocket | null = null;
  private readonly recvq: Message[] = [];
  private recvBytes = 0;
  /** Bytes this socket sent that the receiver has not read yet (its SO_SNDBUF use). */
  private inflight = 0;
  /** Listening: connected server ends waiting for accept(). */
  private readonly pending: UnixSocket[] = [];
  private backlog = 0;
  private shutRd = false;
  private shutWr = false;
  private soError = 0;
  private peerCred: UCred | null = null;
  private listenCred: UCred | null = null;
  private closed = false;

  constructor(readonly ns: UnixNamespace, type: number, flags: number, readonly ownerCred: UCred) {
    super(AF.UNIX, type, 0, flags);
    ns.live.add(this);
  }

  /** What /proc/net/unix shows: the bound name ("@" for abstract), listening, connected. */
  procInfo(): { name: string | null; listening: boolean; connected: boolean } {
    const a = this.addr;
    const name = a === null ? null : a.kind === 'path' ? a.path : '@' + Buffer.from(a.name).toString('latin1').replace(/\0/g, '@');
    return { name, listening: this.state === 'listening', connected: this.state === 'connected' };
  }

  /** socketpair(2): two connected sockets, each crediting its peer with the creator. */
  static pair(ns: UnixNamespace, type: number, flags: number, cred: UCred): [UnixSocket, UnixSocket] {
    const a = new UnixSocket(ns, type, flags, cred);
    const b = new UnixSocket(ns, type, flags, cred);
    a.link(b, cred);
    b.link(a, cred);
    return [a, b];
  }

  private link(peer: UnixSocket, peerCred: UCred): void {
    this.peer = peer;
    this.peerCred = peerCred;
    if (this.type !== SOCK.DGRAM) this.state = 'connected';
  }

  private get connectionBased(): boolean {
    return this.type !== SOCK.DGRAM;
  }

  protected override get acceptConn(): boolean {
    return this.state === 'listening';
  }

  protected override takeSoError(): number {
    const e = this.soError;
    this.soError = 0;
    return e;
  }

  // ---- names ----

  override bind(t: Task, raw: Uint8Array): MaybePromise<Result<void>> {
    const a = parseUnixAddress(raw);
    if (isErr(a)) return a;
    if (this.addr !== null) return err(E.EINVAL);
    if (a === null) return this.autobind();
    if (a.kind === 'abstract') {
      if (!this.ns.bindAbstract(a.name, this)) return err(E.EADDRINUSE);
      this.addr = a;
      this.ownsName = true;
      return undefined;
    }
    return this.bindPath(t, a);
  }

  private async bindPath(t: Task, a: UnixAddress & { kind: 'path' }): Promise<Result<void>> {
    const start = startFor(t, AT.FDCWD, a.path);
    if (isErr(start)) return start;
    const vfs = t.kernel.vfs;
    const made = await vfs.mknod(t, start, a.path, S.IFSOCK | 0o777, 0n);
    if (isErr(made)) return made.errno === E.EEXIST ? err(E.EADDRINUSE) : made;
    const loc = await vfs.walk(t, start, a.path, false);
    if (isErr(loc)) return loc;
    if (this.addr !== null || this.closed) return err(E.EINVAL);
    this.inodeKey = loc.dentry.inode.key;
    this.ns.bindInode(this.inodeKey, this);
    this.addr = a;
    this.ownsName = true;
    return undefined;
  }

  private autobind(): Result<void> {
    if (this.addr !== null) return undefined;
    const name = this.ns.autobindName();
    if (name === null) return err(E.ENOSPC);
    const a = abstractAddress(name);
    this.ns.bindAbstract(name, this);
    this.addr = a;
    this.ownsName = true;
    return undefined;
  }

  /** The bound socket an address names, as connect and sendto find it. */
  private find(t: Task | null, a: UnixAddress): MaybePromise<Result<UnixSocket>> {
    const check = (s: UnixSocket | undefined): Result<UnixSocket> => {
      if (s === undefined || s.closed) return err(E.ECONNREFUSED);
      if (s.type !== this.type) return err(a.kind === 'abstract' ? E.ECONNREFUSED : E.EPROTOTYPE);
      return s;
    };
    if (a.kind === 'abstract') return check(this.ns.lookupAbstract(a.name));
    if (t === null) return err(E.ENOTCONN);
    return this.findPath(t, a.path).then((r) => (isErr(r) ? r : check(r)));
  }

  private async findPath(t: Task, path: string): Promise<Result<UnixSocket | undefined>> {
    const start = startFor(t, AT.FDCWD, path);
    if (isErr(start)) return start;
    const loc = await t.kernel.vfs.walk(t, start, path, true);
    if (isErr(loc)) return loc;
    const inode = loc.dentry.inode;
    if (!permits(t.creds, inode, W_OK)) return err(E.EACCES);
    if ((inode.mode & S.IFMT) !== S.IFSOCK) return err(E.ECONNREFUSED);
    return this.ns.lookupInode(inode.key);
  }

  override sockname(): Uint8Array {
    return this.addr?.raw.slice() ?? unnamedAddress();
  }

  override peername(): Result<Uint8Array> {
    const p = this.peer;
    if (p === null || (this.connectionBased && this.state !== 'connected')) return err(E.ENOTCONN);
    return p.sockname();
  }

  // ---- connections ----

  override listen(backlog: number): Result<void> {
    if (this.type === SOCK.DGRAM) return err(E.EOPNOTSUPP);
    if (this.addr === null || this.state === 'connected') return err(E.EINVAL);
    const b = backlog < 0 || backlog > SOMAXCONN ? SOMAXCONN : backlog;
    const grew = b > this.backlog;
    this.backlog = b;
    if (this.state !== 'listening') {
      this.state = 'listening';
      this.listenCred = this.ownerCred;
    }
    // A bigger backlog may let blocked connects in.
    if (grew) this.queue.notify(WRITABLE);
    return undefined;
  }

  /** Records who listens (SO_PEERCRED of connecting clients): the caller of listen(). */
  setListenCred(c: UCred): void {
    if (this.state === 'listening') this.listenCred = c;
  }

  override connect(t: Task, raw: Uint8Array, ctx: IoCtx): MaybePromise<Result<void>> {
    if (raw.length >= 2 && (raw[0] | (raw[1] << 8)) === AF.UNSPEC && this.type === SOCK.DGRAM) {
      this.peer = null;
      this.queue.notify(WRITABLE);
      return undefined;
    }
    if (raw.length <= 2) return err(E.EINVAL);
    const a = parseUnixAddress(raw);
    if (isErr(a)) return a;
    if (a === null) return err(E.EINVAL);
    if (this.connectionBased) {
      if (this.state === 'connected') return err(E.EISCONN);
      if (this.state === 'listening') return err(E.EINVAL);
    }
    const target = this.find(t, a);
    const go = (s: Result<UnixSocket>): MaybePromise<Result<void>> => {
      if (isErr(s)) return s;
      if (this.flag(SO.PASSCRED)) {
        const b = this.autobind();
        if (isErr(b)) return b;
      }
      if (this.type === SOCK.DGRAM) {
        this.peer = s;
        return undefined;
      }
      return this.connectTo(s, credOf(t), ctx);
    };
    return target instanceof Promise ? target.then(go) : go(target);
  }

  private connectTo(l: UnixSocket, cred: UCred, ctx: IoCtx): MaybePromise<Result<void>> {
    const attempt = (): Result<void> | null => {
      if (this.closed) return err(E.EBADF);
      if (this.state === 'connected') return err(E.EISCONN);
      if (l.closed || l.state !== 'listening') return err(E.ECONNREFUSED);
      if (l.pending.length > l.backlog) {
        if (this.nonblocking) return err(E.EAGAIN);
        return null;
      }
      const server = new UnixSocket(this.ns, this.type, 0, l.listenCred ?? l.ownerCred);
      server.addr = l.addr;
      server.link(this, cred);
      this.link(server, l.listenCred ?? l.ownerCred);
      l.pending.push(server);
      l.queue.notify(READABLE);
      this.queue.notify(WRITABLE);
      return undefined;
    };
    const r = attempt();
    if (r !== null) return r;
    return (async (): Promise<Result<void>> => {
      const deadline = { at: 0 };
      for (;;) {
        const o = await waitAny([{ queue: l.queue, mask: WRITABLE | POLL.HUP }],
          this.sndTimeoMs > 0 ? remaining(deadline, this.sndTimeoMs) : undefined, ctx.signal);
        const e = waitErrno(o);
        if (e !== null) return err(e);
        const r2 = attempt();
        if (r2 !== null) return r2;
      }
    })();
  }

  override accept(flags: number, ctx: IoCtx): MaybePromise<Result<Accepted>> {
    if (this.type === SOCK.DGRAM) return err(E.EOPNOTSUPP);
    const attempt = (): Result<Accepted> | null => {
      if (this.state !== 'listening') return err(E.EINVAL);
      const s = this.pending.shift();
      if (s !== undefined) {
        s.flags = (s.flags & ~O.NONBLOCK) | (flags & O.NONBLOCK);
        // A slot freed: a connect waiting on the backlog may go on.
        this.queue.notify(WRITABLE);
        return { file: s, peer: s.peer?.sockname() ?? unnamedAddress() };
      }
      if (this.nonblocking) return err(E.EAGAIN);
      return null;
    };
    return retryUntilReady(this, READABLE, ctx, 'rcv', attempt);
  }

  override shutdown(how: number): Result<void> {
    if (how < SHUT.RD || how > SHUT.RDWR) return err(E.EINVAL);
    const rd = how === SHUT.RD || how === SHUT.RDWR;
    const wr = how === SHUT.WR || how === SHUT.RDWR;
    if (rd) this.shutRd = true;
    if (wr) this.shutWr = true;
    this.queue.notify(READABLE | WRITABLE | POLL.RDHUP | POLL.HUP);
    const p = this.peer;
    if (p !== null && this.connectionBased) {
      // The peer sees the mirror image: our SHUT_WR is its end of input.
      if (wr) p.shutRd = true;
      if (rd) p.shutWr = true;
      p.queue.notify(READABLE | WRITABLE | POLL.RDHUP | POLL.HUP);
    }
    return undefined;
  }

  protected override release(): void {
    this.closed = true;
    this.ns.live.delete(this);
    if (this.ownsName && this.addr !== null) {
      if (this.addr.kind === 'abstract') this.ns.unbindAbstract(this.addr.name, this);
      else if (this.inodeKey !== null) this.ns.unbindInode(this.inodeKey, this);
    }
    const embryos = this.pending.splice(0);
    for (const s of embryos) s.releaseEmbryo();
    const p = this.peer;
    this.peer = null;
    if (p !== null && this.connectionBased) {
      p.shutRd = true;
      p.shutWr = true;
      if (this.recvq.length > 0) p.soError = E.ECONNRESET;
      p.queue.notify(READABLE | WRITABLE | POLL.HUP | POLL.RDHUP | POLL.ERR);
    }
    this.purge();
    // Wake connects blocked on our backlog and datagram senders blocked on our queue.
    this.queue.notify(READABLE | WRITABLE | POLL.HUP | POLL.ERR);
  }

  /** A never-accepted connection dies with its listener: its client sees ECONNRESET. */
  private releaseEmbryo(): void {
    const p = this.peer;
    if (p !== null) p.soError = E.ECONNRESET;
    this.decRef();
  }

  private purge(): void {
    for (const m of this.recvq.splice(0)) {
      releaseControl(m.control);
      m.sender.uncharge(m.data.length - m.off);
    }
    this.recvBytes = 0;
  }

  private uncharge(n: number): void {
    if (n <= 0) return;
    this.inflight -= n;
    this.queue.notify(WRITABLE);
  }

  // ---- data ----

  override sendmsg(req: SendRequest, ctx: IoCtx): MaybePromise<Result<number>> {
    if ((req.flags & MSG.OOB) !== 0) return fail(req, E.EOPNOTSUPP);
    if (this.type === SOCK.DGRAM) return this.sendDgram(req, ctx);
    if (this.type === SOCK.STREAM && req.to !== null && req.to.length > 0) {
      return fail(req, this.state === 'connected' ? E.EISCONN : E.EOPNOTSUPP);
    }
    if (this.state !== 'connected' || this.peer === null) {
      return fail(req, this.state === 'connected' ? E.EPIPE : E.ENOTCONN);
    }
    if (this.type === SOCK.SEQPACKET) return this.sendSeqpacket(req, ctx);
    return this.sendStream(req, ctx);
  }

  /** The connected peer if it still takes data, else the errno a send fails with. */
  private writablePeer(): UnixSocket | number {
    const p = this.peer;
    if (this.shutWr || p === null || p.closed || p.shutRd) return E.EPIPE;
    return p;
  }

  private sendStream(req: SendRequest, ctx: IoCtx): MaybePromise<Result<number>> {
    if (req.data.length === 0) {
      releaseControl(req.control);
      const p = this.writablePeer();
      return typeof p === 'number' ? err(p) : 0;
    }
    let sent = 0;
    let control: Control | null = req.control;
    const step = (): Result<number> | null => {
      for (;;) {
        const p = this.writablePeer();
        if (typeof p === 'number') {
          if (control !== null) releaseControl(control);
          return sent > 0 ? sent : err(p);
        }
        if (sent === req.data.length) return sent;
        const space = this.sndBuf - this.inflight;
        if (space <= 0) {
          if (this.dontWait(req.flags)) {
            if (control !== null) releaseControl(control);
            return sent > 0 ? sent : err(E.EAGAIN);
          }
          return null;
        }
        const n = Math.min(space, req.data.length - sent);
        p.enqueue(this, req.data.slice(sent, sent + n), control ?? {}, req.cred);
        control = null;
        sent += n;
      }
    };
    return retryUntilReady(this, WRITABLE, ctx, 'snd', step, (e) => {
      if (control !== null) releaseControl(control);
      return sent > 0 ? sent : err(e);
    });
  }

  private sendSeqpacket(req: SendRequest, ctx: IoCtx): MaybePromise<Result<number>> {
    const len = req.data.length;
    if (len > this.sndBuf - 32) return fail(req, E.EMSGSIZE);
    const attempt = (): Result<number> | null => {
      const p = this.writablePeer();
      if (typeof p === 'number') return fail(req, p);
      if (this.inflight > 0 && this.inflight + len > this.sndBuf) {
        if (this.dontWait(req.flags)) return fail(req, E.EAGAIN);
        return null;
      }
      p.enqueue(this, req.data.slice(), req.control, req.cred);
      return len;
    };
    return this.retry(attempt, WRITABLE, this.queue, ctx, this.sndTimeoMs, req);
  }

  private sendDgram(req: SendRequest, ctx: IoCtx): MaybePromise<Result<number>> {
    let target: MaybePromise<Result<UnixSocket>>;
    if (req.to !== null && req.to.length > 0) {
      const a = parseUnixAddress(req.to);
      if (isErr(a)) return fail(req, a.errno);
      if (a === null) return fail(req, E.EINVAL);
      if (req.data.length > this.sndBuf - 32) return fail(req, E.EMSGSIZE);
      target = this.find(req.task, a);
    } else {
      if (req.data.length > this.sndBuf - 32) return fail(req, E.EMSGSIZE);
      const p = this.peer;
      if (p === null) return fail(req, E.ENOTCONN);
      target = p;
    }
    const go = (t: Result<UnixSocket>): MaybePromise<Result<number>> => {
      if (isErr(t)) return fail(req, t.errno);
      if (this.flag(SO.PASSCRED)) {
        const b = this.autobind();
        if (isErr(b)) return fail(req, b.errno);
      }
      const attempt = (): Result<number> | null => {
        if (this.shutWr) return fail(req, E.EPIPE);
        if (t.closed) {
          // A dead connected peer is forgotten after one ECONNREFUSED.
          if (this.peer === t) this.peer = null;
          return fail(req, E.ECONNREFUSED);
        }
        if (t.peer !== null && t.peer !== this) return fail(req, E.EPERM);
        if (t.shutRd) return fail(req, E.EPIPE);
        if (t.recvq.length > MAX_DGRAM_QLEN) {
          if (this.dontWait(req.flags)) return fail(req, E.EAGAIN);
          return null;
        }
        t.enqueue(this, req.data.slice(), req.control, req.cred);
        return req.data.length;
      };
      return this.retry(attempt, WRITABLE | POLL.HUP, t.queue, ctx, this.sndTimeoMs, req);
    };
    return target instanceof Promise ? target.then(go) : go(target);
  }

  /** Runs attempt until it answers, waiting on q between tries (signals, SO_*TIMEO). */
  private retry<T>(attempt: () => Result<T> | null, mask: number, q: SocketFile['queue'], ctx: IoCtx,
    timeoutMs: number, req?: SendRequest): MaybePromise<Result<T>> {
    const r = attempt();
    if (r !== null) return r;
    return (async (): Promise<Result<T>> => {
      const deadline = { at: 0 };
      for (;;) {
        const o = await waitAny([{ queue: q, mask: mask | POLL.ERR | POLL.HUP }],
          timeoutMs > 0 ? remaining(deadline, timeoutMs) : undefined, ctx.signal);
        const e = waitErrno(o);
        if (e !== null) {
          if (req !== undefined) releaseControl(req.control);
          return err(e);
        }
        const r2 = attempt();
        if (r2 !== null) return r2;
      }
    })();
  }

  private enqueue(sender: UnixSocket, data: Uint8Array, control: Control, cred: UCred): void {
    this.recvq.push({ data, off: 0, control, cred, from: sender.addr?.raw ?? null, sender });
    this.recvBytes += data.length;
    sender.inflight += data.length;
    this.queue.notify(READABLE);
  }

  override recvmsg(dst: Uint8Array, flags: number, ctx: IoCtx): MaybePromise<Result<Received>> {
    if ((flags & MSG.OOB) !== 0) return err(E.EOPNOTSUPP);
    if (this.type === SOCK.STREAM) {
      if (this.state !== 'connected') return err(E.EINVAL);
      return this.recvStream(dst, flags, ctx);
    }
    if (this.type === SOCK.SEQPACKET && this.state !== 'connected') return err(E.ENOTCONN);
    const attempt = (): Result<Received> | null => {
      const m = this.recvq[0];
      if (m === undefined) {
        const e = this.takeSoError();
        if (e !== 0) return err(e);
        if (this.shutRd) return { n: 0, full: 0, from: null, control: {}, flags: 0 };
        if (this.dontWait(flags)) return err(E.EAGAIN);
        return null;
      }
      const n = Math.min(dst.length, m.data.length);
      dst.set(m.data.subarray(0, n));
      const control: Control = { creds: m.cred };
      if ((flags & MSG.PEEK) !== 0) {
        if (m.control.rights !== undefined) control.rights = dupRights(m.control.rights);
      } else {
        this.recvq.shift();
        this.recvBytes -= m.data.length;
        control.rights = m.control.rights;
        m.sender.uncharge(m.data.length);
        this.queue.notify(WRITABLE);
      }
      return { n, full: m.data.length, from: m.from, control, flags: n < m.data.length ? MSG.TRUNC : 0 };
    };
    return this.retry(attempt, READABLE | POLL.RDHUP, this.queue, ctx, this.rcvTimeoMs);
  }

  private recvStream(dst: Uint8Array, flags: number, ctx: IoCtx): MaybePromise<Result<Received>> {
    const peek = (flags & MSG.PEEK) !== 0;
    const target = (flags & MSG.WAITALL) !== 0 && !peek ? dst.length : Math.min(dst.length, 1);
    const out: Received = { n: 0, full: 0, from: null, control: {}, flags: 0 };
    let first = true;
    const step = (): Result<Received> | null => {
      let i = 0;
      while (out.n < dst.length) {
        const m = this.recvq[peek ? i : 0];
        if (m === undefined) break;
        if (!first && out.control.creds !== undefined && !sameCred(out.control.creds, m.cred)) return out;
        const n = Math.min(m.data.length - m.off, dst.length - out.n);
        dst.set(m.data.subarray(m.off, m.off + n), out.n);
        out.n += n;
        if (first) {
          out.from = m.from;
          out.control.creds = m.cred;
          first = false;
        }
        const rights = m.control.rights;
        if (peek) {
          i++;
          if (rights !== undefined) {
            out.control.rights = dupRights(rights);
            return out;
          }
          continue;
        }
        m.off += n;
        this.recvBytes -= n;
        m.sender.uncharge(n);
        if (rights !== undefined) {
          out.control.rights = rights;
          m.control.rights = undefined;
        }
        if (m.off === m.data.length) this.recvq.shift();
        if (rights !== undefined) return out;
      }
      if (out.n >= target) return out;
      const e = this.takeSoError();
      if (e !== 0) return out.n > 0 ? out : err(e);
      if (this.shutRd) return out;
      if (this.dontWait(flags)) return out.n > 0 ? out : err(E.EAGAIN);
      return null;
    };
    const r = step();
    if (r !== null) {
      this.queue.notify(WRITABLE);
      return r;
    }
    return (async (): Promise<Result<Received>> => {
      const deadline = { at: 0 };
      for (;;) {
        const e = waitErrno(await this.waitFor(READABLE | POLL.RDHUP, ctx, this.rcvTimeoMs, deadline));
        if (e !== null) return out.n > 0 ? out : err(e);
        const r2 = step();
        if (r2 !== null) return r2;
      }
    })();
  }

  // ---- readiness, options, ioctls ----

  override readiness(): number {
    let m = 0;
    if (this.soError !== 0) m |= POLL.ERR;
    if (this.shutRd) m |= POLL.RDHUP | READABLE;
    if (this.shutRd && this.shutWr) m |= POLL.HUP;
    if (this.recvq.length > 0 || this.pending.length > 0) m |= READABLE;
    if (this.connectionBased && this.state === 'unconnected') m |= POLL.HUP;
    if (this.state !== 'listening' && this.inflight * 4 <= this.sndBuf) {
      const p = this.peer;
      // A datagram socket whose connected peer's queue is full cannot send.
      const full = this.type === SOCK.DGRAM && p !== null && !p.closed && p.peer !== this && p.recvq.length > MAX_DGRAM_QLEN;
      const shut = this.connectionBased && this.shutWr;
      if (!full && !shut) m |= WRITABLE;
    }
    return m;
  }

  protected override familyGetsockopt(t: Task, level: number, name: number): Result<Uint8Array> | null {
    if (level === SOL.SOCKET && name === SO.PEERCRED) {
      const c = this.peerCred ?? NO_PEER;
      const b = new Uint8Array(12);
      const v = new DataView(b.buffer);
      // The peer's pid as the caller's pid namespace sees it (0 if outside).
      v.setInt32(0, c.pid > 0 ? vpid(t, c.pid) : c.pid, true);
      v.setUint32(4, c.uid, true);
      v.setUint32(8, c.gid, true);
      return b;
    }
    if (level !== SOL.SOCKET) return err(E.EOPNOTSUPP);
    return null;
  }

  protected override familySetsockopt(_t: Task, level: number, name: number): Result<void> | null {
    if (level === SOL.SOCKET && name === SO.PEERCRED) return err(E.ENOPROTOOPT);
    if (level !== SOL.SOCKET) return err(E.EOPNOTSUPP);
    return null;
  }

  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    let v: number;
    switch (cmd) {
      case IOCTL.FIONREAD:
        if (this.state === 'listening') return err(E.EINVAL);
        v = this.type === SOCK.DGRAM ? (this.recvq[0]?.data.length ?? 0) : this.recvBytes;
        break;
      case SIOC.OUTQ:
        v = this.inflight;
        break;
      default:
        return super.ioctl(t, cmd, arg);
    }
    const r = t.mem.copyOut(arg, int32(v));
    return isErr(r) ? r : 0;
  }
}

function fail(req: SendRequest, errno: number): Result<never> {
  releaseControl(req.control);
  return err(errno);
}

function dupRights(r: readonly FileDescription[]): FileDescription[] {
  for (const f of r) f.incRef();
  return [...r];
}

function sameCred(a: UCred, b: UCred): boolean {
  return a.pid === b.pid && a.uid === b.uid && a.gid === b.gid;
}

function remaining(deadline: { at: number }, timeoutMs: number): number {
  if (deadline.at === 0) deadline.at = performance.now() + timeoutMs;
  return Math.max(0, deadline.at - performance.now());
}
