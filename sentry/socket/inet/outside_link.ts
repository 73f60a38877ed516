// The sandbox's links to the host's networks (`--network=sandbox`). The sandbox's network
// namespace holds interfaces (the sandbox end of a veth pair) configured by whoever built
// it (`tsvisor do`, or a container engine's CNI). At boot the Sentry takes them over, as
// runsc does: each interface's IPv4 and IPv6 addresses, default routes (read over netlink) and MTU move into
// the netstack (the addresses are deleted from the host kernel's view so it stops answering
// for them; the netstack gives the link its own fe80:: address),
// and an AF_PACKET socket carries its frames. The host kernel then only moves frames.

import { networkInterfaces } from 'node:os';
import { E } from '../../abi/errno.js';
import { err, isErr, type Result } from '../../abi/result.js';
import type { Kernel } from '../../kernel/kernel.js';
import { parseIPv4 } from '../../netstack/addr.js';
import { isLinkLocal6, parseIPv6 } from '../../netstack/ipv6/addr6.js';
import { PacketLink, type PacketBatchIo } from '../../netstack/link/packet.js';
import { AF } from '../constants.js';
import { native } from '../../platform/ptrace/native.js';
import { installNetService, NetService } from './net_service.js';

export interface NetworkConfig {
  /** none: loopback only. sandbox: loopback and the interfaces of nsPath's namespace. */
  mode: 'none' | 'sandbox';
  /** The network namespace to take the interfaces of (a /run/netns or /proc/PID/ns/net path). */
  nsPath?: string;
}

interface NetNative {
  netEnter(nsPath: string): number;
  netLeave(fd: number): number;
  netPacketOpen(nsPath: string, ifname: string, info: Int32Array, mac: Uint8Array): number;
  netDelAddr(ifindex: number, addr: number, prefixLen: number): number;
  netDelAddr6(ifindex: number, addr: Uint8Array, prefixLen: number): number;
  netNoAddrGen6(ifindex: number): number;
  netRouteDump(family: number, out: Uint8Array): number;
  netPacketRecvBatch(fd: number, buf: Uint8Array, lens: Int32Array): number;
  netPacketSendBatch(fd: number, buf: Uint8Array, lens: Int32Array, count: number): number;
}

/** The packet links' batched frame I/O (native/net.c). */
function batchIo(): PacketBatchIo {
  const n = native() as unknown as NetNative & PollWatchNative;
  return {
    recvBatch: (fd, buf, lens) => n.netPacketRecvBatch(fd, buf, lens),
    sendBatch: (fd, buf, lens, count) => n.netPacketSendBatch(fd, buf, lens, count),
    // The fd watch of native/hostinet.c: any socket fd works, not only hostinet's.
    watch: (fd, cb) => n.hinWatch(fd, () => cb()),
    arm: (fd) => n.hinArm(fd, UV_READABLE),
    unwatch: (fd) => n.hinClose(fd),
  };
}

/** libuv's UV_READABLE. */
const UV_READABLE = 1;

interface PollWatchNative {
  hinWatch(fd: number, cb: (events: number) => void): number;
  hinArm(fd: number, uvEvents: number): number;
  hinClose(fd: number): number;
}

/** One interface taken over: its packet socket and its configuration. */
interface TakenLink {
  name: string;
  fd: number;
  mtu: number;
  mac: Uint8Array;
  addrs: { addr: number; prefixLen: number }[];
  /** Global (not link-local) IPv6 addresses; the netstack makes its own link-local one. */
  addrs6: { addr: Uint8Array; prefixLen: number }[];
  gateway: number | null;
  gateway6: Uint8Array | null;
}

/** One route of a NETLINK_ROUTE RTM_GETROUTE dump. */
export interface DumpedRoute {
  family: number;
  dstLen: number;
  table: number;
  type: number;
  oif: number;
  gateway: Uint8Array | null;
}

const RTM_NEWROUTE = 24;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_TABLE = 15;
const RT_TABLE_MAIN = 254;
const RTN_UNICAST = 1;

/** The routes in a RTM_GETROUTE dump (netlink messages end to end); malformed parts are skipped. */
export function parseRouteDump(dump: Uint8Array): DumpedRoute[] {
  const out: DumpedRoute[] = [];
  const v = new DataView(dump.buffer, dump.byteOffset, dump.length);
  for (let off = 0; off + 16 <= dump.length;) {
    const len = v.getUint32(off, true);
    if (len < 16 || off + len > dump.length) break;
    // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
    if (v.getUint16(off + 4, true) === RTM_NEWROUTE && len >= 16 + 12) {
      const b = off + 16;
      const r: DumpedRoute = { family: dump[b], dstLen: dump[b + 1], table: dump[b + 4], type: dump[b + 7], oif: 0, gateway: null };
      for (let a = b + 12; a + 4 <= off + len;) {
        const alen = v.getUint16(a, true);
        const type = v.getUint16(a + 2, true) & 0x3fff;
        if (alen < 4 || a + alen > off + len) break;
        const data = dump.subarray(a + 4, a + alen);
        if (type === RTA_OIF && data.length >= 4) r.oif = v.getUint32(a + 4, true);
        else if (type === RTA_GATEWAY) r.gateway = data.slice();
        else if (type === RTA_TABLE && data.length >= 4) r.table = v.getUint32(a + 4, true);
        a += (alen + 3) & ~3;
      }
      out.push(r);
    }
    off += (len + 3) & ~3;
  }
  return out;
}

/** The default routes' gateways per interface index (main table, unicast, via a gateway). */
export function defaultGateways(routes: DumpedRoute[], family: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (const r of routes) {
    if (r.family !== family || r.dstLen !== 0 || r.table !== RT_TABLE_MAIN || r.type !== RTN_UNICAST) continue;
    if (r.gateway === null || r.oif === 0 || out.has(r.oif)) continue;
    out.set(r.oif, r.gateway);
  }
  return out;
}

/** The namespace's routes of one family, read over NETLINK_ROUTE (no host path); none on failure. */
function dumpRoutes(n: NetNative, family: number): DumpedRoute[] {
  const buf = new Uint8Array(1 << 20);
  const len = n.netRouteDump(family, buf);
  return len > 0 ? parseRouteDump(buf.subarray(0, len)) : [];
}

/**
 * Takes the namespace's IPv4 interfaces: opens their packet sockets and deletes their
 * addresses there. Runs synchronously with the calling thread inside the namespace.
 */
function takeLinks(nsPath: string): Result<TakenLink[]> {
  const n = native() as unknown as NetNative;
  const saved = n.netEnter(nsPath);
  if (saved < 0) return err(-saved);
  const taken: TakenLink[] = [];
  let failure: number | null = null;
  try {
    // Read in the namespace before anything is taken: deleting addresses drops their routes.
    const gateways = defaultGateways(dumpRoutes(n, AF.INET), AF.INET);
    const gateways6 = defaultGateways(dumpRoutes(n, AF.INET6), AF.INET6);
    for (const [name, list] of Object.entries(networkInterfaces())) {
      const v4 = (list ?? []).filter((a) => a.family === 'IPv4' && !a.internal);
      if (v4.length === 0) continue;
      const info = new Int32Array(2);
      const mac = new Uint8Array(6);
      const fd = n.netPacketOpen('', name, info, mac);
      if (fd < 0) {
        failure = -fd;
        break;
      }
      const addrs = v4.map((a) => ({ addr: parseIPv4(a.address) ?? 0, prefixLen: Number((a.cidr ?? '/32').split('/')[1]) }));
      const v6 = (list ?? []).flatMap((a) => {
        const addr = a.family === 'IPv6' ? parseIPv6(a.address.split('%')[0]) : null;
        return addr === null ? [] : [{ addr, prefixLen: Number((a.cidr ?? '/128').split('/')[1]) }];
      });
      const addrs6 = v6.filter((a) => !isLinkLocal6(a.addr));
      const gw = gateways.get(info[0]);
      const gateway = gw !== undefined && gw.length === 4 ? ((gw[0] << 24) | (gw[1] << 16) | (gw[2] << 8) | gw[3]) >>> 0 : null;
      const gw6 = gateways6.get(info[0]);
      taken.push({ name, fd, mtu: Math.min(info[1], 65535), mac, addrs, addrs6, gateway, gateway6: gw6 !== undefined && gw6.length === 16 ? gw6 : null });
      for (const a of addrs) {
        const d = n.netDelAddr(info[0], a.addr, a.prefixLen);
        if (d < 0) failure = -d;
      }
      // The netstack serves this link's IPv6 too: the kernel keeps no address there (not even a
      // link-local one), so it neither answers Neighbor Discovery nor pings for ours. A kernel
      // built without IPv6 has nothing to hand over.
      const g = n.netNoAddrGen6(info[0]);
      if (g < 0 && g !== -E.EAFNOSUPPORT && g !== -E.EOPNOTSUPP) failure = -g;
      for (const a of v6) {
        const d = n.netDelAddr6(info[0], a.addr, a.prefixLen);
        if (d < 0 && d !== -E.EADDRNOTAVAIL) failure = -d;
      }
      if (failure !== null) break;
    }
  } finally {
    const l = n.netLeave(saved);
    if (l < 0 && failure === null) failure = -l;
  }
  if (failure !== null) {
    for (const t of taken) new PacketLink(t.fd, t.mtu, t.mac, () => {}).close();
    return err(failure);
  }
  return taken;
}

/** Builds the sandbox's network before init runs; an error ends the boot. */
export function configureNetwork(kernel: Kernel, cfg: NetworkConfig): Result<() => void> {
  // Real links probe their addresses (DAD) and solicit routers (SLAAC).
  const net = new NetService(cfg.mode === 'sandbox' ? { ndp: { autoconf: true } } : {});
  const links: PacketLink[] = [];
  if (cfg.mode === 'sandbox') {
    if (cfg.nsPath === undefined) return err(E.EINVAL);
    const taken = takeLinks(cfg.nsPath);
    if (isErr(taken)) return taken;
    const fail = (e: Result<void>): Result<() => void> => {
      for (const l of links) l.close();
      return isErr(e) ? e : err(E.EINVAL);
    };
    for (const [i, t] of taken.entries()) {
      // A burst of frames is one stack batch: their ACKs are owed and sent once, at its end.
      const link = new PacketLink(t.fd, t.mtu, t.mac, (fn) => net.run(() => net.stack.batch(fn)), batchIo());
      links.push(link);
      const id = net.stack.addNic(link, `eth${i}`);
      for (const a of t.addrs) {
        const r = net.stack.addAddress(id, a.addr, a.prefixLen);
        if (r !== undefined) return fail(r);
      }
      for (const a of t.addrs6) {
        const r = net.stack.ipv6.addAddress(id, a.addr, a.prefixLen);
        if (r !== undefined) return fail(r);
      }
      if (t.gateway !== null) {
        const r = net.stack.addRoute(0, 0, t.gateway, id);
        if (r !== undefined) return fail(r);
      }
      if (t.gateway6 !== null) {
        const r = net.stack.ipv6.addRoute({ dest: new Uint8Array(16), prefixLen: 0, gateway: t.gateway6, nicId: id, metric: 1024 });
        if (r !== undefined) return fail(r);
      }
    }
  }
  installNetService(kernel, net);
  return () => {
    for (const l of links) l.close();
  };
}
