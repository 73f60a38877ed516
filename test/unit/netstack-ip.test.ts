// Link and network layers through a whole Stack: ARP, IPv4 input checks and reassembly,
// ICMP, UDP demultiplexing, routing and loopback.

import { describe, expect, test } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr, type Result } from '../../sentry/abi/result.js';
import { macEqual, parseIPv4 } from '../../sentry/netstack/addr.js';
import { ARP_REPLY, ARP_REQUEST, buildArp, parseArp } from '../../sentry/netstack/arp.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, buildEthernet, parseEthernet } from '../../sentry/netstack/ethernet.js';
import { EV_ERR, EV_IN } from '../../sentry/netstack/events.js';
import { ICMP_DEST_UNREACH, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_PORT_UNREACH, buildIcmp, parseIcmp } from '../../sentry/netstack/icmp.js';
import { IPPROTO_ICMP, IPPROTO_UDP, buildIpv4, fragmentIpv4, parseIpv4 } from '../../sentry/netstack/ipv4.js';
import { ChannelLink } from '../../sentry/netstack/link/channel.js';
import { LoopbackLink } from '../../sentry/netstack/link/loopback.js';
import { Stack } from '../../sentry/netstack/stack.js';
import { PEER_IP, PEER_MAC, STACK_IP, STACK_MAC, ipFrame, makeHarness, sentPackets } from '../../sentry/netstack/testing/peer.js';
import { buildUdp, parseUdp } from '../../sentry/netstack/udp.js';

const ip = (s: string): number => parseIPv4(s) as number;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function ok<T>(r: Result<T>): T {
  if (isErr(r)) throw new Error(`unexpected errno ${r.errno}`);
  return r;
}

function arpFrames(link: ChannelLink): ReturnType<typeof parseArp>[] {
  return link
    .drain()
    .map((f) => parseEthernet(f))
    .filter((e) => e !== null && e.etherType === ETHERTYPE_ARP)
    .map((e) => parseArp(e!.payload));
}

describe('ARP', () => {
  test('resolves before sending, queues the packet, and uses the answer', () => {
    const h = makeHarness({}, false);
    const u = h.stack.newUdpEndpoint();
    ok(u.sendTo(enc('first'), PEER_IP, 7));
    const frames = h.link.drain();
    expect(frames).toHaveLength(1);
    const eth = parseEthernet(frames[0])!;
    expect(eth.etherType).toBe(ETHERTYPE_ARP);
    expect(Array.from(eth.dst)).toEqual([255, 255, 255, 255, 255, 255]);
    const req = parseArp(eth.payload)!;
    expect(req).toMatchObject({ op: ARP_REQUEST, senderIp: STACK_IP, targetIp: PEER_IP });
    const reply = buildArp({ op: ARP_REPLY, senderMac: PEER_MAC, senderIp: PEER_IP, targetMac: STACK_MAC, targetIp: STACK_IP });
    h.link.inject(buildEthernet(STACK_MAC, PEER_MAC, ETHERTYPE_ARP, reply));
    const out = h.link.drain().map((f) => parseEthernet(f)!);
    expect(out).toHaveLength(1);
    expect(macEqual(out[0].dst, PEER_MAC)).toBe(true);
    const pkt = parseIpv4(out[0].payload);
    expect(typeof pkt === 'object' && dec(parseUdp(pkt.payload, STACK_IP, PEER_IP)!.payload)).toBe('first');
    // Cached now: the next datagram goes straight out.
    ok(u.sendTo(enc('second'), PEER_IP, 7));
    expect(sentPackets(h.link)).toHaveLength(1);
  });

  test('retries three times a second apart, then drops the queue', () => {
    const h = makeHarness({}, false);
    const u = h.stack.newUdpEndpoint();
    ok(u.sendTo(enc('x'), PEER_IP, 7));
    expect(arpFrames(h.link)).toHaveLength(1);
    h.stack.tick(999);
    expect(arpFrames(h.link)).toHaveLength(0);
    h.stack.tick(1000);
    expect(arpFrames(h.link)).toHaveLength(1);
    h.stack.tick(2000);
    expect(arpFrames(h.link)).toHaveLength(1);
    h.stack.tick(3000);
    expect(arpFrames(h.link)).toHaveLength(0);
    expect(h.stack.stats.arpResolveFailed).toBe(1);
    expect(h.stack.stats.arpQueueDropped).toBe(1);
  });

  test('entries expire after the reachable time and are resolved again', () => {
    const h = makeHarness({ arp: { reachableMs: 30_000 } }, false);
    h.link.inject(buildEthernet(STACK_MAC, PEER_MAC, ETHERTYPE_ARP, buildArp({ op: ARP_REQUEST, senderMac: PEER_MAC, senderIp: PEER_IP, targetMac: new Uint8Array(6), targetIp: STACK_IP })));
    const [rep] = arpFrames(h.link);
    expect(rep).toMatchObject({ op: ARP_REPLY, senderIp: STACK_IP, targetIp: PEER_IP });
    expect(h.stack.nic(h.nicId)!.arp!.list()).toHaveLength(1); // learned from the request
    const u = h.stack.newUdpEndpoint();
    ok(u.sendTo(enc('a'), PEER_IP, 7));
    expect(sentPackets(h.link)).toHaveLength(1);
    h.stack.tick(30_000);
    ok(u.sendTo(enc('b'), PEER_IP, 7));
    expect(arpFrames(h.link).map((p) => p?.op)).toEqual([ARP_REQUEST]);
  });

  test('requests for other hosts are not answered and do not create entries', () => {
    const h = makeHarness({}, false);
    h.link.inject(buildEthernet(STACK_MAC, PEER_MAC, ETHERTYPE_ARP, buildArp({ op: ARP_REQUEST, senderMac: PEER_MAC, senderIp: PEER_IP, targetMac: new Uint8Array(6), targetIp: ip('10.0.0.99') })));
    expect(h.link.drain()).toHaveLength(0);
    expect(h.stack.nic(h.nicId)!.arp!.list()).toHaveLength(0);
  });

  test('off-subnet traffic resolves the gateway', () => {
    const h = makeHarness({}, false);
    ok(h.stack.addRoute('0.0.0.0', 0, '10.0.0.254', h.nicId));
    ok(h.stack.newUdpEndpoint().sendTo(enc('x'), ip('8.8.8.8'), 53));
    expect(arpFrames(h.link)[0]?.targetIp).toBe(ip('10.0.0.254'));
    expect(errno(new Stack().newUdpEndpoint().sendTo(enc('x'), ip('8.8.8.8'), 53))).toBe(E.ENETUNREACH);
  });
});

function errno<T>(r: Result<T>): number | undefined {
  return isErr(r) ? r.errno : undefined;
}

describe('IPv4 input', () => {
  test('bad checksums, TTL 0, wrong destination and junk are counted, not delivered', () => {
    const h = makeHarness();
    const u = h.stack.newUdpEndpoint();
    ok(u.bind(0, 9000));
    const good = buildIpv4({ src: PEER_IP, dst: STACK_IP, protocol: IPPROTO_UDP }, buildUdp(PEER_IP, STACK_IP, 1, 9000, enc('ok')));
    const bad = good.slice();
    bad[10] ^= 0x55;
    const inject = (p: Uint8Array): void => h.link.inject(buildEthernet(STACK_MAC, PEER_MAC, ETHERTYPE_IPV4, p));
    inject(bad);
    inject(buildIpv4({ src: PEER_IP, dst: STACK_IP, protocol: IPPROTO_UDP, ttl: 0 }, buildUdp(PEER_IP, STACK_IP, 1, 9000, enc('ttl0'))));
    inject(buildIpv4({ src: PEER_IP, dst: ip('10.0.0.77'), protocol: IPPROTO_UDP }, buildUdp(PEER_IP, ip('10.0.0.77'), 1, 9000, enc('other'))));
    inject(good.subarray(0, 10));
    h.link.inject(new Uint8Array(5));
    h.link.inject(buildEthernet(STACK_MAC, PEER_MAC, 0x1234, good));
    h.link.inject(buildEthernet(new Uint8Array([2, 9, 9, 9, 9, 9]), PEER_MAC, ETHERTYPE_IPV4, good));
    const s = h.stack.stats;
    expect([s.ipBadChecksum, s.ipBadTtl, s.ipNotForUs, s.ipMalformed, s.ethMalformed, s.ethUnknownType, s.ethNotForUs]).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(errno(u.recvFrom())).toBe(E.EAGAIN);
    inject(good);
    expect(dec(ok(u.recvFrom()).data)).toBe('ok');
  });

  test('fragments are reassembled in any order', () => {
    const h = makeHarness();
    const u = h.stack.newUdpEndpoint();
    ok(u.bind(0, 9000));
    const data = new Uint8Array(4000).map((_, i) => (i * 13) & 0xff);
    const frags = fragmentIpv4({ src: PEER_IP, dst: STACK_IP, protocol: IPPROTO_UDP, id: 42 }, buildUdp(PEER_IP, STACK_IP, 5, 9000, data), 1500);
    expect(frags).toHaveLength(3);
    for (const f of [frags[2], frags[0], frags[1]]) h.link.inject(buildEthernet(STACK_MAC, PEER_MAC, ETHERTYPE_IPV4, f));
    const m = ok(u.recvFrom());
    expect(m.data).toEqual(data);
    expect(h.stack.stats.ipReassembled).toBe(1);
  });

  test('overlapping fragments discard the whole datagram', () => {
    const h = makeHarness();
    const u = h.stack.newUdpEndpoint();
    ok(u.bind(0, 9000));
    const payload = buildUdp(PEER_IP, STACK_IP, 5, 9000, new Uint8Array(200));
    const o = { src: PEER_IP, dst: STACK_IP, protocol: IPPROTO_UDP, id: 9 };
    const send = (off: number, end: number, mf: boolean): void =>
      h.link.inject(buildEthernet(STACK_MAC, PEER_MAC, ETHERTYPE_IPV4, buildIpv4({ ...o, fragmentOffset: off, moreFragments: mf }, payload.subarray(off, end))));
    send(0, 96, true);
    send(88, 208, false); // overlaps 88..96
    send(96, 208, false); // would complete it, but the datagram is gone
    expect(h.stack.stats.ipReassemblyOverlap).toBe(1);
    expect(errno(u.recvFrom())).toBe(E.EAGAIN);
    // An exact duplicate is harmless.
    const o2 = { ...o, id: 10 };
    const send2 = (off: number, end: number, mf: boolean): void =>
      h.link.inject(buildEthernet(STACK_MAC, PEER_MAC, ETHERTYPE_IPV4, buildIpv4({ ...o2, fragmentOffset: off, moreFragments: mf }, payload.subarray(off, end))));
    send2(0, 96, true);
    send2(0, 96, true);
    send2(96, 208, false);
    expect(ok(u.recvFrom()).data.length).toBe(200);
  });

  test('incomplete datagrams time out after 30 s', () => {
    const h = makeHarness();
    const frag = buildIpv4({ src: PEER_IP, dst: STACK_IP, protocol: IPPROTO_UDP, id: 3, moreFragments: true }, new Uint8Array(64));
    h.link.inject(buildEthernet(STACK_MAC, PEER_MAC, ETHERTYPE_IPV4, frag));
    h.stack.tick(29_999);
    expect(h.stack.stats.ipReassemblyTimeout).toBe(0);
    h.stack.tick(30_000);
    expect(h.stack.stats.ipReassemblyTimeout).toBe(1);
  });

  test('large datagrams are fragmented on output', () => {
    const h = makeHarness();
    ok(h.stack.newUdpEndpoint().sendTo(new Uint8Array(3000), PEER_IP, 7));
    const pkts = sentPackets(h.link);
    expect(pkts.map((p) => p.header.moreFragments)).toEqual([true, true, false]);
    expect(new Set(pkts.map((p) => p.header.id)).size).toBe(1);
  });
});

describe('ICMP', () => {
  test('echo request gets a matching reply', () => {
    const h = makeHarness();
    const req = buildIcmp(ICMP_ECHO_REQUEST, 0, (0x1234 << 16) | 7, enc('ping payload'));
    h.link.inject(ipFrame(PEER_IP, STACK_IP, IPPROTO_ICMP, req));
    const [p] = sentPackets(h.link);
    expect(p.header.src).toBe(STACK_IP);
    expect(p.header.dst).toBe(PEER_IP);
    const m = parseIcmp(p.payload)!;
    expect(m.type).toBe(ICMP_ECHO_REPLY);
    expect(m.rest).toBe(((0x1234 << 16) | 7) >>> 0);
    expect(dec(m.body)).toBe('ping payload');
    // Broadcast pings and corrupted requests are ignored.
    h.link.inject(ipFrame(PEER_IP, ip('10.0.0.255'), IPPROTO_ICMP, req));
    const bad = req.slice();
    bad[9] ^= 1;
    h.link.inject(ipFrame(PEER_IP, STACK_IP, IPPROTO_ICMP, bad));
    expect(sentPackets(h.link)).toHaveLength(0);
    expect(h.stack.stats.icmpMalformed).toBe(1);
  });

  test('sendEcho and onIcmp let a ping socket see the reply', () => {
    const h = makeHarness();
    const seen: number[] = [];
    h.stack.onIcmp((e) => seen.push(e.message.type));
    ok(h.stack.sendEcho(PEER_IP, 1, 1, enc('x')));
    const [req] = sentPackets(h.link);
    const m = parseIcmp(req.payload)!;
    expect(m.type).toBe(ICMP_ECHO_REQUEST);
    h.link.inject(ipFrame(PEER_IP, STACK_IP, IPPROTO_ICMP, buildIcmp(ICMP_ECHO_REPLY, 0, m.rest, m.body)));
    expect(seen).toEqual([ICMP_ECHO_REPLY]);
  });

  test('UDP to a closed port gets port unreachable quoting the datagram; never for broadcasts', () => {
    const h = makeHarness();
    const udp = buildUdp(PEER_IP, STACK_IP, 5555, 9, enc('anyone?'));
    h.link.inject(ipFrame(PEER_IP, STACK_IP, IPPROTO_UDP, udp));
    const [p] = sentPackets(h.link);
    const m = parseIcmp(p.payload)!;
    expect([m.type, m.code]).toEqual([ICMP_DEST_UNREACH, ICMP_PORT_UNREACH]);
    expect(m.body.length).toBe(28);
    expect((m.body[20] << 8) | m.body[21]).toBe(5555);
    h.link.inject(ipFrame(PEER_IP, ip('255.255.255.255'), IPPROTO_UDP, buildUdp(PEER_IP, ip('255.255.255.255'), 5555, 9, enc('x'))));
    expect(sentPackets(h.link)).toHaveLength(0);
  });

  test('port unreachable reaches a connected UDP endpoint as ECONNREFUSED', () => {
    const h = makeHarness();
    const u = h.stack.newUdpEndpoint();
    ok(u.connect(PEER_IP, 53));
    ok(u.sendTo(enc('q')));
    const [sent] = sentPackets(h.link);
    h.link.inject(ipFrame(PEER_IP, STACK_IP, IPPROTO_ICMP, buildIcmp(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, sent.raw.subarray(0, 28))));
    expect(u.readiness() & EV_ERR).toBe(EV_ERR);
    expect(errno(u.recvFrom())).toBe(E.ECONNREFUSED);
    expect(errno(u.recvFrom())).toBe(E.EAGAIN);
  });
});

describe('UDP', () => {
  test('demux prefers connected, then specific address, then wildcard', () => {
    const h = makeHarness();
    const wild = h.stack.newUdpEndpoint();
    wild.opts.reuseAddr = true;
    ok(wild.bind(0, 7000));
    const spec = h.stack.newUdpEndpoint();
    spec.opts.reuseAddr = true;
    ok(spec.bind(STACK_IP, 7000));
    const conn = h.stack.newUdpEndpoint();
    conn.opts.reuseAddr = true;
    ok(conn.bind(STACK_IP, 7000));
    ok(conn.connect(PEER_IP, 1111));
    const inject = (sport: number, text: string): void => h.link.inject(ipFrame(PEER_IP, STACK_IP, IPPROTO_UDP, buildUdp(PEER_IP, STACK_IP, sport, 7000, enc(text))));
    inject(1111, 'to-conn');
    inject(2222, 'to-spec');
    expect(dec(ok(conn.recvFrom()).data)).toBe('to-conn');
    expect(dec(ok(spec.recvFrom()).data)).toBe('to-spec');
    expect(errno(wild.recvFrom())).toBe(E.EAGAIN);
    spec.close();
    inject(2222, 'to-wild');
    const m = ok(wild.recvFrom());
    expect([dec(m.data), m.addr, m.port]).toEqual(['to-wild', PEER_IP, 2222]);
  });

  test('bind conflicts, datagram boundaries, readiness and peek', () => {
    const h = makeHarness();
    const a = h.stack.newUdpEndpoint();
    ok(a.bind(0, 6000));
    expect(errno(h.stack.newUdpEndpoint().bind(STACK_IP, 6000))).toBe(E.EADDRINUSE);
    expect(errno(h.stack.newUdpEndpoint().bind(ip('10.9.9.9'), 6001))).toBe(E.EADDRNOTAVAIL);
    const events: number[] = [];
    a.subscribe((m) => events.push(m));
    for (const t of ['one', 'two']) h.link.inject(ipFrame(PEER_IP, STACK_IP, IPPROTO_UDP, buildUdp(PEER_IP, STACK_IP, 1, 6000, enc(t))));
    expect(events.every((m) => m & EV_IN)).toBe(true);
    expect(dec(ok(a.recvFrom(true)).data)).toBe('one');
    expect(dec(ok(a.recvFrom()).data)).toBe('one');
    expect(dec(ok(a.recvFrom()).data)).toBe('two');
    expect(a.readiness() & EV_IN).toBe(0);
    expect(errno(a.sendTo(new Uint8Array(70_000), PEER_IP, 1))).toBe(E.EMSGSIZE);
    expect(errno(a.sendTo(enc('x')))).toBe(E.EDESTADDRREQ);
    expect(errno(a.sendTo(enc('x'), ip('10.0.0.255'), 1))).toBe(E.EACCES);
  });
});

describe('loopback', () => {
  test('UDP and TCP over 127.0.0.1, and to our own Ethernet address', () => {
    const s = new Stack();
    ok(s.addAddress(s.addNic(new LoopbackLink()), '127.0.0.1', 8));
    const eth = new ChannelLink(STACK_MAC);
    ok(s.addAddress(s.addNic(eth), STACK_IP, 24));
    const srv = s.newUdpEndpoint();
    ok(srv.bind(0, 53));
    const cli = s.newUdpEndpoint();
    ok(cli.sendTo(enc('q'), ip('127.0.0.1'), 53));
    const m = ok(srv.recvFrom());
    expect(m.addr).toBe(ip('127.0.0.1'));
    ok(srv.sendTo(enc('a'), m.addr, m.port));
    expect(dec(ok(cli.recvFrom()).data)).toBe('a');

    const l = s.newTcpEndpoint();
    ok(l.bind(0, 80));
    ok(l.listen(4));
    const c = s.newTcpEndpoint();
    ok(c.connect(STACK_IP, 80));
    const a = ok(l.accept());
    expect(c.state).toBe('ESTABLISHED');
    ok(c.send(enc('over lo')));
    expect(dec(ok(a.recv(100)))).toBe('over lo');
    expect(eth.outbound).toHaveLength(0); // never left through the Ethernet NIC
    c.close();
    a.close();
    expect(a.state).toBe('CLOSED');
    expect(c.state).toBe('TIME_WAIT');
  });
});
