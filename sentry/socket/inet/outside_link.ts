// The sandbox's links to the host's networks (`--network=sandbox`). The sandbox's network
// namespace holds interfaces (the sandbox end of a veth pair) configured by whoever built
// it (`tsvisor do`, or a container engine's CNI). At boot the Sentry takes them over, as
// runsc does: each interface's IPv4 and IPv6 addresses, IPv4 default route and MTU move into
// the netstack (the addresses are deleted from the host kernel's view so it stops answering
// for them; the netstack gives the link its own fe80:: address),
// and an AF_PACKET socket carries its frames. The host kernel then only moves frames.

import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { E } from '../../abi/errno.js';
import { err, isErr, type Result } from '../../abi/result.js';
import type { Kernel } from '../../kernel/kernel.js';
import { parseIPv4 } from '../../netstack/addr.js';
import { isLinkLocal6, parseIPv6 } from '../../netstack/ipv6/addr6.js';
import { PacketLink } from '../../netstack/link/packet.js';
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
}

/** The default route's gateway per interface, from a /proc/net/route text. */
export function defaultGateways(routeTable: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of routeTable.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] !== '00000000' || f[7] !== '00000000') continue;
    // Addresses are in network byte order printed as a little-endian hex word.
    const le = parseInt(f[2], 16);
    if (!Number.isFinite(le) || le === 0) continue;
    const be = (((le & 0xff) << 24) | (((le >>> 8) & 0xff) << 16) | (((le >>> 16) & 0xff) << 8) | ((le >>> 24) & 0xff)) >>> 0;
    out.set(f[0], be);
  }
  return out;
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
    let routes = '';
    try {
      routes = readFileSync('/proc/thread-self/net/route', 'utf8');
    } catch {
      // No route table to read: links get no default route.
    }
    const gateways = defaultGateways(routes);
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
      taken.push({ name, fd, mtu: Math.min(info[1], 65535), mac, addrs, addrs6, gateway: gateways.get(name) ?? null });
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
  const net = new NetService();
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
      const link = new PacketLink(t.fd, t.mtu, t.mac, (fn) => net.run(fn));
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
    }
  }
  installNetService(kernel, net);
  return () => {
    for (const l of links) l.close();
  };
}
