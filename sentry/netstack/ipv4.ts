// IPv4 header codec (RFC 791) with strict validation, and output fragmentation.

import { rd16, rd32, wr16, wr32 } from './bytes.js';
import { checksum, verifyChecksum } from './checksum.js';
import { prepend } from './headroom.js';

export const IPV4_MIN_HLEN = 20;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const DEFAULT_TTL = 64;

export interface Ipv4Header {
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in bytes. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  src: number;
  dst: number;
}

export interface Ipv4Packet {
  header: Ipv4Header;
  /** The whole datagram as received, trimmed to totalLength (link padding removed). */
  raw: Uint8Array;
  payload: Uint8Array;
}

export type Ipv4ParseError = 'short' | 'version' | 'ihl' | 'length' | 'checksum' | 'ttl' | 'fragment';

export function parseIpv4(b: Uint8Array): Ipv4Packet | Ipv4ParseError {
  if (b.length < IPV4_MIN_HLEN) return 'short';
  if (b[0] >> 4 !== 4) return 'version';
  const hl = (b[0] & 0xf) * 4;
  if (hl < IPV4_MIN_HLEN || hl > b.length) return 'ihl';
  const total = rd16(b, 2);
  if (total < hl || total > b.length) return 'length';
  if (!verifyChecksum(b, 0, hl)) return 'checksum';
  const ttl = b[8];
  if (ttl === 0) return 'ttl';
  const ff = rd16(b, 6);
  // The reserved (evil) bit must be zero; a fragment may not run past 64 KiB.
  if (ff & 0x8000) return 'fragment';
  const fragmentOffset = (ff & 0x1fff) * 8;
  if (fragmentOffset + (total - hl) > 0xffff) return 'fragment';
  const raw = b.subarray(0, total);
  return {
    header: {
      headerLength: hl,
      tos: b[1],
      totalLength: total,
      id: rd16(b, 4),
      dontFragment: (ff & IP_DF) !== 0,
      moreFragments: (ff & IP_MF) !== 0,
      fragmentOffset,
      ttl,
      protocol: b[9],
      src: rd32(b, 12),
      dst: rd32(b, 16),
    },
    raw,
    payload: raw.subarray(hl),
  };
}

export interface Ipv4BuildOptions {
  src: number;
  dst: number;
  protocol: number;
  ttl?: number;
  tos?: number;
  id?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  fragmentOffset?: number;
}

export function buildIpv4(o: Ipv4BuildOptions, payload: Uint8Array): Uint8Array {
  const b = prepend(payload, IPV4_MIN_HLEN);
  b[0] = 0x45;
  b[1] = o.tos ?? 0;
  wr16(b, 2, b.length);
  wr16(b, 4, o.id ?? 0);
  wr16(b, 6, (o.dontFragment ? IP_DF : 0) | (o.moreFragments ? IP_MF : 0) | ((o.fragmentOffset ?? 0) >> 3));
  b[8] = o.ttl ?? DEFAULT_TTL;
  b[9] = o.protocol;
  wr32(b, 12, o.src);
  wr32(b, 16, o.dst);
  wr16(b, 10, checksum(b, 0, IPV4_MIN_HLEN));
  return b;
}

/** Split payload into datagrams that fit mtu; fragment payloads are multiples of 8 except the last. */
export function fragmentIpv4(o: Ipv4BuildOptions, payload: Uint8Array, mtu: number): Uint8Array[] {
  const max = (mtu - IPV4_MIN_HLEN) & ~7;
  if (max <= 0) return [];
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += max) {
    const end = Math.min(off + max, payload.length);
    out.push(buildIpv4({ ...o, fragmentOffset: off, moreFragments: end < payload.length }, payload.subarray(off, end)));
  }
  return out;
}
