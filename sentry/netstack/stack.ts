// The Stack wires NICs, addresses, routes and protocols together. It is driven from outside:
// frames arrive through each link's attached deliver function, time advances only through
// tick(nowMs), and nextTimerAt() says when the next tick is needed. Nothing here throws on
// bad input: every discarded frame bumps a counter in `stats`.

import { E } from '../abi/errno.js';
import { err, type Result } from '../abi/result.js';
import {
  IPV4_BROADCAST,
  MAC_BROADCAST,
  inSubnet,
  isMulticast,
  isMulticastMac,
  macEqual,
  prefixMask,
  toIPv4,
  type Ipv4Addr,
  type MacAddr,
} from './addr.js';
import { ARP_REPLY, ARP_REQUEST, ArpCache, DEFAULT_ARP_CONFIG, buildArp, parseArp, type ArpConfig } from './arp.js';
import { pseudoHeaderSum, type PseudoHeaderSum } from './checksum.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, buildEthernet, parseEthernet } from './ethernet.js';
import {
  ICMP_DEST_UNREACH,
  ICMP_ECHO_REQUEST,
  ICMP_NET_UNREACH,
  ICMP_PORT_UNREACH,
  ICMP_PROT_UNREACH,
  buildIcmp,
  destUnreachable,
  echoReply,
  mayReplyWithError,
  parseIcmp,
  type IcmpMessage,
} from './icmp.js';
import {
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  buildIpv4,
  fragmentIpv4,
  parseIpv4,
  type Ipv4Header,
} from './ipv4.js';
import { Ipv6Layer } from './ipv6/layer.js';
import { Ipv6Transport } from './ipv6/transport6.js';
import type { NeighborConfig } from './ipv6/ndp.js';
import type { LinkEndpoint } from './link/link.js';
import type { NetworkLayer, RouteInfo, SendOptions } from './network.js';
import { Nic } from './nic.js';
import { DEFAULT_REASSEMBLY_CONFIG, Reassembler, type ReassemblyConfig } from './reassembly.js';
import { RouteTable, type Route } from './route.js';
import { newStats, type NetStats } from './stats.js';
import type { TcpEndpoint } from './tcp/endpoint.js';
import { TcpProtocol, type TcpConfig } from './tcp/protocol.js';
import { TimerQueue } from './timer.js';
import { UdpProtocol, type UdpEndpoint } from './udp.js';

export interface StackOptions {
  /** Source of randomness (ISS, ephemeral ports, IP ids); seed it in tests. */
  random?: () => number;
  startMs?: number;
  tcp?: Partial<TcpConfig>;
  arp?: Partial<ArpConfig>;
  reassembly?: Partial<ReassemblyConfig>;
  ndp?: Partial<NeighborConfig>;
}

/** An ICMP message addressed to us, for ping sockets and diagnostics. */
export interface IcmpEvent {
  src: Ipv4Addr;
  dst: Ipv4Addr;
  message: IcmpMessage;
  /** The datagram's IP header and its whole ICMP message, for raw sockets. */
  header: Ipv4Header;
  raw: Uint8Array;
}

const MAX_FRAMES_PER_BATCH = 200_000;

/** The largest datagram IPv4's 16-bit total length can describe, whatever the link's MTU (lo has 65536). */
const ipMtu = (linkMtu: number): number => Math.min(linkMtu, 65535);

interface Inbound {
  nic: Nic | null;
  frame: Uint8Array;
}

export class Stack implements NetworkLayer {
  readonly timers: TimerQueue;
  readonly stats: NetStats = newStats();
  readonly routes = new RouteTable();
  readonly tcp: TcpProtocol;
  readonly udp: UdpProtocol;
  readonly ipv6: Ipv6Layer;
  /** TCP and UDP over IPv6 (the same protocol machines, with IPv6 addresses numbered). */
  readonly inet6: Ipv6Transport;
  private readonly icmpListeners = new Set<(e: IcmpEvent) => void>();
  private readonly nics = new Map<number, Nic>();
  private nextNicId = 1;
  private readonly rng: () => number;
  private readonly arpCfg: ArpConfig;
  private readonly reassembler: Reassembler;
  private ipId = 0;
  private inbox: Inbound[] = [];
  private draining = false;
  readonly pseudoHeaderSum: PseudoHeaderSum = pseudoHeaderSum;
  /** Exceptions caught at the frame boundary: always a bug, never expected. */
  internalErrors = 0;

  constructor(o: StackOptions = {}) {
    this.rng = o.random ?? Math.random;
    this.timers = new TimerQueue(o.startMs ?? 0);
    this.arpCfg = { ...DEFAULT_ARP_CONFIG, ...o.arp };
    this.reassembler = new Reassembler(this.timers, { ...DEFAULT_REASSEMBLY_CONFIG, ...o.reassembly }, this.stats);
    this.tcp = new TcpProtocol(this, o.tcp);
    this.udp = new UdpProtocol(this);
    this.ipv6 = new Ipv6Layer(this, o.ndp);
    this.inet6 = new Ipv6Transport(this, o.tcp);
    this.ipId = Math.floor(this.rng() * 0x10000);
  }

  // ---------------------------------------------------------------- time

  get now(): number {
    return this.timers.now;
  }

  /** Advance virtual time to nowMs, firing every timer due on the way. */
  tick(nowMs: number): void {
    this.batch(() => this.timers.advance(nowMs));
  }

  /** When tick() next has work to do, or undefined if no timer is armed. */
  nextTimerAt(): number | undefined {
    return this.timers.nextDeadline();
  }

  random(): number {
    return this.rng();
  }

  // ---------------------------------------------------------------- configuration

  /** Attach a link endpoint as a new NIC; returns its id. */
  addNic(link: LinkEndpoint, name?: string): number {
    const id = this.nextNicId++;
    const arp =
      link.kind === 'ethernet' ? new ArpCache(this.timers, this.arpCfg, (ip) => this.sendArpRequest(id, ip), this.stats) : null;
    const nic = new Nic(id, name ?? (link.kind === 'ip' ? 'lo' : `eth${id - 1}`), link, arp);
    this.nics.set(id, nic);
    link.attach((frame) => {
      nic.counters.rxPackets++;
      nic.counters.rxBytes += frame.length;
      this.deliver(nic, frame);
    });
    this.ipv6.attachNic(nic);
    return id;
  }

  nic(id: number): Nic | undefined {
    return this.nics.get(id);
  }

  listNics(): Nic[] {
    return [...this.nics.values()];
  }

  /** Assign addr/prefixLen to a NIC and add the on-link route for its subnet. */
  addAddress(nicId: number, addr: Ipv4Addr | string, prefixLen: number): Result<void> {
    const nic = this.nics.get(nicId);
    const a = toIPv4(addr);
    if (nic === undefined) return err(E.ENODEV);
    if (a === null || prefixLen < 0 || prefixLen > 32 || a === 0) return err(E.EINVAL);
    if (nic.hasAddress(a)) return err(E.EEXIST);
    nic.addresses.push({ addr: a, prefixLen });
    if (prefixLen < 32) this.routes.add({ dest: a, prefixLen, gateway: 0, nicId, metric: 0 });
    return undefined;
  }

  removeAddress(nicId: number, addr: Ipv4Addr | string): Result<void> {
    const nic = this.nics.get(nicId);
    const a = toIPv4(addr);
    if (nic === undefined) return err(E.ENODEV);
    const i = nic.addresses.findIndex((x) => x.addr === a);
    if (i < 0) return err(E.EADDRNOTAVAIL);
    const [gone] = nic.addresses.splice(i, 1);
    const mask = prefixMask(gone.prefixLen);
    this.routes.remove((r) => r.nicId === nicId && r.gateway === 0 && r.prefixLen === gone.prefixLen && r.dest === ((gone.addr & mask) >>> 0));
    return undefined;
  }

  /** Add a route; gateway 0 means on-link. dest 0/0 is the default route. */
  addRoute(dest: Ipv4Addr | string, prefixLen: number, gateway: Ipv4Addr | string, nicId: number, metric = 0): Result<void> {
    const d = toIPv4(dest);
    const g = toIPv4(gateway);
    if (d === null || g === null || prefixLen < 0 || prefixLen > 32) return err(E.EINVAL);
    if (!this.nics.has(nicId)) return err(E.ENODEV);
    this.routes.add({ dest: d, prefixLen, gateway: g, nicId, metric });
    return undefined;
  }

  /** A permanent neighbour entry (ip neigh add ... nud permanent). */
  addStaticNeighbor(nicId: number, ip: Ipv4Addr | string, mac: MacAddr): Result<void> {
    const nic = this.nics.get(nicId);
    const a = toIPv4(ip);
    if (nic?.arp == null || a === null) return err(E.EINVAL);
    nic.arp.addStatic(a, mac);
    return undefined;
  }

  newTcpEndpoint(): TcpEndpoint {
    return this.tcp.newEndpoint();
  }

  newUdpEndpoint(): UdpEndpoint {
    return this.udp.newEndpoint();
  }

  /** Listen for ICMP messages delivered to us (echo replies, errors). */
  onIcmp(fn: (e: IcmpEvent) => void): () => void {
    this.icmpListeners.add(fn);
    return () => this.icmpListeners.delete(fn);
  }

  /** Send an ICMP echo request (for ping sockets). */
  sendEcho(dst: Ipv4Addr, id: number, seq: number, data: Uint8Array): Result<void> {
    const r = this.route(dst);
    if (r === null) return err(E.ENETUNREACH);
    const msg = buildIcmp(ICMP_ECHO_REQUEST, 0, ((id & 0xffff) << 16) | (seq & 0xffff), data);
    return this.batch(() => this.sendIpv4({ src: r.src, dst, protocol: IPPROTO_ICMP }, msg));
  }

  // ---------------------------------------------------------------- NetworkLayer

  isLocalAddress(a: Ipv4Addr): boolean {
    for (const n of this.nics.values()) if (n.hasAddress(a)) return true;
    return false;
  }

  isBroadcast(a: Ipv4Addr): boolean {
    if (a === IPV4_BROADCAST) return true;
    for (const n of this.nics.values()) {
      for (const x of n.addresses) {
        if (x.prefixLen >= 31) continue;
        const host = ~prefixMask(x.prefixLen) >>> 0;
        if (((x.addr | host) >>> 0) === a) return true;
      }
    }
    return false;
  }

  route(dst: Ipv4Addr): RouteInfo | null {
    if (this.isLocalAddress(dst)) {
      const lo = this.loopbackNic();
      return { nicId: lo?.id ?? 0, src: dst, mtu: ipMtu(lo?.link.mtu ?? 65536) };
    }
    const r = this.lookupRoute(dst);
    if (r === null) return null;
    return { nicId: r.nic.id, src: r.src, mtu: ipMtu(r.nic.link.mtu) };
  }

  /** Route and transmit one datagram, fragmenting when it exceeds the MTU and DF is clear. */
  sendIpv4(o: SendOptions, payload: Uint8Array): Result<void> {
    const build = {
      src: o.src,
      dst: o.dst,
      protocol: o.protocol,
      ttl: o.ttl,
      tos: o.tos,
      id: this.ipId++ & 0xffff,
      dontFragment: o.dontFragment,
    };
    if (this.isLocalAddress(o.dst) || (o.dst >>> 24 === 127 && this.loopbackNic() !== undefined)) {
      const lo = this.loopbackNic();
      const mtu = ipMtu(lo?.link.mtu ?? 65536);
      const pkts = payload.length + 20 > mtu ? fragmentIpv4(build, payload, mtu) : [buildIpv4(build, payload)];
      for (const p of pkts) {
        this.stats.ipTx++;
        if (lo !== undefined) lo.send(p);
        else this.deliver(null, p);
      }
      return undefined;
    }
    const r = this.lookupRoute(o.dst);
    if (r === null) {
      this.stats.ipNoRoute++;
      return err(E.ENETUNREACH);
    }
    const { nic, nextHop } = r;
    let pkts: Uint8Array[];
    if (payload.length + 20 <= ipMtu(nic.link.mtu)) pkts = [buildIpv4(build, payload)];
    else if (o.dontFragment) {
      this.stats.ipCantFragment++;
      return err(E.EMSGSIZE);
    } else {
      pkts = fragmentIpv4(build, payload, ipMtu(nic.link.mtu));
      this.stats.ipFragmentedTx++;
    }
    for (const p of pkts) {
      this.stats.ipTx++;
      this.transmit(nic, nextHop, o.dst, p);
    }
    return undefined;
  }

  // ---------------------------------------------------------------- output internals

  private loopbackNic(): Nic | undefined {
    for (const n of this.nics.values()) if (n.isLoopback && n.up) return n;
    return undefined;
  }

  private lookupRoute(dst: Ipv4Addr): { nic: Nic; nextHop: Ipv4Addr; src: Ipv4Addr } | null {
    let route: Route | undefined;
    let nic: Nic | undefined;
    if (dst === IPV4_BROADCAST) {
      // Limited broadcast leaves by the first Ethernet NIC with an address.
      nic = [...this.nics.values()].find((n) => !n.isLoopback && n.up && n.addresses.length > 0);
      if (nic === undefined) return null;
      return { nic, nextHop: dst, src: nic.addresses[0].addr };
    }
    route = this.routes.lookup(dst);
    if (route === undefined) return null;
    nic = this.nics.get(route.nicId);
    if (nic === undefined || !nic.up || nic.addresses.length === 0) return null;
    const nextHop = route.gateway !== 0 ? route.gateway : dst;
    const same = nic.addresses.find((x) => inSubnet(nextHop, x.addr, x.prefixLen));
    return { nic, nextHop, src: (same ?? nic.addresses[0]).addr };
  }

  private transmit(nic: Nic, nextHop: Ipv4Addr, dst: Ipv4Addr, packet: Uint8Array): void {
    const link = nic.link;
    if (link.kind === 'ip' || nic.arp === null) {
      this.stats.linkTx++;
      nic.send(packet);
      return;
    }
    const send = (mac: MacAddr): void => {
      this.stats.linkTx++;
      nic.send(buildEthernet(mac, link.mac, ETHERTYPE_IPV4, packet));
    };
    if (this.isBroadcast(dst)) send(MAC_BROADCAST);
    else if (isMulticast(dst)) send(new Uint8Array([0x01, 0x00, 0x5e, (dst >>> 16) & 0x7f, (dst >>> 8) & 0xff, dst & 0xff]));
    else nic.arp.resolve(nextHop, send);
  }

  private sendArpRequest(nicId: number, ip: Ipv4Addr): void {
    const nic = this.nics.get(nicId);
    if (nic === undefined || nic.addresses.length === 0) return;
    const src = (nic.addresses.find((x) => inSubnet(ip, x.addr, x.prefixLen)) ?? nic.addresses[0]).addr;
    const p = buildArp({ op: ARP_REQUEST, senderMac: nic.link.mac, senderIp: src, targetMac: new Uint8Array(6), targetIp: ip });
    this.stats.arpRequestsSent++;
    this.stats.linkTx++;
    nic.send(buildEthernet(MAC_BROADCAST, nic.link.mac, ETHERTYPE_ARP, p));
  }

  // ---------------------------------------------------------------- input

  /**
   * Entry point for received frames. Re-entrant calls (loopback, a reply sent from inside
   * processing) are queued and handled by the outermost call, in order.
   */
  private deliver(nic: Nic | null, frame: Uint8Array): void {
    this.inbox.push({ nic, frame });
    if (!this.draining) this.batch(() => undefined);
  }

  batch<T>(fn: () => T): T {
    if (this.draining) return fn();
    this.draining = true;
    try {
      return fn();
    } finally {
      let n = 0;
      for (;;) {
        for (let i = 0; i < this.inbox.length; i++, n++) {
          if (n >= MAX_FRAMES_PER_BATCH) {
            // A runaway loopback exchange (an ACK war) must not wedge the Sentry.
            this.stats.linkDropped += this.inbox.length - i;
            break;
          }
          const x = this.inbox[i];
          try {
            this.processFrame(x.nic, x.frame);
          } catch {
            // Kernel code must not die on input; a throw here is a bug, counted for tests.
            this.internalErrors++;
          }
        }
        this.inbox = [];
        // ACKs owed for what was just taken in; on loopback they are more input.
        const acked = this.tcp.flushAcks();
        if (!this.inet6.tcp.flushAcks() && !acked) break;
        if (n >= MAX_FRAMES_PER_BATCH) {
          this.stats.linkDropped += this.inbox.length;
          this.inbox = [];
          break;
        }
      }
      this.draining = false;
    }
  }

  private processFrame(nic: Nic | null, frame: Uint8Array): void {
    this.stats.linkRx++;
    if (nic === null || nic.link.kind === 'ip') {
      // Bare IP frames (loopback) carry either version; the first nibble tells which.
      if (nic !== null && frame.length > 0 && frame[0] >> 4 === 6) this.ipv6.handle(nic, frame);
      else this.handleIpv4(frame);
      return;
    }
    if (!nic.up) {
      this.stats.linkDropped++;
      return;
    }
    const eth = parseEthernet(frame);
    if (eth === null) {
      this.stats.ethMalformed++;
      return;
    }
    const bcast = isMulticastMac(eth.dst);
    if (!bcast && !macEqual(eth.dst, nic.link.mac)) {
      this.stats.ethNotForUs++;
      return;
    }
    switch (eth.etherType) {
      case ETHERTYPE_ARP:
        this.handleArp(nic, eth.payload);
        return;
      case ETHERTYPE_IPV4:
        this.handleIpv4(eth.payload);
        return;
      case ETHERTYPE_IPV6:
        this.ipv6.handle(nic, eth.payload);
        return;
      default:
        this.stats.ethUnknownType++;
    }
  }

  private handleArp(nic: Nic, b: Uint8Array): void {
    const p = parseArp(b);
    if (p === null || nic.arp === null || isMulticastMac(p.senderMac)) {
      this.stats.arpMalformed++;
      return;
    }
    const forUs = nic.hasAddress(p.targetIp);
    if (p.senderIp !== 0 && !nic.hasAddress(p.senderIp)) nic.arp.learn(p.senderIp, p.senderMac, forUs);
    if (p.op === ARP_REQUEST && forUs) {
      const reply = buildArp({ op: ARP_REPLY, senderMac: nic.link.mac, senderIp: p.targetIp, targetMac: p.senderMac, targetIp: p.senderIp });
      this.stats.arpRepliesSent++;
      this.stats.linkTx++;
      nic.send(buildEthernet(p.senderMac, nic.link.mac, ETHERTYPE_ARP, reply));
    }
  }

  private handleIpv4(b: Uint8Array): void {
    this.stats.ipRx++;
    const pkt = parseIpv4(b);
    if (typeof pkt === 'string') {
      if (pkt === 'checksum') this.stats.ipBadChecksum++;
      else if (pkt === 'ttl') this.stats.ipBadTtl++;
      else this.stats.ipMalformed++;
      return;
    }
    const h = pkt.header;
    if (isMulticast(h.src) || this.isBroadcast(h.src)) {
      this.stats.ipMalformed++;
      return;
    }
    const bcast = this.isBroadcast(h.dst) || isMulticast(h.dst);
    if (!bcast && !this.isLocalAddress(h.dst)) {
      // We are a host, not a router: no forwarding.
      this.stats.ipNotForUs++;
      return;
    }
    let header: Ipv4Header = h;
    let payload = pkt.payload;
    let raw: Uint8Array = pkt.raw;
    if (h.moreFragments || h.fragmentOffset > 0) {
      const whole = this.reassembler.add(h, payload);
      if (whole === null) return;
      header = whole.header;
      payload = whole.payload;
      raw = buildIpv4({ src: header.src, dst: header.dst, protocol: header.protocol, ttl: header.ttl, id: header.id }, payload.subarray(0, 8));
    }
    switch (header.protocol) {
      case IPPROTO_ICMP:
        this.handleIcmp(header, payload, bcast);
        return;
      case IPPROTO_TCP:
        this.tcp.handle(header.src, header.dst, payload);
        return;
      case IPPROTO_UDP:
        if (!this.udp.handle(header.src, header.dst, payload, bcast)) this.sendUnreachable(ICMP_PORT_UNREACH, header, raw, payload, bcast);
        return;
      default:
        this.stats.ipUnknownProtocol++;
        this.sendUnreachable(ICMP_PROT_UNREACH, header, raw, payload, bcast);
    }
  }

  private sendUnreachable(code: number, h: Ipv4Header, raw: Uint8Array, payload: Uint8Array, bcast: boolean): void {
    if (!mayReplyWithError(h, payload, bcast)) return;
    this.stats.icmpUnreachSent++;
    const msg = destUnreachable(code, raw, raw.length >= 20 ? (raw[0] & 0xf) * 4 : 20);
    this.sendIpv4({ src: h.dst, dst: h.src, protocol: IPPROTO_ICMP }, msg);
  }

  private handleIcmp(h: Ipv4Header, b: Uint8Array, bcast: boolean): void {
    this.stats.icmpRx++;
    const m = parseIcmp(b);
    if (m === null) {
      this.stats.icmpMalformed++;
      return;
    }
    // Raw and ping sockets see every valid message first, requests included, as Linux's raw_local_deliver does.
    for (const fn of [...this.icmpListeners]) fn({ src: h.src, dst: h.dst, message: m, header: h, raw: b });
    if (m.type === ICMP_ECHO_REQUEST) {
      // Broadcast pings are ignored (Linux icmp_echo_ignore_broadcasts=1).
      if (bcast || m.code !== 0) return;
      this.stats.icmpEchoReplies++;
      this.sendIpv4({ src: h.dst, dst: h.src, protocol: IPPROTO_ICMP }, echoReply(m));
      return;
    }
    if (m.type === ICMP_DEST_UNREACH && m.body.length >= 28) {
      const inner = m.body;
      const ihl = (inner[0] & 0xf) * 4;
      if (inner[0] >> 4 === 4 && ihl >= 20 && inner.length >= ihl + 4 && inner[9] === IPPROTO_UDP) {
        const qsrc = ((inner[12] << 24) | (inner[13] << 16) | (inner[14] << 8) | inner[15]) >>> 0;
        const qdst = ((inner[16] << 24) | (inner[17] << 16) | (inner[18] << 8) | inner[19]) >>> 0;
        const e = err(m.code === ICMP_PORT_UNREACH ? E.ECONNREFUSED : m.code === ICMP_NET_UNREACH ? E.ENETUNREACH : E.EHOSTUNREACH);
        this.udp.handleIcmpError(e, qsrc, qdst, inner.subarray(ihl));
      }
    }
  }
}
