// TCP and UDP over IPv6, run by the same protocol machines as IPv4 (tcp/, udp.ts), which
// name addresses by number. This layer gives each IPv6 address it meets a small number
// (0 is ::; the rest stay below 2^24, so no IPv4 broadcast, multicast or loopback test can
// match one), supplies the IPv6 pseudo-header for checksums, and reports the MTU 20 bytes
// short so TCP's MSS accounts for IPv6's 40-byte header. Numbers no endpoint, reservation
// or queued datagram holds are forgotten once many have accumulated, so a flood of spoofed
// sources cannot grow the table without bound.

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import type { PseudoHeaderSum } from '../checksum.js';
import type { NetworkLayer, RouteInfo, SendOptions } from '../network.js';
import type { NetStats } from '../stats.js';
import { TcpProtocol, type TcpConfig } from '../tcp/protocol.js';
import type { TimerQueue } from '../timer.js';
import { UdpProtocol } from '../udp.js';
import { IPV6_UNSPECIFIED, isLinkLocal6, isMulticast6, isUnspecified6, key6, type Ipv6Addr } from './addr6.js';
import { ICMP6_DEST_UNREACH, UNREACH_ADMIN, UNREACH_NO_ROUTE, UNREACH_PORT } from './icmpv6.js';
import { IPV6_HLEN, NH_TCP, NH_UDP, pseudoHeaderSum6 } from './ipv6.js';
import type { Icmpv6Event, Ipv6Layer } from './layer.js';

/** Address numbers kept before unreferenced ones are first dropped. */
const COLLECT_AT = 4096;
const MAX_ID = 1 << 24;
const IPV6_EXTRA_HEADER = 20;

/** What the transport needs of its Stack. */
export interface Ipv6TransportHost {
  readonly timers: TimerQueue;
  readonly stats: NetStats;
  readonly ipv6: Ipv6Layer;
  random(): number;
  batch<T>(fn: () => T): T;
}

export class Ipv6Transport implements NetworkLayer {
  readonly tcp: TcpProtocol;
  readonly udp: UdpProtocol;
  readonly timers: TimerQueue;
  readonly stats: NetStats;
  private readonly ids = new Map<string, number>();
  private readonly addrs = new Map<number, Ipv6Addr>();
  /** The interface a link-local address was met on (its sin6_scope_id). */
  private readonly scopes = new Map<number, number>();
  private nextId = 1;
  /** The table size that triggers the next collection: twice what the last one kept, at least COLLECT_AT. */
  private collectAt = COLLECT_AT;
  readonly pseudoHeaderSum: PseudoHeaderSum = (src, dst, protocol, length) =>
    pseudoHeaderSum6(this.addressOf(src), this.addressOf(dst), protocol, length);

  constructor(private readonly host: Ipv6TransportHost, tcp: Partial<TcpConfig> = {}) {
    this.timers = host.timers;
    this.stats = host.stats;
    this.tcp = new TcpProtocol(this, tcp);
    this.udp = new UdpProtocol(this);
    host.ipv6.register(NH_TCP, (src, dst, payload, nicId) => {
      this.collect();
      this.tcp.handle(this.idOf(src, nicId), this.idOf(dst, nicId), payload);
      return true;
    });
    host.ipv6.register(NH_UDP, (src, dst, payload, nicId) => {
      // IPv6 makes the UDP checksum mandatory (RFC 8200 8.1): a zero one is dropped, unanswered.
      if (payload.length >= 8 && payload[6] === 0 && payload[7] === 0) {
        this.stats.udpMalformed++;
        return true;
      }
      this.collect();
      return this.udp.handle(this.idOf(src, nicId), this.idOf(dst, nicId), payload, isMulticast6(dst));
    });
    host.ipv6.onIcmp((e) => this.onIcmpError(e));
  }

  /** A Destination Unreachable quoting one of our UDP datagrams reaches its connected socket. */
  private onIcmpError(e: Icmpv6Event): void {
    const m = e.message;
    if (m.type !== ICMP6_DEST_UNREACH || m.body.length < 4 + IPV6_HLEN + 8) return;
    const inner = m.body.subarray(4);
    if (inner[0] >> 4 !== 6 || inner[6] !== NH_UDP) return;
    const src = this.ids.get(key6(inner.subarray(8, 24)));
    const dst = this.ids.get(key6(inner.subarray(24, 40)));
    if (src === undefined || dst === undefined) return;
    // Linux's icmpv6_err_convert.
    const errno = m.code === UNREACH_PORT ? E.ECONNREFUSED : m.code === UNREACH_NO_ROUTE ? E.ENETUNREACH : m.code === UNREACH_ADMIN ? E.EACCES : E.EHOSTUNREACH;
    this.udp.handleIcmpError(err(errno), src, dst, inner.subarray(IPV6_HLEN));
  }

  /** The number naming a (0 for ::); nicId records a link-local address's interface. */
  idOf(a: Ipv6Addr, nicId?: number): number {
    if (isUnspecified6(a)) return 0;
    const k = key6(a);
    let id = this.ids.get(k);
    if (id === undefined) {
      id = this.allocate();
      this.ids.set(k, id);
      this.addrs.set(id, a.slice());
    }
    if (nicId !== undefined && nicId !== 0 && isLinkLocal6(a)) this.scopes.set(id, nicId);
    return id;
  }

  /** How many addresses have numbers now. */
  get addressCount(): number {
    return this.ids.size;
  }

  addressOf(id: number): Ipv6Addr {
    return this.addrs.get(id) ?? IPV6_UNSPECIFIED;
  }

  scopeOf(id: number): number {
    return this.scopes.get(id) ?? 0;
  }

  random(): number {
    return this.host.random();
  }

  batch<T>(fn: () => T): T {
    return this.host.batch(fn);
  }

  route(dst: number): RouteInfo | null {
    const r = this.host.ipv6.route(this.addressOf(dst), this.scopes.get(dst));
    if (r === null) return null;
    return { nicId: r.nicId, src: this.idOf(r.src, r.nicId), mtu: r.mtu - IPV6_EXTRA_HEADER };
  }

  isLocalAddress(a: number): boolean {
    return a !== 0 && this.host.ipv6.isLocal(this.addressOf(a));
  }

  isBroadcast(): boolean {
    return false;
  }

  sendIpv4(o: SendOptions, payload: Uint8Array): Result<void> {
    const opts = { src: this.addressOf(o.src), dst: this.addressOf(o.dst), nextHeader: o.protocol, hopLimit: o.ttl, nicId: this.scopes.get(o.dst) };
    return this.host.ipv6.send(opts, payload);
  }

  /** Numbers still held by an endpoint, a port reservation or a queued datagram. */
  private referenced(): Set<number> {
    const keep = new Set<number>([...this.tcp.ports.addresses(), ...this.udp.ports.addresses()]);
    for (const ep of this.tcp.endpoints()) {
      const t = ep.tuple();
      keep.add(t.la);
      keep.add(t.ra);
    }
    for (const ep of this.udp.endpoints()) for (const a of ep.referencedAddresses()) keep.add(a);
    return keep;
  }

  private collect(): void {
    if (this.ids.size < this.collectAt) return;
    const keep = this.referenced();
    for (const [k, id] of this.ids) {
      if (keep.has(id)) continue;
      this.ids.delete(k);
      this.addrs.delete(id);
      this.scopes.delete(id);
    }
    // Amortized: what is still held cannot be dropped, so wait until the table doubles.
    this.collectAt = Math.max(COLLECT_AT, 2 * this.ids.size);
  }

  /** A free number; after 2^24 - 1 the search wraps (the table holds far fewer, so it ends). */
  private allocate(): number {
    for (;;) {
      if (this.nextId >= MAX_ID) this.nextId = 1;
      const id = this.nextId++;
      if (!this.addrs.has(id)) return id;
    }
  }
}
