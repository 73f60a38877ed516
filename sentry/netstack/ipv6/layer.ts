// The IPv6 network layer of a Stack: per-interface addresses (a link-local fe80::/64 from
// each Ethernet NIC's MAC, ::1 on loopback), Neighbor Discovery for address resolution,
// ICMPv6 echo and errors, fragment reassembly, and output over loopback or Ethernet.
// Transport protocols register for their next-header value; without one, UDP draws a Port
// Unreachable and any other unknown protocol a Parameter Problem. Destinations off the
// links' prefixes go by the routing table (route6.ts): the boot's default route, or what a
// Router Advertisement offers, whose prefixes also configure addresses (SLAAC, RFC 4862).
// With autoconf on (real links), addresses run Duplicate Address Detection optimistically
// (RFC 4429): usable at once, dropped if another node turns out to hold them.

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import { macEqual, type MacAddr } from '../addr.js';
import { ETHERTYPE_IPV6, buildEthernet } from '../ethernet.js';
import type { Nic } from '../nic.js';
import type { TimerQueue } from '../timer.js';
import {
  IPV6_ALL_NODES, IPV6_UNSPECIFIED, inPrefix6, ipv6Equal, key6, isLinkLocal6, isLoopback6, isMulticast6, isUnspecified6, isV4Mapped6,
  linkLocalFromMac, multicastMac6, solicitedNode, type Ipv6Addr,
} from './addr6.js';
import {
  ICMP6_DEST_UNREACH, ICMP6_ECHO_REPLY, ICMP6_ECHO_REQUEST, ICMP6_NEIGHBOR_ADVERT, ICMP6_NEIGHBOR_SOLICIT,
  ICMP6_PARAM_PROBLEM, ICMP6_ROUTER_ADVERT, ICMP6_ROUTER_SOLICIT, UNREACH_PORT, buildIcmpv6, errorBody, mayReplyWithError6, parseIcmpv6, type Icmpv6Message,
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
import { maskPrefix6, RouteTable6, type Ipv6RouteEntry } from './route6.js';
import { Timer } from '../timer.js';

/** ff02::2, where routers listen for solicitations. */
const IPV6_ALL_ROUTERS: Ipv6Addr = Uint8Array.from([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
const OPT_PREFIX_INFO = 3;
const PREFIX_ON_LINK = 0x80;
const PREFIX_AUTONOMOUS = 0x40;
/** Linux's metrics: an address's prefix route 256, a default route from an RA 1024. */
export const METRIC_PREFIX6 = 256;
export const METRIC_DEFAULT6 = 1024;
/** RFC 4862 5.5.3 e: an RA may not cut a SLAAC address's valid lifetime below two hours. */
const TWO_HOURS_MS = 2 * 3600 * 1000;

export interface Ipv6NicAddress {
  addr: Ipv6Addr;
  prefixLen: number;
  /** Made from a Router Advertisement's prefix; lapses at validUntil (stack ms). */
  slaac?: { validUntil: number };
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
  routerAdverts: number;
  /** Addresses given up because another node on the link holds them. */
  dadFailures: number;
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
  /** The router a datagram goes through; absent when dst is on the link. */
  gateway?: Ipv6Addr;
}

/** What the layer needs of its Stack. */
export interface Ipv6Host {
  readonly timers: TimerQueue;
  listNics(): Nic[];
  nic(id: number): Nic | undefined;
}

/** One Duplicate Address Detection in progress (DupAddrDetectTransmits 1). */
interface Dad {
  nicId: number;
  addr: Ipv6Addr;
  timer: Timer;
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
    routerAdverts: 0, dadFailures: 0,
  };
  /** Routes beyond the links' own prefixes. */
  readonly routes = new RouteTable6();
  private readonly dads = new Map<string, Dad>();
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
    // Ask for a Router Advertisement at once rather than wait for a periodic one.
    if (this.ndCfg.autoconf) this.sendRouterSolicit(nic);
  }

  /**
   * A route to dest/prefixLen through gateway (null: on-link) on nicId, as the boot
   * configures or a Router Advertisement offers (lifetimeMs, default forever).
   */
  addRoute(r: { dest: Ipv6Addr; prefixLen: number; gateway: Ipv6Addr | null; nicId: number; metric: number },
    origin: Ipv6RouteEntry['origin'] = 'boot', lifetimeMs = Infinity): Result<void> {
    if (this.host.nic(r.nicId) === undefined) return err(E.ENODEV);
    if (r.dest.length !== 16 || r.prefixLen < 0 || r.prefixLen > 128 || (r.gateway !== null && (r.gateway.length !== 16 || isMulticast6(r.gateway)))) {
      return err(E.EINVAL);
    }
    this.routes.add({ ...r, origin, expiresAt: this.host.timers.now + lifetimeMs });
    return undefined;
  }

  /**
   * The routing table as Linux shows it (`ip -6 route`, /proc/net/ipv6_route): each
   * address's prefix on its interface (::1/128 on loopback), then the configured routes.
   * local: the /128 routes of Linux's local table, one per address.
   */
  routeView(): { main: Ipv6RouteEntry[]; local: Ipv6RouteEntry[] } {
    const main: Ipv6RouteEntry[] = [];
    const local: Ipv6RouteEntry[] = [];
    const seen = new Set<string>();
    this.expireSlaac();
    for (const n of this.host.listNics()) {
      for (const a of this.addresses(n.id)) {
        local.push({ dest: a.addr, prefixLen: 128, gateway: null, nicId: n.id, metric: 0, origin: 'kernel', expiresAt: Infinity });
        const dest = maskPrefix6(a.addr, a.prefixLen);
        const k = `${n.id}/${key6(dest)}/${a.prefixLen}`;
        if (seen.has(k) || (a.prefixLen === 128 && !n.isLoopback)) continue;
        seen.add(k);
        main.push({ dest, prefixLen: a.prefixLen, gateway: null, nicId: n.id, metric: METRIC_PREFIX6, origin: 'kernel', expiresAt: Infinity });
      }
    }
    for (const r of this.routes.list(this.host.timers.now)) {
      if (r.gateway === null && main.some((m) => m.nicId === r.nicId && m.prefixLen === r.prefixLen && ipv6Equal(m.dest, r.dest))) continue;
      main.push(r);
    }
    return { main, local };
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
    const nic = this.host.nic(nicId);
    if (this.ndCfg.autoconf && nic !== undefined && !nic.isLoopback) this.startDad(nic, addr);
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
    this.expireSlaac();
    return this.addrs.get(nicId) ?? [];
  }

  /** SLAAC addresses whose valid lifetime ran out leave (RFC 4862 5.5.4). */
  private expireSlaac(): void {
    const now = this.host.timers.now;
    for (const [id, list] of this.addrs) {
      if (list.some((a) => a.slaac !== undefined && a.slaac.validUntil <= now)) {
        this.addrs.set(id, list.filter((a) => a.slaac === undefined || a.slaac.validUntil > now));
      }
    }
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
    if (scoped) return null;
    const r = this.routes.lookup(dst, this.host.timers.now, nicId);
    const n = r === undefined ? undefined : this.host.nic(r.nicId);
    if (r === undefined || n === undefined || !n.up) return null;
    const list = this.addresses(n.id);
    const src = list.find((x) => !isLinkLocal6(x.addr)) ?? list[0];
    if (src === undefined) return null;
    return { nicId: n.id, src: src.addr.slice(), mtu: n.link.mtu, ...(r.gateway === null ? {} : { gateway: r.gateway }) };
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
    else this.neighbors.get(nic.id)?.resolve(r.gateway ?? o.dst, frame);
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
      case ICMP6_ROUTER_ADVERT:
        this.handleRouterAdvert(nic, p, m);
        return;
      case ICMP6_NEIGHBOR_ADVERT: {
        const na = parseNdp(m.body, m.code, h.hopLimit, h.src, false);
        if (na === null || (isMulticast6(h.dst) && (na.flags & NA_SOLICITED) !== 0)) {
          this.stats.ndpMalformed++;
          return;
        }
        // Someone else holds an address we are still checking: it is not ours to use.
        if (this.dads.has(`${nic.id}/${key6(na.target)}`)) {
          this.dadFailed(nic.id, na.target);
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
    const dad = isUnspecified6(h.src);
    // Another node probing an address we are probing too: neither may have it (RFC 4862 5.4.3).
    if (dad && this.dads.has(`${nic.id}/${key6(ns.target)}`)) {
      this.dadFailed(nic.id, ns.target);
      return;
    }
    if (ns.lladdr !== null) cache.learn(h.src, ns.lladdr, true);
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

  // ---------------------------------------------------------------- autoconfiguration

  /** Probes addr with a Neighbor Solicitation from :: (RFC 4862 5.4.2); silence for RetransTimer confirms it. */
  private startDad(nic: Nic, addr: Ipv6Addr): void {
    const k = `${nic.id}/${key6(addr)}`;
    if (this.ndCfg.dadTransmits <= 0 || this.dads.has(k)) return;
    const timer = new Timer(this.host.timers, () => this.dads.delete(k));
    this.dads.set(k, { nicId: nic.id, addr: addr.slice(), timer });
    timer.arm(this.ndCfg.retransMs);
    const dst = solicitedNode(addr);
    const msg = buildIcmpv6(IPV6_UNSPECIFIED, dst, ICMP6_NEIGHBOR_SOLICIT, 0, buildNdp(0, addr, OPT_SOURCE_LLADDR, null));
    this.stats.solicitsSent++;
    this.stats.tx++;
    const pkt = buildIpv6({ src: IPV6_UNSPECIFIED, dst, nextHeader: NH_ICMPV6, hopLimit: NDP_HOP_LIMIT }, msg);
    nic.send(buildEthernet(multicastMac6(dst), nic.link.mac, ETHERTYPE_IPV6, pkt));
  }

  /** Whether addr is still under Duplicate Address Detection on nicId. */
  tentative(nicId: number, addr: Ipv6Addr): boolean {
    return this.dads.has(`${nicId}/${key6(addr)}`);
  }

  private dadFailed(nicId: number, addr: Ipv6Addr): void {
    const k = `${nicId}/${key6(addr)}`;
    this.dads.get(k)?.timer.cancel();
    this.dads.delete(k);
    this.stats.dadFailures++;
    this.removeAddress(nicId, addr);
  }

  /** A Router Solicitation from :: (no source link-layer option, RFC 4861 4.1) to ff02::2. */
  private sendRouterSolicit(nic: Nic): void {
    const msg = buildIcmpv6(IPV6_UNSPECIFIED, IPV6_ALL_ROUTERS, ICMP6_ROUTER_SOLICIT, 0, new Uint8Array(4));
    this.stats.tx++;
    const pkt = buildIpv6({ src: IPV6_UNSPECIFIED, dst: IPV6_ALL_ROUTERS, nextHeader: NH_ICMPV6, hopLimit: NDP_HOP_LIMIT }, msg);
    nic.send(buildEthernet(multicastMac6(IPV6_ALL_ROUTERS), nic.link.mac, ETHERTYPE_IPV6, pkt));
  }

  /**
   * A Router Advertisement (RFC 4861 6.1.2 checks): its router becomes (or stops being,
   * with lifetime 0) a default route, on-link prefixes become routes, and autonomous /64
   * prefixes give an address from the MAC's EUI-64 interface id.
   */
  private handleRouterAdvert(nic: Nic, p: Ipv6Packet, m: Icmpv6Message): void {
    const h = p.header;
    const b = m.body;
    if (h.hopLimit !== NDP_HOP_LIMIT || m.code !== 0 || !isLinkLocal6(h.src) || b.length < 12 || nic.isLoopback) {
      this.stats.ndpMalformed++;
      return;
    }
    const opts: { type: number; data: Uint8Array }[] = [];
    for (let i = 12; i < b.length;) {
      const len = i + 2 <= b.length ? b[i + 1] * 8 : 0;
      if (len === 0 || i + len > b.length) {
        this.stats.ndpMalformed++;
        return;
      }
      opts.push({ type: b[i], data: b.subarray(i, i + len) });
      i += len;
    }
    this.stats.routerAdverts++;
    const now = this.host.timers.now;
    const lifetimeS = (b[2] << 8) | b[3];
    const router = h.src.slice();
    const isThis = (r: Ipv6RouteEntry): boolean => r.origin === 'ra' && r.prefixLen === 0 && r.nicId === nic.id && r.gateway !== null && ipv6Equal(r.gateway, router);
    if (lifetimeS === 0) this.routes.remove(isThis);
    else this.addRoute({ dest: new Uint8Array(16), prefixLen: 0, gateway: router, nicId: nic.id, metric: METRIC_DEFAULT6 }, 'ra', lifetimeS * 1000);
    for (const o of opts) {
      if (o.type === OPT_SOURCE_LLADDR && o.data.length >= 8 && !macEqual(o.data.subarray(2, 8), nic.link.mac)) {
        // RFC 4861 6.3.4: the option creates the entry (or updates it).
        this.neighbors.get(nic.id)?.learn(router, o.data.slice(2, 8), true);
      }
      if (o.type !== OPT_PREFIX_INFO || o.data.length !== 32) continue;
      const d = new DataView(o.data.buffer, o.data.byteOffset, 32);
      const plen = o.data[2];
      const flags = o.data[3];
      const valid = d.getUint32(4);
      const preferred = d.getUint32(8);
      const prefix = maskPrefix6(o.data.subarray(16, 32), plen);
      if (isLinkLocal6(prefix) || isMulticast6(prefix) || plen > 128 || preferred > valid) continue;
      const validMs = valid === 0xffffffff ? Infinity : valid * 1000;
      if ((flags & PREFIX_ON_LINK) !== 0) {
        if (valid === 0) this.routes.remove((r) => r.origin === 'ra' && r.gateway === null && r.nicId === nic.id && r.prefixLen === plen && ipv6Equal(r.dest, prefix));
        else this.addRoute({ dest: prefix, prefixLen: plen, gateway: null, nicId: nic.id, metric: METRIC_PREFIX6 }, 'ra', validMs);
      }
      if ((flags & PREFIX_AUTONOMOUS) !== 0 && plen === 64 && valid > 0) this.slaac(nic, prefix, now + validMs);
    }
  }

  /** A SLAAC address in prefix: made (and probed) the first time, its lifetime refreshed after. */
  private slaac(nic: Nic, prefix: Ipv6Addr, validUntil: number): void {
    const addr = linkLocalFromMac(nic.link.mac);
    addr.set(prefix.subarray(0, 8), 0);
    const held = (this.addrs.get(nic.id) ?? []).find((a) => ipv6Equal(a.addr, addr));
    if (held !== undefined) {
      // RFC 4862 5.5.3 e: a short lifetime only shortens what is left when over two hours.
      if (held.slaac !== undefined) {
        const left = held.slaac.validUntil - this.host.timers.now;
        const offered = validUntil - this.host.timers.now;
        if (offered > TWO_HOURS_MS || offered > left) held.slaac.validUntil = validUntil;
        else if (left > TWO_HOURS_MS) held.slaac.validUntil = this.host.timers.now + TWO_HOURS_MS;
      }
      return;
    }
    if (this.addAddress(nic.id, addr, 64) !== undefined) return;
    const list = this.addrs.get(nic.id) ?? [];
    const a = list.find((x) => ipv6Equal(x.addr, addr));
    if (a !== undefined) a.slaac = { validUntil };
    // A SLAAC address is always probed (RFC 4862 5.4); addAddress may have started it already.
    this.startDad(nic, addr);
  }
}
