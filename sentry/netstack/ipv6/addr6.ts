// IPv6 addresses (RFC 4291) are 16-byte arrays; text form per RFC 5952 (lower case, the
// longest run of zero groups compressed to "::").

import type { MacAddr } from '../addr.js';

export type Ipv6Addr = Uint8Array;

export const IPV6_UNSPECIFIED: Ipv6Addr = new Uint8Array(16);
export const IPV6_LOOPBACK: Ipv6Addr = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
/** ff02::1, every node on the link. */
export const IPV6_ALL_NODES: Ipv6Addr = Uint8Array.from([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

/** Parse RFC 4291 text (with at most one "::" and an optional trailing dotted quad); null when malformed. */
export function parseIPv6(s: string): Ipv6Addr | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i];
      if (i === items.length - 1 && g.includes('.')) {
        const q = g.split('.');
        if (q.length !== 4 || !q.every((x) => /^\d{1,3}$/.test(x) && Number(x) < 256)) return null;
        out.push((Number(q[0]) << 8) | Number(q[1]), (Number(q[2]) << 8) | Number(q[3]));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const a = new Uint8Array(16);
  all.forEach((g, i) => {
    a[2 * i] = g >> 8;
    a[2 * i + 1] = g & 0xff;
  });
  return a;
}

export function formatIPv6(a: Ipv6Addr): string {
  const g = Array.from({ length: 8 }, (_, i) => (a[2 * i] << 8) | a[2 * i + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export function ipv6Equal(a: Ipv6Addr, b: Ipv6Addr): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A map key for an address. */
export function key6(a: Ipv6Addr): string {
  return Buffer.from(a.buffer, a.byteOffset, 16).toString('hex');
}

export const isUnspecified6 = (a: Ipv6Addr): boolean => ipv6Equal(a, IPV6_UNSPECIFIED);
export const isLoopback6 = (a: Ipv6Addr): boolean => ipv6Equal(a, IPV6_LOOPBACK);
export const isMulticast6 = (a: Ipv6Addr): boolean => a[0] === 0xff;
/** fe80::/10. */
export const isLinkLocal6 = (a: Ipv6Addr): boolean => a[0] === 0xfe && (a[1] & 0xc0) === 0x80;
/** ::ffff:0:0/96, an IPv4 address seen through IPv6; never valid on the wire (RFC 4291 2.5.5.2). */
export const isV4Mapped6 = (a: Ipv6Addr): boolean => a.subarray(0, 10).every((x) => x === 0) && a[10] === 0xff && a[11] === 0xff;

export function inPrefix6(a: Ipv6Addr, net: Ipv6Addr, len: number): boolean {
  for (let bit = 0; bit < len; bit += 8) {
    const mask = len - bit >= 8 ? 0xff : (0xff << (8 - (len - bit))) & 0xff;
    if ((a[bit >> 3] & mask) !== (net[bit >> 3] & mask)) return false;
  }
  return true;
}

/** ff02::1:ffXX:XXXX, where a node listens for neighbor solicitations about a (RFC 4291 2.7.1). */
export function solicitedNode(a: Ipv6Addr): Ipv6Addr {
  const m = Uint8Array.from([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 0]);
  m.set(a.subarray(13, 16), 13);
  return m;
}

/** The Ethernet group address of an IPv6 multicast address: 33:33 and its low 32 bits (RFC 2464 7). */
export function multicastMac6(a: Ipv6Addr): MacAddr {
  return Uint8Array.from([0x33, 0x33, a[12], a[13], a[14], a[15]]);
}

/** The fe80::/64 address with a modified EUI-64 interface id from a MAC (RFC 4291 appendix A). */
export function linkLocalFromMac(mac: MacAddr): Ipv6Addr {
  return Uint8Array.from([0xfe, 0x80, 0, 0, 0, 0, 0, 0, mac[0] ^ 2, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]]);
}
