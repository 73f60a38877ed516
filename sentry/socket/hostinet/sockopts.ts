// The socket options --network=host passes through to the host socket: an allowlist of
// options whose values are plain data (no pointers, no control messages the Sentry would
// have to translate). The Sentry keeps the rest it knows itself (SO_RCVTIMEO: it does the
// blocking; SO_TYPE...); anything else is ENOPROTOOPT, logged once.

import { SO, SOL } from '../constants.js';

const TCP = {
  NODELAY: 1, MAXSEG: 2, CORK: 3, KEEPIDLE: 4, KEEPINTVL: 5, KEEPCNT: 6, SYNCNT: 7, LINGER2: 8,
  DEFER_ACCEPT: 9, WINDOW_CLAMP: 10, INFO: 11, QUICKACK: 12, CONGESTION: 13, USER_TIMEOUT: 18,
  NOTSENT_LOWAT: 25,
} as const;

const IP = {
  TOS: 1, TTL: 2, MTU_DISCOVER: 10, MTU: 14, MULTICAST_IF: 32, MULTICAST_TTL: 33, MULTICAST_LOOP: 34,
  ADD_MEMBERSHIP: 35, DROP_MEMBERSHIP: 36, BIND_ADDRESS_NO_PORT: 24,
} as const;

const IPV6 = {
  UNICAST_HOPS: 16, MULTICAST_IF: 17, MULTICAST_HOPS: 18, MULTICAST_LOOP: 19, JOIN_GROUP: 20,
  LEAVE_GROUP: 21, MTU_DISCOVER: 23, MTU: 24, V6ONLY: 26, TCLASS: 67,
} as const;

/** Read-only options (getsockopt only). */
const READ_ONLY = new Set<string>([`${SOL.SOCKET}:${SO.ERROR}`, `${SOL.SOCKET}:${SO.ACCEPTCONN}`,
  `${SOL.TCP}:${TCP.INFO}`, `${SOL.IP}:${IP.MTU}`, `${SOL.IPV6}:${IPV6.MTU}`]);

const PASSED = new Map<number, Set<number>>([
  [SOL.SOCKET, new Set<number>([SO.REUSEADDR, SO.REUSEPORT, SO.KEEPALIVE, SO.BROADCAST, SO.SNDBUF, SO.RCVBUF,
    SO.LINGER, SO.OOBINLINE, SO.ERROR, SO.ACCEPTCONN, SO.RCVLOWAT, SO.DONTROUTE, SO.PRIORITY])],
  [SOL.TCP, new Set<number>(Object.values(TCP))],
  [SOL.IP, new Set<number>(Object.values(IP))],
  [SOL.IPV6, new Set<number>(Object.values(IPV6))],
]);

/** SOL_SOCKET options the Sentry answers itself (SocketFile's own handling). */
const SENTRY_OWN = new Set<number>([SO.RCVTIMEO, SO.SNDTIMEO, SO.TYPE, SO.DOMAIN, SO.PROTOCOL, SO.PEERCRED,
  SO.PASSCRED, SO.DEBUG, SO.SNDLOWAT]);

export type OptRoute = 'host' | 'sentry' | 'refuse';

/** Where an option goes: passed to the host socket, kept by the Sentry, or refused. */
export function optionRoute(level: number, name: number, set: boolean): OptRoute {
  if (level === SOL.SOCKET && SENTRY_OWN.has(name)) return 'sentry';
  if (PASSED.get(level)?.has(name) !== true) return 'refuse';
  if (set && READ_ONLY.has(`${level}:${name}`)) return 'refuse';
  return 'host';
}

/** The largest option value passed either way (struct tcp_info is the biggest, 232 bytes). */
export const OPT_MAX = 256;
