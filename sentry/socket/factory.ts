// socket(2)'s dispatch by address family: each family registers how it makes sockets, so
// that families live in their own folders and sys_socket.ts stays generic.

import { E } from '../abi/errno.js';
import { err, type Result } from '../abi/result.js';
import type { Task } from '../kernel/task.js';
import { AF, SOCK } from './constants.js';
import { credOf, type SocketFile } from './socket_file.js';
import { netServiceOf } from './inet/net_service.js';
import { IcmpSocket } from './inet/icmp_socket.js';
import { Icmp6Socket, IPPROTO_ICMPV6 } from './inet/icmp6_socket.js';
import { ipv6Codec } from './inet/address6.js';
import { Inet6Socket } from './inet/inet6_socket.js';
import { TcpSocket } from './inet/tcp_socket.js';
import { UdpSocket } from './inet/udp_socket.js';
import { NetlinkRouteSocket, netlinkType } from './netlink/route_socket.js';
import { unixNamespaceOf } from './unix/namespace.js';
import { UnixSocket } from './unix/unix_socket.js';
import { hostinetCreate } from './hostinet/hostinet.js';

export interface SocketFamily {
  /** A new socket; type has the SOCK_ flags stripped, flags holds O_NONBLOCK. */
  create(t: Task, type: number, protocol: number, flags: number): Result<SocketFile>;
  /** socketpair(2), or EOPNOTSUPP for families that have none. */
  pair?(t: Task, type: number, protocol: number, flags: number): Result<[SocketFile, SocketFile]>;
}

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

const families = new Map<number, SocketFamily>();

export function registerSocketFamily(family: number, f: SocketFamily): void {
  families.set(family, f);
}

export function socketFamily(family: number): SocketFamily | undefined {
  return families.get(family);
}

/** AF_UNIX: SOCK_RAW means SOCK_DGRAM, the protocol must be 0 (or PF_UNIX). */
function unixType(type: number, protocol: number): Result<number> {
  if (protocol !== 0 && protocol !== AF.UNIX) return err(E.EPROTONOSUPPORT);
  switch (type) {
    case SOCK.STREAM: case SOCK.DGRAM: case SOCK.SEQPACKET: return type;
    case SOCK.RAW: return SOCK.DGRAM;
    default: return err(E.ESOCKTNOSUPPORT);
  }
}

registerSocketFamily(AF.UNIX, {
  create(t, type, protocol, flags) {
    const ty = unixType(type, protocol);
    if (typeof ty !== 'number') return ty;
    return new UnixSocket(unixNamespaceOf(t.kernel), ty, flags, credOf(t));
  },
  pair(t, type, protocol, flags) {
    const ty = unixType(type, protocol);
    if (typeof ty !== 'number') return ty;
    return UnixSocket.pair(unixNamespaceOf(t.kernel), ty, flags, credOf(t));
  },
});

/** AF_INET: TCP, UDP, ping and raw ICMP sockets over the sandbox's netstack. */
registerSocketFamily(AF.INET, {
  create(t, type, protocol, flags) {
    const host = hostinetCreate(t, AF.INET, type, protocol, flags);
    if (host !== null) return host;
    const net = netServiceOf(t.kernel);
    if (type === SOCK.STREAM) {
      if (protocol !== 0 && protocol !== IPPROTO_TCP) return err(E.EPROTONOSUPPORT);
      return new TcpSocket(net, net.stack.newTcpEndpoint(), flags, credOf(t));
    }
    if (type === SOCK.DGRAM) {
      if (protocol === IPPROTO_ICMP) return new IcmpSocket(net, false, flags, credOf(t));
      if (protocol !== 0 && protocol !== IPPROTO_UDP) return err(E.EPROTONOSUPPORT);
      return new UdpSocket(net, net.stack.newUdpEndpoint(), flags, credOf(t));
    }
    if (type === SOCK.RAW) {
      if (protocol === IPPROTO_ICMP) return new IcmpSocket(net, true, flags, credOf(t));
      return err(E.EPROTONOSUPPORT);
    }
    return err(E.ESOCKTNOSUPPORT);
  },
});

const NETLINK_ROUTE = 0;

/** AF_NETLINK: only NETLINK_ROUTE, read-only, for `ip` and getifaddrs(). */
registerSocketFamily(AF.NETLINK, {
  create(t, type, protocol, flags) {
    if (!netlinkType(type)) return err(E.ESOCKTNOSUPPORT);
    if (protocol !== NETLINK_ROUTE) return err(E.EPROTONOSUPPORT);
    return new NetlinkRouteSocket(netServiceOf(t.kernel), type, flags, credOf(t));
  },
});

/** AF_INET6: TCP and UDP (dual-stack over IPv4, native over IPv6: inet6_socket.ts); ICMPv6 ping and raw sockets. */
registerSocketFamily(AF.INET6, {
  create(t, type, protocol, flags) {
    const host = hostinetCreate(t, AF.INET6, type, protocol, flags);
    if (host !== null) return host;
    const net = netServiceOf(t.kernel);
    if (type === SOCK.STREAM) {
      if (protocol !== 0 && protocol !== IPPROTO_TCP) return err(E.EPROTONOSUPPORT);
      const native = (): TcpSocket => new TcpSocket(net, net.stack.inet6.tcp.newEndpoint(), flags, credOf(t), ipv6Codec(net.stack.inet6));
      return new Inet6Socket(new TcpSocket(net, net.stack.newTcpEndpoint(), flags, credOf(t)), flags, credOf(t), native);
    }
    if (type === SOCK.DGRAM) {
      if (protocol === IPPROTO_ICMPV6) return new Icmp6Socket(net, false, flags, credOf(t));
      if (protocol !== 0 && protocol !== IPPROTO_UDP) return err(E.EPROTONOSUPPORT);
      const native = (): UdpSocket => new UdpSocket(net, net.stack.inet6.udp.newEndpoint(), flags, credOf(t), ipv6Codec(net.stack.inet6));
      return new Inet6Socket(new UdpSocket(net, net.stack.newUdpEndpoint(), flags, credOf(t)), flags, credOf(t), native);
    }
    if (type === SOCK.RAW) {
      if (protocol === IPPROTO_ICMPV6) return new Icmp6Socket(net, true, flags, credOf(t));
      return err(E.EPROTONOSUPPORT);
    }
    return err(E.ESOCKTNOSUPPORT);
  },
});
