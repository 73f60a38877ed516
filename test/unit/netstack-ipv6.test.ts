// IPv6 through a whole Stack, packet by packet: header and extension-header parsing, ::1 on
// loopback, Neighbor Discovery with a neighbor cache, ICMPv6 echo and errors, reassembly.

import { describe, expect, test } from 'vitest';
import { isErr } from '../../sentry/abi/result.js';
import { ETHERTYPE_IPV6, buildEthernet, parseEthernet } from '../../sentry/netstack/ethernet.js';
import {
  IPV6_ALL_NODES, formatIPv6, linkLocalFromMac, multicastMac6, parseIPv6, solicitedNode, type Ipv6Addr,
} from '../../sentry/netstack/ipv6/addr6.js';
import {
  ICMP6_DEST_UNREACH, ICMP6_ECHO_REPLY, ICMP6_ECHO_REQUEST, ICMP6_NEIGHBOR_ADVERT, ICMP6_NEIGHBOR_SOLICIT,
  ICMP6_PARAM_PROBLEM, buildIcmpv6, parseIcmpv6,
} from '../../sentry/netstack/ipv6/icmpv6.js';
import { NH_DSTOPTS, NH_FRAGMENT, NH_ICMPV6, NH_UDP, buildIpv6, parseIpv6, pseudoHeaderSum6 } from '../../sentry/netstack/ipv6/ipv6.js';
import { NA_OVERRIDE, NA_SOLICITED, OPT_SOURCE_LLADDR, OPT_TARGET_LLADDR, buildNdp, parseNdp } from '../../sentry/netstack/ipv6/ndp.js';
import { ChannelLink } from '../../sentry/netstack/link/channel.js';
import { LoopbackLink } from '../../sentry/netstack/link/loopback.js';
import { Stack } from '../../sentry/netstack/stack.js';
import { buildUdp } from '../../sentry/netstack/udp.js';

const v6 = (s: string): Ipv6Addr => parseIPv6(s) as Ipv6Addr;
const STACK_MAC = Uint8Array.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
const PEER_MAC = Uint8Array.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x02]);
const STACK_LL = linkLocalFromMac(STACK_MAC);
const PEER_LL = v6('fe80::2');

function harness() {
  const st = new Stack({ random: () => 0.5 });
  const lo = st.addNic(new LoopbackLink(65536), 'lo');
  st.ipv6.addAddress(lo, v6('::1'), 128);
  const link = new ChannelLink(STACK_MAC);
  const eth = st.addNic(link, 'eth0');
  return { st, lo, link, eth };
}

function echo(src: Ipv6Addr, dst: Ipv6Addr, id: number, seq: number, hop = 64): Uint8Array {
  const body = Uint8Array.from([id >> 8, id & 0xff, seq >> 8, seq & 0xff, 1, 2, 3]);
  return buildIpv6({ src, dst, nextHeader: NH_ICMPV6, hopLimit: hop }, buildIcmpv6(src, dst, ICMP6_ECHO_REQUEST, 0, body));
}

const frame6 = (dstMac: Uint8Array, pkt: Uint8Array): Uint8Array => buildEthernet(dstMac, PEER_MAC, ETHERTYPE_IPV6, pkt);

/** The IPv6 packets the stack put on the wire, parsed, with their ICMPv6 message. */
function sent(link: ChannelLink) {
  return link.drain().map((f) => {
    const e = parseEthernet(f);
    if (e === null || e.etherType !== ETHERTYPE_IPV6) throw new Error('not IPv6');
    const p = parseIpv6(e.payload);
    if ('kind' in p) throw new Error(`bad packet ${p.kind}`);
    const m = p.protocol === NH_ICMPV6 ? parseIcmpv6(p.header.src, p.header.dst, p.payload) : null;
    return { mac: e.dst, p, m };
  });
}

/** Teaches the stack the peer's MAC through a solicitation, and drains the advert. */
function introducePeer(link: ChannelLink): void {
  const ns = buildIcmpv6(PEER_LL, solicitedNode(STACK_LL), ICMP6_NEIGHBOR_SOLICIT, 0, buildNdp(0, STACK_LL, OPT_SOURCE_LLADDR, PEER_MAC));
  link.inject(frame6(multicastMac6(solicitedNode(STACK_LL)), buildIpv6({ src: PEER_LL, dst: solicitedNode(STACK_LL), nextHeader: NH_ICMPV6, hopLimit: 255 }, ns)));
  link.drain();
}

describe('IPv6 addresses and codec', () => {
  test('text forms round-trip per RFC 5952', () => {
    for (const s of ['::', '::1', 'fe80::1', '2001:db8::2:1', '2001:db8:0:1:1:1:1:1', 'ff02::1:ff00:1', '::ffff:10.0.0.1']) {
      const a = parseIPv6(s);
      expect(a).not.toBeNull();
    }
    expect(formatIPv6(v6('2001:0db8:0000:0000:0000:0000:0002:0001'))).toBe('2001:db8::2:1');
    expect(formatIPv6(v6('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIPv6(v6('::ffff:10.0.0.1'))).toBe('::ffff:a00:1');
    expect(parseIPv6('1::2::3')).toBeNull();
    expect(parseIPv6('12345::')).toBeNull();
    expect(formatIPv6(STACK_LL)).toBe('fe80::ff:fe00:1');
  });

  test('extension headers: unknown options, routing headers, hop-by-hop placement', () => {
    const src = v6('fe80::2');
    const dst = v6('fe80::1');
    const withDstOpt = (optType: number) => {
      const ext = Uint8Array.from([NH_ICMPV6, 0, optType, 4, 0, 0, 0, 0]);
      return buildIpv6({ src, dst, nextHeader: NH_DSTOPTS }, ext);
    };
    expect(parseIpv6(withDstOpt(0x1e))).toMatchObject({ protocol: NH_ICMPV6, offset: 48 }); // 00xxxxxx: skip
    expect(parseIpv6(withDstOpt(0x5e))).toEqual({ kind: 'discard' });
    expect(parseIpv6(withDstOpt(0x9e))).toEqual({ kind: 'problem', code: 2, pointer: 42 });
    // Routing header with segments left: we would have to forward it.
    const rh = buildIpv6({ src, dst, nextHeader: 43 }, Uint8Array.from([NH_ICMPV6, 0, 0, 1, 0, 0, 0, 0]));
    expect(parseIpv6(rh)).toEqual({ kind: 'problem', code: 0, pointer: 42 });
    // Hop-by-hop after another header.
    const late = buildIpv6({ src, dst, nextHeader: NH_DSTOPTS }, Uint8Array.from([0, 0, 1, 4, 0, 0, 0, 0, NH_ICMPV6, 0, 1, 4, 0, 0, 0, 0]));
    expect(parseIpv6(late)).toEqual({ kind: 'problem', code: 1, pointer: 40 });
    // Short and truncated headers.
    expect(parseIpv6(new Uint8Array(39))).toEqual({ kind: 'short' });
    const trunc = buildIpv6({ src, dst, nextHeader: NH_DSTOPTS }, Uint8Array.from([NH_ICMPV6, 3, 0, 0]));
    expect(parseIpv6(trunc)).toMatchObject({ kind: 'problem', code: 0 });
    const wrongLen = buildIpv6({ src, dst, nextHeader: NH_ICMPV6 }, new Uint8Array(8));
    wrongLen[5] = 200;
    expect(parseIpv6(wrongLen)).toEqual({ kind: 'length' });
  });

  test('NDP messages are validated (hop limit, options, DAD source)', () => {
    const body = buildNdp(0, STACK_LL, OPT_SOURCE_LLADDR, PEER_MAC);
    expect(parseNdp(body, 0, 255, PEER_LL, true)?.lladdr).toEqual(PEER_MAC);
    expect(parseNdp(body, 0, 64, PEER_LL, true)).toBeNull();
    expect(parseNdp(body, 1, 255, PEER_LL, true)).toBeNull();
    expect(parseNdp(body, 0, 255, v6('::'), true)).toBeNull();
    const zeroOpt = body.slice();
    zeroOpt[21] = 0;
    expect(parseNdp(zeroOpt, 0, 255, PEER_LL, true)).toBeNull();
    expect(parseNdp(buildNdp(0, IPV6_ALL_NODES, OPT_SOURCE_LLADDR, null), 0, 255, PEER_LL, true)).toBeNull();
  });
});

describe('IPv6 in the stack', () => {
  test('::1 answers echo over loopback', () => {
    const { st } = harness();
    const got: number[] = [];
    st.ipv6.onIcmp((e) => got.push(e.message.type));
    expect(isErr(st.batch(() => st.ipv6.sendEcho(v6('::1'), 7, 1, new Uint8Array(16))))).toBe(false);
    expect(got).toEqual([ICMP6_ECHO_REQUEST, ICMP6_ECHO_REPLY]);
    // Our link-local address is local too: it is reached over loopback, not the wire.
    got.length = 0;
    st.batch(() => st.ipv6.sendEcho(STACK_LL, 7, 2, new Uint8Array(4)));
    expect(got).toEqual([ICMP6_ECHO_REQUEST, ICMP6_ECHO_REPLY]);
  });

  test('answers a neighbor solicitation for its link-local address and learns the asker', () => {
    const { st, link, eth } = harness();
    const ns = buildIcmpv6(PEER_LL, solicitedNode(STACK_LL), ICMP6_NEIGHBOR_SOLICIT, 0, buildNdp(0, STACK_LL, OPT_SOURCE_LLADDR, PEER_MAC));
    link.inject(frame6(multicastMac6(solicitedNode(STACK_LL)), buildIpv6({ src: PEER_LL, dst: solicitedNode(STACK_LL), nextHeader: NH_ICMPV6, hopLimit: 255 }, ns)));
    const out = sent(link);
    expect(out).toHaveLength(1);
    expect(out[0].mac).toEqual(PEER_MAC);
    expect(out[0].p.header.hopLimit).toBe(255);
    expect(out[0].m?.type).toBe(ICMP6_NEIGHBOR_ADVERT);
    const na = parseNdp(out[0].m?.body ?? new Uint8Array(), 0, 255, STACK_LL, false);
    expect(na?.flags).toBe(NA_SOLICITED | NA_OVERRIDE);
    expect(na?.target).toEqual(STACK_LL);
    expect(na?.lladdr).toEqual(STACK_MAC);
    expect(st.ipv6.neighborCache(eth)?.lookup(PEER_LL)).toEqual(PEER_MAC);
    // A solicitation for someone else's address, or with hop limit < 255, gets nothing.
    const other = buildIcmpv6(PEER_LL, solicitedNode(v6('fe80::99')), ICMP6_NEIGHBOR_SOLICIT, 0, buildNdp(0, v6('fe80::99'), OPT_SOURCE_LLADDR, PEER_MAC));
    link.inject(frame6(multicastMac6(solicitedNode(v6('fe80::99'))), buildIpv6({ src: PEER_LL, dst: solicitedNode(v6('fe80::99')), nextHeader: NH_ICMPV6, hopLimit: 255 }, other)));
    link.inject(frame6(multicastMac6(solicitedNode(STACK_LL)), buildIpv6({ src: PEER_LL, dst: solicitedNode(STACK_LL), nextHeader: NH_ICMPV6, hopLimit: 64 }, ns)));
    expect(link.drain()).toHaveLength(0);
    expect(st.ipv6.stats.ndpMalformed).toBe(1);
  });

  test('resolves a neighbor before replying, retries, and gives up after three solicitations', () => {
    const { st, link, eth } = harness();
    link.inject(frame6(STACK_MAC, echo(PEER_LL, STACK_LL, 1, 1)));
    let out = sent(link);
    expect(out).toHaveLength(1);
    expect(out[0].m?.type).toBe(ICMP6_NEIGHBOR_SOLICIT);
    expect(out[0].p.header.dst).toEqual(solicitedNode(PEER_LL));
    expect(out[0].mac).toEqual(multicastMac6(solicitedNode(PEER_LL)));
    const na = buildIcmpv6(PEER_LL, STACK_LL, ICMP6_NEIGHBOR_ADVERT, 0, buildNdp(NA_SOLICITED | NA_OVERRIDE, PEER_LL, OPT_TARGET_LLADDR, PEER_MAC));
    link.inject(frame6(STACK_MAC, buildIpv6({ src: PEER_LL, dst: STACK_LL, nextHeader: NH_ICMPV6, hopLimit: 255 }, na)));
    out = sent(link);
    expect(out).toHaveLength(1);
    expect(out[0].mac).toEqual(PEER_MAC);
    expect(out[0].m?.type).toBe(ICMP6_ECHO_REPLY);
    expect(out[0].p.header.src).toEqual(STACK_LL);
    expect(Array.from(out[0].m?.body ?? [])).toEqual([0, 1, 0, 1, 1, 2, 3]);
    // An unanswered resolution: 3 solicitations one second apart, then the packet is dropped.
    const ghost = v6('fe80::77');
    link.inject(frame6(STACK_MAC, echo(ghost, STACK_LL, 1, 2)));
    for (let t = 1000; t <= 4000; t += 1000) st.tick(t);
    out = sent(link);
    expect(out.map((x) => x.m?.type)).toEqual([ICMP6_NEIGHBOR_SOLICIT, ICMP6_NEIGHBOR_SOLICIT, ICMP6_NEIGHBOR_SOLICIT]);
    expect(st.ipv6.neighborCache(eth)?.failed).toBe(1);
    // An unsolicited advert does not create an entry (RFC 4861 7.2.5).
    const unsolicited = buildIcmpv6(v6('fe80::55'), IPV6_ALL_NODES, ICMP6_NEIGHBOR_ADVERT, 0, buildNdp(NA_OVERRIDE, v6('fe80::55'), OPT_TARGET_LLADDR, PEER_MAC));
    link.inject(frame6(multicastMac6(IPV6_ALL_NODES), buildIpv6({ src: v6('fe80::55'), dst: IPV6_ALL_NODES, nextHeader: NH_ICMPV6, hopLimit: 255 }, unsolicited)));
    expect(st.ipv6.neighborCache(eth)?.lookup(v6('fe80::55'))).toBeUndefined();
  });

  test('ICMPv6 errors: port unreachable, unknown next header, unknown option; none about multicast or errors', () => {
    const { st, link } = harness();
    introducePeer(link);
    const udp = buildIpv6({ src: PEER_LL, dst: STACK_LL, nextHeader: NH_UDP }, buildUdp(0, 0, 1, 2, new Uint8Array(0), (_s, _d, p, l) => pseudoHeaderSum6(PEER_LL, STACK_LL, p, l)));
    link.inject(frame6(STACK_MAC, udp));
    let out = sent(link);
    expect(out.map((x) => [x.m?.type, x.m?.code])).toEqual([[ICMP6_DEST_UNREACH, 4]]);
    expect(out[0].m?.body.subarray(4)).toEqual(udp);
    link.inject(frame6(STACK_MAC, buildIpv6({ src: PEER_LL, dst: STACK_LL, nextHeader: 253 }, new Uint8Array(8))));
    out = sent(link);
    expect(out.map((x) => [x.m?.type, x.m?.code])).toEqual([[ICMP6_PARAM_PROBLEM, 1]]);
    expect(Array.from(out[0].m?.body.subarray(0, 4) ?? [])).toEqual([0, 0, 0, 6]);
    const opt = buildIpv6({ src: PEER_LL, dst: STACK_LL, nextHeader: NH_DSTOPTS }, Uint8Array.from([NH_ICMPV6, 0, 0x9e, 4, 0, 0, 0, 0]));
    link.inject(frame6(STACK_MAC, opt));
    out = sent(link);
    expect(out.map((x) => [x.m?.type, x.m?.code])).toEqual([[ICMP6_PARAM_PROBLEM, 2]]);
    expect(Array.from(out[0].m?.body.subarray(0, 4) ?? [])).toEqual([0, 0, 0, 42]);
    // UDP to all-nodes, and an error about an error: silence.
    link.inject(frame6(multicastMac6(IPV6_ALL_NODES), buildIpv6({ src: PEER_LL, dst: IPV6_ALL_NODES, nextHeader: NH_UDP }, Uint8Array.from([0, 1, 0, 2, 0, 8, 0, 0]))));
    const err = buildIcmpv6(PEER_LL, STACK_LL, ICMP6_DEST_UNREACH, 4, new Uint8Array(8));
    link.inject(frame6(STACK_MAC, buildIpv6({ src: PEER_LL, dst: STACK_LL, nextHeader: NH_ICMPV6 }, err)));
    expect(link.drain()).toHaveLength(0);
    expect(st.internalErrors).toBe(0);
  });

  test('drops bad checksums, spoofed sources, foreign destinations and short headers without replying', () => {
    const { st, link } = harness();
    introducePeer(link);
    const bad = echo(PEER_LL, STACK_LL, 1, 1);
    bad[bad.length - 1] ^= 0xff;
    link.inject(frame6(STACK_MAC, bad));
    link.inject(frame6(STACK_MAC, echo(v6('::1'), STACK_LL, 1, 1)));
    link.inject(frame6(STACK_MAC, echo(IPV6_ALL_NODES, STACK_LL, 1, 1)));
    link.inject(frame6(STACK_MAC, echo(PEER_LL, v6('fe80::99'), 1, 1)));
    link.inject(frame6(STACK_MAC, echo(PEER_LL, v6('::1'), 1, 1)));
    link.inject(frame6(STACK_MAC, new Uint8Array(20).fill(0x60)));
    expect(link.drain()).toHaveLength(0);
    expect(st.ipv6.stats.icmpMalformed).toBe(1);
    expect(st.ipv6.stats.malformed).toBe(3);
    expect(st.ipv6.stats.notForUs).toBe(2);
    // The next honest ping is answered.
    link.inject(frame6(STACK_MAC, echo(PEER_LL, STACK_LL, 9, 9)));
    expect(sent(link).map((x) => x.m?.type)).toEqual([ICMP6_ECHO_REPLY]);
    expect(st.internalErrors).toBe(0);
  });

  test('a flood of solicitations from spoofed sources cannot grow the neighbor cache without bound', () => {
    const { st, link, eth } = harness();
    for (let i = 0; i < 1500; i++) {
      const src = v6(`fe80::1:${i.toString(16)}`);
      const mac = Uint8Array.from([2, 0, 0, 1, i >> 8, i & 0xff]);
      const ns = buildIcmpv6(src, solicitedNode(STACK_LL), ICMP6_NEIGHBOR_SOLICIT, 0, buildNdp(0, STACK_LL, OPT_SOURCE_LLADDR, mac));
      link.inject(frame6(multicastMac6(solicitedNode(STACK_LL)), buildIpv6({ src, dst: solicitedNode(STACK_LL), nextHeader: NH_ICMPV6, hopLimit: 255 }, ns)));
    }
    link.drain();
    expect(st.ipv6.neighborCache(eth)?.list().length).toBe(1024);
    // Once entries expire, new neighbors are learned again.
    st.tick(31_000);
    introducePeer(link);
    expect(st.ipv6.neighborCache(eth)?.lookup(PEER_LL)).toEqual(PEER_MAC);
    expect(st.internalErrors).toBe(0);
  });

  test('answers pings to all-nodes from its link-local address', () => {
    const { link } = harness();
    introducePeer(link);
    link.inject(frame6(multicastMac6(IPV6_ALL_NODES), echo(PEER_LL, IPV6_ALL_NODES, 3, 3)));
    const out = sent(link);
    expect(out.map((x) => x.m?.type)).toEqual([ICMP6_ECHO_REPLY]);
    expect(out[0].p.header.src).toEqual(STACK_LL);
  });

  test('reassembles fragments in any order and discards overlapping ones (RFC 5722)', () => {
    const { st, link } = harness();
    introducePeer(link);
    const msg = buildIcmpv6(PEER_LL, STACK_LL, ICMP6_ECHO_REQUEST, 0, Uint8Array.from([0, 4, 0, 4, ...new Uint8Array(20).fill(7)]));
    const frag = (off: number, more: boolean, id: number, data: Uint8Array) => {
      const h = Uint8Array.from([NH_ICMPV6, 0, (off >> 8) & 0xff, (off & 0xf8) | (more ? 1 : 0), 0, 0, 0, id]);
      return frame6(STACK_MAC, buildIpv6({ src: PEER_LL, dst: STACK_LL, nextHeader: NH_FRAGMENT }, Uint8Array.from([...h, ...data])));
    };
    link.inject(frag(16, false, 1, msg.subarray(16)));
    link.inject(frag(0, true, 1, msg.subarray(0, 16)));
    expect(sent(link).map((x) => x.m?.type)).toEqual([ICMP6_ECHO_REPLY]);
    expect(st.ipv6.stats.reassembled).toBe(1);
    // Overlap: the second fragment rewrites bytes 8..15; the whole datagram is dropped.
    link.inject(frag(0, true, 2, msg.subarray(0, 16)));
    link.inject(frag(8, true, 2, msg.subarray(8, 16)));
    link.inject(frag(16, false, 2, msg.subarray(16)));
    expect(link.drain()).toHaveLength(0);
    expect(st.ipv6.reassembler.counters.overlaps).toBe(1);
    // Incomplete datagrams (the overlap's late last fragment, a lone first one) expire after 60 s.
    link.inject(frag(0, true, 3, msg.subarray(0, 16)));
    expect(st.ipv6.reassembler.pendingCount).toBe(2);
    st.tick(61_000);
    expect(st.ipv6.reassembler.pendingCount).toBe(0);
    expect(st.ipv6.reassembler.counters.timeouts).toBe(2);
  });
});
