// Neighbor Discovery (RFC 4861) for address resolution: Neighbor Solicitation and
// Advertisement messages with link-layer address options, and the neighbor cache that
// holds packets while an address is being resolved.

import type { MacAddr } from '../addr.js';
import { Timer, type TimerQueue } from '../timer.js';
import { isMulticast6, isUnspecified6, key6, type Ipv6Addr } from './addr6.js';

export const OPT_SOURCE_LLADDR = 1;
export const OPT_TARGET_LLADDR = 2;
export const NA_ROUTER = 0x80;
export const NA_SOLICITED = 0x40;
export const NA_OVERRIDE = 0x20;
/** NDP messages must come from the link: hop limit 255 (RFC 4861 7.1.1). */
export const NDP_HOP_LIMIT = 255;

export interface NdpMessage {
  /** NA flags (R, S, O) in the high bits of the first byte; 0 for NS. */
  flags: number;
  target: Ipv6Addr;
  /** The source (NS) or target (NA) link-layer address option, if present. */
  lladdr: MacAddr | null;
}

/** An NS or NA body (after the ICMPv6 type/code/checksum). */
export function buildNdp(flags: number, target: Ipv6Addr, optType: number, lladdr: MacAddr | null): Uint8Array {
  const b = new Uint8Array(20 + (lladdr === null ? 0 : 8));
  b[0] = flags;
  b.set(target, 4);
  if (lladdr !== null) {
    b[20] = optType;
    b[21] = 1;
    b.set(lladdr, 22);
  }
  return b;
}

/**
 * Validate an NS/NA body (RFC 4861 7.1.1/7.1.2): hop limit 255, code 0, a non-multicast
 * target, options of nonzero length that fit; an NS from :: carries no source address option.
 */
export function parseNdp(body: Uint8Array, code: number, hopLimit: number, src: Ipv6Addr, isSolicit: boolean): NdpMessage | null {
  if (hopLimit !== NDP_HOP_LIMIT || code !== 0 || body.length < 20) return null;
  const target = body.slice(4, 20);
  if (isMulticast6(target)) return null;
  const want = isSolicit ? OPT_SOURCE_LLADDR : OPT_TARGET_LLADDR;
  let lladdr: MacAddr | null = null;
  for (let i = 20; i < body.length; ) {
    if (i + 2 > body.length) return null;
    const len = body[i + 1] * 8;
    if (len === 0 || i + len > body.length) return null;
    if (body[i] === want && len >= 8) lladdr = body.slice(i + 2, i + 8);
    i += len;
  }
  if (isSolicit && isUnspecified6(src) && lladdr !== null) return null;
  return { flags: isSolicit ? 0 : body[0], target, lladdr };
}

export interface NeighborConfig {
  reachableMs: number;
  retransMs: number;
  /** Solicitations before giving up (Linux mcast_solicit 3). */
  maxSolicits: number;
  maxPending: number;
  maxResolving: number;
  /** Entries kept at most (Linux gc_thresh3); spoofed solicitations cannot grow the cache past it. */
  maxEntries: number;
  /** Duplicate Address Detection probes per address the stack makes (DupAddrDetectTransmits); 0 skips it. */
  dadTransmits: number;
  /**
   * Addresses on Ethernet links are probed (DAD) and a new link solicits routers. Off by
   * default so a scripted link sees only what a test sends; real links turn it on.
   */
  autoconf: boolean;
}

export const DEFAULT_NEIGHBOR_CONFIG: NeighborConfig = {
  reachableMs: 30_000, retransMs: 1_000, maxSolicits: 3, maxPending: 3, maxResolving: 256, maxEntries: 1024, dadTransmits: 1,
  autoconf: false,
};

export interface NeighborEntry {
  addr: Ipv6Addr;
  mac: MacAddr;
  expiresAt: number;
}

interface Pending {
  sent: number;
  queue: Array<(mac: MacAddr) => void>;
  timer: Timer;
}

/** One interface's neighbor cache; counts are reported through the callbacks' owner. */
export class NeighborCache {
  private entries = new Map<string, NeighborEntry>();
  private pending = new Map<string, Pending>();
  /** Resolutions abandoned after maxSolicits unanswered solicitations. */
  failed = 0;
  dropped = 0;

  constructor(
    private readonly timers: TimerQueue,
    private readonly cfg: NeighborConfig,
    private readonly solicit: (target: Ipv6Addr) => void,
  ) {}

  lookup(a: Ipv6Addr): MacAddr | undefined {
    const k = key6(a);
    const e = this.entries.get(k);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.timers.now) {
      this.entries.delete(k);
      return undefined;
    }
    return e.mac;
  }

  /** send(mac) now when a is known, else after resolution (dropped if it fails). */
  resolve(a: Ipv6Addr, send: (mac: MacAddr) => void): void {
    const mac = this.lookup(a);
    if (mac !== undefined) {
      send(mac);
      return;
    }
    const k = key6(a);
    let p = this.pending.get(k);
    if (p === undefined) {
      if (this.pending.size >= this.cfg.maxResolving) {
        this.dropped++;
        return;
      }
      const target = a.slice();
      p = { sent: 0, queue: [], timer: new Timer(this.timers, () => this.retry(k, target)) };
      this.pending.set(k, p);
      this.request(p, target);
    }
    if (p.queue.length >= this.cfg.maxPending) {
      p.queue.shift();
      this.dropped++;
    }
    p.queue.push(send);
  }

  /** Record a -> mac; create=false only updates an entry that exists or is being resolved. */
  learn(a: Ipv6Addr, mac: MacAddr, create: boolean): void {
    const k = key6(a);
    const p = this.pending.get(k);
    if (!create && p === undefined && !this.entries.has(k)) return;
    if (!this.entries.has(k) && this.entries.size >= this.cfg.maxEntries) {
      for (const [key, e] of this.entries) if (e.expiresAt <= this.timers.now) this.entries.delete(key);
      if (this.entries.size >= this.cfg.maxEntries && p === undefined) {
        this.dropped++;
        return;
      }
    }
    this.entries.set(k, { addr: a.slice(), mac: mac.slice(), expiresAt: this.timers.now + this.cfg.reachableMs });
    if (p !== undefined) {
      p.timer.cancel();
      this.pending.delete(k);
      for (const send of p.queue) send(mac);
    }
  }

  list(): NeighborEntry[] {
    return [...this.entries.values()].filter((e) => e.expiresAt > this.timers.now);
  }

  private request(p: Pending, target: Ipv6Addr): void {
    p.sent++;
    this.solicit(target);
    p.timer.arm(this.cfg.retransMs);
  }

  private retry(k: string, target: Ipv6Addr): void {
    const p = this.pending.get(k);
    if (p === undefined) return;
    if (p.sent >= this.cfg.maxSolicits) {
      this.pending.delete(k);
      this.failed++;
      this.dropped += p.queue.length;
      return;
    }
    this.request(p, target);
  }
}
