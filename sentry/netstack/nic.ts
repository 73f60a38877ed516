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
  /** Frames and bytes through this device, for /proc/net/dev and SIOCGIFSTATS-style views. */
  readonly counters = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0 };

  constructor(
    readonly id: number,
    readonly name: string,
    readonly link: LinkEndpoint,
    readonly arp: ArpCache | null,
  ) {}

  hasAddress(a: Ipv4Addr): boolean {
    return this.addresses.some((x) => x.addr === a);
  }

  /** Hands a frame to the device, counting it. */
  send(frame: Uint8Array): void {
    this.counters.txPackets++;
    this.counters.txBytes += frame.length;
    this.link.write(frame);
  }

  get isLoopback(): boolean {
    return this.link.kind === 'ip';
  }
}
