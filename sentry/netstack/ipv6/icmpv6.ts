// ICMPv6 (RFC 4443): the codec with its pseudo-header checksum, echo, and the error
// messages a host sends, with RFC 4443 2.4(e)'s rules on when not to send them.

import { rd16, wr16, wr32 } from '../bytes.js';
import { checksum, fold, sum16 } from '../checksum.js';
import { isMulticast6, isUnspecified6, type Ipv6Addr } from './addr6.js';
import { IPV6_HLEN, NH_ICMPV6, pseudoHeaderSum6, type Ipv6Packet } from './ipv6.js';

export const ICMP6_DEST_UNREACH = 1;
export const ICMP6_PACKET_TOO_BIG = 2;
export const ICMP6_TIME_EXCEEDED = 3;
export const ICMP6_PARAM_PROBLEM = 4;
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;
export const ICMP6_ROUTER_SOLICIT = 133;
export const ICMP6_ROUTER_ADVERT = 134;
export const ICMP6_NEIGHBOR_SOLICIT = 135;
export const ICMP6_NEIGHBOR_ADVERT = 136;

export const UNREACH_NO_ROUTE = 0;
export const UNREACH_ADMIN = 1;
export const UNREACH_ADDRESS = 3;
export const UNREACH_PORT = 4;

/** IPv6's minimum MTU: an error message never exceeds it (RFC 4443 2.4(c)). */
export const IPV6_MIN_MTU = 1280;

export interface Icmpv6Message {
  type: number;
  code: number;
  /** Everything after the 4-byte type/code/checksum header. */
  body: Uint8Array;
}

export function buildIcmpv6(src: Ipv6Addr, dst: Ipv6Addr, type: number, code: number, body: Uint8Array): Uint8Array {
  const b = new Uint8Array(4 + body.length);
  b[0] = type;
  b[1] = code;
  b.set(body, 4);
  wr16(b, 2, checksum(b, 0, b.length, pseudoHeaderSum6(src, dst, NH_ICMPV6, b.length)));
  return b;
}

/** Parse and verify the checksum (mandatory in ICMPv6); null when short or corrupt. */
export function parseIcmpv6(src: Ipv6Addr, dst: Ipv6Addr, b: Uint8Array): Icmpv6Message | null {
  if (b.length < 4) return null;
  if (fold(sum16(b, 0, b.length, pseudoHeaderSum6(src, dst, NH_ICMPV6, b.length))) !== 0xffff) return null;
  return { type: b[0], code: b[1], body: b.subarray(4) };
}

export const isIcmpv6Error = (type: number): boolean => type < 128;

/**
 * RFC 4443 2.4(e): no error about an error, about a packet from an unspecified or multicast
 * source, or about one sent to a multicast address (except Packet Too Big and an unknown
 * option whose type asks for a report).
 */
export function mayReplyWithError6(p: Ipv6Packet, type: number, code: number): boolean {
  const h = p.header;
  if (isUnspecified6(h.src) || isMulticast6(h.src)) return false;
  if (isMulticast6(h.dst) && type !== ICMP6_PACKET_TOO_BIG && !(type === ICMP6_PARAM_PROBLEM && code === 2)) return false;
  if (p.protocol === NH_ICMPV6 && p.fragment === undefined && p.payload.length >= 1 && isIcmpv6Error(p.payload[0])) return false;
  return true;
}

/** An error message body: the 32-bit field (pointer or MTU), then as much of the invoking packet as fits. */
export function errorBody(field: number, invoking: Uint8Array): Uint8Array {
  const room = IPV6_MIN_MTU - IPV6_HLEN - 8;
  const quoted = invoking.subarray(0, Math.min(invoking.length, room));
  const b = new Uint8Array(4 + quoted.length);
  wr32(b, 0, field >>> 0);
  b.set(quoted, 4);
  return b;
}

/** The echo identifier and sequence of an echo message body. */
export function echoIds(body: Uint8Array): { id: number; seq: number } | null {
  return body.length < 4 ? null : { id: rd16(body, 0), seq: rd16(body, 2) };
}
