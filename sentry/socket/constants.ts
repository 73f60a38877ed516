// Socket ABI constants (x86-64 Linux, <linux/socket.h>, <asm-generic/socket.h>, <linux/in.h>).

export const AF = { UNSPEC: 0, UNIX: 1, INET: 2, INET6: 10, NETLINK: 16, PACKET: 17 } as const;

export const SOCK = {
  STREAM: 1, DGRAM: 2, RAW: 3, RDM: 4, SEQPACKET: 5, PACKET: 10,
  TYPE_MASK: 0xf, NONBLOCK: 0o4000, CLOEXEC: 0o2000000,
} as const;

export const SOL = { SOCKET: 1, IP: 0, TCP: 6, UDP: 17, IPV6: 41 } as const;

export const SO = {
  DEBUG: 1, REUSEADDR: 2, TYPE: 3, ERROR: 4, DONTROUTE: 5, BROADCAST: 6, SNDBUF: 7, RCVBUF: 8,
  KEEPALIVE: 9, OOBINLINE: 10, NO_CHECK: 11, PRIORITY: 12, LINGER: 13, BSDCOMPAT: 14,
  REUSEPORT: 15, PASSCRED: 16, PEERCRED: 17, RCVLOWAT: 18, SNDLOWAT: 19, RCVTIMEO: 20,
  SNDTIMEO: 21, ACCEPTCONN: 30, SNDBUFFORCE: 32, RCVBUFFORCE: 33, PROTOCOL: 38, DOMAIN: 39,
} as const;

export const MSG = {
  OOB: 0x1, PEEK: 0x2, DONTROUTE: 0x4, CTRUNC: 0x8, TRUNC: 0x20, DONTWAIT: 0x40, EOR: 0x80,
  WAITALL: 0x100, CONFIRM: 0x800, ERRQUEUE: 0x2000, NOSIGNAL: 0x4000, MORE: 0x8000,
  WAITFORONE: 0x10000, CMSG_CLOEXEC: 0x40000000,
} as const;

export const SCM = { RIGHTS: 1, CREDENTIALS: 2 } as const;

export const SHUT = { RD: 0, WR: 1, RDWR: 2 } as const;

/** Socket ioctls beyond FIONREAD. */
export const SIOC = {
  OUTQ: 0x5411, INQ: 0x541b, GIFNAME: 0x8910, GIFCONF: 0x8912, GIFFLAGS: 0x8913,
  GIFADDR: 0x8915, GIFBRDADDR: 0x8919, GIFNETMASK: 0x891b, GIFMTU: 0x8921, GIFHWADDR: 0x8927,
  GIFINDEX: 0x8933,
} as const;

/** Most file descriptors one SCM_RIGHTS message may carry (Linux SCM_MAX_FD). */
export const SCM_MAX_FD = 253;

/** Default SO_SNDBUF/SO_RCVBUF (Linux net.core.wmem_default / rmem_default). */
export const DEFAULT_BUF = 212_992;
/** Caps for setsockopt SO_SNDBUF/RCVBUF (net.core.wmem_max / rmem_max) and the floor. */
export const MAX_BUF = 212_992;
export const MIN_SNDBUF = 4608;
export const MIN_RCVBUF = 2304;
