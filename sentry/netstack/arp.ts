// ARP (RFC 826) for IPv4 over Ethernet: the packet codec and a neighbour cache with
// reachability timeouts, request retries and a small per-destination queue of packets
// waiting for resolution (Linux keeps 3 by default; so do we).

import type { Ipv4Addr, MacAddr } from './addr.js';
import { rd16, rd32, wr16, wr32 } from './bytes.js';
import type { NetStats } from './stats.js';
import { Timer, type TimerQueue } from './timer.js';

export const ARP_LEN = 28;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export interface ArpPacket {
  op: number;
  senderMac: MacAddr;
  senderIp: Ipv4Addr;
  targetMac: MacAddr;
  targetIp: Ipv4Addr;
}

/** Only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4) is accepted. */
export function parseArp(b: Uint8Array): ArpPacket | null {
  if (b.length < ARP_LEN) return null;
  if (rd16(b, 0) !== 1 || rd16(b, 2) !== 0x0800 || b[4] !== 6 || b[5] !== 4) return null;
  const op = rd16(b, 6);
  if (op !== ARP_REQUEST && op !== ARP_REPLY) return null;
  return {
    op,
    senderMac: b.slice(8, 14),
    senderIp: rd32(b, 14),
    targetMac: b.slice(18, 24),
    targetIp: rd32(b, 24),
  };
}

export function buildArp(p: ArpPacket): Uint8Array {
  const b = new Uint8Array(ARP_LEN);
  wr16(b, 0, 1);
  wr16(b, 2, 0x0800);
  b[4] = 6;
  b[5] = 4;
  wr16(b, 6, p.op);
  b.set(p.senderMac, 8);
  wr32(b, 14, p.senderIp);
  b.set(p.targetMac, 18);
  wr32(b, 24, p.targetIp);
  return b;
}

export interface ArpConfig {
  /** How long a learned entry stays usable (Linux base_reachable_time is 30 s). */
  reachableMs: number;
  /** Gap between unanswered requests (Linux retrans_time is 1 s). */
  retransMs: number;
  /** Requests sent before giving up (Linux mcast_solicit is 3). */
  maxRequests: number;
  /** Packets held per unresolved address. */
  maxPending: number;
  /** Addresses being resolved at once; more are refused (a spoofed-source flood). */
  maxResolving: number;
}

export const DEFAULT_ARP_CONFIG: ArpConfig = { reachableMs: 30_000, retransMs: 1_000, maxRequests: 3, maxPending: 3, maxResolving: 256 };

export interface ArpEntry {
  ip: Ipv4Addr;
  mac: MacAddr;
  expiresAt: number;
  permanent: boolean;
}

interface Pending {
  sent: number;
  queue: Array<(mac: MacAddr) => void>;
  timer: Timer;
}

export class ArpCache {
  private entries = new Map<Ipv4Addr, ArpEntry>();
  private pending = new Map<Ipv4Addr, Pending>();

  constructor(
    private readonly timers: TimerQueue,
    private readonly cfg: ArpConfig,
    private readonly sendRequest: (ip: Ipv4Addr) => void,
    private readonly stats: NetStats,
  ) {}

  /** The MAC for ip if known and not expired; expired entries are removed here. */
  lookup(ip: Ipv4Addr): MacAddr | undefined {
    const e = this.entries.get(ip);
    if (e === undefined) return undefined;
    if (!e.permanent && e.expiresAt <= this.timers.now) {
      this.entries.delete(ip);
      return undefined;
    }
    return e.mac;
  }

  /** Run send(mac) now if ip is resolved, else queue it and start (or continue) resolving. */
  resolve(ip: Ipv4Addr, send: (mac: MacAddr) => void): void {
    const mac = this.lookup(ip);
    if (mac !== undefined) {
      send(mac);
      return;
    }
    let p = this.pending.get(ip);
    if (p === undefined) {
      if (this.pending.size >= this.cfg.maxResolving) {
        this.stats.arpQueueDropped++;
        return;
      }
      const timer = new Timer(this.timers, () => this.retry(ip));
      p = { sent: 0, queue: [], timer };
      this.pending.set(ip, p);
      this.request(ip, p);
    }
    if (p.queue.length >= this.cfg.maxPending) {
      p.queue.shift();
      this.stats.arpQueueDropped++;
    }
    p.queue.push(send);
  }

  /**
   * Record ip -> mac. create=false only refreshes an existing or pending entry (RFC 826's
   * merge rule for packets not addressed to us).
   */
  learn(ip: Ipv4Addr, mac: MacAddr, create: boolean): void {
    const e = this.entries.get(ip);
    const p = this.pending.get(ip);
    if (!create && e === undefined && p === undefined) return;
    if (e?.permanent) return;
    this.entries.set(ip, { ip, mac: mac.slice(), expiresAt: this.timers.now + this.cfg.reachableMs, permanent: false });
    if (p !== undefined) {
      p.timer.cancel();
      this.pending.delete(ip);
      for (const send of p.queue) send(mac);
    }
  }

  addStatic(ip: Ipv4Addr, mac: MacAddr): void {
    this.entries.set(ip, { ip, mac: mac.slice(), expiresAt: Infinity, permanent: true });
  }

  remove(ip: Ipv4Addr): void {
    this.entries.delete(ip);
  }

  list(): ArpEntry[] {
    return [...this.entries.values()].filter((e) => e.permanent || e.expiresAt > this.timers.now);
  }

  private request(ip: Ipv4Addr, p: Pending): void {
    p.sent++;
    this.sendRequest(ip);
    p.timer.arm(this.cfg.retransMs);
  }

  private retry(ip: Ipv4Addr): void {
    const p = this.pending.get(ip);
    if (p === undefined) return;
    if (p.sent >= this.cfg.maxRequests) {
      this.pending.delete(ip);
      this.stats.arpResolveFailed++;
      this.stats.arpQueueDropped += p.queue.length;
      return;
    }
    this.request(ip, p);
  }
}
