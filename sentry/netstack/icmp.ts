// ICMPv4 (RFC 792): echo reply and the destination-unreachable errors we generate, with
// RFC 1122's rules on when an error must not be sent.

import { rd16, wr16 } from './bytes.js';
import { checksum, verifyChecksum } from './checksum.js';
import type { Ipv4Header } from './ipv4.js';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;

export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;

export interface IcmpMessage {
  type: number;
  code: number;
  /** The 4 bytes after the checksum (id/seq for echo, unused or MTU for errors). */
  rest: number;
  body: Uint8Array;
}

export function parseIcmp(b: Uint8Array): IcmpMessage | null {
  if (b.length < 8 || !verifyChecksum(b)) return null;
  return { type: b[0], code: b[1], rest: ((rd16(b, 4) << 16) | rd16(b, 6)) >>> 0, body: b.subarray(8) };
}

export function buildIcmp(type: number, code: number, rest: number, body: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + body.length);
  b[0] = type;
  b[1] = code;
  wr16(b, 4, rest >>> 16);
  wr16(b, 6, rest & 0xffff);
  b.set(body, 8);
  wr16(b, 2, checksum(b));
  return b;
}

/** The echo reply to a request: same identifier, sequence and data. */
export function echoReply(req: IcmpMessage): Uint8Array {
  return buildIcmp(ICMP_ECHO_REPLY, 0, req.rest, req.body);
}

/** An error quoting the offending datagram's header and first 8 payload bytes. */
export function destUnreachable(code: number, offending: Uint8Array, headerLength: number): Uint8Array {
  return buildIcmp(ICMP_DEST_UNREACH, code, 0, offending.subarray(0, Math.min(offending.length, headerLength + 8)));
}

/** RFC 1122 3.2.2: no error about an ICMP error, a non-first fragment, or a broadcast/multicast. */
export function mayReplyWithError(h: Ipv4Header, payload: Uint8Array, dstIsBroadcast: boolean): boolean {
  if (dstIsBroadcast || h.fragmentOffset !== 0) return false;
  if (h.src === 0 || h.src >>> 28 === 0xe || h.src === 0xffffffff) return false;
  if (h.protocol === 1) {
    const t = payload[0];
    if (t !== ICMP_ECHO_REQUEST && t !== ICMP_ECHO_REPLY && t !== 13 && t !== 14) return false;
  }
  return true;
}
