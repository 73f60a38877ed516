// A network interface: a link endpoint, its IPv4 addresses and (for Ethernet) its ARP cache.

import type { Ipv4Addr } from './addr.js';
import type { ArpCache } from './arp.js';
import type { LinkEndpoint } from './link/link.js';

export interface NicAddress {
  addr: Ipv4Addr;
  prefixLen: number;
}

export class Nic {
  readonly addresses: NicAddress[] = [];
  up = true;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly link: LinkEndpoint,
    readonly arp: ArpCache | null,
  ) {}

  hasAddress(a: Ipv4Addr): boolean {
    return this.addresses.some((x) => x.addr === a);
  }

  get isLoopback(): boolean {
    return this.link.kind === 'ip';
  }
}
