// struct sockaddr_in: family, port (big-endian), address (big-endian), 8 bytes of zero.

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import type { Ipv4Addr } from '../../netstack/addr.js';
import { AF } from '../constants.js';

export const SOCKADDR_IN_SIZE = 16;

export interface InetAddress {
  addr: Ipv4Addr;
  port: number;
}

export function familyOf(b: Uint8Array): number {
  return b.length >= 2 ? b[0] | (b[1] << 8) : -1;
}

/**
 * Decodes a sockaddr_in. Linux's checks: a short address is EINVAL, another family
 * EAFNOSUPPORT (AF_UNSPEC passes where allowUnspec says, as bind allows it with INADDR_ANY).
 */
export function parseInetAddress(b: Uint8Array, allowUnspec = false): Result<InetAddress> {
  if (b.length < SOCKADDR_IN_SIZE) return err(E.EINVAL);
  const fam = familyOf(b);
  const addr = ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0;
  if (fam !== AF.INET && !(allowUnspec && fam === AF.UNSPEC && addr === 0)) return err(E.EAFNOSUPPORT);
  return { addr, port: (b[2] << 8) | b[3] };
}

export function formatInetAddress(a: InetAddress): Uint8Array {
  const b = new Uint8Array(SOCKADDR_IN_SIZE);
  b[0] = AF.INET;
  b[2] = a.port >>> 8;
  b[3] = a.port & 0xff;
  b[4] = a.addr >>> 24;
  b[5] = (a.addr >>> 16) & 0xff;
  b[6] = (a.addr >>> 8) & 0xff;
  b[7] = a.addr & 0xff;
  return b;
}

const LOOPBACK = 0x7f000001;

/** A destination as Linux routes it: INADDR_ANY means this host (127.0.0.1). */
export function destination(a: InetAddress): InetAddress {
  return a.addr === 0 ? { addr: LOOPBACK, port: a.port } : a;
}

/**
 * How an inet socket reads and writes its family's addresses: IPv4 here, IPv6 in
 * address6.ts (whose addresses the netstack numbers). sourceFor is the local address a
 * packet to addr would leave from (null when unroutable).
 */
export interface InetCodec {
  parse(b: Uint8Array, allowUnspec?: boolean): Result<InetAddress>;
  format(a: InetAddress): Uint8Array;
  destination(a: InetAddress): InetAddress;
  sourceFor(addr: number): number | null;
}

export function ipv4Codec(route: (dst: number) => { src: number } | null): InetCodec {
  return {
    parse: parseInetAddress,
    format: formatInetAddress,
    destination,
    sourceFor: (addr) => route(addr)?.src ?? null,
  };
}
