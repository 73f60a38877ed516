// struct sockaddr_in6 for sockets on the netstack's native IPv6 transport: the address is
// numbered by the transport (ipv6/transport6.ts), sin6_scope_id names a link-local
// address's interface. IPv4-mapped addresses never reach here (inet6_socket.ts sends them
// to the IPv4 transport).

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import { IPV6_LOOPBACK, isLinkLocal6, isV4Mapped6 } from '../../netstack/ipv6/addr6.js';
import type { Ipv6Transport } from '../../netstack/ipv6/transport6.js';
import { AF } from '../constants.js';
import { familyOf, type InetAddress, type InetCodec } from './address.js';

const SIN6_LEN_RFC2133 = 24;
const SOCKADDR_IN6_SIZE = 28;

export function ipv6Codec(t: Ipv6Transport): InetCodec {
  return {
    parse(b: Uint8Array): Result<InetAddress> {
      if (b.length < SIN6_LEN_RFC2133) return err(E.EINVAL);
      if (familyOf(b) !== AF.INET6) return err(E.EAFNOSUPPORT);
      const addr = b.slice(8, 24);
      if (isV4Mapped6(addr)) return err(E.ENETUNREACH);
      const scope = b.length >= SOCKADDR_IN6_SIZE ? new DataView(b.buffer, b.byteOffset).getUint32(24, true) : 0;
      // A link-local address means nothing without its interface (Linux: EINVAL).
      if (isLinkLocal6(addr) && scope === 0) return err(E.EINVAL);
      return { addr: t.idOf(addr, scope), port: (b[2] << 8) | b[3] };
    },
    format(a: InetAddress): Uint8Array {
      const b = new Uint8Array(SOCKADDR_IN6_SIZE);
      b[0] = AF.INET6;
      b[2] = a.port >>> 8;
      b[3] = a.port & 0xff;
      const addr = t.addressOf(a.addr);
      b.set(addr, 8);
      if (isLinkLocal6(addr)) new DataView(b.buffer).setUint32(24, t.scopeOf(a.addr), true);
      return b;
    },
    /** The unspecified address as a destination means this host: ::1. */
    destination: (a) => (a.addr === 0 ? { addr: t.idOf(IPV6_LOOPBACK), port: a.port } : a),
    sourceFor: (addr) => t.route(addr)?.src ?? null,
  };
}
