// What transport protocols (UDP, TCP, ICMP) see of the layer below: routing, source
// address choice, sending a datagram, the virtual clock and the shared counters.

import type { Result } from '../abi/result.js';
import type { Ipv4Addr } from './addr.js';
import type { PseudoHeaderSum } from './checksum.js';
import type { NetStats } from './stats.js';
import type { TimerQueue } from './timer.js';

export interface RouteInfo {
  nicId: number;
  /** Source address to use for this destination. */
  src: Ipv4Addr;
  mtu: number;
}

export interface SendOptions {
  src: Ipv4Addr;
  dst: Ipv4Addr;
  protocol: number;
  ttl?: number;
  tos?: number;
  dontFragment?: boolean;
}

export interface NetworkLayer {
  readonly timers: TimerQueue;
  readonly stats: NetStats;
  /** A number in [0, 1); seeded in tests so runs repeat. */
  random(): number;
  /** Where a packet to dst would leave, and from which local address; null when unroutable. */
  route(dst: Ipv4Addr): RouteInfo | null;
  isLocalAddress(a: Ipv4Addr): boolean;
  isBroadcast(a: Ipv4Addr): boolean;
  sendIpv4(o: SendOptions, payload: Uint8Array): Result<void>;
  /** The TCP/UDP checksum's pseudo-header sum for this layer's addresses. */
  readonly pseudoHeaderSum: PseudoHeaderSum;
  /**
   * Run fn with inbound processing deferred until it returns, so a reply that arrives
   * synchronously (loopback) never interleaves with half-updated endpoint state.
   */
  batch<T>(fn: () => T): T;
}
