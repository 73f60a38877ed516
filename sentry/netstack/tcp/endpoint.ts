// A TCP endpoint: the RFC 9293 state machine for one connection or listener, with its
// send and receive buffers, timers (retransmit, delayed ACK, persist, keepalive,
// TIME_WAIT/FIN_WAIT_2) and congestion control. Segments come in through
// handleSegment/handleListen (called by TcpProtocol); the socket layer uses the public
// methods, which return Result values and never throw.

import { E } from '../../abi/errno.js';
import { err, isErr, type Result, type SysError } from '../../abi/result.js';
import type { Ipv4Addr } from '../addr.js';
import { EV_ERR, EV_HUP, EV_IN, EV_OUT, EV_RDHUP, Notifier, type ReadinessListener } from '../events.js';
import { IPPROTO_TCP } from '../ipv4.js';
import { Timer } from '../timer.js';
import { ByteQueue } from './bytequeue.js';
import { NewReno } from './congestion.js';
import type { TcpProtocol } from './protocol.js';
import { RttEstimator } from './rtt.js';
import { ACK, FIN, PSH, RST, SYN, TS_OPTION_LEN, buildTcp, type SackBlock, type TcpOptions, type TcpSegment } from './segment.js';
import { seqAdd, seqDiff, seqGE, seqGT, seqInRange, seqLE, seqLT, seqMax } from './seq.js';

export type TcpState =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN_SENT'
  | 'SYN_RECEIVED'
  | 'ESTABLISHED'
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'CLOSE_WAIT'
  | 'CLOSING'
  | 'LAST_ACK'
  | 'TIME_WAIT';

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

/** Per-socket options (the setsockopt surface); change before connect/listen where noted. */
export interface TcpSocketOptions {
  noDelay: boolean;
  keepAlive: boolean;
  keepIdleMs: number;
  keepIntvlMs: number;
  keepCount: number;
  /** Receive buffer; fixes the window-scale shift, so set it before connect/listen. */
  rcvBufSize: number;
  sndBufSize: number;
  /** TCP_MAXSEG: 0 for the route's MSS. */
  maxSeg: number;
  /** SO_LINGER with l_linger 0: close() sends RST. */
  lingerAbort: boolean;
  reuseAddr: boolean;
  reusePort: boolean;
  ttl: number;
}

/** A TCP_INFO-like snapshot. */
export interface TcpInfo {
  state: TcpState;
  rtoMs: number;
  srttMs: number | undefined;
  rttvarMs: number;
  sndMss: number;
  rcvMss: number;
  cwnd: number;
  ssthresh: number;
  sndWnd: number;
  rcvWnd: number;
  unacked: number;
  retransmits: number;
  backoff: number;
  timestamps: boolean;
  sack: boolean;
  sndWscale: number;
  rcvWscale: number;
}

interface OooSegment {
  seq: number;
  data: Uint8Array;
}

const MIN_SND_MSS = 48;

export class TcpEndpoint {
  state: TcpState = 'CLOSED';
  readonly opts: TcpSocketOptions;

  private localAddr: Ipv4Addr = 0;
  private localPort = 0;
  private remoteAddr: Ipv4Addr = 0;
  private remotePort = 0;
  private bound = false;
  private registered = false;

  // Listener side.
  private backlog = 0;
  private synQueue = new Set<TcpEndpoint>();
  private acceptQueue: TcpEndpoint[] = [];
  private parent: TcpEndpoint | null = null;

  // Send sequence space (RFC 9293 3.3.1). sndMax is the highest sequence ever sent; after an
  // RTO sndNxt is pulled back to sndUna and sending resumes from there (go-back-N).
  private iss = 0;
  private sndUna = 0;
  private sndNxt = 0;
  private sndMax = 0;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private maxSndWnd = 0;
  private sndShift = 0;
  private sndMss = 536;
  private rcvMss = 536;
  private readonly sndBuf = new ByteQueue();
  private finQueued = false;
  private finSeq: number | undefined;

  // Receive sequence space.
  private irs = 0;
  private rcvNxt = 0;
  private rcvShift = 0;
  /** Right edge of the window last advertised; never moved left (no window shrinking). */
  private rcvAdvEdge = 0;
  private readonly rcvQueue = new ByteQueue();
  private ooo: OooSegment[] = [];
  private lastOooSeq: number | undefined;
  private oooFinSeq: number | undefined;
  private finReceived = false;
  private unackedSegs = 0;
  private lastAckSent = 0;

  // Negotiated options.
  private tsOk = false;
  private wsOk = false;
  private tsRecent = 0;
  private tsOffset = 0;
  private sackOk = false;

  // Application-side state.
  private readShut = false;
  private appClosed = false;
  private everConnected = false;
  private error: SysError | null = null;

  // Timers and their counters.
  private readonly rtt: RttEstimator;
  private cc: NewReno;
  private readonly rtxTimer: Timer;
  private readonly delackTimer: Timer;
  private readonly persistTimer: Timer;
  private readonly keepTimer: Timer;
  private readonly lingerTimer: Timer;
  private rtxCount = 0;
  private totalRetransmits = 0;
  private persistBackoff = 0;
  private keepProbes = 0;
  private lastRecvAt = 0;
  /** Karn's rule timing of one segment when timestamps are off. */
  private timing: { seq: number; at: number } | null = null;

  private readonly notifier = new Notifier();

  constructor(private readonly proto: TcpProtocol) {
    const c = proto.cfg;
    this.opts = {
      noDelay: false,
      keepAlive: false,
      keepIdleMs: c.keepIdleMs,
      keepIntvlMs: c.keepIntvlMs,
      keepCount: c.keepCount,
      rcvBufSize: c.rcvBufSize,
      sndBufSize: c.sndBufSize,
      maxSeg: 0,
      lingerAbort: false,
      reuseAddr: false,
      reusePort: false,
      ttl: 64,
    };
    const timers = proto.net.timers;
    this.rtt = new RttEstimator(c.rtt);
    this.cc = new NewReno(536, 0);
    this.rtxTimer = new Timer(timers, () => this.onRetransmitTimer());
    this.delackTimer = new Timer(timers, () => this.sendAck());
    this.persistTimer = new Timer(timers, () => this.onPersistTimer());
    this.keepTimer = new Timer(timers, () => this.onKeepaliveTimer());
    this.lingerTimer = new Timer(timers, () => this.enterClosed(null));
  }

  // ---------------------------------------------------------------- socket API

  /** bind(2): port 0 picks an ephemeral port; addr 0 is INADDR_ANY. */
  bind(addr: Ipv4Addr, port: number): Result<void> {
    if (this.bound || this.state !== 'CLOSED' || this.appClosed) return err(E.EINVAL);
    if (addr !== 0 && !this.proto.net.isLocalAddress(addr)) return err(E.EADDRNOTAVAIL);
    const p = this.proto.ports.reserve(this, addr, port);
    if (isErr(p)) return p;
    this.localAddr = addr;
    this.localPort = p;
    this.bound = true;
    return undefined;
  }

  /** listen(2): an unbound endpoint is bound to an ephemeral port first, as Linux does. */
  listen(backlog: number): Result<void> {
    if (this.state === 'LISTEN') {
      this.backlog = this.clampBacklog(backlog);
      return undefined;
    }
    if (this.state !== 'CLOSED' || this.appClosed || this.everConnected) return err(E.EINVAL);
    if (!this.bound) {
      const b = this.bind(0, 0);
      if (isErr(b)) return b;
    }
    const r = this.proto.addListener(this, this.localAddr, this.localPort);
    if (isErr(r)) return r;
    this.backlog = this.clampBacklog(backlog);
    this.state = 'LISTEN';
    return undefined;
  }

  /**
   * connect(2): starts the handshake and returns at once. The socket layer reports
   * EINPROGRESS (non-blocking) or waits for EV_OUT/EV_ERR, then reads takeError().
   */
  connect(addr: Ipv4Addr, port: number): Result<void> {
    return this.proto.net.batch(() => this.doConnect(addr, port));
  }

  private doConnect(addr: Ipv4Addr, port: number): Result<void> {
    switch (this.state) {
      case 'CLOSED':
        break;
      case 'SYN_SENT':
      case 'SYN_RECEIVED':
        return err(E.EALREADY);
      case 'LISTEN':
        return err(E.EINVAL);
      default:
        return err(E.EISCONN);
    }
    if (this.appClosed) return err(E.EBADF);
    if (this.everConnected) return err(E.EISCONN);
    if (port === 0 || addr === 0) return err(E.ECONNREFUSED);
    const route = this.proto.net.route(addr);
    if (route === null) return err(E.ENETUNREACH);
    if (this.proto.net.isBroadcast(addr)) return err(E.ENETUNREACH);
    const src = this.localAddr !== 0 ? this.localAddr : route.src;
    if (!this.bound) {
      const b = this.bind(0, 0);
      if (isErr(b)) return b;
    }
    this.localAddr = src;
    this.remoteAddr = addr;
    this.remotePort = port;
    if (!this.proto.addConn(this)) {
      this.remoteAddr = 0;
      this.remotePort = 0;
      return err(E.EADDRNOTAVAIL);
    }
    this.registered = true;
    this.error = null;
    this.initSend(route.mtu);
    this.rcvShift = this.proto.cfg.windowScaling ? windowShiftFor(this.opts.rcvBufSize) : 0;
    this.state = 'SYN_SENT';
    this.sendSyn();
    this.timing = { seq: this.iss, at: this.now() };
    this.rtxTimer.arm(this.rtt.rto);
    return undefined;
  }

  /** accept(2): the next established connection; EAGAIN when none is queued. */
  accept(): Result<TcpEndpoint> {
    if (this.state !== 'LISTEN') return err(E.EINVAL);
    const c = this.acceptQueue.shift();
    if (c === undefined) return err(E.EAGAIN);
    c.parent = null;
    return c;
  }

  /** send(2): queue as much of data as fits; EAGAIN when the buffer is full. */
  send(data: Uint8Array): Result<number> {
    return this.proto.net.batch(() => this.doSend(data));
  }

  private doSend(data: Uint8Array): Result<number> {
    const e = this.takeError();
    if (e !== null) return e;
    switch (this.state) {
      case 'ESTABLISHED':
      case 'CLOSE_WAIT':
        break;
      case 'SYN_SENT':
      case 'SYN_RECEIVED':
        return err(E.EAGAIN);
      case 'CLOSED':
      case 'LISTEN':
        return this.everConnected ? err(E.EPIPE) : err(E.ENOTCONN);
      default:
        return err(E.EPIPE);
    }
    if (this.finQueued) return err(E.EPIPE);
    if (data.length === 0) return 0;
    const space = this.opts.sndBufSize - this.sndBuf.length;
    if (space <= 0) return err(E.EAGAIN);
    const n = Math.min(space, data.length);
    this.sndBuf.push(data.slice(0, n));
    this.output();
    return n;
  }

  /**
   * recv(2): up to maxLen bytes. An empty array is end of stream (peer FIN, SHUT_RD, or a
   * finished connection); EAGAIN means wait for EV_IN.
   */
  recv(maxLen: number, peek = false): Result<Uint8Array> {
    return this.proto.net.batch(() => this.doRecv(maxLen, peek));
  }

  private doRecv(maxLen: number, peek: boolean): Result<Uint8Array> {
    if (this.rcvQueue.length > 0 && !this.readShut && maxLen > 0) {
      if (peek) return this.rcvQueue.peek(0, maxLen);
      const out = this.rcvQueue.take(maxLen);
      this.maybeWindowUpdate();
      return out;
    }
    const e = this.takeError();
    if (e !== null) return e;
    if (this.finReceived || this.readShut) return new Uint8Array(0);
    if (this.state === 'CLOSED' || this.state === 'LISTEN') {
      return this.everConnected ? new Uint8Array(0) : err(E.ENOTCONN);
    }
    if (maxLen <= 0) return new Uint8Array(0);
    return err(E.EAGAIN);
  }

  /** shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR. */
  shutdown(how: number): Result<void> {
    return this.proto.net.batch(() => this.doShutdown(how));
  }

  private doShutdown(how: number): Result<void> {
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) return err(E.EINVAL);
    if (this.state === 'LISTEN') {
      if (how === SHUT_WR) return err(E.ENOTCONN);
      this.closeListener();
      return undefined;
    }
    if (this.state === 'CLOSED' || this.state === 'SYN_SENT') {
      if (this.state === 'SYN_SENT') this.enterClosed(null);
      return this.everConnected ? undefined : err(E.ENOTCONN);
    }
    if (how !== SHUT_WR) {
      this.readShut = true;
      this.rcvQueue.clear();
    }
    if (how !== SHUT_RD) this.queueFin();
    this.notify();
    return undefined;
  }

  /** close(2): graceful FIN, or RST when unread data remains or SO_LINGER 0 is set (RFC 2525). */
  close(): void {
    return this.proto.net.batch(() => this.doClose());
  }

  private doClose(): void {
    if (this.appClosed) return;
    this.appClosed = true;
    switch (this.state) {
      case 'CLOSED':
        this.release();
        return;
      case 'LISTEN':
        this.closeListener();
        return;
      case 'SYN_SENT':
        this.enterClosed(null);
        return;
      default:
        break;
    }
    if (this.rcvQueue.length > 0 || this.opts.lingerAbort) {
      this.abort();
      return;
    }
    this.queueFin();
    if (this.state === 'FIN_WAIT_2') this.lingerTimer.arm(this.proto.cfg.finWait2TimeoutMs);
  }

  /** Reset the connection now (SO_LINGER 0, or unread data at close). */
  abort(): void {
    return this.proto.net.batch(() => this.doAbort());
  }

  private doAbort(): void {
    if (this.isSynchronized() || this.state === 'SYN_RECEIVED') this.sendRst(this.sndNxt);
    this.enterClosed(null);
  }

  /** Current readiness as EV_* bits. */
  readiness(): number {
    if (this.state === 'LISTEN') return this.acceptQueue.length > 0 ? EV_IN : 0;
    let m = 0;
    if (this.error !== null) m |= EV_ERR;
    if (this.state === 'CLOSED') {
      if (this.everConnected || this.error !== null) m |= EV_IN | EV_OUT | EV_HUP | EV_RDHUP;
      return m;
    }
    if (this.state === 'SYN_SENT' || this.state === 'SYN_RECEIVED') return m;
    if (this.rcvQueue.length > 0 || this.finReceived || this.readShut) m |= EV_IN;
    if (this.finReceived) m |= EV_RDHUP;
    if (this.finQueued || this.sndBuf.length < this.opts.sndBufSize) m |= EV_OUT;
    if (this.finQueued && (this.finReceived || this.readShut)) m |= EV_HUP;
    return m;
  }

  /** Called with the readiness mask whenever it may have changed (new data, space, state). */
  subscribe(fn: ReadinessListener): () => void {
    return this.notifier.subscribe(fn);
  }

  localAddress(): { addr: Ipv4Addr; port: number } {
    return { addr: this.localAddr, port: this.localPort };
  }

  remoteAddress(): { addr: Ipv4Addr; port: number } | null {
    return this.remotePort === 0 ? null : { addr: this.remoteAddr, port: this.remotePort };
  }

  /** SO_ERROR: the pending error, cleared by reading it. */
  takeError(): SysError | null {
    const e = this.error;
    this.error = null;
    return e;
  }

  /** FIONREAD / SIOCINQ. */
  readableBytes(): number {
    return this.readShut ? 0 : this.rcvQueue.length;
  }

  /** TIOCOUTQ / SIOCOUTQ: bytes not yet acknowledged. */
  unsentBytes(): number {
    return this.sndBuf.length;
  }

  /** TCP_NODELAY; turning it on flushes anything Nagle was holding. */
  setNoDelay(on: boolean): void {
    return this.proto.net.batch(() => this.doSetNoDelay(on));
  }

  private doSetNoDelay(on: boolean): void {
    this.opts.noDelay = on;
    if (on) this.output();
  }

  /** SO_KEEPALIVE. */
  setKeepAlive(on: boolean): void {
    return this.proto.net.batch(() => this.doSetKeepAlive(on));
  }

  private doSetKeepAlive(on: boolean): void {
    this.opts.keepAlive = on;
    if (on && this.isSynchronized()) {
      this.keepProbes = 0;
      this.keepTimer.armAt(this.lastRecvAt + this.opts.keepIdleMs);
    } else if (!on) this.keepTimer.cancel();
  }

  info(): TcpInfo {
    return {
      state: this.state,
      rtoMs: this.rtt.rto,
      srttMs: this.rtt.srtt,
      rttvarMs: this.rtt.rttvar,
      sndMss: this.sndMss,
      rcvMss: this.rcvMss,
      cwnd: this.cc.cwnd,
      ssthresh: this.cc.ssthresh,
      sndWnd: this.sndWnd,
      rcvWnd: Math.max(0, seqDiff(this.rcvAdvEdge, this.rcvNxt)),
      unacked: seqDiff(this.sndMax, this.sndUna),
      retransmits: this.totalRetransmits,
      backoff: this.rtt.backoffs,
      timestamps: this.tsOk,
      sack: this.sackOk,
      sndWscale: this.sndShift,
      rcvWscale: this.rcvShift,
    };
  }

  /** SYN and accept queue lengths of a listener (for tests and /proc). */
  listenQueues(): { syn: number; accept: number; backlog: number } {
    return { syn: this.synQueue.size, accept: this.acceptQueue.length, backlog: this.backlog };
  }

  // ---------------------------------------------------------------- PortOwner

  get reuseAddr(): boolean {
    return this.opts.reuseAddr;
  }
  get reusePort(): boolean {
    return this.opts.reusePort;
  }
  isListening(): boolean {
    return this.state === 'LISTEN';
  }
  isTimeWait(): boolean {
    return this.state === 'TIME_WAIT';
  }

  /** @internal demux key parts */
  tuple(): { la: Ipv4Addr; lp: number; ra: Ipv4Addr; rp: number } {
    return { la: this.localAddr, lp: this.localPort, ra: this.remoteAddr, rp: this.remotePort };
  }

  // ---------------------------------------------------------------- inbound: listener

  /** @internal A segment for a listening endpoint (RFC 9293 3.10.7.2). */
  handleListen(seg: TcpSegment, src: Ipv4Addr, dst: Ipv4Addr): void {
    const stats = this.proto.net.stats;
    if (seg.flags & RST) return;
    if (seg.flags & ACK) {
      this.proto.replyRst(seg, src, dst);
      return;
    }
    if (!(seg.flags & SYN)) {
      stats.tcpDropped++;
      return;
    }
    if (this.acceptQueue.length >= this.backlog) {
      stats.tcpAcceptQueueFull++;
      return;
    }
    if (this.synQueue.size >= this.synQueueLimit()) {
      // No SYN cookies: evict the oldest half-open connection so a flood cannot lock out
      // later honest clients for the minute that SYN-ACK retries take.
      stats.tcpSynQueueFull++;
      const oldest = this.synQueue.values().next();
      if (!oldest.done) oldest.value.enterClosed(null);
    }
    const route = this.proto.net.route(src);
    if (route === null) {
      stats.ipNoRoute++;
      return;
    }
    const c = new TcpEndpoint(this.proto);
    Object.assign(c.opts, this.opts, { lingerAbort: false });
    c.parent = this;
    c.localAddr = dst;
    c.localPort = this.localPort;
    c.remoteAddr = src;
    c.remotePort = seg.srcPort;
    if (!this.proto.addConn(c)) return;
    c.registered = true;
    c.passiveOpen(seg, route.mtu);
    this.synQueue.add(c);
  }

  private passiveOpen(seg: TcpSegment, mtu: number): void {
    const cfg = this.proto.cfg;
    this.initSend(mtu);
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.rcvAdvEdge = this.rcvNxt;
    this.lastAckSent = this.rcvNxt;
    const o = seg.options;
    this.wsOk = cfg.windowScaling && o.wscale !== undefined;
    this.sndShift = this.wsOk ? (o.wscale ?? 0) : 0;
    this.rcvShift = this.wsOk ? windowShiftFor(this.opts.rcvBufSize) : 0;
    this.tsOk = cfg.timestamps && o.tsVal !== undefined;
    if (this.tsOk) this.tsRecent = o.tsVal ?? 0;
    this.sackOk = cfg.sack && o.sackPermitted === true;
    this.setSndMss(o.mss);
    this.sndWnd = seg.window;
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = seg.seq;
    this.sndWl2 = this.iss;
    this.lastRecvAt = this.now();
    this.state = 'SYN_RECEIVED';
    this.sendSyn();
    this.timing = { seq: this.iss, at: this.now() };
    this.rtxTimer.arm(this.rtt.rto);
  }

  // ---------------------------------------------------------------- inbound: connection

  /** @internal A segment for this connection's 4-tuple. */
  handleSegment(seg: TcpSegment): void {
    this.proto.net.stats.tcpRx++;
    switch (this.state) {
      case 'CLOSED':
      case 'LISTEN':
        return;
      case 'SYN_SENT':
        this.handleSynSent(seg);
        break;
      default:
        this.handleSynchronized(seg);
        break;
    }
    this.notify();
  }

  private handleSynSent(seg: TcpSegment): void {
    const f = seg.flags;
    let ackOk = false;
    if (f & ACK) {
      if (seqLE(seg.ack, this.iss) || seqGT(seg.ack, this.sndMax)) {
        if (!(f & RST)) this.sendRstSeq(seg.ack, 0, RST);
        return;
      }
      ackOk = true;
    }
    if (f & RST) {
      if (ackOk) this.enterClosed(err(E.ECONNREFUSED));
      return;
    }
    if (!(f & SYN)) return;
    const cfg = this.proto.cfg;
    const o = seg.options;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.rcvAdvEdge = this.rcvNxt;
    this.wsOk = cfg.windowScaling && o.wscale !== undefined;
    this.sndShift = this.wsOk ? (o.wscale ?? 0) : 0;
    if (!this.wsOk) this.rcvShift = 0;
    this.tsOk = cfg.timestamps && o.tsVal !== undefined;
    if (this.tsOk) this.tsRecent = o.tsVal ?? 0;
    this.sackOk = cfg.sack && o.sackPermitted === true;
    this.setSndMss(o.mss);
    this.lastRecvAt = this.now();
    if (ackOk) {
      this.sampleRttOnAck(seg);
      this.sndUna = seg.ack;
      this.sndWnd = seg.window; // never scaled in a SYN (RFC 7323 2.2)
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.rtxTimer.cancel();
      this.rtxCount = 0;
      this.establish();
      this.sendAck();
      this.output();
      return;
    }
    // Simultaneous open (RFC 9293 figure 8): answer with SYN,ACK and wait for theirs.
    this.sndWnd = seg.window;
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = seg.seq;
    this.state = 'SYN_RECEIVED';
    this.sendSyn();
  }

  private handleSynchronized(seg: TcpSegment): void {
    const stats = this.proto.net.stats;
    let flags = seg.flags;
    let seq = seg.seq;
    let payload = seg.payload;

    // A retransmitted SYN while we wait in SYN_RECEIVED means our SYN,ACK was lost.
    if (this.state === 'SYN_RECEIVED' && flags & SYN && !(flags & ACK) && seq === this.irs) {
      this.sendSyn();
      return;
    }
    if (flags & SYN && seq === this.irs) {
      if (this.state !== 'SYN_RECEIVED') {
        // A retransmitted SYN,ACK: our ACK of it was lost, so send it again.
        if (!(flags & RST)) this.sendAck();
        return;
      }
      // Simultaneous open: the peer's SYN,ACK repeats its SYN; keep only the ACK part.
      flags &= ~SYN;
      seq = seqAdd(seq, 1);
    }

    // PAWS (RFC 7323 5.3).
    const o = seg.options;
    if (this.tsOk && o.tsVal !== undefined && !(flags & RST) && seqLT(o.tsVal, this.tsRecent)) {
      stats.tcpOutOfWindow++;
      this.sendAck();
      return;
    }

    // Step 1: sequence acceptability (RFC 9293 3.10.7.4).
    const wnd = Math.max(0, seqDiff(this.rcvAdvEdge, this.rcvNxt));
    const len = payload.length + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    const wEnd = seqAdd(this.rcvNxt, wnd);
    let acceptable: boolean;
    let zeroWindowAckOnly = false;
    if (len === 0) acceptable = wnd === 0 ? seq === this.rcvNxt : seqInRange(seq, this.rcvNxt, wEnd);
    else if (wnd === 0) {
      acceptable = false;
      // A zero window still takes ACKs and RSTs from a segment at RCV.NXT (probes, mostly).
      if (seq === this.rcvNxt) zeroWindowAckOnly = true;
    } else acceptable = seqInRange(seq, this.rcvNxt, wEnd) || seqInRange(seqAdd(seq, len - 1), this.rcvNxt, wEnd);
    if (!acceptable && !zeroWindowAckOnly) {
      stats.tcpOutOfWindow++;
      if (!(flags & RST)) {
        this.sendAck();
        if (this.state === 'TIME_WAIT' && flags & FIN) this.lingerTimer.arm(this.proto.cfg.timeWaitMs);
      }
      return;
    }
    this.lastRecvAt = this.now();
    this.keepProbes = 0;

    // Step 2: RST, with RFC 5961's exact-match rule and challenge ACKs.
    if (flags & RST) {
      if (seq !== this.rcvNxt) {
        this.challengeAck();
        return;
      }
      this.onReset();
      return;
    }

    if (zeroWindowAckOnly) {
      payload = payload.subarray(0, 0);
      flags &= ~FIN;
    } else {
      // Trim to the window.
      if (seqLT(seq, this.rcvNxt)) {
        const d = seqDiff(this.rcvNxt, seq);
        payload = payload.subarray(Math.min(d, payload.length));
        seq = this.rcvNxt;
      }
      const room = seqDiff(wEnd, seq);
      if (payload.length > room) {
        payload = payload.subarray(0, Math.max(0, room));
        flags &= ~FIN;
      }
    }

    // Step 4: a SYN in a synchronized state gets a challenge ACK (RFC 5961 4).
    if (flags & SYN) {
      this.challengeAck();
      return;
    }

    // Timestamps: remember TSval for echoing (RFC 7323 4.3).
    if (this.tsOk && o.tsVal !== undefined && seqLE(seq, this.lastAckSent) && seqGE(o.tsVal, this.tsRecent)) {
      this.tsRecent = o.tsVal;
    }

    // Step 5: ACK.
    if (!(flags & ACK)) return;
    if (this.state === 'SYN_RECEIVED') {
      if (!seqGT(seg.ack, this.sndUna) || seqGT(seg.ack, this.sndMax)) {
        this.sendRstSeq(seg.ack, 0, RST);
        return;
      }
      const parent = this.parent;
      if (parent !== null) {
        if (parent.acceptQueue.length >= parent.backlog) {
          // Linux drops the final ACK when the accept queue is full; our SYN,ACK retransmits.
          stats.tcpAcceptQueueFull++;
          return;
        }
        parent.synQueue.delete(this);
        parent.acceptQueue.push(this);
      }
      this.sampleRttOnAck(seg);
      this.sndUna = seqAdd(this.iss, 1);
      this.sndWnd = seg.window * 2 ** this.sndShift;
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seq;
      this.sndWl2 = seg.ack;
      this.rtxTimer.cancel();
      this.rtxCount = 0;
      this.establish();
      parent?.notify();
    }
    if (!this.processAck(seg, seq)) return;

    switch (this.state) {
      case 'FIN_WAIT_1':
        if (this.finAcked()) {
          this.state = 'FIN_WAIT_2';
          if (this.appClosed) this.lingerTimer.arm(this.proto.cfg.finWait2TimeoutMs);
        }
        break;
      case 'CLOSING':
        if (this.finAcked()) this.enterTimeWait();
        break;
      case 'LAST_ACK':
        if (this.finAcked()) {
          this.enterClosed(null);
          return;
        }
        break;
      case 'TIME_WAIT':
        break;
      default:
        break;
    }

    // Step 7: segment text.
    let fin = (flags & FIN) !== 0;
    const canReceive = this.state === 'ESTABLISHED' || this.state === 'FIN_WAIT_1' || this.state === 'FIN_WAIT_2';
    if (payload.length > 0 || fin) {
      if (!canReceive) {
        // Peer already sent its FIN: anything more is a retransmission; re-ACK it.
        if (fin || payload.length > 0) this.sendAck();
        if (this.state === 'TIME_WAIT') this.lingerTimer.arm(this.proto.cfg.timeWaitMs);
        fin = false;
      } else if (this.appClosed && payload.length > 0) {
        // Data for a socket nobody can read any more: reset, as Linux does.
        this.sendRst(this.sndNxt);
        this.enterClosed(null);
        return;
      } else {
        fin = this.receive(seq, payload, fin);
      }
    }

    // Step 8: FIN (in order).
    if (fin) this.onFin();
    if (zeroWindowAckOnly) this.sendAck();
    this.output();
  }

  /** Returns false when the segment must be dropped. */
  private processAck(seg: TcpSegment, seq: number): boolean {
    const stats = this.proto.net.stats;
    const ack = seg.ack;
    if (seqGT(ack, this.sndMax)) {
      this.sendAck();
      return false;
    }
    if (seqLT(ack, seqAdd(this.sndUna, -Math.max(this.maxSndWnd, 65535)))) {
      this.challengeAck();
      return false;
    }
    const scaledWnd = seg.window * 2 ** this.sndShift;
    if (seqGT(ack, this.sndUna)) {
      const acked = seqDiff(ack, this.sndUna);
      this.sndBuf.consume(Math.min(acked, this.sndBuf.length));
      this.sampleRttOnAck(seg);
      this.sndUna = ack;
      if (seqLT(this.sndNxt, this.sndUna)) this.sndNxt = this.sndUna;
      this.rtxCount = 0;
      this.persistBackoff = 0;
      const flight = seqDiff(this.sndMax, this.sndUna);
      if (this.cc.inRecovery) {
        if (seqGE(ack, this.cc.recover)) this.cc.onFullAck(flight);
        else {
          this.cc.onPartialAck(acked);
          this.retransmitFirst();
        }
      } else this.cc.onNewAck(acked, flight + acked);
      if (this.sndUna === this.sndMax) this.rtxTimer.cancel();
      else this.rtxTimer.arm(this.rtt.rto);
    } else if (
      ack === this.sndUna &&
      seg.payload.length === 0 &&
      !(seg.flags & (SYN | FIN)) &&
      scaledWnd === this.sndWnd &&
      this.sndWnd > 0 &&
      this.sndMax !== this.sndUna
    ) {
      // Duplicate ACK (RFC 5681 2).
      this.cc.dupAcks++;
      if (this.cc.inRecovery) this.cc.onDupAckInRecovery();
      else if (this.cc.dupAcks === 3 && seqGT(ack, this.cc.recover)) {
        stats.tcpFastRetransmits++;
        this.cc.enterRecovery(seqDiff(this.sndMax, this.sndUna), this.sndMax);
        this.timing = null;
        this.retransmitFirst();
        this.rtxTimer.arm(this.rtt.rto);
      }
    }
    // Window update (RFC 9293 3.10.7.4, fifth check).
    if (seqLT(this.sndWl1, seq) || (this.sndWl1 === seq && seqLE(this.sndWl2, ack))) {
      this.sndWnd = scaledWnd;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      if (scaledWnd > this.maxSndWnd) this.maxSndWnd = scaledWnd;
      if (scaledWnd > 0) this.persistTimer.cancel();
    }
    return true;
  }

  /** Take in-window data; returns whether an in-order FIN is now due. */
  private receive(seq: number, data: Uint8Array, fin: boolean): boolean {
    if (seq !== this.rcvNxt) {
      this.insertOoo(seq, data);
      if (fin) this.oooFinSeq = seqAdd(seq, data.length);
      this.sendAck(); // out of order: immediate duplicate ACK carrying SACK blocks
      return false;
    }
    const hadHole = this.ooo.length > 0;
    if (data.length > 0 && !this.readShut) this.rcvQueue.push(data.slice());
    this.rcvNxt = seqAdd(this.rcvNxt, data.length);
    while (this.ooo.length > 0 && seqLE(this.ooo[0].seq, this.rcvNxt)) {
      const s = this.ooo.shift() as OooSegment;
      const end = seqAdd(s.seq, s.data.length);
      if (seqGT(end, this.rcvNxt)) {
        if (!this.readShut) this.rcvQueue.push(s.data.subarray(seqDiff(this.rcvNxt, s.seq)));
        this.rcvNxt = end;
      }
    }
    if (!fin && this.oooFinSeq !== undefined && this.oooFinSeq === this.rcvNxt) fin = true;
    if (data.length > 0) {
      this.unackedSegs++;
      if (hadHole || fin) this.sendAck();
      else if (this.unackedSegs >= 2) this.proto.ackSoon(this);
      else if (!this.delackTimer.armed) this.delackTimer.arm(this.proto.cfg.delayedAckMs);
    }
    return fin;
  }

  private insertOoo(seq: number, data: Uint8Array): void {
    if (data.length === 0) return;
    const end = seqAdd(seq, data.length);
    // Skip if fully covered by one segment already held.
    for (const s of this.ooo) if (seqLE(s.seq, seq) && seqGE(seqAdd(s.seq, s.data.length), end)) return;
    this.ooo = this.ooo.filter((s) => !(seqGE(s.seq, seq) && seqLE(seqAdd(s.seq, s.data.length), end)));
    let i = 0;
    while (i < this.ooo.length && seqLT(this.ooo[i].seq, seq)) i++;
    this.ooo.splice(i, 0, { seq, data: data.slice() });
    this.lastOooSeq = seq;
  }

  /** SACK blocks (RFC 2018 4): the block holding the latest arrival first. */
  private sackBlocks(max: number): SackBlock[] {
    const blocks: SackBlock[] = [];
    for (const s of this.ooo) {
      const end = seqAdd(s.seq, s.data.length);
      const last = blocks[blocks.length - 1];
      if (last !== undefined && seqLE(s.seq, last.end)) {
        if (seqGT(end, last.end)) last.end = end;
      } else blocks.push({ start: s.seq, end });
    }
    const latest = this.lastOooSeq;
    if (latest !== undefined) {
      const i = blocks.findIndex((b) => seqLE(b.start, latest) && seqLT(latest, b.end));
      if (i > 0) blocks.unshift(...blocks.splice(i, 1));
    }
    return blocks.slice(0, max);
  }

  private onFin(): void {
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.finReceived = true;
    this.oooFinSeq = undefined;
    this.sendAck();
    switch (this.state) {
      case 'SYN_RECEIVED':
      case 'ESTABLISHED':
        this.state = 'CLOSE_WAIT';
        break;
      case 'FIN_WAIT_1':
        if (this.finAcked()) this.enterTimeWait();
        else this.state = 'CLOSING';
        break;
      case 'FIN_WAIT_2':
        this.enterTimeWait();
        break;
      default:
        break;
    }
  }

  private onReset(): void {
    switch (this.state) {
      case 'SYN_RECEIVED':
        // Passive: silently forget the half-open connection. Active (simultaneous open): refused.
        this.enterClosed(this.parent !== null ? null : err(E.ECONNREFUSED));
        return;
      case 'ESTABLISHED':
      case 'FIN_WAIT_1':
      case 'FIN_WAIT_2':
      case 'CLOSE_WAIT':
        this.enterClosed(err(E.ECONNRESET));
        return;
      default:
        this.enterClosed(null);
    }
  }

  // ---------------------------------------------------------------- output

  /** Send whatever the windows, Nagle and SWS avoidance allow. */
  private output(): void {
    switch (this.state) {
      case 'ESTABLISHED':
      case 'CLOSE_WAIT':
      case 'FIN_WAIT_1':
      case 'CLOSING':
      case 'LAST_ACK':
        break;
      default:
        return;
    }
    for (;;) {
      const dataEnd = seqAdd(this.sndUna, this.sndBuf.length);
      const avail = Math.max(0, seqDiff(dataEnd, this.sndNxt));
      const inFlight = seqDiff(this.sndNxt, this.sndUna);
      const usable = Math.max(0, Math.min(this.sndWnd, this.cc.cwnd) - inFlight);
      const len = Math.min(avail, this.sndMss, usable);
      const sendFin = this.finQueued && seqLE(this.sndNxt, dataEnd) && len === avail;
      if (len === 0 && !sendFin) break;
      if (len > 0 && len < this.sndMss && !sendFin) {
        const allQueued = len === avail;
        const nagleOk = allQueued && (this.opts.noDelay || inFlight === 0);
        const swsOk = this.maxSndWnd > 0 && len >= this.maxSndWnd / 2;
        if (!nagleOk && !swsOk) break;
      }
      const payload = this.sndBuf.peek(seqDiff(this.sndNxt, this.sndUna), len);
      const isNew = seqGE(this.sndNxt, this.sndMax);
      let flags = ACK;
      if (len > 0 && len === avail) flags |= PSH;
      if (sendFin) flags |= FIN;
      this.sendSegment(this.sndNxt, flags, payload);
      if (!isNew) {
        this.proto.net.stats.tcpRetransmits++;
        this.totalRetransmits++;
      } else if (this.timing === null && !this.tsOk && len > 0) this.timing = { seq: this.sndNxt, at: this.now() };
      if (sendFin) this.finSeq = seqAdd(this.sndNxt, len);
      this.sndNxt = seqAdd(this.sndNxt, len + (sendFin ? 1 : 0));
      this.sndMax = seqMax(this.sndMax, this.sndNxt);
      if (!this.rtxTimer.armed) this.rtxTimer.arm(this.rtt.rto);
      this.persistTimer.cancel();
      if (sendFin) break;
    }
    // Zero window with data waiting and nothing in flight: probe it (RFC 9293 3.8.6.1).
    const waiting = seqDiff(seqAdd(this.sndUna, this.sndBuf.length), this.sndNxt) > 0;
    if (waiting && this.sndWnd === 0 && this.sndNxt === this.sndUna && !this.rtxTimer.armed && !this.persistTimer.armed) {
      this.persistTimer.arm(this.persistInterval());
    }
  }

  /** Resend the first unacknowledged segment (fast retransmit, partial ACK, RTO). */
  private retransmitFirst(): void {
    const len = Math.min(this.sndMss, this.sndBuf.length);
    const fin = this.finQueued && this.finSeq !== undefined && len === this.sndBuf.length;
    if (len === 0 && !fin) return;
    let flags = ACK;
    if (len > 0) flags |= PSH;
    if (fin) flags |= FIN;
    this.sendSegment(this.sndUna, flags, this.sndBuf.peek(0, len));
    const end = seqAdd(this.sndUna, len + (fin ? 1 : 0));
    if (seqLT(this.sndNxt, end)) this.sndNxt = end;
    if (this.timing !== null && seqLT(this.timing.seq, end)) this.timing = null; // Karn
    this.proto.net.stats.tcpRetransmits++;
    this.totalRetransmits++;
  }

  private onRetransmitTimer(): void {
    const cfg = this.proto.cfg;
    const stats = this.proto.net.stats;
    if (this.state === 'SYN_SENT' || this.state === 'SYN_RECEIVED') {
      const limit = this.parent !== null ? cfg.synAckRetries : cfg.synRetries;
      if (++this.rtxCount > limit) {
        stats.tcpTimeouts++;
        this.enterClosed(this.parent !== null ? null : err(E.ETIMEDOUT));
        this.notify();
        return;
      }
      this.rtt.backoff();
      this.timing = null;
      this.totalRetransmits++;
      stats.tcpRetransmits++;
      this.sendSyn();
      this.rtxTimer.arm(this.rtt.rto);
      return;
    }
    if (this.sndUna === this.sndMax) return;
    if (++this.rtxCount > cfg.dataRetries) {
      stats.tcpTimeouts++;
      this.enterClosed(err(E.ETIMEDOUT));
      this.notify();
      return;
    }
    stats.tcpTimeouts++;
    this.cc.onTimeout(seqDiff(this.sndMax, this.sndUna), this.sndMax);
    this.rtt.backoff();
    this.timing = null;
    this.sndNxt = this.sndUna;
    this.retransmitFirst();
    this.rtxTimer.arm(this.rtt.rto);
  }

  private persistInterval(): number {
    return Math.min(Math.max(this.rtt.rto * 2 ** this.persistBackoff, this.proto.cfg.rtt.minRtoMs), 60_000);
  }

  private onPersistTimer(): void {
    if (!this.isSynchronized() || this.sndBuf.length === 0) return;
    if (this.sndWnd > 0) {
      this.output();
      return;
    }
    // One byte past the window: the receiver either takes it or re-advertises its window.
    const off = seqDiff(this.sndNxt, this.sndUna);
    const probe = this.sndBuf.peek(off, 1);
    if (probe.length === 0) return;
    this.sendSegment(this.sndNxt, ACK, probe);
    this.sndMax = seqMax(this.sndMax, seqAdd(this.sndNxt, 1));
    this.persistBackoff++;
    this.persistTimer.arm(this.persistInterval());
  }

  private onKeepaliveTimer(): void {
    if (!this.opts.keepAlive || !this.isSynchronized() || this.state === 'TIME_WAIT') return;
    if (this.keepProbes === 0) {
      const due = this.lastRecvAt + this.opts.keepIdleMs;
      if (due > this.now()) {
        this.keepTimer.armAt(due);
        return;
      }
    }
    if (this.sndMax !== this.sndUna || this.sndBuf.length > 0) {
      // Data outstanding: the retransmission timer is watching the peer already.
      this.keepTimer.arm(this.opts.keepIdleMs);
      return;
    }
    if (this.keepProbes >= this.opts.keepCount) {
      this.proto.net.stats.tcpTimeouts++;
      this.enterClosed(err(E.ETIMEDOUT));
      this.notify();
      return;
    }
    // A keepalive probe is an old sequence number, which forces the peer to ACK.
    this.sendSegment(seqAdd(this.sndUna, -1), ACK, new Uint8Array(0));
    this.keepProbes++;
    this.keepTimer.arm(this.opts.keepIntvlMs);
  }

  private sendSyn(): void {
    const o: TcpOptions = { mss: this.rcvMss };
    const synAck = this.state === 'SYN_RECEIVED';
    const cfg = this.proto.cfg;
    // On a SYN,ACK offer only what the peer offered (RFC 7323, RFC 2018).
    if (synAck ? this.wsOk : cfg.windowScaling) o.wscale = this.rcvShift;
    if (synAck ? this.sackOk : cfg.sack) o.sackPermitted = true;
    if (synAck ? this.tsOk : cfg.timestamps) {
      o.tsVal = this.tsNow();
      o.tsEcr = synAck ? this.tsRecent : 0;
    }
    const flags = synAck ? SYN | ACK : SYN;
    const window = Math.min(this.rcvSpace(), 0xffff); // never scaled in a SYN
    if (synAck) this.rcvAdvEdge = seqMax(this.rcvAdvEdge, seqAdd(this.rcvNxt, window));
    this.emit(this.iss, flags, window, o, undefined);
  }

  /** The ACK ackSoon promised, unless a segment since then carried it. */
  flushAck(): void {
    const s = this.state;
    if (this.unackedSegs === 0 || s === 'CLOSED' || s === 'LISTEN' || s === 'SYN_SENT' || s === 'TIME_WAIT') return;
    this.sendAck();
  }

  private sendAck(): void {
    this.sendSegment(this.sndNxt, ACK, new Uint8Array(0));
  }

  private challengeAck(): void {
    this.proto.net.stats.tcpChallengeAcks++;
    this.sendAck();
  }

  /** A non-SYN segment from this endpoint: window, timestamps and SACK filled in. */
  private sendSegment(seq: number, flags: number, payload: Uint8Array): void {
    const o: TcpOptions = {};
    if (this.tsOk) {
      o.tsVal = this.tsNow();
      o.tsEcr = this.tsRecent;
    }
    if (this.sackOk && this.ooo.length > 0 && payload.length === 0) o.sack = this.sackBlocks(this.tsOk ? 3 : 4);
    this.emit(seq, flags, this.advertiseWindow(), o, payload);
    if (flags & ACK) {
      this.delackTimer.cancel();
      this.unackedSegs = 0;
      this.lastAckSent = this.rcvNxt;
    }
  }

  private emit(seq: number, flags: number, window: number, options: TcpOptions, payload: Uint8Array | undefined): void {
    const b = buildTcp(this.localAddr, this.remoteAddr, {
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq,
      ack: flags & ACK ? this.rcvNxt : 0,
      flags,
      window,
      options,
      payload,
    }, this.proto.net.pseudoHeaderSum);
    this.proto.net.stats.tcpTx++;
    this.proto.net.sendIpv4(
      { src: this.localAddr, dst: this.remoteAddr, protocol: IPPROTO_TCP, ttl: this.opts.ttl, dontFragment: true },
      b,
    );
  }

  private sendRst(seq: number): void {
    this.sendRstSeq(seq, this.rcvNxt, RST | ACK);
  }

  private sendRstSeq(seq: number, ack: number, flags: number): void {
    this.proto.net.stats.tcpRstSent++;
    const b = buildTcp(this.localAddr, this.remoteAddr, {
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq,
      ack,
      flags,
      window: 0,
    }, this.proto.net.pseudoHeaderSum);
    this.proto.net.sendIpv4({ src: this.localAddr, dst: this.remoteAddr, protocol: IPPROTO_TCP, ttl: this.opts.ttl }, b);
  }

  // ---------------------------------------------------------------- windows

  private rcvSpace(): number {
    return Math.max(0, this.opts.rcvBufSize - this.rcvQueue.length);
  }

  /** The 16-bit window field to send; moves rcvAdvEdge right, never left. */
  private advertiseWindow(): number {
    const cur = Math.max(0, seqDiff(this.rcvAdvEdge, this.rcvNxt));
    let wnd = this.rcvSpace();
    // Receiver SWS avoidance (RFC 1122 4.2.3.3): open the window only in useful steps.
    if (wnd > cur && wnd - cur < Math.min(this.opts.rcvBufSize / 2, this.rcvMss)) wnd = cur;
    if (wnd < cur) wnd = cur;
    const scale = 2 ** this.rcvShift;
    const field = Math.min(0xffff, Math.ceil(wnd / scale));
    const edge = seqAdd(this.rcvNxt, field * scale);
    if (seqGT(edge, this.rcvAdvEdge)) this.rcvAdvEdge = edge;
    return field;
  }

  /** After the app reads: tell the peer if the window opened meaningfully. */
  private maybeWindowUpdate(): void {
    if (!this.isSynchronized() || this.finReceived) return;
    const cur = Math.max(0, seqDiff(this.rcvAdvEdge, this.rcvNxt));
    // Only space the window field can express counts (no scaling: at most 64 KiB).
    const maxAdv = 0xffff * 2 ** this.rcvShift;
    const space = Math.min(this.rcvSpace(), maxAdv);
    const half = Math.min(this.opts.rcvBufSize, maxAdv) / 2;
    if ((cur < this.rcvMss && space >= this.rcvMss) || space - cur >= half) this.sendAck();
  }

  // ---------------------------------------------------------------- state helpers

  private initSend(mtu: number): void {
    this.iss = Math.floor(this.proto.net.random() * 0x100000000) >>> 0;
    this.tsOffset = Math.floor(this.proto.net.random() * 0x100000000) >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    this.rcvMss = Math.max(MIN_SND_MSS, mtu - 40);
    if (this.opts.maxSeg > 0) this.rcvMss = Math.min(this.rcvMss, Math.max(MIN_SND_MSS, this.opts.maxSeg));
    this.cc = new NewReno(this.rcvMss, this.iss);
  }

  /** MSS clamping: the peer's MSS (536 if absent), our route's and TCP_MAXSEG, less option space. */
  private setSndMss(peerMss: number | undefined): void {
    let mss = Math.min(peerMss ?? 536, this.rcvMss);
    if (this.tsOk) mss -= TS_OPTION_LEN;
    this.sndMss = Math.max(MIN_SND_MSS, mss);
    this.cc.setMss(this.sndMss);
    this.cc.recover = this.iss;
  }

  private sampleRttOnAck(seg: TcpSegment): void {
    const ecr = seg.options.tsEcr;
    if (this.tsOk && ecr !== undefined && ecr !== 0) {
      // A bogus echo must not poison the estimator: keep only plausible samples.
      const r = seqDiff(this.tsNow(), ecr);
      if (r >= 0 && r <= this.proto.cfg.rtt.maxRtoMs) this.rtt.sample(r);
      return;
    }
    if (this.timing !== null && seqGT(seg.ack, this.timing.seq)) {
      this.rtt.sample(this.now() - this.timing.at);
      this.timing = null;
    }
  }

  private establish(): void {
    this.state = 'ESTABLISHED';
    this.everConnected = true;
    this.timing = null;
    if (this.opts.keepAlive) this.keepTimer.arm(this.opts.keepIdleMs);
    if (this.finQueued) {
      this.finQueued = false;
      this.queueFin();
    }
  }

  private queueFin(): void {
    if (this.finQueued) return;
    switch (this.state) {
      case 'ESTABLISHED':
        this.state = 'FIN_WAIT_1';
        break;
      case 'CLOSE_WAIT':
        this.state = 'LAST_ACK';
        break;
      case 'SYN_RECEIVED':
        this.finQueued = true; // sent once established
        return;
      default:
        return;
    }
    this.finQueued = true;
    this.output();
  }

  private finAcked(): boolean {
    return this.finSeq !== undefined && seqGT(this.sndUna, this.finSeq);
  }

  private enterTimeWait(): void {
    this.state = 'TIME_WAIT';
    this.rtxTimer.cancel();
    this.persistTimer.cancel();
    this.keepTimer.cancel();
    this.delackTimer.cancel();
    this.lingerTimer.arm(this.proto.cfg.timeWaitMs);
  }

  /** Into CLOSED: timers off, out of the demux; error (if any) is reported to the app. */
  private enterClosed(e: SysError | null): void {
    this.state = 'CLOSED';
    if (e !== null) this.error = e;
    this.rtxTimer.cancel();
    this.delackTimer.cancel();
    this.persistTimer.cancel();
    this.keepTimer.cancel();
    this.lingerTimer.cancel();
    this.sndBuf.clear();
    this.ooo = [];
    if (this.registered) {
      this.proto.removeConn(this);
      this.registered = false;
    }
    const parent = this.parent;
    if (parent !== null) {
      parent.synQueue.delete(this);
      const i = parent.acceptQueue.indexOf(this);
      if (i >= 0) parent.acceptQueue.splice(i, 1);
      this.parent = null;
      this.appClosed = true; // never handed to the app
    }
    if (this.appClosed) this.release();
    this.notify();
  }

  private closeListener(): void {
    this.proto.removeListener(this, this.localAddr, this.localPort);
    for (const c of [...this.synQueue, ...this.acceptQueue]) c.abort();
    this.synQueue.clear();
    this.acceptQueue = [];
    this.state = 'CLOSED';
    if (this.appClosed) this.release();
    this.notify();
  }

  private release(): void {
    if (this.bound) {
      this.proto.ports.release(this, this.localPort);
      this.bound = false;
    }
  }

  private clampBacklog(n: number): number {
    return Math.max(1, Math.min(Math.floor(n), this.proto.cfg.somaxconn));
  }

  private synQueueLimit(): number {
    return Math.min(this.proto.cfg.maxSynBacklog, Math.max(8, this.backlog));
  }

  private isSynchronized(): boolean {
    switch (this.state) {
      case 'ESTABLISHED':
      case 'FIN_WAIT_1':
      case 'FIN_WAIT_2':
      case 'CLOSE_WAIT':
      case 'CLOSING':
      case 'LAST_ACK':
      case 'TIME_WAIT':
        return true;
      default:
        return false;
    }
  }

  private now(): number {
    return this.proto.net.timers.now;
  }

  private tsNow(): number {
    return (Math.floor(this.now()) + this.tsOffset) >>> 0;
  }

  private notify(): void {
    if (this.notifier.size > 0) this.notifier.notify(this.readiness());
  }
}

/** The window-scale shift that lets a 16-bit field cover bufSize (RFC 7323 2.3, at most 14). */
export function windowShiftFor(bufSize: number): number {
  let s = 0;
  while (s < 14 && bufSize >> s > 0xffff) s++;
  return s;
}
