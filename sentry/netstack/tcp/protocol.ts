// TCP demultiplexing: established/half-open connections by 4-tuple, listeners by local
// address (specific before wildcard), and RSTs for segments nobody owns (RFC 9293 3.10.7.1).

import type { Result } from '../../abi/result.js';
import { err } from '../../abi/result.js';
import { E } from '../../abi/errno.js';
import type { Ipv4Addr } from '../addr.js';
import { IPPROTO_TCP } from '../ipv4.js';
import type { NetworkLayer } from '../network.js';
import { PortTable } from '../ports.js';
import { DEFAULT_RTT_CONFIG, type RttConfig } from './rtt.js';
import { TcpEndpoint } from './endpoint.js';
import { ACK, RST, buildTcp, parseTcp, segLen, type TcpSegment } from './segment.js';
import { seqAdd } from './seq.js';

export interface TcpConfig {
  rtt: RttConfig;
  /** Delayed-ACK timeout (Linux's minimum is 40 ms; RFC 9293 allows up to 500 ms). */
  delayedAckMs: number;
  /** 2*MSL; Linux uses a fixed 60 s. */
  timeWaitMs: number;
  /** An orphaned FIN_WAIT_2 is dropped after this (Linux tcp_fin_timeout). */
  finWait2TimeoutMs: number;
  synRetries: number;
  synAckRetries: number;
  /** Retransmissions before ETIMEDOUT (Linux tcp_retries2). */
  dataRetries: number;
  keepIdleMs: number;
  keepIntvlMs: number;
  keepCount: number;
  rcvBufSize: number;
  sndBufSize: number;
  somaxconn: number;
  maxSynBacklog: number;
  windowScaling: boolean;
  timestamps: boolean;
  sack: boolean;
}

export const DEFAULT_TCP_CONFIG: TcpConfig = {
  rtt: DEFAULT_RTT_CONFIG,
  delayedAckMs: 40,
  timeWaitMs: 60_000,
  finWait2TimeoutMs: 60_000,
  synRetries: 6,
  synAckRetries: 5,
  dataRetries: 15,
  keepIdleMs: 7_200_000,
  keepIntvlMs: 75_000,
  keepCount: 9,
  rcvBufSize: 256 * 1024,
  sndBufSize: 256 * 1024,
  somaxconn: 4096,
  maxSynBacklog: 256,
  windowScaling: true,
  timestamps: true,
  sack: true,
};

function connKey(la: Ipv4Addr, lp: number, ra: Ipv4Addr, rp: number): string {
  return `${la}:${lp}:${ra}:${rp}`;
}

export class TcpProtocol {
  readonly cfg: TcpConfig;
  readonly ports: PortTable;
  private conns = new Map<string, TcpEndpoint>();
  private listeners = new Map<string, TcpEndpoint>();

  constructor(
    readonly net: NetworkLayer,
    cfg: Partial<TcpConfig> = {},
  ) {
    this.cfg = { ...DEFAULT_TCP_CONFIG, ...cfg, rtt: { ...DEFAULT_RTT_CONFIG, ...cfg.rtt } };
    this.ports = new PortTable(() => net.random());
  }

  newEndpoint(): TcpEndpoint {
    return new TcpEndpoint(this);
  }

  /** Number of connections in the demux table (all states but LISTEN and CLOSED). */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** Every listener and connection (not bound-only or closed endpoints), as /proc/net/tcp lists them. */
  endpoints(): TcpEndpoint[] {
    return [...this.listeners.values(), ...this.conns.values()];
  }

  /** Endpoints owing an ACK for in-order data, sent when the stack ends its batch. */
  private readonly ackDue = new Set<TcpEndpoint>();

  /**
   * ep owes an ACK: it leaves once the stack has processed every frame it holds now, so a
   * burst read from the link in one go is answered by one ACK (as GRO gives Linux), not one
   * per two segments.
   */
  ackSoon(ep: TcpEndpoint): void {
    this.ackDue.add(ep);
  }

  /** Sends the ACKs owed; whether there were any (they may produce more input on loopback). */
  flushAcks(): boolean {
    if (this.ackDue.size === 0) return false;
    const due = [...this.ackDue];
    this.ackDue.clear();
    for (const ep of due) ep.flushAck();
    return true;
  }

  /** An inbound TCP segment (IP payload) from src to dst. */
  handle(src: Ipv4Addr, dst: Ipv4Addr, b: Uint8Array): void {
    const stats = this.net.stats;
    if (this.net.isBroadcast(dst) || dst >>> 28 === 0xe) {
      stats.tcpDropped++;
      return;
    }
    const seg = parseTcp(b, src, dst, true, this.net.pseudoHeaderSum);
    if (seg === null) {
      stats.tcpMalformed++;
      return;
    }
    const c = this.conns.get(connKey(dst, seg.dstPort, src, seg.srcPort));
    if (c !== undefined) {
      c.handleSegment(seg);
      return;
    }
    const l = this.listeners.get(`${dst}:${seg.dstPort}`) ?? this.listeners.get(`0:${seg.dstPort}`);
    if (l !== undefined) {
      stats.tcpRx++;
      l.handleListen(seg, src, dst);
      return;
    }
    stats.tcpRx++;
    stats.tcpNoEndpoint++;
    this.replyRst(seg, src, dst);
  }

  /** The reset for a segment that reached no connection (never in answer to a RST). */
  replyRst(seg: TcpSegment, src: Ipv4Addr, dst: Ipv4Addr): void {
    if (seg.flags & RST) return;
    const b =
      seg.flags & ACK
        ? buildTcp(dst, src, { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: seg.ack, ack: 0, flags: RST, window: 0 }, this.net.pseudoHeaderSum)
        : buildTcp(dst, src, {
            srcPort: seg.dstPort,
            dstPort: seg.srcPort,
            seq: 0,
            ack: seqAdd(seg.seq, segLen(seg)),
            flags: RST | ACK,
            window: 0,
          }, this.net.pseudoHeaderSum);
    this.net.stats.tcpRstSent++;
    this.net.sendIpv4({ src: dst, dst: src, protocol: IPPROTO_TCP }, b);
  }

  /** @internal false when the 4-tuple is taken. */
  addConn(ep: TcpEndpoint): boolean {
    const t = ep.tuple();
    const k = connKey(t.la, t.lp, t.ra, t.rp);
    if (this.conns.has(k)) return false;
    this.conns.set(k, ep);
    return true;
  }

  /** @internal */
  removeConn(ep: TcpEndpoint): void {
    const t = ep.tuple();
    const k = connKey(t.la, t.lp, t.ra, t.rp);
    if (this.conns.get(k) === ep) this.conns.delete(k);
  }

  /** @internal */
  addListener(ep: TcpEndpoint, addr: Ipv4Addr, port: number): Result<void> {
    const k = `${addr}:${port}`;
    const cur = this.listeners.get(k);
    if (cur !== undefined && cur !== ep) return err(E.EADDRINUSE);
    this.listeners.set(k, ep);
    return undefined;
  }

  /** @internal */
  removeListener(ep: TcpEndpoint, addr: Ipv4Addr, port: number): void {
    const k = `${addr}:${port}`;
    if (this.listeners.get(k) === ep) this.listeners.delete(k);
  }
}
