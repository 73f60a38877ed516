// A scripted peer for packet-by-packet tests: it builds Ethernet/IPv4/TCP frames, injects
// them into a stack through a ChannelLink, and parses what the stack sends back.

import { parseIPv4, parseMac, type Ipv4Addr, type MacAddr } from '../addr.js';
import { ETHERTYPE_IPV4, buildEthernet, parseEthernet } from '../ethernet.js';
import { IPPROTO_TCP, buildIpv4, parseIpv4, type Ipv4Packet } from '../ipv4.js';
import { ChannelLink } from '../link/channel.js';
import { buildTcp, parseTcp, type TcpBuild, type TcpSegment } from '../tcp/segment.js';
import { Stack, type StackOptions } from '../stack.js';
import { seededRandom } from './rng.js';

export const STACK_MAC = parseMac('02:00:00:00:00:01') as MacAddr;
export const PEER_MAC = parseMac('02:00:00:00:00:02') as MacAddr;
export const STACK_IP = parseIPv4('10.0.0.1') as Ipv4Addr;
export const PEER_IP = parseIPv4('10.0.0.2') as Ipv4Addr;

export interface Harness {
  stack: Stack;
  link: ChannelLink;
  nicId: number;
}

/** A stack with one Ethernet NIC (10.0.0.1/24) and a static neighbour entry for the peer. */
export function makeHarness(o: StackOptions = {}, staticPeer = true): Harness {
  const stack = new Stack({ random: seededRandom(1), ...o });
  const link = new ChannelLink(STACK_MAC);
  const nicId = stack.addNic(link);
  stack.addAddress(nicId, STACK_IP, 24);
  if (staticPeer) stack.addStaticNeighbor(nicId, PEER_IP, PEER_MAC);
  return { stack, link, nicId };
}

export function ipFrame(src: Ipv4Addr, dst: Ipv4Addr, protocol: number, payload: Uint8Array, extra: { ttl?: number; id?: number } = {}): Uint8Array {
  return buildEthernet(STACK_MAC, PEER_MAC, ETHERTYPE_IPV4, buildIpv4({ src, dst, protocol, ...extra }, payload));
}

/** IPv4 packets the stack wrote to the link (ARP and others skipped). */
export function sentPackets(link: ChannelLink): Ipv4Packet[] {
  const out: Ipv4Packet[] = [];
  for (const f of link.drain()) {
    const e = parseEthernet(f);
    if (e === null || e.etherType !== ETHERTYPE_IPV4) continue;
    const p = parseIpv4(e.payload);
    if (typeof p !== 'string') out.push(p);
  }
  return out;
}

export class TcpPeer {
  constructor(
    readonly h: Harness,
    readonly port: number,
    readonly ip: Ipv4Addr = PEER_IP,
  ) {}

  /** Inject one segment from the peer to the stack's port. */
  send(s: Omit<TcpBuild, 'srcPort'> & { srcPort?: number }): void {
    const tcp = buildTcp(this.ip, STACK_IP, { srcPort: this.port, ...s });
    this.h.link.inject(ipFrame(this.ip, STACK_IP, IPPROTO_TCP, tcp));
  }

  /** Every TCP segment the stack sent since the last call. */
  recv(): TcpSegment[] {
    const out: TcpSegment[] = [];
    for (const p of sentPackets(this.h.link)) {
      if (p.header.protocol !== IPPROTO_TCP) continue;
      const s = parseTcp(p.payload, p.header.src, p.header.dst);
      if (s !== null) out.push(s);
    }
    return out;
  }
}
