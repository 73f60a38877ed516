// TCP and UDP over IPv6 in the netstack, packet by packet: handshake and data over ::1,
// IPv6 pseudo-header checksums on the wire, RSTs and port unreachables for closed ports,
// the MSS that accounts for IPv6's header, and a bounded address table under spoofing.

import { describe, expect, test } from 'vitest';
import { isErr, type Result } from '../../sentry/abi/result.js';
import { ETHERTYPE_IPV6, buildEthernet, parseEthernet } from '../../sentry/netstack/ethernet.js';
import { linkLocalFromMac, parseIPv6, solicitedNode, multicastMac6, type Ipv6Addr } from '../../sentry/netstack/ipv6/addr6.js';
import { ICMP6_DEST_UNREACH, ICMP6_NEIGHBOR_SOLICIT, buildIcmpv6, parseIcmpv6 } from '../../sentry/netstack/ipv6/icmpv6.js';
import { NH_ICMPV6, NH_TCP, NH_UDP, buildIpv6, parseIpv6, pseudoHeaderSum6 } from '../../sentry/netstack/ipv6/ipv6.js';
import { OPT_SOURCE_LLADDR, buildNdp } from '../../sentry/netstack/ipv6/ndp.js';
import { ChannelLink } from '../../sentry/netstack/link/channel.js';
import { LoopbackLink } from '../../sentry/netstack/link/loopback.js';
import { Stack } from '../../sentry/netstack/stack.js';
import { ACK, RST, SYN, buildTcp, parseTcp } from '../../sentry/netstack/tcp/segment.js';
import { buildUdp, parseUdp } from '../../sentry/netstack/udp.js';

const v6 = (s: string): Ipv6Addr => parseIPv6(s) as Ipv6Addr;
const STACK_MAC = Uint8Array.from([2, 0, 0, 0, 0, 1]);
const PEER_MAC = Uint8Array.from([2, 0, 0, 0, 0, 2]);
const STACK_LL = linkLocalFromMac(STACK_MAC);
const PEER_LL = v6('fe80::2');
const sum = (src: Ipv6Addr, dst: Ipv6Addr) => (_s: number, _d: number, p: number, l: number) => pseudoHeaderSum6(src, dst, p, l);

function ok<T>(r: Result<T>): T {
  if (isErr(r)) throw new Error(`errno ${r.errno}`);
  return r;
}

function harness() {
  const st = new Stack({ random: () => 0.5 });
  const lo = st.addNic(new LoopbackLink(65536), 'lo');
  st.ipv6.addAddress(lo, v6('::1'), 128);
  const link = new ChannelLink(STACK_MAC);
  const eth = st.addNic(link, 'eth0');
  // The peer introduces itself, so replies need no resolution.
  const ns = buildIcmpv6(PEER_LL, solicitedNode(STACK_LL), ICMP6_NEIGHBOR_SOLICIT, 0, buildNdp(0, STACK_LL, OPT_SOURCE_LLADDR, PEER_MAC));
  link.inject(buildEthernet(multicastMac6(solicitedNode(STACK_LL)), PEER_MAC, ETHERTYPE_IPV6, buildIpv6({ src: PEER_LL, dst: solicitedNode(STACK_LL), nextHeader: NH_ICMPV6, hopLimit: 255 }, ns)));
  link.drain();
  return { st, t: st.inet6, link, eth };
}

function sentPackets(link: ChannelLink) {
  return link.drain().map((f) => {
    const p = parseIpv6(parseEthernet(f)?.payload ?? new Uint8Array());
    if ('kind' in p) throw new Error(p.kind);
    return p;
  });
}

const fromPeer = (nh: number, payload: Uint8Array) =>
  buildEthernet(STACK_MAC, PEER_MAC, ETHERTYPE_IPV6, buildIpv6({ src: PEER_LL, dst: STACK_LL, nextHeader: nh }, payload));

describe('TCP and UDP over IPv6', () => {
  test('TCP over ::1: handshake, data both ways, MSS for a 40-byte IPv6 header', () => {
    const { st, t } = harness();
    const one = t.idOf(v6('::1'));
    const l = st.inet6.tcp.newEndpoint();
    ok(l.bind(one, 8080));
    ok(l.listen(4));
    const c = st.inet6.tcp.newEndpoint();
    ok(c.connect(one, 8080));
    const s = ok(l.accept());
    expect(c.state).toBe('ESTABLISHED');
    expect(s.remoteAddress()).toEqual({ addr: one, port: c.localAddress().port });
    expect(c.info().rcvMss).toBe(65535 - 20 - 40);
    expect(c.info().sndMss).toBeLessThanOrEqual(65535 - 20 - 40);
    expect(ok(c.send(new TextEncoder().encode('hello over v6')))).toBe(13);
    st.tick(100);
    expect(new TextDecoder().decode(ok(s.recv(100)))).toBe('hello over v6');
    ok(s.send(Uint8Array.of(1, 2, 3)));
    st.tick(200);
    expect(Array.from(ok(c.recv(10)))).toEqual([1, 2, 3]);
    expect(st.stats.tcpMalformed).toBe(0);
    // The v4 machines never saw any of it.
    expect(st.tcp.connectionCount).toBe(0);
  });

  test('a SYN from the link is answered with a SYN-ACK whose checksum covers the IPv6 pseudo-header', () => {
    const { st, t, link } = harness();
    const l = t.tcp.newEndpoint();
    ok(l.bind(0, 80));
    ok(l.listen(4));
    link.inject(fromPeer(NH_TCP, buildTcp(0, 0, { srcPort: 40000, dstPort: 80, seq: 1000, ack: 0, flags: SYN, window: 65535, options: { mss: 1440 } }, sum(PEER_LL, STACK_LL))));
    const [p] = sentPackets(link);
    expect(p.protocol).toBe(NH_TCP);
    expect(p.header.src).toEqual(STACK_LL);
    expect(p.header.dst).toEqual(PEER_LL);
    const seg = parseTcp(p.payload, 0, 0, true, sum(STACK_LL, PEER_LL));
    expect(seg?.flags).toBe(SYN | ACK);
    expect(seg?.ack).toBe(1001);
    // MSS we offer: link MTU 1500 - 40 (IPv6) - 20 (TCP).
    expect(seg?.options.mss).toBe(1440);
    // The same bytes do not verify as IPv4 would sum them.
    expect(parseTcp(p.payload, 0, 0, true)).toBeNull();
    link.inject(fromPeer(NH_TCP, buildTcp(0, 0, { srcPort: 40000, dstPort: 80, seq: 1001, ack: (seg?.seq ?? 0) + 1, flags: ACK, window: 65535 }, sum(PEER_LL, STACK_LL))));
    const s = ok(l.accept());
    expect(s.state).toBe('ESTABLISHED');
    expect(t.addressOf(s.remoteAddress()?.addr ?? 0)).toEqual(PEER_LL);
    expect(t.scopeOf(s.remoteAddress()?.addr ?? 0)).toBe(2);
    expect(st.stats.tcpMalformed).toBe(0);
  });

  test('closed ports: TCP gets a RST, UDP an ICMPv6 port unreachable; bad checksums are dropped', () => {
    const { st, link } = harness();
    link.inject(fromPeer(NH_TCP, buildTcp(0, 0, { srcPort: 40001, dstPort: 81, seq: 5, ack: 0, flags: SYN, window: 100 }, sum(PEER_LL, STACK_LL))));
    const [rst] = sentPackets(link);
    const r = parseTcp(rst.payload, 0, 0, true, sum(STACK_LL, PEER_LL));
    expect(r?.flags).toBe(RST | ACK);
    expect(r?.ack).toBe(6);
    link.inject(fromPeer(NH_UDP, buildUdp(0, 0, 5000, 53, Uint8Array.of(9), sum(PEER_LL, STACK_LL))));
    const [un] = sentPackets(link);
    const m = parseIcmpv6(un.header.src, un.header.dst, un.payload);
    expect([m?.type, m?.code]).toEqual([ICMP6_DEST_UNREACH, 4]);
    // A checksum summed as IPv4, and a zero UDP checksum (mandatory in IPv6): dropped silently.
    link.inject(fromPeer(NH_TCP, buildTcp(0, 0, { srcPort: 40002, dstPort: 81, seq: 5, ack: 0, flags: SYN, window: 100 })));
    const zero = buildUdp(0, 0, 5000, 53, Uint8Array.of(9), sum(PEER_LL, STACK_LL));
    zero[6] = 0;
    zero[7] = 0;
    link.inject(fromPeer(NH_UDP, zero));
    expect(link.drain()).toHaveLength(0);
    expect(st.stats.tcpMalformed).toBe(1);
    expect(st.stats.udpMalformed).toBe(1);
  });

  test('UDP: a datagram from the link reaches the bound endpoint and the reply goes back on that link', () => {
    const { t, link } = harness();
    const u = t.udp.newEndpoint();
    ok(u.bind(0, 5353));
    link.inject(fromPeer(NH_UDP, buildUdp(0, 0, 7000, 5353, Uint8Array.of(1, 2), sum(PEER_LL, STACK_LL))));
    const m = ok(u.recvFrom());
    expect(Array.from(m.data)).toEqual([1, 2]);
    expect(t.addressOf(m.addr)).toEqual(PEER_LL);
    expect(ok(u.sendTo(Uint8Array.of(3), m.addr, m.port))).toBe(1);
    const [p] = sentPackets(link);
    expect(p.header.src).toEqual(STACK_LL);
    const d = parseUdp(p.payload, 0, 0, sum(STACK_LL, PEER_LL));
    expect(d?.dstPort).toBe(7000);
    expect(Array.from(d?.payload ?? [])).toEqual([3]);
    // Without a scope, a link-local destination is unroutable (as Linux asks for sin6_scope_id).
    expect(isErr(u.sendTo(Uint8Array.of(4), t.idOf(v6('fe80::99')), 1))).toBe(true);
  });

  test('spoofed sources do not grow the address table past its bound; held addresses survive', () => {
    const { st, t, link } = harness();
    const l = t.tcp.newEndpoint();
    ok(l.bind(0, 80));
    ok(l.listen(4));
    const u = t.udp.newEndpoint();
    ok(u.bind(0, 9));
    const body = new Uint8Array(1000);
    for (let i = 0; i < 20_000; i++) {
      const src = v6(`2001:db8::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`);
      const pkt = buildIpv6({ src, dst: STACK_LL, nextHeader: NH_UDP }, buildUdp(0, 0, 1, 9, body, sum(src, STACK_LL)));
      link.inject(buildEthernet(STACK_MAC, PEER_MAC, ETHERTYPE_IPV6, pkt));
    }
    link.drain();
    // The receive buffer holds the first 212 datagrams; their senders keep their numbers, the
    // flood's others are forgotten, so the table stays near its collection threshold.
    expect(st.stats.udpRcvbufErrors).toBe(20_000 - 212);
    expect(t.addressOf(ok(u.recvFrom()).addr)).toEqual(v6('2001:db8::0:0'));
    expect(t.addressCount).toBeLessThanOrEqual(4096);
    expect(st.internalErrors).toBe(0);
  });
});
