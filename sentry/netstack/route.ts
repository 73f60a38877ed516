// The IPv4 routing table: longest prefix wins, then the lowest metric.

import { formatIPv4, inSubnet, prefixMask, type Ipv4Addr } from './addr.js';

export interface Route {
  dest: Ipv4Addr;
  prefixLen: number;
  /** 0 for an on-link (directly connected) route. */
  gateway: Ipv4Addr;
  nicId: number;
  metric: number;
}

export class RouteTable {
  private routes: Route[] = [];

  add(r: Route): void {
    const dest = (r.dest & prefixMask(r.prefixLen)) >>> 0;
    this.routes.push({ ...r, dest });
    // Keep most specific first so lookup is a first-match scan.
    this.routes.sort((a, b) => b.prefixLen - a.prefixLen || a.metric - b.metric);
  }

  remove(pred: (r: Route) => boolean): number {
    const before = this.routes.length;
    this.routes = this.routes.filter((r) => !pred(r));
    return before - this.routes.length;
  }

  lookup(dst: Ipv4Addr, nicId?: number): Route | undefined {
    for (const r of this.routes) {
      if (nicId !== undefined && r.nicId !== nicId) continue;
      if (inSubnet(dst, r.dest, r.prefixLen)) return r;
    }
    return undefined;
  }

  list(): readonly Route[] {
    return this.routes;
  }

  toString(): string {
    return this.routes.map((r) => `${formatIPv4(r.dest)}/${r.prefixLen} via ${formatIPv4(r.gateway)} nic ${r.nicId}`).join('\n');
  }
}
