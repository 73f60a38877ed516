// The IPv6 header (RFC 8200) and its extension-header chain. A host processes Hop-by-Hop
// (only first), Destination Options, Routing (with Segments Left 0) and Fragment headers;
// what it cannot process becomes a Parameter Problem naming the offending byte.

import { rd16, rd32, wr16 } from '../bytes.js';
import { sum16 } from '../checksum.js';
import type { Ipv6Addr } from './addr6.js';
import { prepend } from '../headroom.js';

export const IPV6_HLEN = 40;
export const NH_HOPOPTS = 0;
export const NH_TCP = 6;
export const NH_UDP = 17;
export const NH_ROUTING = 43;
export const NH_FRAGMENT = 44;
export const NH_ICMPV6 = 58;
export const NH_NONE = 59;
export const NH_DSTOPTS = 60;
export const DEFAULT_HOP_LIMIT = 64;

export interface Ipv6Header {
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  /** The Next Header field of the fixed header. */
  nextHeader: number;
  hopLimit: number;
  src: Ipv6Addr;
  dst: Ipv6Addr;
}

export interface Ipv6Fragment {
  /** Offset in bytes of this fragment's data. */
  offset: number;
  more: boolean;
  id: number;
}

export interface Ipv6Packet {
  header: Ipv6Header;
  /** The datagram as received, trimmed to 40 + payload length. */
  raw: Uint8Array;
  /** The upper-layer protocol after the extension headers (NH_NONE when there is none). */
  protocol: number;
  /** Offset in raw of the upper-layer data. */
  offset: number;
  /** Offset in raw of the Next Header field that named protocol (for Parameter Problem pointers). */
  nextField: number;
  payload: Uint8Array;
  fragment?: Ipv6Fragment;
}

/** Why a datagram was dropped; 'problem' asks for an ICMPv6 Parameter Problem (RFC 4443 3.4). */
export type Ipv6ParseError =
  | { kind: 'short' | 'version' | 'length' | 'discard' }
  | { kind: 'problem'; code: number; pointer: number };

export const PARAM_ERRONEOUS_HEADER = 0;
export const PARAM_UNKNOWN_NEXT_HEADER = 1;
export const PARAM_UNKNOWN_OPTION = 2;

const problem = (code: number, pointer: number): Ipv6ParseError => ({ kind: 'problem', code, pointer });

/**
 * Walk a Hop-by-Hop or Destination Options header's TLVs (RFC 8200 4.2). An unknown option's
 * two high type bits choose: skip, discard, discard and report, report unless multicast.
 */
function checkOptions(b: Uint8Array, start: number, end: number, dstMulticast: boolean): Ipv6ParseError | null {
  let i = start + 2;
  while (i < end) {
    const type = b[i];
    if (type === 0) {
      i++;
      continue;
    }
    if (i + 2 > end || i + 2 + b[i + 1] > end) return problem(PARAM_ERRONEOUS_HEADER, i);
    if (type !== 1) {
      switch (type >> 6) {
        case 0: break;
        case 1: return { kind: 'discard' };
        case 2: return problem(PARAM_UNKNOWN_OPTION, i);
        default: return dstMulticast ? { kind: 'discard' } : problem(PARAM_UNKNOWN_OPTION, i);
      }
    }
    i += 2 + b[i + 1];
  }
  return null;
}

export function parseIpv6(b: Uint8Array): Ipv6Packet | Ipv6ParseError {
  if (b.length < IPV6_HLEN) return { kind: 'short' };
  if (b[0] >> 4 !== 6) return { kind: 'version' };
  const plen = rd16(b, 4);
  // Jumbograms (payload length 0 with a Jumbo option) need links we do not have.
  if (IPV6_HLEN + plen > b.length || plen === 0 && b[6] === NH_HOPOPTS) return { kind: 'length' };
  const raw = b.subarray(0, IPV6_HLEN + plen);
  const header: Ipv6Header = {
    trafficClass: ((b[0] & 0xf) << 4) | (b[1] >> 4),
    flowLabel: ((b[1] & 0xf) << 16) | rd16(b, 2),
    payloadLength: plen,
    nextHeader: b[6],
    hopLimit: b[7],
    src: raw.slice(8, 24),
    dst: raw.slice(24, 40),
  };
  const dstMulticast = header.dst[0] === 0xff;
  let next = header.nextHeader;
  let nextField = 6;
  let off = IPV6_HLEN;
  let fragment: Ipv6Fragment | undefined;
  for (;;) {
    if (next === NH_HOPOPTS && off !== IPV6_HLEN) return problem(PARAM_UNKNOWN_NEXT_HEADER, nextField);
    if (next === NH_HOPOPTS || next === NH_DSTOPTS || next === NH_ROUTING) {
      if (off + 8 > raw.length) return problem(PARAM_ERRONEOUS_HEADER, 4);
      const len = (raw[off + 1] + 1) * 8;
      if (off + len > raw.length) return problem(PARAM_ERRONEOUS_HEADER, 4);
      if (next === NH_ROUTING) {
        // We are the final destination: a routing header with segments left means forwarding.
        if (raw[off + 3] !== 0) return problem(PARAM_ERRONEOUS_HEADER, off + 2);
      } else {
        const bad = checkOptions(raw, off, off + len, dstMulticast);
        if (bad !== null) return bad;
      }
      nextField = off;
      next = raw[off];
      off += len;
      continue;
    }
    if (next === NH_FRAGMENT) {
      if (off + 8 > raw.length) return problem(PARAM_ERRONEOUS_HEADER, 4);
      const fo = rd16(raw, off + 2);
      fragment = { offset: fo & 0xfff8, more: (fo & 1) === 1, id: rd32(raw, off + 4) };
      // Every fragment but the last carries a multiple of 8 bytes (RFC 8200 4.5).
      if (fragment.more && (raw.length - off - 8) % 8 !== 0) return problem(PARAM_ERRONEOUS_HEADER, 4);
      nextField = off;
      next = raw[off];
      off += 8;
      if (fragment.offset !== 0 || fragment.more) break;
      fragment = undefined; // An atomic fragment (RFC 6946) is processed as a whole datagram.
      continue;
    }
    break;
  }
  return { header, raw, protocol: next, offset: off, nextField, payload: raw.subarray(off), fragment };
}

export interface Ipv6BuildOptions {
  src: Ipv6Addr;
  dst: Ipv6Addr;
  nextHeader: number;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
}

export function buildIpv6(o: Ipv6BuildOptions, payload: Uint8Array): Uint8Array {
  const b = prepend(payload, IPV6_HLEN);
  const tc = o.trafficClass ?? 0;
  const fl = o.flowLabel ?? 0;
  b[0] = 0x60 | (tc >> 4);
  b[1] = ((tc & 0xf) << 4) | ((fl >> 16) & 0xf);
  wr16(b, 2, fl & 0xffff);
  wr16(b, 4, payload.length);
  b[6] = o.nextHeader;
  b[7] = o.hopLimit ?? DEFAULT_HOP_LIMIT;
  b.set(o.src, 8);
  b.set(o.dst, 24);
  return b;
}

/** Sum of the IPv6 pseudo-header (RFC 8200 8.1) for TCP, UDP and ICMPv6 checksums. */
export function pseudoHeaderSum6(src: Ipv6Addr, dst: Ipv6Addr, nextHeader: number, length: number): number {
  return sum16(src, 0, 16, sum16(dst, 0, 16)) + Math.floor(length / 0x10000) + (length & 0xffff) + nextHeader;
}
