// The IPv6 network layer of a Stack: per-interface addresses (a link-local fe80::/64 from
// each Ethernet NIC's MAC, ::1 on loopback), Neighbor Discovery for address resolution,
// ICMPv6 echo and errors, fragment reassembly, and output over loopback or Ethernet.
// Transport protocols register for their next-header value; without one, UDP draws a Port
// Unreachable and any other unknown protocol a Parameter Problem. No router discovery or
// DAD: addresses are configured by the sandbox and used at once.

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import { macEqual, type MacAddr } from '../addr.js';
import { ETHERTYPE_IPV6, buildEthernet } from '../ethernet.js';
import type { Nic } from '../nic.js';
import type { TimerQueue } from '../timer.js';
import {
  IPV6_ALL_NODES, inPrefix6, ipv6Equal, isLinkLocal6, isLoopback6, isMulticast6, isUnspecified6, isV4Mapped6,
  linkLocalFromMac, multicastMac6, solicitedNode, type Ipv6Addr,
} from './addr6.js';
import {
  ICMP6_DEST_UNREACH, ICMP6_ECHO_REPLY, ICMP6_ECHO_REQUEST, ICMP6_NEIGHBOR_ADVERT, ICMP6_NEIGHBOR_SOLICIT,
  ICMP6_PARAM_PROBLEM, UNREACH_PORT, buildIcmpv6, errorBody, mayReplyWithError6, parseIcmpv6, type Icmpv6Message,
} from './icmpv6.js';
import {
  DEFAULT_HOP_LIMIT, IPV6_HLEN, NH_ICMPV6, NH_NONE, NH_UDP, PARAM_UNKNOWN_NEXT_HEADER, buildIpv6, parseIpv6,
  type Ipv6Packet,
} from './ipv6.js';
import {
  DEFAULT_NEIGHBOR_CONFIG, NA_OVERRIDE, NA_SOLICITED, NDP_HOP_LIMIT, NeighborCache, OPT_SOURCE_LLADDR,
  OPT_TARGET_LLADDR, buildNdp, parseNdp, type NeighborConfig,
} from './ndp.js';
import { Reassembler6 } from './reassembly6.js';

export interface Ipv6NicAddress {
  addr: Ipv6Addr;
  prefixLen: number;
}

export interface Ipv6Stats {
  rx: number;
  tx: number;
  malformed: number;
  notForUs: number;
  noRoute: number;
  paramProblemsSent: number;
  unreachSent: number;
  fragmentsRx: number;
  reassembled: number;
  icmpRx: number;
  icmpMalformed: number;
  echoReplies: number;
  ndpMalformed: number;
  solicitsSent: number;
  advertsSent: number;
}

/** An ICMPv6 message addressed to us, for ping sockets and tests. */
export interface Icmpv6Event {
  nicId: number;
  src: Ipv6Addr;
  dst: Ipv6Addr;
  hopLimit: number;
  message: Icmpv6Message;
  /** The whole ICMPv6 message as received, checksum included (for raw sockets). */
  raw: Uint8Array;
}

/** An upper-layer protocol's receive function; false when no endpoint took the datagram. */
export type Ipv6Receiver = (src: Ipv6Addr, dst: Ipv6Addr, payload: Uint8Array, nicId: number) => boolean;

export interface Ipv6Route {
  nicId: number;
  src: Ipv6Addr;
  mtu: number;
}

/** What the layer needs of its Stack. */
export interface Ipv6Host {
  readonly timers: TimerQueue;
  listNics(): Nic[];
  nic(id: number): Nic | undefined;
}

export interface Ipv6SendOptions {
  src: Ipv6Addr;
  dst: Ipv6Addr;
  nextHeader: number;
  hopLimit?: number;
  /** Required for link-local and multicast destinations (the sin6_scope_id). */
  nicId?: number;
}

export class Ipv6Layer {
  readonly stats: Ipv6Stats = {
    rx: 0, tx: 0, malformed: 0, notForUs: 0, noRoute: 0, paramProblemsSent: 0, unreachSent: 0, fragmentsRx: 0,
    reassembled: 0, icmpRx: 0, icmpMalformed: 0, echoReplies: 0, ndpMalformed: 0, solicitsSent: 0, advertsSent: 0,
  };
  readonly reassembler: Reassembler6;
  private readonly addrs = new Map<number, Ipv6NicAddress[]>();
  private readonly neighbors = new Map<number, NeighborCache>();
  private readonly receivers = new Map<number, Ipv6Receiver>();
  private readonly listeners = new Set<(e: Icmpv6Event) => void>();
  private readonly ndCfg: NeighborConfig;

  constructor(private readonly host: Ipv6Host, nd: Partial<NeighborConfig> = {}) {
    this.ndCfg = { ...DEFAULT_NEIGHBOR_CONFIG, ...nd };
    this.reassembler = new Reassembler6(host.timers);
  }

  // ---------------------------------------------------------------- configuration

  /** Called for each new NIC: Ethernet NICs get a neighbor cache and their link-local address. */
  attachNic(nic: Nic): void {
    if (nic.isLoopback) return;
    this.neighbors.set(nic.id, new NeighborCache(this.host.timers, this.ndCfg, (t) => this.sendSolicit(nic, t)));
    this.addAddress(nic.id, linkLocalFromMac(nic.link.mac), 64);
  }

  addAddress(nicId: number, addr: Ipv6Addr, prefixLen: number): Result<void> {
    if (this.host.nic(nicId) === undefined) return err(E.ENODEV);
    if (addr.length !== 16 || prefixLen < 0 || prefixLen > 128 || isUnspecified6(addr) || isMulticast6(addr) || isV4Mapped6(addr)) {
      return err(E.EINVAL);
    }
    const list = this.addrs.get(nicId) ?? [];
    if (list.some((x) => ipv6Equal(x.addr, addr))) return err(E.EEXIST);
    list.push({ addr: addr.slice(), prefixLen });
    this.addrs.set(nicId, list);
    return undefined;
  }

  removeAddress(nicId: number, addr: Ipv6Addr): Result<void> {
    const list = this.addrs.get(nicId) ?? [];
    const i = list.findIndex((x) => ipv6Equal(x.addr, addr));
    if (i < 0) return err(E.EADDRNOTAVAIL);
    list.splice(i, 1);
    return undefined;
  }

  addresses(nicId: number): readonly Ipv6NicAddress[] {
    return this.addrs.get(nicId) ?? [];
  }

  /** The NIC holding a, or undefined when a is not one of ours. */
  localNic(a: Ipv6Addr): number | undefined {
    for (const [id, list] of this.addrs) if (list.some((x) => ipv6Equal(x.addr, a))) return id;
    return undefined;
  }

  isLocal(a: Ipv6Addr): boolean {
    return this.localNic(a) !== undefined;
  }

  neighborCache(nicId: number): NeighborCache | undefined {
    return this.neighbors.get(nicId);
  }

  /** A transport protocol's inbound hook for its next-header value. */
  register(nextHeader: number, r: Ipv6Receiver): void {
    this.receivers.set(nextHeader, r);
  }

  onIcmp(fn: (e: Icmpv6Event) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // ---------------------------------------------------------------- output

  private loopback(): Nic | undefined {
    return this.host.listNics().find((n) => n.isLoopback && n.up);
  }

  /** Where a datagram to dst leaves and its source address; null when unroutable. */
  route(dst: Ipv6Addr, nicId?: number): Ipv6Route | null {
    if (isLoopback6(dst) || this.isLocal(dst)) {
      const lo = this.loopback();
      if (lo === undefined) return null;
      return { nicId: lo.id, src: dst.slice(), mtu: Math.min(lo.link.mtu, 65535) };
    }
    const scoped = isLinkLocal6(dst) || isMulticast6(dst);
    for (const n of this.host.listNics()) {
      if (n.isLoopback || !n.up || (nicId !== undefined && nicId !== 0 && n.id !== nicId)) continue;
      const list = this.addresses(n.id);
      if (list.length === 0) continue;
      const onLink = scoped ? nicId !== undefined && nicId !== 0 : list.some((x) => x.prefixLen < 128 && inPrefix6(dst, x.addr, x.prefixLen));
      if (!onLink) continue;
      const src = scoped ? list.find((x) => isLinkLocal6(x.addr)) ?? list[0] : list.find((x) => !isLinkLocal6(x.addr)) ?? list[0];
      return { nicId: n.id, src: src.addr.slice(), mtu: n.link.mtu };
    }
    return null;
  }

  /** Build and send one datagram; no fragmentation on output (EMSGSIZE past the MTU). */
  send(o: Ipv6SendOptions, payload: Uint8Array): Result<void> {
    const r = this.route(o.dst, o.nicId);
    if (r === null) {
      this.stats.noRoute++;
      return err(E.ENETUNREACH);
    }
    if (IPV6_HLEN + payload.length > r.mtu) return err(E.EMSGSIZE);
    const pkt = buildIpv6({ src: o.src, dst: o.dst, nextHeader: o.nextHeader, hopLimit: o.hopLimit ?? DEFAULT_HOP_LIMIT }, payload);
    const nic = this.host.nic(r.nicId);
    if (nic === undefined) return err(E.ENETUNREACH);
    this.stats.tx++;
    if (nic.isLoopback) {
      nic.send(pkt);
      return undefined;
    }
    const frame = (mac: MacAddr): void => nic.send(buildEthernet(mac, nic.link.mac, ETHERTYPE_IPV6, pkt));
    if (isMulticast6(o.dst)) frame(multicastMac6(o.dst));
    else this.neighbors.get(nic.id)?.resolve(o.dst, frame);
    return undefined;
  }

  /** An echo request (for ping sockets and tests). */
  sendEcho(dst: Ipv6Addr, id: number, seq: number, data: Uint8Array, nicId?: number): Result<void> {
    const r = this.route(dst, nicId);
    if (r === null) return err(E.ENETUNREACH);
    const body = new Uint8Array(4 + data.length);
    body[0] = id >> 8;
    body[1] = id & 0xff;
    body[2] = seq >> 8;
    body[3] = seq & 0xff;
    body.set(data, 4);
    const msg = buildIcmpv6(r.src, dst, ICMP6_ECHO_REQUEST, 0, body);
    return this.send({ src: r.src, dst, nextHeader: NH_ICMPV6, nicId: r.nicId }, msg);
  }

  private sendSolicit(nic: Nic, target: Ipv6Addr): void {
    const list = this.addresses(nic.id);
    const src = list.find((x) => isLinkLocal6(x.addr))?.addr;
    if (src === undefined) return;
    const dst = solicitedNode(target);
    const msg = buildIcmpv6(src, dst, ICMP6_NEIGHBOR_SOLICIT, 0, buildNdp(0, target, OPT_SOURCE_LLADDR, nic.link.mac));
    this.stats.solicitsSent++;
    this.stats.tx++;
    const pkt = buildIpv6({ src, dst, nextHeader: NH_ICMPV6, hopLimit: NDP_HOP_LIMIT }, msg);
    nic.send(buildEthernet(multicastMac6(dst), nic.link.mac, ETHERTYPE_IPV6, pkt));
  }

  private sendError(p: Ipv6Packet, nicId: number, type: number, code: number, field: number): void {
    if (!mayReplyWithError6(p, type, code)) return;
    const src = this.isLocal(p.header.dst) ? p.header.dst : this.addresses(nicId)[0]?.addr;
    if (src === undefined) return;
    if (type === ICMP6_PARAM_PROBLEM) this.stats.paramProblemsSent++;
    else this.stats.unreachSent++;
    const msg = buildIcmpv6(src, p.header.src, type, code, errorBody(field, p.raw));
    this.send({ src, dst: p.header.src, nextHeader: NH_ICMPV6, nicId }, msg);
  }

  // ---------------------------------------------------------------- input

  /** Whether a datagram to dst arriving on nic is ours: a unicast address or a group we joined. */
  private acceptsDst(nic: Nic, dst: Ipv6Addr): boolean {
    if (nic.isLoopback) return this.isLocal(dst) || isLoopback6(dst) || ipv6Equal(dst, IPV6_ALL_NODES);
    if (isLoopback6(dst)) return false;
    if (ipv6Equal(dst, IPV6_ALL_NODES)) return true;
    const list = this.addresses(nic.id);
    if (isMulticast6(dst)) return list.some((x) => ipv6Equal(solicitedNode(x.addr), dst));
    // Weak host model, as Linux: any of our unicast addresses on any interface.
    return this.isLocal(dst);
  }

  /** A received IPv6 datagram (without link header) from nic. */
  handle(nic: Nic, b: Uint8Array): void {
    this.stats.rx++;
    const p = parseIpv6(b);
    if ('kind' in p) {
      if (p.kind === 'problem' && b.length >= IPV6_HLEN) {
        const whole = b.subarray(0, Math.min(b.length, IPV6_HLEN + ((b[4] << 8) | b[5])));
        const pseudo: Ipv6Packet = {
          header: { trafficClass: 0, flowLabel: 0, payloadLength: 0, nextHeader: b[6], hopLimit: b[7], src: whole.slice(8, 24), dst: whole.slice(24, 40) },
          raw: whole, protocol: -1, offset: IPV6_HLEN, nextField: 6, payload: whole.subarray(IPV6_HLEN),
        };
        if (this.acceptsDst(nic, pseudo.header.dst)) this.sendError(pseudo, nic.id, ICMP6_PARAM_PROBLEM, p.code, p.pointer);
      }
      this.stats.malformed++;
      return;
    }
    const h = p.header;
    if (isMulticast6(h.src) || isV4Mapped6(h.src) || (!nic.isLoopback && isLoopback6(h.src))) {
      this.stats.malformed++;
      return;
    }
    if (!this.acceptsDst(nic, h.dst)) {
      this.stats.notForUs++;
      return;
    }
    if (p.fragment !== undefined) {
      this.stats.fragmentsRx++;
      const whole = this.reassembler.add(p);
      if (whole === null) return;
      this.stats.reassembled++;
      // Re-enter with the reassembled datagram so headers after the Fragment header are processed.
      this.handle(nic, buildIpv6({ src: h.src, dst: h.dst, nextHeader: whole.protocol, hopLimit: h.hopLimit }, whole.payload));
      return;
    }
    switch (p.protocol) {
      case NH_ICMPV6:
        this.handleIcmp(nic, p);
        return;
      case NH_NONE:
        return;
      default: {
        const r = this.receivers.get(p.protocol);
        if (r !== undefined) {
          if (!r(h.src, h.dst, p.payload, nic.id) && p.protocol === NH_UDP) this.sendError(p, nic.id, ICMP6_DEST_UNREACH, UNREACH_PORT, 0);
          return;
        }
        if (p.protocol === NH_UDP) this.sendError(p, nic.id, ICMP6_DEST_UNREACH, UNREACH_PORT, 0);
        else this.sendError(p, nic.id, ICMP6_PARAM_PROBLEM, PARAM_UNKNOWN_NEXT_HEADER, p.nextField);
      }
    }
  }

  private handleIcmp(nic: Nic, p: Ipv6Packet): void {
    const h = p.header;
    this.stats.icmpRx++;
    const m = parseIcmpv6(h.src, h.dst, p.payload);
    if (m === null) {
      this.stats.icmpMalformed++;
      return;
    }
    for (const fn of [...this.listeners]) fn({ nicId: nic.id, src: h.src, dst: h.dst, hopLimit: h.hopLimit, message: m, raw: p.payload });
    switch (m.type) {
      case ICMP6_ECHO_REQUEST: {
        if (m.code !== 0 || m.body.length < 4) return;
        // Answer from the address pinged, or for a group, from this link's address (RFC 4443 4.2).
        const src = isMulticast6(h.dst) ? this.route(h.src, nic.id)?.src : h.dst;
        if (src === undefined) return;
        this.stats.echoReplies++;
        const reply = buildIcmpv6(src, h.src, ICMP6_ECHO_REPLY, 0, m.body);
        this.send({ src, dst: h.src, nextHeader: NH_ICMPV6, nicId: nic.id }, reply);
        return;
      }
      case ICMP6_NEIGHBOR_SOLICIT:
        this.handleSolicit(nic, p, m);
        return;
      case ICMP6_NEIGHBOR_ADVERT: {
        const na = parseNdp(m.body, m.code, h.hopLimit, h.src, false);
        if (na === null || (isMulticast6(h.dst) && (na.flags & NA_SOLICITED) !== 0)) {
          this.stats.ndpMalformed++;
          return;
        }
        if (na.lladdr !== null && !macEqual(na.lladdr, nic.link.mac)) this.neighbors.get(nic.id)?.learn(na.target, na.lladdr, false);
        return;
      }
      default:
    }
  }

  private handleSolicit(nic: Nic, p: Ipv6Packet, m: Icmpv6Message): void {
    const h = p.header;
    const ns = parseNdp(m.body, m.code, h.hopLimit, h.src, true);
    const cache = this.neighbors.get(nic.id);
    if (ns === null || cache === undefined) {
      this.stats.ndpMalformed++;
      return;
    }
    // A solicitation from :: is duplicate address detection: it goes to the solicited-node group.
    if (isUnspecified6(h.src) && !isMulticast6(h.dst)) {
      this.stats.ndpMalformed++;
      return;
    }
    if (!this.addresses(nic.id).some((x) => ipv6Equal(x.addr, ns.target))) return;
    if (ns.lladdr !== null) cache.learn(h.src, ns.lladdr, true);
    const dad = isUnspecified6(h.src);
    const dst = dad ? IPV6_ALL_NODES : h.src;
    const flags = NA_OVERRIDE | (dad ? 0 : NA_SOLICITED);
    const msg = buildIcmpv6(ns.target, dst, ICMP6_NEIGHBOR_ADVERT, 0, buildNdp(flags, ns.target, OPT_TARGET_LLADDR, nic.link.mac));
    this.stats.advertsSent++;
    this.stats.tx++;
    const pkt = buildIpv6({ src: ns.target, dst, nextHeader: NH_ICMPV6, hopLimit: NDP_HOP_LIMIT }, msg);
    const out = (mac: MacAddr): void => nic.send(buildEthernet(mac, nic.link.mac, ETHERTYPE_IPV6, pkt));
    if (dad) out(multicastMac6(dst));
    else if (ns.lladdr !== null) out(ns.lladdr);
    else cache.resolve(dst, out);
  }
}
