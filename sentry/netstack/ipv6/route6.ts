// The IPv6 routing table for destinations beyond the links' own prefixes: routes configured
// at boot (the namespace's default route) and those a Router Advertisement installs, which
// expire with the advertised lifetime. Longest prefix wins, then the lowest metric.

import { inPrefix6, ipv6Equal, type Ipv6Addr } from './addr6.js';

/** Who made a route, as Linux's rtm_protocol tells it. */
export type RouteOrigin6 = 'kernel' | 'boot' | 'ra';

export interface Ipv6RouteEntry {
  dest: Ipv6Addr;
  prefixLen: number;
  /** The next hop; null for an on-link prefix. */
  gateway: Ipv6Addr | null;
  nicId: number;
  metric: number;
  origin: RouteOrigin6;
  /** Stack time (ms) the route lapses at; Infinity for a permanent one. */
  expiresAt: number;
}

/** dest with the bits past prefixLen cleared. */
export function maskPrefix6(a: Ipv6Addr, prefixLen: number): Ipv6Addr {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, prefixLen - i * 8));
    out[i] = a[i] & ((0xff00 >> bits) & 0xff);
  }
  return out;
}

export class RouteTable6 {
  private routes: Ipv6RouteEntry[] = [];

  /** Adds r, or refreshes the route with the same destination, next hop and interface. */
  add(r: Ipv6RouteEntry): void {
    const dest = maskPrefix6(r.dest, r.prefixLen);
    const same = (x: Ipv6RouteEntry): boolean => x.prefixLen === r.prefixLen && x.nicId === r.nicId && ipv6Equal(x.dest, dest) &&
      (x.gateway === null ? r.gateway === null : r.gateway !== null && ipv6Equal(x.gateway, r.gateway));
    this.routes = this.routes.filter((x) => !same(x));
    this.routes.push({ ...r, dest, gateway: r.gateway === null ? null : r.gateway.slice() });
    this.routes.sort((a, b) => b.prefixLen - a.prefixLen || a.metric - b.metric);
  }

  remove(pred: (r: Ipv6RouteEntry) => boolean): number {
    const before = this.routes.length;
    this.routes = this.routes.filter((r) => !pred(r));
    return before - this.routes.length;
  }

  /** The best live route to dst (on interface nicId when given). */
  lookup(dst: Ipv6Addr, now: number, nicId?: number): Ipv6RouteEntry | undefined {
    this.expire(now);
    for (const r of this.routes) {
      if (nicId !== undefined && nicId !== 0 && r.nicId !== nicId) continue;
      if (inPrefix6(dst, r.dest, r.prefixLen)) return r;
    }
    return undefined;
  }

  list(now: number): readonly Ipv6RouteEntry[] {
    this.expire(now);
    return this.routes;
  }

  private expire(now: number): void {
    if (this.routes.some((r) => r.expiresAt <= now)) this.routes = this.routes.filter((r) => r.expiresAt > now);
  }
}
