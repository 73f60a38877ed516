// Wire formats: checksums, Ethernet, IPv4, ARP, UDP and TCP options, against known bytes.

import { describe, expect, test } from 'vitest';
import { formatIPv4, parseIPv4, parseMac, prefixMask } from '../../sentry/netstack/addr.js';
import { ARP_REQUEST, buildArp, parseArp } from '../../sentry/netstack/arp.js';
import { checksum, fold, pseudoHeaderSum, verifyChecksum } from '../../sentry/netstack/checksum.js';
import { ETHERTYPE_ARP, buildEthernet, parseEthernet } from '../../sentry/netstack/ethernet.js';
import { IPPROTO_UDP, buildIpv4, fragmentIpv4, parseIpv4 } from '../../sentry/netstack/ipv4.js';
import { RouteTable } from '../../sentry/netstack/route.js';
import { ACK, SYN, buildTcp, parseTcp } from '../../sentry/netstack/tcp/segment.js';
import { seqGT, seqLT } from '../../sentry/netstack/tcp/seq.js';
import { RttEstimator } from '../../sentry/netstack/tcp/rtt.js';
import { buildUdp, parseUdp } from '../../sentry/netstack/udp.js';

const ip = (s: string): number => parseIPv4(s) as number;

describe('checksum', () => {
  test('RFC 1071 worked example', () => {
    const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(checksum(b)).toBe(0x220d);
  });

  test('odd length pads with a zero byte', () => {
    expect(checksum(Uint8Array.from([0x12, 0x34, 0x56]))).toBe(~(0x1234 + 0x5600) & 0xffff);
  });

  test('a real IPv4 header sums to all-ones and we compute its checksum', () => {
    const hdr = Uint8Array.from([0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7]);
    expect(verifyChecksum(hdr)).toBe(true);
    const built = buildIpv4({ src: ip('192.168.0.1'), dst: ip('192.168.0.199'), protocol: IPPROTO_UDP, id: 0, dontFragment: true }, new Uint8Array(0x73 - 20));
    expect(Array.from(built.subarray(0, 20))).toEqual(Array.from(hdr));
  });

  test('the word-at-a-time sum agrees with the byte-pair definition at every offset and length', () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    const big = Uint8Array.from({ length: 4096 }, rnd);
    // The definition: big-endian byte pairs, an odd tail padded with zero.
    const slow = (d: Uint8Array, a: number, e: number, initial: number): number => {
      let s = initial;
      for (let i = a; i < e; i += 2) s += (d[i] << 8) | (i + 1 < e ? d[i + 1] : 0);
      return ~fold(s) & 0xffff;
    };
    for (const off of [0, 1, 2, 3, 5, 14, 34]) {
      for (const len of [0, 1, 63, 64, 65, 66, 67, 1460, 1461, 3000]) {
        const view = big.subarray(off, off + len + 8);
        for (const start of [0, 1, 2, 3]) {
          expect(checksum(view, start, start + len, 0x1234)).toBe(slow(view, start, start + len, 0x1234));
        }
      }
    }
    // All-ones words: the end-around carries still come out right.
    expect(checksum(new Uint8Array(1024).fill(0xff))).toBe(0);
  });

  test('pseudo-header sum folds address halves, protocol and length', () => {
    expect(pseudoHeaderSum(0x0a000001, 0x0a000002, 6, 20)).toBe(0x0a00 + 1 + 0x0a00 + 2 + 6 + 20);
  });
});

describe('addresses and routes', () => {
  test('parse and format', () => {
    expect(parseIPv4('10.1.2.3')).toBe(0x0a010203);
    expect(parseIPv4('256.1.1.1')).toBeNull();
    expect(parseIPv4('1.2.3')).toBeNull();
    expect(parseIPv4('1.2.3.x')).toBeNull();
    expect(formatIPv4(0xc0a80001)).toBe('192.168.0.1');
    expect(parseMac('zz:00:00:00:00:00')).toBeNull();
    expect(prefixMask(24)).toBe(0xffffff00);
    expect(prefixMask(0)).toBe(0);
  });

  test('longest prefix wins, then metric', () => {
    const t = new RouteTable();
    t.add({ dest: 0, prefixLen: 0, gateway: ip('192.168.1.1'), nicId: 1, metric: 0 });
    t.add({ dest: ip('10.0.0.0'), prefixLen: 8, gateway: 0, nicId: 2, metric: 0 });
    t.add({ dest: ip('10.1.0.0'), prefixLen: 16, gateway: 0, nicId: 3, metric: 5 });
    t.add({ dest: ip('10.1.0.0'), prefixLen: 16, gateway: 0, nicId: 4, metric: 1 });
    expect(t.lookup(ip('10.1.2.3'))?.nicId).toBe(4);
    expect(t.lookup(ip('10.2.2.3'))?.nicId).toBe(2);
    expect(t.lookup(ip('8.8.8.8'))?.nicId).toBe(1);
    t.remove((r) => r.prefixLen === 0);
    expect(t.lookup(ip('8.8.8.8'))).toBeUndefined();
  });

  test('sequence comparisons wrap', () => {
    expect(seqLT(0xfffffff0, 0x10)).toBe(true);
    expect(seqGT(0x10, 0xfffffff0)).toBe(true);
  });
});

describe('ethernet and ARP', () => {
  test('round trip and short frames', () => {
    const mac = parseMac('02:00:00:00:00:09')!;
    const f = buildEthernet(mac, mac, ETHERTYPE_ARP, Uint8Array.of(1, 2, 3));
    const e = parseEthernet(f)!;
    expect(e.etherType).toBe(ETHERTYPE_ARP);
    expect(Array.from(e.payload)).toEqual([1, 2, 3]);
    expect(parseEthernet(new Uint8Array(13))).toBeNull();
  });

  test('ARP codec accepts only Ethernet/IPv4', () => {
    const p = { op: ARP_REQUEST, senderMac: parseMac('02:00:00:00:00:01')!, senderIp: ip('10.0.0.1'), targetMac: new Uint8Array(6), targetIp: ip('10.0.0.2') };
    const b = buildArp(p);
    expect(parseArp(b)).toMatchObject({ op: ARP_REQUEST, senderIp: p.senderIp, targetIp: p.targetIp });
    const bad = b.slice();
    bad[1] = 6; // htype 6 (IEEE 802)
    expect(parseArp(bad)).toBeNull();
    const badOp = b.slice();
    badOp[7] = 9;
    expect(parseArp(badOp)).toBeNull();
    expect(parseArp(b.subarray(0, 27))).toBeNull();
  });
});

describe('IPv4', () => {
  const base = { src: ip('10.0.0.2'), dst: ip('10.0.0.1'), protocol: 17 };

  test('strict validation', () => {
    const good = buildIpv4(base, new Uint8Array(8));
    expect(typeof parseIpv4(good)).toBe('object');
    expect(parseIpv4(good.subarray(0, 19))).toBe('short');
    const v6 = good.slice();
    v6[0] = 0x65;
    expect(parseIpv4(v6)).toBe('version');
    const ihl = good.slice();
    ihl[0] = 0x44;
    expect(parseIpv4(ihl)).toBe('ihl');
    const long = good.slice();
    long[3] = 200;
    expect(parseIpv4(long)).toBe('length');
    const sum = good.slice();
    sum[10] ^= 1;
    expect(parseIpv4(sum)).toBe('checksum');
    expect(parseIpv4(buildIpv4({ ...base, ttl: 0 }, new Uint8Array(8)))).toBe('ttl');
  });

  test('link padding beyond total length is trimmed', () => {
    const pkt = buildIpv4(base, Uint8Array.of(1, 2, 3));
    const padded = new Uint8Array(60);
    padded.set(pkt);
    const p = parseIpv4(padded);
    expect(typeof p === 'object' && Array.from(p.payload)).toEqual([1, 2, 3]);
  });

  test('fragmentation splits on 8-byte boundaries', () => {
    const frags = fragmentIpv4({ ...base, id: 7 }, new Uint8Array(3000), 1500);
    const parsed = frags.map((f) => parseIpv4(f));
    expect(parsed.map((p) => typeof p === 'object' && [p.header.fragmentOffset, p.payload.length, p.header.moreFragments])).toEqual([
      [0, 1480, true],
      [1480, 1480, true],
      [2960, 40, false],
    ]);
  });
});

describe('UDP and TCP codecs', () => {
  const s = ip('10.0.0.2');
  const d = ip('10.0.0.1');

  test('UDP checksum verified; zero means none', () => {
    const u = buildUdp(s, d, 1234, 53, Uint8Array.of(9, 9, 9));
    expect(parseUdp(u, s, d)).toMatchObject({ srcPort: 1234, dstPort: 53 });
    const bad = u.slice();
    bad[8] ^= 1;
    expect(parseUdp(bad, s, d)).toBeNull();
    bad[6] = 0;
    bad[7] = 0;
    expect(parseUdp(bad, s, d)).not.toBeNull();
    const shortLen = u.slice();
    shortLen[5] = 4;
    expect(parseUdp(shortLen, s, d)).toBeNull();
  });

  test('TCP options round trip, unknown options are skipped, malformed lists rejected', () => {
    const seg = buildTcp(s, d, {
      srcPort: 1,
      dstPort: 2,
      seq: 0xfffffff0,
      ack: 5,
      flags: SYN | ACK,
      window: 1000,
      options: { mss: 1400, wscale: 7, sackPermitted: true, tsVal: 11, tsEcr: 22 },
    });
    expect((seg[12] >> 4) * 4).toBe(40);
    const p = parseTcp(seg, s, d)!;
    expect(p.options).toEqual({ mss: 1400, wscale: 7, sackPermitted: true, tsVal: 11, tsEcr: 22 });
    expect(p.seq).toBe(0xfffffff0);

    const sack = parseTcp(buildTcp(s, d, { srcPort: 1, dstPort: 2, seq: 1, ack: 1, flags: ACK, window: 1, options: { sack: [{ start: 10, end: 20 }] } }), s, d)!;
    expect(sack.options.sack).toEqual([{ start: 10, end: 20 }]);

    const raw = (opts: number[]): Uint8Array => {
      const b = buildTcp(s, d, { srcPort: 1, dstPort: 2, seq: 1, ack: 1, flags: ACK, window: 1, options: { mss: 1 } });
      b.set(opts, 20);
      return b;
    };
    expect(parseTcp(raw([99, 4, 0, 0]), s, d, false)?.options).toEqual({}); // unknown kind skipped
    expect(parseTcp(raw([3, 3, 200, 0]), s, d, false)?.options.wscale).toBe(14); // clamped
    expect(parseTcp(raw([2, 0, 0, 0]), s, d, false)).toBeNull(); // length 0
    expect(parseTcp(raw([2, 9, 0, 0]), s, d, false)).toBeNull(); // runs past the header
    expect(parseTcp(raw([2, 3, 5, 0]), s, d, false)?.options.mss).toBeUndefined(); // wrong size: ignored
  });
});

describe('RTT estimator (RFC 6298)', () => {
  test('first sample, smoothing, clamping and backoff', () => {
    const r = new RttEstimator();
    expect(r.rto).toBe(1000);
    r.sample(100);
    expect(r.srtt).toBe(100);
    expect(r.rttvar).toBe(50);
    expect(r.rto).toBe(300);
    r.sample(100);
    expect(r.rto).toBe(Math.ceil(100 + 4 * 37.5));
    r.backoff();
    r.backoff();
    expect(r.rto).toBe(1000);
    r.sample(1);
    expect(r.rto).toBeGreaterThanOrEqual(200);
    for (let i = 0; i < 40; i++) r.backoff();
    expect(r.rto).toBe(120_000);
  });
});
