// /proc/net: the sandbox's network state in Linux's text formats, generated from its
// netstack and unix socket table on every open, so netstat/ifconfig/route (busybox, net-tools)
// show the sandbox's view. Kernel pointers print as zeros (kptr_restrict).

import type { Kernel } from '../../kernel/kernel.js';
import { formatIPv4, formatMac } from '../../netstack/addr.js';
import { isLinkLocal6, isLoopback6, key6 } from '../../netstack/ipv6/addr6.js';
import type { Stack } from '../../netstack/stack.js';
import type { TcpEndpoint, TcpState } from '../../netstack/tcp/endpoint.js';
import type { UdpEndpoint } from '../../netstack/udp.js';
import { endpointOwner } from '../../socket/inet/owners.js';
import { netServiceOf } from '../../socket/inet/net_service.js';
import { peekUnixNamespace, type UnixNamespace } from '../../socket/unix/namespace.js';
import { entries, GenDir, GenFile, type Entries, type GenFs } from './nodes.js';

/** Linux's TCP state numbers (include/net/tcp_states.h). */
const TCP_STATE: Record<TcpState, number> = {
  ESTABLISHED: 1, SYN_SENT: 2, SYN_RECEIVED: 3, FIN_WAIT_1: 4, FIN_WAIT_2: 5, TIME_WAIT: 6,
  CLOSED: 7, CLOSE_WAIT: 8, LAST_ACK: 9, LISTEN: 10, CLOSING: 11,
};
const TCP_CLOSE = 7;
const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;
/** Linux's USER_HZ: timer fields are in clock ticks. */
const USER_HZ = 100;
const SO_ACCEPTCON = 1 << 16;
const SS_UNCONNECTED = 1;
const SS_CONNECTED = 3;

const hex = (n: number, w: number): string => (n >>> 0).toString(16).toUpperCase().padStart(w, '0');

/** A __be32 printed with %08X on a little-endian host: 127.0.0.1 is 0100007F. */
function beHex(a: number): string {
  return hex((((a & 0xff) << 24) | ((a >>> 8 & 0xff) << 16) | ((a >>> 16 & 0xff) << 8) | (a >>> 24)) >>> 0, 8);
}

/** An IPv4 address as a v6 socket holds it (:: or ::ffff:a.b.c.d), four be32 words as %08X. */
function beHex6(a: number): string {
  return a === 0 ? '0'.repeat(32) : '0'.repeat(16) + beHex(0x0000ffff) + beHex(a);
}

interface SockRow {
  local: { addr: number; port: number };
  remote: { addr: number; port: number };
  state: number;
  txQueue: number;
  rxQueue: number;
  uid: number;
  ino: bigint;
  /** Linux's per-protocol trailing columns. */
  tail: string;
}

/** An IPv6 address as four __be32 words printed with %08X on a little-endian host. */
function hexWords6(a: Uint8Array): string {
  let out = '';
  for (let i = 0; i < 16; i += 4) out += beHex(((a[i] << 24) | (a[i + 1] << 16) | (a[i + 2] << 8) | a[i + 3]) >>> 0);
  return out;
}

function sockLine(i: number, r: SockRow, addr: (a: number) => string): string {
  return `${String(i).padStart(4)}: ${addr(r.local.addr)}:${hex(r.local.port, 4)} ${addr(r.remote.addr)}:${hex(r.remote.port, 4)} ` +
    `${hex(r.state, 2)} ${hex(r.txQueue, 8)}:${hex(r.rxQueue, 8)} 00:00000000 00000000 ${String(r.uid).padStart(5)} ` +
    `${String(0).padStart(8)} ${r.ino} ${r.tail}`;
}

function tcpRow(ep: TcpEndpoint, addr: (a: number) => string): SockRow & { addr: (a: number) => string } {
  const o = endpointOwner(ep);
  const info = ep.info();
  const listening = ep.state === 'LISTEN';
  const q = listening ? ep.listenQueues() : null;
  const ssthresh = info.ssthresh >= 0xffff ? -1 : info.ssthresh;
  const cwndSegs = Math.max(1, Math.round(info.cwnd / Math.max(1, info.sndMss)));
  const rto = Math.round((info.rtoMs * USER_HZ) / 1000);
  return {
    local: ep.localAddress(),
    remote: ep.remoteAddress() ?? { addr: 0, port: 0 },
    state: TCP_STATE[ep.state],
    // A listener shows its accept queue, a connection its unacked and unread bytes.
    txQueue: q !== null ? 0 : ep.unsentBytes(),
    rxQueue: q !== null ? q.accept : ep.readableBytes(),
    uid: o?.uid ?? 0,
    ino: o?.ino ?? 0n,
    tail: `1 0000000000000000 ${rto} 4 ${listening ? 0 : 30} ${cwndSegs} ${ssthresh}`,
    addr,
  };
}

function udpRow(route: (dst: number) => { src: number } | null, ep: UdpEndpoint, addr: (a: number) => string): SockRow & { addr: (a: number) => string } {
  const o = endpointOwner(ep);
  const remote = ep.remoteAddress();
  let local = ep.localAddress();
  // A connected socket bound to the wildcard shows the source its route picked, as Linux does.
  if (local.addr === 0 && remote !== null) local = { addr: route(remote.addr)?.src ?? 0, port: local.port };
  return {
    local,
    remote: remote ?? { addr: 0, port: 0 },
    state: remote === null ? TCP_CLOSE : TCP_STATE.ESTABLISHED,
    txQueue: 0,
    rxQueue: ep.nextSize(),
    uid: o?.uid ?? 0,
    ino: o?.ino ?? 0n,
    tail: '2 0000000000000000 0',
    addr,
  };
}

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const TCP6_HEADER = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const UDP_HEADER = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops';
const UDP6_HEADER = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops';

/**
 * /proc/net/tcp (v6=false) or tcp6: IPv4 endpoints by owning family (AF_INET6 sockets show
 * theirs v4-mapped in tcp6), then, in tcp6, those of the native IPv6 transport.
 */
export function procNetTcp(stack: Stack | undefined, v6: boolean): string {
  // IPv4 lines are padded to a fixed 149 columns, as Linux's seq_pad does; IPv6 lines are not.
  const pad = (s: string): string => (v6 ? s : s.padEnd(149));
  const rows = (stack?.tcp.endpoints() ?? [])
    .filter((ep) => (endpointOwner(ep)?.v6 ?? false) === v6 && endpointOwner(ep)?.hidden !== true)
    .map((ep) => tcpRow(ep, v6 ? beHex6 : beHex));
  if (v6 && stack !== undefined) {
    const t = stack.inet6;
    rows.push(...t.tcp.endpoints().map((ep) => tcpRow(ep, (a) => hexWords6(t.addressOf(a)))));
  }
  return [pad(v6 ? TCP6_HEADER : TCP_HEADER), ...rows.map((r, i) => pad(sockLine(i, r, r.addr)))].join('\n') + '\n';
}

/** /proc/net/udp or udp6: every bound endpoint. */
export function procNetUdp(stack: Stack | undefined, v6: boolean): string {
  const pad = (s: string): string => (v6 ? s : s.padEnd(127));
  const head = pad(v6 ? UDP6_HEADER : UDP_HEADER);
  if (stack === undefined) return head + '\n';
  const rows = stack.udp.endpoints()
    .filter((ep) => (endpointOwner(ep)?.v6 ?? false) === v6 && endpointOwner(ep)?.hidden !== true)
    .map((ep) => udpRow((d) => stack.route(d), ep, v6 ? beHex6 : beHex));
  if (v6) {
    const t = stack.inet6;
    rows.push(...t.udp.endpoints().map((ep) => udpRow((d) => t.route(d), ep, (a) => hexWords6(t.addressOf(a)))));
  }
  // Linux numbers UDP lines by hash bucket; the index is only a row label for readers.
  return [head, ...rows.map((r, i) => pad(' ' + sockLine(i, r, r.addr)))].join('\n') + '\n';
}

/** /proc/net/dev: per-interface counters (errors, drops and the rest are not kept per device). */
export function procNetDev(stack: Stack | undefined): string {
  const head = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
  ];
  const rows = (stack?.listNics() ?? []).map((n) => {
    const c = n.counters;
    const w = (v: number, width: number): string => String(v).padStart(width);
    return `${n.name.padStart(6)}:${w(c.rxBytes, 8)} ${w(c.rxPackets, 7)} ${w(0, 4)} ${w(0, 4)} ${w(0, 4)} ${w(0, 5)} ${w(0, 10)} ${w(0, 9)} ` +
      `${w(c.txBytes, 8)} ${w(c.txPackets, 7)} ${w(0, 4)} ${w(0, 4)} ${w(0, 4)} ${w(0, 5)} ${w(0, 7)} ${w(0, 10)}`;
  });
  return [...head, ...rows].join('\n') + '\n';
}

/** /proc/net/route: the main table (Linux keeps loopback routes in the local table, not shown). */
export function procNetRoute(stack: Stack | undefined): string {
  const pad = (s: string): string => s.padEnd(127);
  const lines = [pad('Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT')];
  for (const r of stack?.routes.list() ?? []) {
    const nic = stack?.nic(r.nicId);
    if (nic === undefined || nic.isLoopback) continue;
    const mask = r.prefixLen === 0 ? 0 : (0xffffffff << (32 - r.prefixLen)) >>> 0;
    const flags = (nic.up ? RTF_UP : 0) | (r.gateway !== 0 ? RTF_GATEWAY : 0);
    lines.push(pad(`${nic.name}\t${beHex(r.dest)}\t${beHex(r.gateway)}\t${hex(flags, 4)}\t0\t0\t${r.metric}\t${beHex(mask)}\t0\t0\t0`));
  }
  return lines.join('\n') + '\n';
}

/**
 * /proc/net/unix: every open unix socket; "@" starts an abstract name. RefCount is Linux's
 * usual sk_refcnt (2, or 3 with a peer): the kernel-internal count has no equivalent here.
 */
export function procNetUnix(ns: UnixNamespace | undefined): string {
  const lines = ['Num       RefCount Protocol Flags    Type St Inode Path'];
  for (const s of ns?.live ?? []) {
    const p = s.procInfo();
    const st = p.connected ? SS_CONNECTED : SS_UNCONNECTED;
    const line = `0000000000000000: ${hex(p.connected ? 3 : 2, 8)} 00000000 ${hex(p.listening ? SO_ACCEPTCON : 0, 8)} ${hex(s.type, 4)} ${hex(st, 2)} ${s.ino}`;
    lines.push(p.name === null ? line : `${line} ${p.name}`);
  }
  return lines.join('\n') + '\n';
}

const IFA_F_PERMANENT = 0x80;

/** Linux's address scope numbers as if_inet6 prints them (IPV6_ADDR_LOOPBACK/LINKLOCAL, global 0). */
function scope6(a: Uint8Array): number {
  if (isLoopback6(a)) return 0x10;
  if (isLinkLocal6(a)) return 0x20;
  return 0;
}

/** /proc/net/if_inet6: address, ifindex, prefix length, scope, flags, device (no header). */
export function procNetIfInet6(stack: Stack | undefined): string {
  if (stack === undefined) return '';
  const lines: string[] = [];
  for (const n of stack.listNics()) {
    for (const a of stack.ipv6.addresses(n.id)) {
      lines.push(`${key6(a.addr)} ${hex(n.id, 2).toLowerCase()} ${hex(a.prefixLen, 2).toLowerCase()} ${hex(scope6(a.addr), 2).toLowerCase()} ${hex(IFA_F_PERMANENT, 2).toLowerCase()} ${n.name.padStart(8)}`);
    }
  }
  return lines.map((l) => l + '\n').join('');
}

const RTF_DEFAULT = 0x10000;
const RTF_ADDRCONF = 0x40000;
const RTF_NONEXTHOP = 0x200000;
const RTF_EXPIRES = 0x400000;
const RTF_LOCAL = 0x80000000;

/**
 * /proc/net/ipv6_route: destination, prefix length, source (unused), next hop, metric,
 * refcount, use, flags and device, for the main table's routes and each address's local one.
 */
export function procNetIpv6Route(stack: Stack | undefined): string {
  if (stack === undefined) return '';
  const zero = key6(new Uint8Array(16));
  const { main, local } = stack.ipv6.routeView();
  const lines: string[] = [];
  const h = (n: number, w: number): string => hex(n, w).toLowerCase();
  for (const r of main) {
    const nic = stack.nic(r.nicId);
    if (nic === undefined) continue;
    let flags = (nic.up ? RTF_UP : 0) | (r.gateway !== null ? RTF_GATEWAY : 0);
    if (r.origin === 'ra') flags |= RTF_ADDRCONF | (r.expiresAt !== Infinity ? RTF_EXPIRES : 0) | (r.prefixLen === 0 ? RTF_DEFAULT : 0);
    lines.push(`${key6(r.dest)} ${h(r.prefixLen, 2)} ${zero} 00 ${r.gateway === null ? zero : key6(r.gateway)} ${h(r.metric, 8)} 00000001 00000000 ${h(flags, 8)} ${nic.name.padStart(8)}`);
  }
  for (const r of local) {
    const nic = stack.nic(r.nicId);
    if (nic === undefined) continue;
    lines.push(`${key6(r.dest)} 80 ${zero} 00 ${zero} 00000000 00000001 00000000 ${h(RTF_LOCAL | RTF_NONEXTHOP | RTF_UP, 8)} ${nic.name.padStart(8)}`);
  }
  return lines.map((l) => l + '\n').join('');
}

const ATF_COM = 0x2;
const ATF_PERM = 0x4;
const ARPHRD_ETHER = 1;

/** /proc/net/arp: every Ethernet NIC's resolved neighbors (Linux's arp_seq_show layout). */
export function procNetArp(stack: Stack | undefined): string {
  const lines = ['IP address       HW type     Flags       HW address            Mask     Device'];
  for (const n of stack?.listNics() ?? []) {
    for (const e of n.arp?.list() ?? []) {
      const flags = ATF_COM | (e.permanent ? ATF_PERM : 0);
      lines.push(`${formatIPv4(e.ip).padEnd(16)} 0x${ARPHRD_ETHER.toString(16).padEnd(10)}0x${flags.toString(16).padEnd(10)}${formatMac(e.mac)}     *        ${n.name}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** The entries of /proc/net for a sandbox (kernel() is unset until boot finishes). */
export function netEntries(fs: GenFs, kernel: () => Kernel | undefined): Entries {
  const stack = (): Stack | undefined => {
    const k = kernel();
    // Made on first look, as on first socket: a sandbox always has its loopback device.
    return k === undefined ? undefined : netServiceOf(k).stack;
  };
  const file = (gen: () => string) => (p: string): GenFile => new GenFile(fs, p, gen);
  return entries([
    ['arp', file(() => procNetArp(stack()))],
    ['dev', file(() => procNetDev(stack()))],
    ['tcp', file(() => procNetTcp(stack(), false))],
    ['tcp6', file(() => procNetTcp(stack(), true))],
    ['udp', file(() => procNetUdp(stack(), false))],
    ['udp6', file(() => procNetUdp(stack(), true))],
    ['route', file(() => procNetRoute(stack()))],
    ['if_inet6', file(() => procNetIfInet6(stack()))],
    ['ipv6_route', file(() => procNetIpv6Route(stack()))],
    ['unix', file(() => {
      const k = kernel();
      return procNetUnix(k === undefined ? undefined : peekUnixNamespace(k));
    })],
  ]);
}

/** /proc/net as a directory node. */
export function netDir(fs: GenFs, kernel: () => Kernel | undefined): (p: string) => GenDir {
  return (p: string): GenDir => new GenDir(fs, p, () => netEntries(fs, kernel));
}
