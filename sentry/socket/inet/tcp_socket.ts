// AF_INET SOCK_STREAM sockets over the netstack's TcpEndpoint. The endpoint never blocks:
// it answers EAGAIN and reports readiness changes; this layer turns those into blocking
// calls (waiting on the socket's queue), EINPROGRESS for non-blocking connects, SO_* and
// TCP_* options, and Linux's errno choices where they differ from the endpoint's.

import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import type { Task } from '../../kernel/task.js';
import { TcpEndpoint, type TcpState } from '../../netstack/tcp/endpoint.js';
import { IOCTL, O, POLL } from '../../vfs/constants.js';
import type { IoCtx } from '../../vfs/file.js';
import { AF, MSG, SIOC, SO, SOCK, SOL } from '../constants.js';
import {
  int32, readInt, releaseControl, SocketFile, type Accepted, type Received,
  type SendRequest, type UCred,
} from '../socket_file.js';
import { retryUntilReady } from '../retry.js';
import { familyOf, ipv4Codec, type InetAddress, type InetCodec } from './address.js';
import type { NetService } from './net_service.js';
import { IpOptions } from './ip_options.js';
import { setEndpointOwner } from './owners.js';

export const TCP = {
  NODELAY: 1, MAXSEG: 2, CORK: 3, KEEPIDLE: 4, KEEPINTVL: 5, KEEPCNT: 6, SYNCNT: 7, LINGER2: 8,
  DEFER_ACCEPT: 9, WINDOW_CLAMP: 10, INFO: 11, QUICKACK: 12, CONGESTION: 13, USER_TIMEOUT: 18,
} as const;

/** Linux's TCP state numbers (tcpi_state, /proc/net/tcp). */
const LINUX_STATE: Record<TcpState, number> = {
  ESTABLISHED: 1, SYN_SENT: 2, SYN_RECEIVED: 3, FIN_WAIT_1: 4, FIN_WAIT_2: 5, TIME_WAIT: 6,
  CLOSED: 7, CLOSE_WAIT: 8, LAST_ACK: 9, LISTEN: 10, CLOSING: 11,
};
/** sizeof(struct tcp_info) as this layer fills it. */
const TCP_INFO_SIZE = 232;

/** A socket's local address: once connected, an unbound address is the route's source. */
export function boundOrRouted(codec: InetCodec, local: InetAddress, remote: InetAddress | null): InetAddress {
  if (local.addr !== 0 || remote === null) return local;
  const src = codec.sourceFor(remote.addr);
  return src === null ? local : { addr: src, port: local.port };
}

/** Adds the RDNORM/WRNORM bits Linux reports with IN/OUT. */
export function pollBits(m: number): number {
  if (m & POLL.IN) m |= POLL.RDNORM;
  if (m & POLL.OUT) m |= POLL.WRNORM;
  return m;
}

export class TcpSocket extends SocketFile {
  private readonly unsubscribe: () => void;
  /** A connect is under way (connect() after EINPROGRESS reports its outcome once). */
  private connecting = false;
  private readonly tcpOpts = new Map<number, number>();
  private readonly ipOpts = new IpOptions();

  /** codec: the address family the endpoint's protocol speaks (IPv4 unless made for AF_INET6). */
  constructor(
    private readonly net: NetService,
    readonly ep: TcpEndpoint,
    flags: number,
    readonly ownerCred: UCred,
    private readonly codec: InetCodec = ipv4Codec((d) => net.stack.route(d)),
  ) {
    super(AF.INET, SOCK.STREAM, 6, flags);
    setEndpointOwner(ep, { uid: ownerCred.uid, ino: this.ino, v6: false });
    this.unsubscribe = ep.subscribe((m) => this.queue.notify(pollBits(m) | POLL.ERR | POLL.HUP));
    this.sndBuf = ep.opts.sndBufSize;
    this.rcvBuf = ep.opts.rcvBufSize;
  }

  private get state(): TcpState {
    return this.ep.state;
  }

  protected override get acceptConn(): boolean {
    return this.state === 'LISTEN';
  }

  protected override takeSoError(): number {
    return this.ep.takeError()?.errno ?? 0;
  }

  override bind(_t: Task, raw: Uint8Array): Result<void> {
    const a = this.codec.parse(raw, true);
    if (isErr(a)) return a;
    return this.net.run(() => this.ep.bind(a.addr, a.port));
  }

  override listen(backlog: number): Result<void> {
    return this.net.run(() => this.ep.listen(backlog < 0 ? 4096 : Math.min(backlog, 4096)));
  }

  override connect(_t: Task, raw: Uint8Array, ctx: IoCtx): MaybePromise<Result<void>> {
    if (raw.length < 2) return err(E.EINVAL);
    if (familyOf(raw) === AF.UNSPEC) {
      // Disconnect: Linux aborts the connection.
      if (this.state !== 'CLOSED' && this.state !== 'LISTEN') this.net.run(() => this.ep.abort());
      this.connecting = false;
      return undefined;
    }
    const p = this.codec.parse(raw);
    if (isErr(p)) return p;
    const a = this.codec.destination(p);
    if (this.connecting) return this.finishConnect(ctx, E.EALREADY);
    const r = this.net.run(() => this.ep.connect(a.addr, a.port));
    if (isErr(r)) return r;
    this.connecting = true;
    // Linux answers a non-blocking connect with EINPROGRESS even when loopback finished the
    // handshake at once; the outcome is read with poll and SO_ERROR.
    if (this.nonblocking) return err(E.EINPROGRESS);
    return this.finishConnect(ctx, E.EINPROGRESS);
  }

  /** The outcome of a started connect: done, its error, or (non-blocking) pendingErrno. */
  private finishConnect(ctx: IoCtx, pendingErrno: number): MaybePromise<Result<void>> {
    const attempt = (): Result<void> | null => {
      if (this.state === 'SYN_SENT' || this.state === 'SYN_RECEIVED') {
        return this.nonblocking ? err(pendingErrno) : null;
      }
      this.connecting = false;
      const e = this.ep.takeError();
      if (e !== null) return e;
      if (this.state === 'CLOSED') return err(E.ECONNREFUSED);
      return undefined;
    };
    return retryUntilReady(this, POLL.OUT, ctx, 'snd', attempt, (e) => err(e === E.EAGAIN ? E.EINPROGRESS : e));
  }

  override accept(flags: number, ctx: IoCtx): MaybePromise<Result<Accepted>> {
    const attempt = (): Result<Accepted> | null => {
      const c = this.net.run(() => this.ep.accept());
      if (isErr(c)) {
        if (c.errno !== E.EAGAIN) return c;
        return this.nonblocking ? c : null;
      }
      const s = new TcpSocket(this.net, c, flags & O.NONBLOCK, this.ownerCred, this.codec);
      const peer = c.remoteAddress();
      return { file: s, peer: peer === null ? null : this.codec.format(peer) };
    };
    return retryUntilReady(this, POLL.IN, ctx, 'rcv', attempt);
  }

  override sendmsg(req: SendRequest, ctx: IoCtx): MaybePromise<Result<number>> {
    releaseControl(req.control);
    if ((req.flags & MSG.OOB) !== 0) return err(E.EOPNOTSUPP);
    const data = req.data;
    let sent = 0;
    const step = (): Result<number> | null => {
      for (;;) {
        const r = this.net.run(() => this.ep.send(data.subarray(sent)));
        if (isErr(r)) {
          if (r.errno === E.EAGAIN) {
            if (this.dontWait(req.flags)) return sent > 0 ? sent : r;
            return null;
          }
          if (sent > 0) return sent;
          // Linux: sending on a socket that never connected is EPIPE.
          return r.errno === E.ENOTCONN ? err(E.EPIPE) : r;
        }
        sent += r;
        if (sent >= data.length) return sent;
      }
    };
    if (data.length === 0) {
      const r = this.net.run(() => this.ep.send(data));
      if (isErr(r)) return r.errno === E.ENOTCONN ? err(E.EPIPE) : r.errno === E.EAGAIN ? 0 : r;
      return 0;
    }
    return retryUntilReady(this, POLL.OUT, ctx, 'snd', step, (e) => (sent > 0 ? sent : err(e)));
  }

  override recvmsg(dst: Uint8Array, flags: number, ctx: IoCtx): MaybePromise<Result<Received>> {
    if ((flags & MSG.OOB) !== 0) return err(E.EINVAL);
    if (this.state === 'LISTEN') return err(E.ENOTCONN);
    const peek = (flags & MSG.PEEK) !== 0;
    const target = (flags & MSG.WAITALL) !== 0 && !peek ? dst.length : Math.min(1, dst.length);
    // MSG_TRUNC on TCP reads and throws the bytes away (the count is still returned).
    const out: Received = { n: 0, full: 0, from: null, control: {}, flags: 0, discard: (flags & MSG.TRUNC) !== 0 };
    const step = (): Result<Received> | null => {
      for (;;) {
        if (out.n >= dst.length && dst.length > 0) return out;
        const r = this.net.run(() => this.ep.recv(dst.length - out.n, peek));
        if (isErr(r)) {
          if (r.errno === E.EAGAIN) {
            if (out.n >= target) return out;
            if (this.dontWait(flags)) return out.n > 0 ? out : r;
            return null;
          }
          return out.n > 0 ? out : r;
        }
        if (r.length === 0) return out;
        dst.set(r, out.n);
        out.n += r.length;
        out.full = out.n;
        // MSG_PEEK looks once; otherwise take what else is already there.
        if (peek) return out;
      }
    };
    return retryUntilReady(this, POLL.IN | POLL.RDHUP, ctx, 'rcv', step, (e) => (out.n > 0 ? out : err(e)));
  }

  override shutdown(how: number): Result<void> {
    const r = this.net.run(() => this.ep.shutdown(how));
    this.queue.notify(POLL.IN | POLL.OUT | POLL.HUP | POLL.RDHUP);
    return r;
  }

  override sockname(): Uint8Array {
    return this.codec.format(this.ep.localAddress());
  }

  override peername(): Result<Uint8Array> {
    const p = this.ep.remoteAddress();
    const s = this.state;
    if (p === null || s === 'CLOSED' || s === 'LISTEN' || s === 'SYN_SENT' || s === 'SYN_RECEIVED') return err(E.ENOTCONN);
    return this.codec.format(p);
  }

  override readiness(): number {
    const s = this.state;
    // A socket that never connected: Linux reports POLLOUT and POLLHUP.
    if (s === 'CLOSED' && !this.connecting && this.ep.remoteAddress() === null) return POLL.OUT | POLL.WRNORM | POLL.HUP;
    return pollBits(this.ep.readiness());
  }

  protected override release(): void {
    this.unsubscribe();
    if (this.linger.on !== 0 && this.linger.secs === 0) this.ep.opts.lingerAbort = true;
    this.net.run(() => this.ep.close());
  }

  protected override optionChanged(name: number): void {
    const on = this.flag(name);
    if (name === SO.REUSEADDR) this.ep.opts.reuseAddr = on;
    else if (name === SO.REUSEPORT) this.ep.opts.reusePort = on;
    else if (name === SO.KEEPALIVE) this.net.run(() => this.ep.setKeepAlive(on));
  }

  protected override buffersChanged(): void {
    this.ep.opts.sndBufSize = this.sndBuf;
    this.ep.opts.rcvBufSize = this.rcvBuf;
  }

  protected override familyGetsockopt(_t: Task, level: number, name: number): Result<Uint8Array> | null {
    const o = this.ep.opts;
    if (level === SOL.TCP) {
      switch (name) {
        case TCP.NODELAY: return int32(o.noDelay ? 1 : 0);
        case TCP.MAXSEG: return int32(o.maxSeg !== 0 ? o.maxSeg : this.ep.info().sndMss);
        case TCP.KEEPIDLE: return int32(Math.round(o.keepIdleMs / 1000));
        case TCP.KEEPINTVL: return int32(Math.round(o.keepIntvlMs / 1000));
        case TCP.KEEPCNT: return int32(o.keepCount);
        case TCP.INFO: return this.tcpInfo();
        case TCP.CONGESTION: {
          const b = new Uint8Array(16);
          b.set(new TextEncoder().encode('reno'));
          return b;
        }
        case TCP.CORK: case TCP.QUICKACK: case TCP.DEFER_ACCEPT: case TCP.USER_TIMEOUT:
        case TCP.SYNCNT: case TCP.LINGER2: case TCP.WINDOW_CLAMP:
          return int32(this.tcpOpts.get(name) ?? (name === TCP.QUICKACK ? 1 : 0));
        default: return err(E.ENOPROTOOPT);
      }
    }
    if (level === SOL.IP) return this.ipOpts.get(o, name);
    if (level === SOL.SOCKET) return null;
    return err(E.EOPNOTSUPP);
  }

  protected override familySetsockopt(_t: Task, level: number, name: number, val: Uint8Array): Result<void> | null {
    if (level !== SOL.TCP && level !== SOL.IP) return level === SOL.SOCKET ? null : err(E.ENOPROTOOPT);
    const v = readInt(val);
    if (isErr(v)) return v;
    const o = this.ep.opts;
    if (level === SOL.IP) return this.ipOpts.set(o, name, v);
    switch (name) {
      case TCP.NODELAY: this.net.run(() => this.ep.setNoDelay(v !== 0)); return undefined;
      case TCP.MAXSEG:
        if (v !== 0 && (v < 88 || v > 65535)) return err(E.EINVAL);
        o.maxSeg = v;
        return undefined;
      case TCP.KEEPIDLE: case TCP.KEEPINTVL:
        if (v < 1 || v > 32767) return err(E.EINVAL);
        if (name === TCP.KEEPIDLE) o.keepIdleMs = v * 1000;
        else o.keepIntvlMs = v * 1000;
        return undefined;
      case TCP.KEEPCNT:
        if (v < 1 || v > 127) return err(E.EINVAL);
        o.keepCount = v;
        return undefined;
      case TCP.CORK: case TCP.QUICKACK: case TCP.DEFER_ACCEPT: case TCP.USER_TIMEOUT:
      case TCP.SYNCNT: case TCP.LINGER2: case TCP.WINDOW_CLAMP:
        this.tcpOpts.set(name, v);
        return undefined;
      default: return err(E.ENOPROTOOPT);
    }
  }

  private tcpInfo(): Uint8Array {
    const i = this.ep.info();
    const b = new Uint8Array(TCP_INFO_SIZE);
    const v = new DataView(b.buffer);
    b[0] = LINUX_STATE[i.state];
    b[2] = Math.min(255, i.retransmits);
    b[4] = Math.min(255, i.backoff);
    b[5] = (i.timestamps ? 1 : 0) | (i.sack ? 2 : 0) | (i.sndWscale > 0 || i.rcvWscale > 0 ? 4 : 0);
    b[6] = (i.sndWscale & 0xf) | ((i.rcvWscale & 0xf) << 4);
    v.setUint32(8, Math.round(i.rtoMs * 1000), true);
    v.setUint32(16, i.sndMss, true);
    v.setUint32(20, i.rcvMss, true);
    const mss = Math.max(1, i.sndMss);
    v.setUint32(24, Math.ceil(i.unacked / mss), true);
    v.setUint32(68, Math.round((i.srttMs ?? 0) * 1000), true);
    v.setUint32(72, Math.round(i.rttvarMs * 1000), true);
    v.setUint32(76, Math.min(0xffffffff, Math.ceil(i.ssthresh / mss)), true);
    v.setUint32(80, Math.ceil(i.cwnd / mss), true);
    v.setUint32(84, i.rcvMss, true);
    v.setUint32(100, i.retransmits, true);
    return b;
  }

  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    let n: number;
    if (cmd === IOCTL.FIONREAD) {
      if (this.state === 'LISTEN') return err(E.EINVAL);
      n = this.ep.readableBytes();
    } else if (cmd === SIOC.OUTQ) {
      n = this.ep.unsentBytes();
    } else {
      return super.ioctl(t, cmd, arg);
    }
    const r = t.mem.copyOut(arg, int32(n));
    return isErr(r) ? r : 0;
  }
}
