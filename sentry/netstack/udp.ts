// UDP (RFC 768): codec, endpoints and demultiplexing. Connected endpoints match the full
// 4-tuple first, then a bound address, then the wildcard; broadcasts go to every match.

import { E } from '../abi/errno.js';
import { err, isErr, type Result, type SysError } from '../abi/result.js';
import { IPV4_BROADCAST, isMulticast, type Ipv4Addr } from './addr.js';
import { rd16, wr16 } from './bytes.js';
import { checksum, pseudoHeaderSum, sum16, fold, type PseudoHeaderSum } from './checksum.js';
import { EV_ERR, EV_IN, EV_OUT, Notifier, type ReadinessListener } from './events.js';
import { IPPROTO_UDP } from './ipv4.js';
import type { NetworkLayer } from './network.js';
import { PortTable, type PortOwner } from './ports.js';
import { allocWithHeadroom } from './headroom.js';

export const UDP_HLEN = 8;
export const UDP_MAX_PAYLOAD = 65507;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

/** Parse and verify; a zero checksum means the sender computed none (allowed in IPv4). */
export function parseUdp(b: Uint8Array, src: Ipv4Addr, dst: Ipv4Addr, pseudo: PseudoHeaderSum = pseudoHeaderSum): UdpDatagram | null {
  if (b.length < UDP_HLEN) return null;
  const len = rd16(b, 4);
  if (len < UDP_HLEN || len > b.length) return null;
  if (rd16(b, 6) !== 0 && fold(sum16(b, 0, len, pseudo(src, dst, IPPROTO_UDP, len))) !== 0xffff) return null;
  return { srcPort: rd16(b, 0), dstPort: rd16(b, 2), payload: b.subarray(UDP_HLEN, len) };
}

export function buildUdp(
  src: Ipv4Addr, dst: Ipv4Addr, srcPort: number, dstPort: number, payload: Uint8Array, pseudo: PseudoHeaderSum = pseudoHeaderSum,
): Uint8Array {
  const len = UDP_HLEN + payload.length;
  const b = allocWithHeadroom(len);
  wr16(b, 0, srcPort);
  wr16(b, 2, dstPort);
  wr16(b, 4, len);
  b.set(payload, UDP_HLEN);
  const c = checksum(b, 0, len, pseudo(src, dst, IPPROTO_UDP, len));
  wr16(b, 6, c === 0 ? 0xffff : c);
  return b;
}

export interface UdpMessage {
  data: Uint8Array;
  addr: Ipv4Addr;
  port: number;
}

export interface UdpOptions {
  reuseAddr: boolean;
  reusePort: boolean;
  broadcast: boolean;
  rcvBufSize: number;
  ttl: number;
}

export class UdpEndpoint implements PortOwner {
  readonly opts: UdpOptions = { reuseAddr: false, reusePort: false, broadcast: false, rcvBufSize: 212_992, ttl: 64 };
  private localAddr: Ipv4Addr = 0;
  private localPort = 0;
  private remoteAddr: Ipv4Addr = 0;
  private remotePort = 0;
  private queue: UdpMessage[] = [];
  private queued = 0;
  private error: SysError | null = null;
  private closed = false;
  private readonly notifier = new Notifier();

  constructor(private readonly proto: UdpProtocol) {}

  get reuseAddr(): boolean {
    return this.opts.reuseAddr;
  }
  get reusePort(): boolean {
    return this.opts.reusePort;
  }
  isListening(): boolean {
    return false;
  }
  isTimeWait(): boolean {
    return false;
  }

  bind(addr: Ipv4Addr, port: number): Result<void> {
    if (this.closed) return err(E.EBADF);
    if (this.localPort !== 0) return err(E.EINVAL);
    if (addr !== 0 && !this.proto.net.isLocalAddress(addr) && !isMulticast(addr) && addr !== IPV4_BROADCAST) {
      return err(E.EADDRNOTAVAIL);
    }
    const p = this.proto.ports.reserve(this, addr, port);
    if (isErr(p)) return p;
    this.localAddr = addr;
    this.localPort = p;
    this.proto.register(this);
    return undefined;
  }

  /** Fix the peer; datagrams from others are then ignored. addr 0 and port 0 disconnect (AF_UNSPEC). */
  connect(addr: Ipv4Addr, port: number): Result<void> {
    if (this.closed) return err(E.EBADF);
    if (addr === 0 && port === 0) {
      this.remoteAddr = 0;
      this.remotePort = 0;
      return undefined;
    }
    if (port === 0) return err(E.EINVAL);
    const r = this.proto.net.route(addr);
    if (r === null) return err(E.ENETUNREACH);
    if (this.localPort === 0) {
      const b = this.bind(0, 0);
      if (isErr(b)) return b;
    }
    this.remoteAddr = addr;
    this.remotePort = port;
    return undefined;
  }

  /** Send one datagram; addr/port default to the connected peer. Returns bytes sent. */
  sendTo(data: Uint8Array, addr?: Ipv4Addr, port?: number): Result<number> {
    return this.proto.net.batch(() => this.doSendTo(data, addr, port));
  }

  private doSendTo(data: Uint8Array, addr?: Ipv4Addr, port?: number): Result<number> {
    if (this.closed) return err(E.EBADF);
    const pending = this.takeError();
    if (pending !== null) return pending;
    const dst = addr ?? this.remoteAddr;
    const dport = port ?? this.remotePort;
    if (dport === 0) return addr === undefined ? err(E.EDESTADDRREQ) : err(E.EINVAL);
    if (data.length > UDP_MAX_PAYLOAD) return err(E.EMSGSIZE);
    if (this.proto.net.isBroadcast(dst) && !this.opts.broadcast) return err(E.EACCES);
    if (this.localPort === 0) {
      const b = this.bind(0, 0);
      if (isErr(b)) return b;
    }
    let src = this.localAddr;
    if (src === 0 || isMulticast(src) || src === IPV4_BROADCAST) {
      const r = this.proto.net.route(dst);
      if (r === null) return err(E.ENETUNREACH);
      src = r.src;
    }
    const seg = buildUdp(src, dst, this.localPort, dport, data, this.proto.net.pseudoHeaderSum);
    const s = this.proto.net.sendIpv4({ src, dst, protocol: IPPROTO_UDP, ttl: this.opts.ttl }, seg);
    if (isErr(s)) return s;
    return data.length;
  }

  /** The next datagram, whole; EAGAIN when none. */
  recvFrom(peek = false): Result<UdpMessage> {
    const pending = this.takeError();
    if (pending !== null) return pending;
    const m = this.queue[0];
    if (m === undefined) return err(E.EAGAIN);
    if (!peek) {
      this.queue.shift();
      this.queued -= m.data.length;
    }
    return m;
  }

  /** Size of the next datagram (FIONREAD on UDP). */
  nextSize(): number {
    return this.queue[0]?.data.length ?? 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.proto.unregister(this);
    if (this.localPort !== 0) this.proto.ports.release(this, this.localPort);
    this.queue = [];
  }

  readiness(): number {
    let m = EV_OUT;
    if (this.queue.length > 0 || this.error !== null) m |= EV_IN;
    if (this.error !== null) m |= EV_ERR;
    return m;
  }

  subscribe(fn: ReadinessListener): () => void {
    return this.notifier.subscribe(fn);
  }

  localAddress(): { addr: Ipv4Addr; port: number } {
    return { addr: this.localAddr, port: this.localPort };
  }

  remoteAddress(): { addr: Ipv4Addr; port: number } | null {
    return this.remotePort === 0 ? null : { addr: this.remoteAddr, port: this.remotePort };
  }

  /** SO_ERROR: the pending asynchronous error (from ICMP), cleared by reading. */
  takeError(): SysError | null {
    const e = this.error;
    this.error = null;
    return e;
  }

  hasError(): boolean {
    return this.error !== null;
  }

  /** Every address this endpoint holds: its own, its peer's and its queued senders'. */
  referencedAddresses(): Ipv4Addr[] {
    return [this.localAddr, this.remoteAddr, ...this.queue.map((m) => m.addr)];
  }

  /** @internal */
  matches(src: Ipv4Addr, srcPort: number, dst: Ipv4Addr): boolean {
    if (this.localAddr !== 0 && this.localAddr !== dst) return false;
    if (this.remotePort !== 0 && (this.remoteAddr !== src || this.remotePort !== srcPort)) return false;
    return true;
  }

  /** @internal: more specific endpoints win the unicast demux. */
  specificity(): number {
    return (this.remotePort !== 0 ? 2 : 0) + (this.localAddr !== 0 ? 1 : 0);
  }

  /** @internal */
  deliver(m: UdpMessage): void {
    if (this.queued + m.data.length > this.opts.rcvBufSize) {
      this.proto.net.stats.udpRcvbufErrors++;
      return;
    }
    this.queue.push({ ...m, data: m.data.slice() });
    this.queued += m.data.length;
    this.notifier.notify(this.readiness());
  }

  /** @internal: an ICMP error about a datagram we sent (reported only when connected, as Linux does). */
  icmpError(e: SysError, dst: Ipv4Addr, dstPort: number): void {
    if (this.remotePort === 0 || this.remoteAddr !== dst || this.remotePort !== dstPort) return;
    this.error = e;
    this.notifier.notify(this.readiness());
  }

  /** @internal */
  get port(): number {
    return this.localPort;
  }
}

export class UdpProtocol {
  readonly ports: PortTable;
  private byPort = new Map<number, Set<UdpEndpoint>>();

  constructor(readonly net: NetworkLayer) {
    this.ports = new PortTable(() => net.random());
  }

  newEndpoint(): UdpEndpoint {
    return new UdpEndpoint(this);
  }

  /** @internal */
  register(ep: UdpEndpoint): void {
    let s = this.byPort.get(ep.port);
    if (s === undefined) this.byPort.set(ep.port, (s = new Set()));
    s.add(ep);
  }

  /** @internal */
  unregister(ep: UdpEndpoint): void {
    const s = this.byPort.get(ep.port);
    s?.delete(ep);
    if (s !== undefined && s.size === 0) this.byPort.delete(ep.port);
  }

  /** Every bound endpoint, as /proc/net/udp lists them. */
  endpoints(): UdpEndpoint[] {
    return [...this.byPort.values()].flatMap((s) => [...s]);
  }

  /** Deliver an inbound datagram; false when no endpoint took it (caller may send port unreachable). */
  handle(src: Ipv4Addr, dst: Ipv4Addr, b: Uint8Array, broadcast: boolean): boolean {
    this.net.stats.udpRx++;
    const d = parseUdp(b, src, dst, this.net.pseudoHeaderSum);
    if (d === null) {
      this.net.stats.udpMalformed++;
      return true; // malformed: drop silently, no ICMP
    }
    const cands = [...(this.byPort.get(d.dstPort) ?? [])].filter((ep) => broadcast || ep.matches(src, d.srcPort, dst));
    if (cands.length === 0) {
      this.net.stats.udpNoPort++;
      return false;
    }
    const msg = { data: d.payload, addr: src, port: d.srcPort };
    if (broadcast || isMulticast(dst)) {
      for (const ep of cands) ep.deliver(msg);
      return true;
    }
    let best = cands[0];
    for (const ep of cands) if (ep.specificity() > best.specificity()) best = ep;
    best.deliver(msg);
    return true;
  }

  /** An ICMP unreachable quoting one of our datagrams. */
  handleIcmpError(e: SysError, quotedSrc: Ipv4Addr, quotedDst: Ipv4Addr, quoted: Uint8Array): void {
    if (quoted.length < 4) return;
    const srcPort = rd16(quoted, 0);
    const dstPort = rd16(quoted, 2);
    for (const ep of this.byPort.get(srcPort) ?? []) {
      const l = ep.localAddress();
      if (l.addr === 0 || l.addr === quotedSrc) ep.icmpError(e, quotedDst, dstPort);
    }
  }
}
