// Two stacks on a lossy virtual wire: bulk transfer, simultaneous open, and a flood of
// malformed frames followed by an honest connection.

import { describe, expect, test } from 'vitest';
import { isErr, type Result } from '../../sentry/abi/result.js';
import { ETHERTYPE_IPV4, buildEthernet } from '../../sentry/netstack/ethernet.js';
import { IPPROTO_TCP, IPPROTO_UDP, buildIpv4 } from '../../sentry/netstack/ipv4.js';
import type { TcpEndpoint } from '../../sentry/netstack/tcp/endpoint.js';
import { ACK, RST, SYN, buildTcp } from '../../sentry/netstack/tcp/segment.js';
import { seededRandom } from '../../sentry/netstack/testing/rng.js';
import { A_IP, B_IP, TwoHosts } from '../../sentry/netstack/testing/sim.js';
import { buildUdp } from '../../sentry/netstack/udp.js';

function ok<T>(r: Result<T>): T {
  if (isErr(r)) throw new Error(`unexpected errno ${r.errno}`);
  return r;
}

/** Deterministic test data: byte i of the stream. */
function pattern(offset: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const x = offset + i;
    out[i] = (x ^ (x >>> 8) ^ (x >>> 16) ^ 0xa5) & 0xff;
  }
  return out;
}

function connect(h: TwoHosts, port: number): { client: TcpEndpoint; server: TcpEndpoint } {
  const l = h.b.newTcpEndpoint();
  ok(l.bind(0, port));
  ok(l.listen(16));
  const client = h.a.newTcpEndpoint();
  ok(client.connect(B_IP, port));
  let server: TcpEndpoint | null = null;
  h.runUntil(() => {
    const r = l.accept();
    if (!isErr(r)) server = r;
    return server !== null;
  }, 30_000);
  expect(client.state).toBe('ESTABLISHED');
  if (server === null) throw new Error('no connection');
  return { client, server };
}

/** Pump `total` bytes from src to dst through the simulation; returns whether all arrived intact. */
function pump(h: TwoHosts, src: TcpEndpoint, dst: TcpEndpoint, total: number, limitMs: number): { intact: boolean; received: number } {
  let sent = 0;
  let received = 0;
  let intact = true;
  const step = (): boolean => {
    while (sent < total) {
      const r = src.send(pattern(sent, Math.min(64 * 1024, total - sent)));
      if (isErr(r)) break;
      sent += r;
    }
    for (;;) {
      const r = dst.recv(256 * 1024);
      if (isErr(r) || r.length === 0) break;
      const want = pattern(received, r.length);
      for (let i = 0; i < r.length; i++) if (r[i] !== want[i]) intact = false;
      received += r.length;
    }
    return received >= total;
  };
  h.runUntil(step, limitMs);
  return { intact, received };
}

describe('two stacks over a virtual wire', () => {
  test('10 MiB moves intact across 1% random loss each way, then both sides close', () => {
    const h = new TwoHosts(42, { lossRate: 0.01, latencyMs: 5 });
    const { client, server } = connect(h, 8080);
    const total = 10 * 1024 * 1024;
    const r = pump(h, client, server, total, 3_600_000);
    expect(r.received).toBe(total);
    expect(r.intact).toBe(true);
    expect(h.wire.dropped).toBeGreaterThan(50);
    expect(h.a.stats.tcpRetransmits).toBeGreaterThan(0);
    expect(h.a.stats.tcpFastRetransmits).toBeGreaterThan(0);
    client.close();
    let eof = false;
    h.runUntil(() => {
      const r = server.recv(10);
      eof = !isErr(r) && r.length === 0;
      return eof;
    }, 60_000);
    expect(eof).toBe(true);
    expect(server.state).toBe('CLOSE_WAIT');
    server.close();
    h.runUntil(() => server.state === 'CLOSED' && client.state === 'TIME_WAIT', 60_000);
    expect(server.state).toBe('CLOSED');
    expect(client.state).toBe('TIME_WAIT');
    h.runUntil(() => client.state === 'CLOSED', 120_000);
    expect(client.state).toBe('CLOSED');
    expect(h.a.tcp.connectionCount + h.b.tcp.connectionCount).toBe(0);
    expect(h.a.internalErrors + h.b.internalErrors).toBe(0);
  });

  test('both directions at once, 2 MiB each, with 3% loss', () => {
    const h = new TwoHosts(7, { lossRate: 0.03, latencyMs: 2 });
    const { client, server } = connect(h, 9090);
    const total = 2 * 1024 * 1024;
    let sentA = 0;
    let sentB = 0;
    let gotA = 0;
    let gotB = 0;
    let intact = true;
    const check = (buf: Uint8Array, off: number): void => {
      const want = pattern(off, buf.length);
      for (let i = 0; i < buf.length; i++) if (buf[i] !== want[i]) intact = false;
    };
    h.runUntil(() => {
      if (sentA < total) {
        const r = client.send(pattern(sentA, Math.min(65536, total - sentA)));
        if (!isErr(r)) sentA += r;
      }
      if (sentB < total) {
        const r = server.send(pattern(sentB, Math.min(65536, total - sentB)));
        if (!isErr(r)) sentB += r;
      }
      for (let r = server.recv(1 << 20); !isErr(r) && r.length > 0; r = server.recv(1 << 20)) (check(r, gotB), (gotB += r.length));
      for (let r = client.recv(1 << 20); !isErr(r) && r.length > 0; r = client.recv(1 << 20)) (check(r, gotA), (gotA += r.length));
      return gotA >= total && gotB >= total;
    }, 3_600_000);
    expect([gotA, gotB]).toEqual([total, total]);
    expect(intact).toBe(true);
  });

  test('simultaneous open across the wire', () => {
    const h = new TwoHosts(3, { latencyMs: 10 });
    const x = h.a.newTcpEndpoint();
    const y = h.b.newTcpEndpoint();
    ok(x.bind(0, 5000));
    ok(y.bind(0, 6000));
    // Resolve ARP first so both SYNs are really in flight at the same time.
    ok(h.a.newUdpEndpoint().sendTo(new Uint8Array(1), B_IP, 9));
    h.runUntil(() => false, 100);
    ok(x.connect(B_IP, 6000));
    ok(y.connect(A_IP, 5000));
    h.runUntil(() => x.state === 'ESTABLISHED' && y.state === 'ESTABLISHED', 10_000);
    expect([x.state, y.state]).toEqual(['ESTABLISHED', 'ESTABLISHED']);
    ok(x.send(new TextEncoder().encode('hi')));
    h.runUntil(() => y.readableBytes() > 0, 1000);
    expect(new TextDecoder().decode(ok(y.recv(10)))).toBe('hi');
  });

  test('a flood of malformed frames leaves the stack serving the next honest connection', () => {
    const h = new TwoHosts(99, { latencyMs: 1 });
    const l = h.b.newTcpEndpoint();
    ok(l.bind(0, 80));
    ok(l.listen(8));
    const rnd = seededRandom(1234);
    const ri = (n: number): number => Math.floor(rnd() * n);
    const bMac = h.wire.b.mac;
    const aMac = h.wire.a.mac;
    const eth = (p: Uint8Array): Uint8Array => buildEthernet(bMac, aMac, ETHERTYPE_IPV4, p);
    const spoof = (): number => (B_IP & 0xffffff00) | (10 + ri(200));
    const junk = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => ri(256));
    for (let i = 0; i < 5000; i++) {
      let f: Uint8Array;
      switch (i % 10) {
        case 0: // raw garbage of any length, including shorter than a header
          f = junk(ri(80));
          break;
        case 1: {
          // an IP header with a wrong checksum
          const p = buildIpv4({ src: A_IP, dst: B_IP, protocol: IPPROTO_TCP }, junk(40));
          p[10] ^= 0x5a;
          f = eth(p);
          break;
        }
        case 2: {
          // random IHL / total length
          const p = buildIpv4({ src: A_IP, dst: B_IP, protocol: IPPROTO_UDP }, junk(30));
          p[0] = 0x40 | ri(16);
          p[3] = ri(256);
          f = eth(p);
          break;
        }
        case 3: {
          // a TCP segment whose option list is broken, with a correct checksum
          const t = buildTcp(A_IP, B_IP, { srcPort: 1000 + ri(1000), dstPort: 80, seq: ri(1e9), ack: 0, flags: SYN, window: 100, options: { mss: 1460 } });
          t[20] = 2;
          t[21] = ri(2); // option length 0 or 1
          f = eth(buildIpv4({ src: A_IP, dst: B_IP, protocol: IPPROTO_TCP }, fixTcp(t, A_IP, B_IP)));
          break;
        }
        case 4: {
          // overlapping fragments
          const id = ri(65536);
          f = eth(buildIpv4({ src: A_IP, dst: B_IP, protocol: IPPROTO_UDP, id, moreFragments: true }, junk(64)));
          h.wire.b.inject(f);
          f = eth(buildIpv4({ src: A_IP, dst: B_IP, protocol: IPPROTO_UDP, id, fragmentOffset: 32 }, junk(64)));
          break;
        }
        case 5:
        case 6: {
          // SYN flood from spoofed neighbours
          const src = spoof();
          f = eth(buildIpv4({ src, dst: B_IP, protocol: IPPROTO_TCP }, buildTcp(src, B_IP, { srcPort: 1024 + ri(60000), dstPort: 80, seq: ri(1e9), ack: 0, flags: SYN, window: 65535 })));
          break;
        }
        case 7: {
          // blind RST / ACK guesses
          const src = spoof();
          const flags = ri(2) ? RST : ACK;
          f = eth(buildIpv4({ src, dst: B_IP, protocol: IPPROTO_TCP }, buildTcp(src, B_IP, { srcPort: 1024 + ri(60000), dstPort: 80, seq: ri(1e9), ack: ri(1e9), flags, window: 0 })));
          break;
        }
        case 8: {
          // UDP with a bad checksum, and a truncated TCP header
          const u = buildUdp(A_IP, B_IP, 1, 53, junk(20));
          u[7] ^= 0xff;
          f = eth(buildIpv4({ src: A_IP, dst: B_IP, protocol: IPPROTO_UDP }, u));
          h.wire.b.inject(f);
          f = eth(buildIpv4({ src: A_IP, dst: B_IP, protocol: IPPROTO_TCP }, junk(ri(20))));
          break;
        }
        default: {
          // a valid frame with a few random bytes flipped
          const p = eth(buildIpv4({ src: A_IP, dst: B_IP, protocol: IPPROTO_TCP }, buildTcp(A_IP, B_IP, { srcPort: 4000, dstPort: 80, seq: 1, ack: 0, flags: SYN, window: 1 })));
          for (let k = 0; k < 3; k++) p[ri(p.length)] ^= 1 << ri(8);
          f = p;
        }
      }
      h.wire.b.inject(f);
      if (i % 500 === 0) h.stepTo(h.now + 100);
    }
    const s = h.b.stats;
    expect(s.ipBadChecksum).toBeGreaterThan(0);
    expect(s.tcpMalformed).toBeGreaterThan(0);
    expect(s.ipReassemblyOverlap).toBeGreaterThan(0);
    expect(s.tcpSynQueueFull).toBeGreaterThan(0);
    expect(s.udpMalformed).toBeGreaterThan(0);
    expect(l.listenQueues().syn).toBeLessThanOrEqual(8);
    expect(h.b.internalErrors).toBe(0);

    // The honest client, right after the flood.
    const c = h.a.newTcpEndpoint();
    ok(c.connect(B_IP, 80));
    let srv: TcpEndpoint | null = null;
    h.runUntil(() => {
      const r = l.accept();
      if (!isErr(r)) srv = r;
      return srv !== null;
    }, 10_000);
    expect(srv).not.toBeNull();
    const r = pump(h, c, srv as unknown as TcpEndpoint, 200_000, 60_000);
    expect(r).toEqual({ intact: true, received: 200_000 });
    expect(h.a.internalErrors + h.b.internalErrors).toBe(0);
  });
});

function fixTcp(seg: Uint8Array, src: number, dst: number): Uint8Array {
  const b = seg.slice();
  b[16] = 0;
  b[17] = 0;
  let s = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + IPPROTO_TCP + b.length;
  for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  const c = ~s & 0xffff;
  b[16] = c >> 8;
  b[17] = c & 0xff;
  return b;
}
