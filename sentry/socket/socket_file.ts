// The file description of a socket: every address family implements these operations; the
// socket syscalls (sys_socket.ts) decode user memory and call them. read/write are recv/send
// without flags. Options every family shares (SOL_SOCKET) are kept here.

import { E } from '../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../abi/result.js';
import type { Task } from '../kernel/task.js';
import { O, POLL, S } from '../vfs/constants.js';
import { FileDescription, type IoCtx } from '../vfs/file.js';
import { nowNs, type Stat } from '../vfs/stat.js';
import { allocAnonDev } from '../vfs/synthetic.js';
import { waitAny, WaitQueue, type WaitOutcome } from '../vfs/wait_queue.js';
import { DEFAULT_BUF, MAX_BUF, MIN_RCVBUF, MIN_SNDBUF, MSG, SO, SOL } from './constants.js';
import { netdeviceIoctl } from './netdevice.js';

/** struct ucred: who sent a message, or who is at the other end. */
export interface UCred {
  pid: number;
  uid: number;
  gid: number;
}

/** Ancillary data carried with a message. */
export interface Control {
  /** SCM_RIGHTS: each holds a reference owned by the message. */
  rights?: FileDescription[];
  creds?: UCred;
  /** Protocol-level messages (IPV6_HOPLIMIT...), each with its cmsg level, type and payload. */
  proto?: { level: number; type: number; data: Uint8Array }[];
}

export interface SendRequest {
  data: Uint8Array;
  /** The destination address as raw sockaddr bytes (sendto/sendmsg msg_name), or null. */
  to: Uint8Array | null;
  control: Control;
  flags: number;
  /** The sender's identity (SCM_CREDENTIALS when the receiver asks, SO_PEERCRED). */
  cred: UCred;
  /** The calling task (null for write(2)): needed to resolve a destination path. */
  task: Task | null;
}

export interface Received {
  /** Bytes stored in the caller's buffer. */
  n: number;
  /** The message's real length (MSG_TRUNC on datagrams reports it). */
  full: number;
  /** The sender's address as raw sockaddr bytes, or null when there is none. */
  from: Uint8Array | null;
  control: Control;
  /** msg_flags: MSG_TRUNC, MSG_EOR... */
  flags: number;
  /** The bytes were consumed but must not reach the caller's buffer (TCP's MSG_TRUNC). */
  discard?: boolean;
}

export interface Accepted {
  file: SocketFile;
  peer: Uint8Array | null;
}

const sockfsDev = allocAnonDev();
let nextSockIno = 1n;

/** Identity of a task as struct ucred. */
export function credOf(t: Task): UCred {
  return { pid: t.pid, uid: t.creds.euid, gid: t.creds.egid };
}

/** Drops the references a message's control data holds (a message nobody will read). */
export function releaseControl(c: Control): void {
  if (c.rights !== undefined) for (const f of c.rights) f.decRef();
  c.rights = undefined;
}

export abstract class SocketFile extends FileDescription {
  readonly queue = new WaitQueue();
  readonly ino = nextSockIno++;
  private readonly created = nowNs();
  /** SOL_SOCKET options that only need storing, by option number. */
  protected readonly plainOpts = new Map<number, number>();
  sndBuf = DEFAULT_BUF;
  rcvBuf = DEFAULT_BUF;
  /** SO_RCVTIMEO / SO_SNDTIMEO in ms (0: none). */
  rcvTimeoMs = 0;
  sndTimeoMs = 0;
  linger = { on: 0, secs: 0 };

  constructor(readonly family: number, readonly type: number, readonly protocol: number, flags: number) {
    super((flags & O.NONBLOCK) | O.RDWR, null);
    this.flags = (flags & O.NONBLOCK) | O.RDWR;
  }

  abstract bind(t: Task, addr: Uint8Array): MaybePromise<Result<void>>;
  abstract listen(backlog: number): Result<void>;
  abstract accept(flags: number, ctx: IoCtx): MaybePromise<Result<Accepted>>;
  abstract connect(t: Task, addr: Uint8Array, ctx: IoCtx): MaybePromise<Result<void>>;
  abstract sendmsg(req: SendRequest, ctx: IoCtx): MaybePromise<Result<number>>;
  /** Receives into dst; MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, MSG_TRUNC in flags. */
  abstract recvmsg(dst: Uint8Array, flags: number, ctx: IoCtx): MaybePromise<Result<Received>>;
  abstract shutdown(how: number): Result<void>;
  /** The local address as raw sockaddr bytes. */
  abstract sockname(): Uint8Array;
  /** The peer's address as raw sockaddr bytes; ENOTCONN when there is none. */
  abstract peername(): Result<Uint8Array>;
  /** The creds a write() without a task reports: the socket creator's. */
  abstract readonly ownerCred: UCred;

  /** Family-specific options (levels other than SOL_SOCKET, and SOL_SOCKET ones it owns). */
  protected familyGetsockopt(_t: Task, _level: number, _name: number): Result<Uint8Array> | null {
    return null;
  }
  protected familySetsockopt(_t: Task, _level: number, _name: number, _val: Uint8Array): Result<void> | null {
    return null;
  }
  /** The pending error SO_ERROR reports and clears (0: none). */
  protected takeSoError(): number {
    return 0;
  }
  protected get acceptConn(): boolean {
    return false;
  }

  getsockopt(t: Task, level: number, name: number): Result<Uint8Array> {
    const own = this.familyGetsockopt(t, level, name);
    if (own !== null) return own;
    if (level !== SOL.SOCKET) return err(E.ENOPROTOOPT);
    switch (name) {
      case SO.TYPE: return int32(this.type);
      case SO.DOMAIN: return int32(this.family);
      case SO.PROTOCOL: return int32(this.protocol);
      case SO.ERROR: return int32(this.takeSoError());
      case SO.SNDBUF: return int32(this.sndBuf);
      case SO.RCVBUF: return int32(this.rcvBuf);
      case SO.ACCEPTCONN: return int32(this.acceptConn ? 1 : 0);
      case SO.RCVTIMEO: return timeval(this.rcvTimeoMs);
      case SO.SNDTIMEO: return timeval(this.sndTimeoMs);
      case SO.LINGER: {
        const b = new Uint8Array(8);
        const v = new DataView(b.buffer);
        v.setInt32(0, this.linger.on, true);
        v.setInt32(4, this.linger.secs, true);
        return b;
      }
      case SO.REUSEADDR: case SO.REUSEPORT: case SO.KEEPALIVE: case SO.BROADCAST: case SO.OOBINLINE:
      case SO.DONTROUTE: case SO.PRIORITY: case SO.DEBUG: case SO.PASSCRED:
        return int32(this.plainOpts.get(name) ?? 0);
      case SO.RCVLOWAT: case SO.SNDLOWAT:
        return int32(this.plainOpts.get(name) ?? 1);
      case SO.PEERCRED: {
        // No peer process (TCP, UDP...): pid 0 and invalid ids (-1), as Linux reports.
        const b = new Uint8Array(12).fill(0xff);
        new DataView(b.buffer).setInt32(0, 0, true);
        return b;
      }
      default: return err(E.ENOPROTOOPT);
    }
  }

  setsockopt(t: Task, level: number, name: number, val: Uint8Array): Result<void> {
    const own = this.familySetsockopt(t, level, name, val);
    if (own !== null) return own;
    if (level !== SOL.SOCKET) return err(E.ENOPROTOOPT);
    switch (name) {
      case SO.SNDBUF: case SO.SNDBUFFORCE: case SO.RCVBUF: case SO.RCVBUFFORCE: {
        const v = readInt(val);
        if (isErr(v)) return v;
        // Linux doubles the request (bookkeeping overhead), within [min, 2*max].
        const forced = name === SO.SNDBUFFORCE || name === SO.RCVBUFFORCE;
        const req = Math.max(0, forced ? v : Math.min(v, MAX_BUF)) * 2;
        if (name === SO.SNDBUF || name === SO.SNDBUFFORCE) this.sndBuf = Math.max(MIN_SNDBUF, req);
        else this.rcvBuf = Math.max(MIN_RCVBUF, req);
        this.buffersChanged();
        return undefined;
      }
      case SO.RCVTIMEO: case SO.SNDTIMEO: {
        if (val.length < 16) return err(E.EINVAL);
        const dv = new DataView(val.buffer, val.byteOffset, 16);
        const sec = dv.getBigInt64(0, true);
        const usec = dv.getBigInt64(8, true);
        if (usec < 0n || usec >= 1_000_000n) return err(E.EDOM);
        const ms = sec < 0n ? 0 : Number(sec) * 1000 + Math.ceil(Number(usec) / 1000);
        if (name === SO.RCVTIMEO) this.rcvTimeoMs = ms;
        else this.sndTimeoMs = ms;
        return undefined;
      }
      case SO.LINGER: {
        if (val.length < 8) return err(E.EINVAL);
        const dv = new DataView(val.buffer, val.byteOffset, 8);
        this.linger = { on: dv.getInt32(0, true) !== 0 ? 1 : 0, secs: dv.getInt32(4, true) };
        return undefined;
      }
      case SO.REUSEADDR: case SO.REUSEPORT: case SO.KEEPALIVE: case SO.BROADCAST: case SO.OOBINLINE:
      case SO.DONTROUTE: case SO.DEBUG: case SO.PASSCRED: {
        const v = readInt(val);
        if (isErr(v)) return v;
        this.plainOpts.set(name, v !== 0 ? 1 : 0);
        this.optionChanged(name);
        return undefined;
      }
      case SO.PRIORITY: case SO.RCVLOWAT: {
        const v = readInt(val);
        if (isErr(v)) return v;
        this.plainOpts.set(name, name === SO.RCVLOWAT ? Math.max(1, v) : v);
        return undefined;
      }
      default: return err(E.ENOPROTOOPT);
    }
  }

  /** Hook for families that mirror SOL_SOCKET options into their endpoint. */
  protected optionChanged(_name: number): void {}
  protected buffersChanged(): void {}

  flag(name: number): boolean {
    return (this.plainOpts.get(name) ?? 0) !== 0;
  }

  override read(dst: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    if (dst.length === 0 && this.type === 1) return 0;
    const r = this.recvmsg(dst, 0, ctx);
    const done = (x: Result<Received>): Result<number> => {
      if (isErr(x)) return x;
      releaseControl(x.control);
      return x.n;
    };
    return r instanceof Promise ? r.then(done) : done(r);
  }

  override write(src: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    return this.sendmsg({ data: src, to: null, control: {}, flags: 0, cred: this.ownerCred, task: null }, ctx);
  }

  override stat(): Result<Stat> {
    const t = this.created;
    return {
      dev: sockfsDev, ino: this.ino, mode: S.IFSOCK | 0o777, nlink: 1, uid: this.ownerCred.uid,
      gid: this.ownerCred.gid, rdev: 0n, size: 0n, blksize: 4096, blocks: 0n, atimeNs: t, mtimeNs: t, ctimeNs: t,
    };
  }

  /** Every socket answers the netdevice ioctls; families add theirs (FIONREAD...) first. */
  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    return netdeviceIoctl(t, cmd, arg);
  }

  override waitQueue(): WaitQueue {
    return this.queue;
  }

  /** Whether an operation with these MSG_ flags must not block. */
  dontWait(flags: number): boolean {
    return this.nonblocking || (flags & MSG.DONTWAIT) !== 0;
  }

  /** Waits for mask on this socket's queue, honouring a timeout (ms, 0 = none) and signals. */
  waitFor(mask: number, ctx: IoCtx, timeoutMs: number, deadline?: { at: number }): Promise<WaitOutcome> {
    let remaining: number | undefined;
    if (timeoutMs > 0) {
      if (deadline !== undefined) {
        if (deadline.at === 0) deadline.at = performance.now() + timeoutMs;
        remaining = Math.max(0, deadline.at - performance.now());
      } else {
        remaining = timeoutMs;
      }
    }
    return waitAny([{ queue: this.queue, mask: mask | POLL.ERR | POLL.HUP }], remaining, ctx.signal);
  }
}

export function int32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

function timeval(ms: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, BigInt(Math.floor(ms / 1000)), true);
  v.setBigInt64(8, BigInt((ms % 1000) * 1000), true);
  return b;
}

/** An int option value: Linux accepts shorter buffers as EINVAL. */
export function readInt(val: Uint8Array): Result<number> {
  if (val.length < 4) return err(E.EINVAL);
  return new DataView(val.buffer, val.byteOffset, 4).getInt32(0, true);
}

/** The outcome of a wait as the errno a blocking socket call returns (null: go on). */
export function waitErrno(o: WaitOutcome): number | null {
  if (o === 'interrupted') return E.EINTR;
  if (o === 'timeout') return E.EAGAIN;
  return null;
}
