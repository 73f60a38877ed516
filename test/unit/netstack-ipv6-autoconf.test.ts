// IPv6 autoconfiguration on a scripted link: Duplicate Address Detection for the link-local
// address, Router Solicitation, a Router Advertisement giving a SLAAC address (EUI-64 from
// the MAC) and a default route, duplicates refused, and the routing table's view.

import { describe, expect, test } from 'vitest';
import { isErr } from '../../sentry/abi/result.js';
import { ETHERTYPE_IPV6, buildEthernet, parseEthernet } from '../../sentry/netstack/ethernet.js';
import {
  ipv6Equal, isUnspecified6, linkLocalFromMac, multicastMac6, parseIPv6, solicitedNode, type Ipv6Addr,
} from '../../sentry/netstack/ipv6/addr6.js';
import {
  ICMP6_NEIGHBOR_ADVERT, ICMP6_NEIGHBOR_SOLICIT, ICMP6_ROUTER_ADVERT, ICMP6_ROUTER_SOLICIT, buildIcmpv6, parseIcmpv6,
} from '../../sentry/netstack/ipv6/icmpv6.js';
import { NH_ICMPV6, NH_UDP, buildIpv6, parseIpv6 } from '../../sentry/netstack/ipv6/ipv6.js';
import { NA_OVERRIDE, OPT_SOURCE_LLADDR, OPT_TARGET_LLADDR, buildNdp, parseNdp } from '../../sentry/netstack/ipv6/ndp.js';
import { ChannelLink } from '../../sentry/netstack/link/channel.js';
import { LoopbackLink } from '../../sentry/netstack/link/loopback.js';
import { Stack } from '../../sentry/netstack/stack.js';

const v6 = (s: string): Ipv6Addr => parseIPv6(s) as Ipv6Addr;
const STACK_MAC = Uint8Array.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
const ROUTER_MAC = Uint8Array.from([0x02, 0x00, 0x00, 0x00, 0x00, 0xfe]);
const STACK_LL = linkLocalFromMac(STACK_MAC);
const ROUTER_LL = v6('fe80::fe');
const PREFIX = v6('2001:db8:1:2::');
/** 2001:db8:1:2 with the modified EUI-64 of STACK_MAC (02 -> 00, ff:fe in the middle). */
const SLAAC = v6('2001:db8:1:2:0:ff:fe00:1');

function harness() {
  const st = new Stack({ random: () => 0.5, ndp: { autoconf: true } });
  st.ipv6.addAddress(st.addNic(new LoopbackLink(65536), 'lo'), v6('::1'), 128);
  const link = new ChannelLink(STACK_MAC);
  const eth = st.addNic(link, 'eth0');
  return { st, link, eth };
}

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

function inject(link: ChannelLink, src: Ipv6Addr, dst: Ipv6Addr, type: number, body: Uint8Array, dstMac = multicastMac6(dst)): void {
  const pkt = buildIpv6({ src, dst, nextHeader: NH_ICMPV6, hopLimit: 255 }, buildIcmpv6(src, dst, type, 0, body));
  link.inject(buildEthernet(dstMac, ROUTER_MAC, ETHERTYPE_IPV6, pkt));
}

/** A Router Advertisement body: lifetime (s), a source link-layer option, one prefix option. */
function routerAdvert(lifetimeS: number, prefix: Ipv6Addr | null, validS = 86400, flags = 0xc0): Uint8Array {
  const b = new Uint8Array(12 + 8 + (prefix === null ? 0 : 32));
  b[0] = 64;
  b[2] = lifetimeS >> 8;
  b[3] = lifetimeS & 0xff;
  b.set([OPT_SOURCE_LLADDR, 1, ...ROUTER_MAC], 12);
  if (prefix !== null) {
    const o = 20;
    b[o] = 3;
    b[o + 1] = 4;
    b[o + 2] = 64;
    b[o + 3] = flags;
    const d = new DataView(b.buffer);
    d.setUint32(o + 4, validS);
    d.setUint32(o + 8, Math.min(validS, 3600));
    b.set(prefix, o + 16);
  }
  return b;
}

const has = (st: Stack, eth: number, a: Ipv6Addr): boolean => st.ipv6.addresses(eth).some((x) => ipv6Equal(x.addr, a));

describe('IPv6 autoconfiguration', () => {
  test('a new link probes its link-local address from :: and solicits routers', () => {
    const { st, link, eth } = harness();
    const out = sent(link);
    const ns = out.find((o) => o.m?.type === ICMP6_NEIGHBOR_SOLICIT);
    expect(ns).toBeDefined();
    expect(isUnspecified6(ns!.p.header.src)).toBe(true);
    expect(ns!.p.header.dst).toEqual(solicitedNode(STACK_LL));
    const body = parseNdp(ns!.m!.body, 0, 255, ns!.p.header.src, true);
    expect(body?.target).toEqual(STACK_LL);
    expect(body?.lladdr).toBeNull();
    const rs = out.find((o) => o.m?.type === ICMP6_ROUTER_SOLICIT);
    expect(rs?.p.header.dst).toEqual(v6('ff02::2'));
    // Optimistic: usable while the probe runs, and kept once RetransTimer passes in silence.
    expect(has(st, eth, STACK_LL)).toBe(true);
    expect(st.ipv6.tentative(eth, STACK_LL)).toBe(true);
    st.tick(1500);
    expect(st.ipv6.tentative(eth, STACK_LL)).toBe(false);
    expect(has(st, eth, STACK_LL)).toBe(true);
    // An address configured later (the boot's fd00:: one) is probed too.
    link.drain();
    expect(st.ipv6.addAddress(eth, v6('fd00::2'), 64)).toBeUndefined();
    const probe = sent(link).find((o) => o.m?.type === ICMP6_NEIGHBOR_SOLICIT);
    expect(parseNdp(probe!.m!.body, 0, 255, probe!.p.header.src, true)?.target).toEqual(v6('fd00::2'));
  });

  test('an advertisement for an address under probe makes it a duplicate, refused', () => {
    const { st, link, eth } = harness();
    link.drain();
    const na = buildNdp(NA_OVERRIDE, STACK_LL, OPT_TARGET_LLADDR, ROUTER_MAC);
    inject(link, ROUTER_LL, v6('ff02::1'), ICMP6_NEIGHBOR_ADVERT, na);
    expect(has(st, eth, STACK_LL)).toBe(false);
    expect(st.ipv6.stats.dadFailures).toBe(1);
  });

  test('a Router Advertisement configures a SLAAC address and a default route through the router', () => {
    const { st, link, eth } = harness();
    st.tick(1500);
    link.drain();
    inject(link, ROUTER_LL, v6('ff02::1'), ICMP6_ROUTER_ADVERT, routerAdvert(1800, PREFIX));
    expect(st.ipv6.stats.routerAdverts).toBe(1);
    expect(has(st, eth, SLAAC)).toBe(true);
    // The new address is probed too.
    const probe = sent(link).find((o) => o.m?.type === ICMP6_NEIGHBOR_SOLICIT);
    expect(parseNdp(probe!.m!.body, 0, 255, probe!.p.header.src, true)?.target).toEqual(SLAAC);
    // Off-link destinations go to the router's MAC (learned from its option), from the SLAAC address.
    const far = v6('2001:db8:99::7');
    const r = st.ipv6.route(far);
    expect(r?.gateway).toEqual(ROUTER_LL);
    expect(r?.src).toEqual(SLAAC);
    const u = st.inet6.udp.newEndpoint();
    const sentTo = u.sendTo(new Uint8Array([1, 2, 3]), st.inet6.idOf(far), 9);
    expect(isErr(sentTo)).toBe(false);
    const data = sent(link).find((o) => o.p.protocol === NH_UDP);
    expect(data?.mac).toEqual(ROUTER_MAC);
    expect(data?.p.header.dst).toEqual(far);
    // The routing table as `ip -6 route` shows it: prefixes, then the default route.
    const main = st.ipv6.routeView().main;
    const dflt = main.find((x) => x.prefixLen === 0);
    expect(dflt?.gateway).toEqual(ROUTER_LL);
    expect(dflt?.origin).toBe('ra');
    expect(main.some((x) => x.prefixLen === 64 && ipv6Equal(x.dest, PREFIX))).toBe(true);
    // Router lifetime 0 withdraws the default route.
    inject(link, ROUTER_LL, v6('ff02::1'), ICMP6_ROUTER_ADVERT, routerAdvert(0, null));
    expect(st.ipv6.route(far)).toBeNull();
  });

  test('another node probing the same SLAAC address during our probe wins; afterwards we defend it', () => {
    const { st, link, eth } = harness();
    st.tick(1500);
    inject(link, ROUTER_LL, v6('ff02::1'), ICMP6_ROUTER_ADVERT, routerAdvert(1800, PREFIX));
    link.drain();
    const probe = buildNdp(0, SLAAC, OPT_SOURCE_LLADDR, null);
    inject(link, v6('::'), solicitedNode(SLAAC), ICMP6_NEIGHBOR_SOLICIT, probe);
    expect(has(st, eth, SLAAC)).toBe(false);
    expect(sent(link)).toHaveLength(0);

    // A second prefix's address passes its probe, then answers someone else's.
    const other = v6('2001:db8:1:3::');
    const addr = v6('2001:db8:1:3:0:ff:fe00:1');
    inject(link, ROUTER_LL, v6('ff02::1'), ICMP6_ROUTER_ADVERT, routerAdvert(1800, other));
    st.tick(3500);
    link.drain();
    inject(link, v6('::'), solicitedNode(addr), ICMP6_NEIGHBOR_SOLICIT, buildNdp(0, addr, OPT_SOURCE_LLADDR, null));
    expect(has(st, eth, addr)).toBe(true);
    const na = sent(link).find((o) => o.m?.type === ICMP6_NEIGHBOR_ADVERT);
    expect(na?.p.header.dst).toEqual(v6('ff02::1'));
  });

  test('malformed advertisements are ignored; a short valid lifetime lets the address lapse', () => {
    const { st, link, eth } = harness();
    st.tick(1500);
    // Not from a link-local source: dropped.
    inject(link, v6('2001:db8::1'), v6('ff02::1'), ICMP6_ROUTER_ADVERT, routerAdvert(1800, PREFIX));
    expect(st.ipv6.stats.routerAdverts).toBe(0);
    // A prefix without the autonomous flag gives a route but no address.
    inject(link, ROUTER_LL, v6('ff02::1'), ICMP6_ROUTER_ADVERT, routerAdvert(1800, PREFIX, 60, 0x80));
    expect(has(st, eth, SLAAC)).toBe(false);
    expect(st.ipv6.route(v6('2001:db8:1:2::99'))?.gateway).toBeUndefined();
    // Autonomous with a 60 s lifetime: gone after it.
    inject(link, ROUTER_LL, v6('ff02::1'), ICMP6_ROUTER_ADVERT, routerAdvert(1800, PREFIX, 60, 0xc0));
    expect(has(st, eth, SLAAC)).toBe(true);
    st.tick(1500 + 61_000);
    expect(has(st, eth, SLAAC)).toBe(false);
  });
});
