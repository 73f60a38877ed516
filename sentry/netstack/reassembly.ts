// IPv4 fragment reassembly. A datagram whose fragments overlap is discarded whole (the
// RFC 5722 rule, applied to IPv4 too: overlaps are only ever used to evade filters);
// exact duplicates are ignored. Incomplete datagrams expire after timeoutMs (Linux
// ipfrag_time is 30 s) and the total held is capped so a flood cannot grow memory.

import type { Ipv4Header } from './ipv4.js';
import type { NetStats } from './stats.js';
import { Timer, type TimerQueue } from './timer.js';

interface Fragment {
  offset: number;
  data: Uint8Array;
}

interface Assembly {
  key: string;
  frags: Fragment[];
  /** Total payload length once the last fragment (MF=0) arrived. */
  total: number | undefined;
  bytes: number;
  timer: Timer;
  /** Header of the first fragment (offset 0), used for the reassembled datagram. */
  first: Ipv4Header | undefined;
}

export interface ReassemblyConfig {
  timeoutMs: number;
  maxBytes: number;
}

export const DEFAULT_REASSEMBLY_CONFIG: ReassemblyConfig = { timeoutMs: 30_000, maxBytes: 4 << 20 };

export class Reassembler {
  private assemblies = new Map<string, Assembly>();
  private held = 0;

  constructor(
    private readonly timers: TimerQueue,
    private readonly cfg: ReassemblyConfig,
    private readonly stats: NetStats,
  ) {}

  /** Add one fragment; returns the complete payload and first header when the datagram is whole. */
  add(h: Ipv4Header, payload: Uint8Array): { header: Ipv4Header; payload: Uint8Array } | null {
    this.stats.ipFragmentsRx++;
    // Every fragment but the last must carry a multiple of 8 bytes.
    if ((h.moreFragments && (payload.length === 0 || payload.length % 8 !== 0)) || h.fragmentOffset + payload.length > 0xffff) {
      this.stats.ipReassemblyDropped++;
      return null;
    }
    const key = `${h.src}/${h.dst}/${h.protocol}/${h.id}`;
    let a = this.assemblies.get(key);
    if (a === undefined) {
      const timer = new Timer(this.timers, () => {
        if (this.assemblies.get(key) === a) {
          this.stats.ipReassemblyTimeout++;
          this.discard(key);
        }
      });
      a = { key, frags: [], total: undefined, bytes: 0, timer, first: undefined };
      this.assemblies.set(key, a);
      timer.arm(this.cfg.timeoutMs);
    }
    const start = h.fragmentOffset;
    const end = start + payload.length;
    if (!h.moreFragments) {
      if ((a.total !== undefined && a.total !== end) || a.frags.some((f) => f.offset + f.data.length > end)) {
        this.stats.ipReassemblyOverlap++;
        this.discard(key);
        return null;
      }
      a.total = end;
    } else if (a.total !== undefined && end > a.total) {
      this.stats.ipReassemblyOverlap++;
      this.discard(key);
      return null;
    }
    for (const f of a.frags) {
      const fEnd = f.offset + f.data.length;
      if (f.offset === start && fEnd === end) return null; // exact duplicate
      if (start < fEnd && f.offset < end) {
        this.stats.ipReassemblyOverlap++;
        this.discard(key);
        return null;
      }
    }
    if (this.held + payload.length > this.cfg.maxBytes) {
      this.evictOldest();
      if (this.held + payload.length > this.cfg.maxBytes) {
        this.stats.ipReassemblyDropped++;
        this.discard(key);
        return null;
      }
    }
    a.frags.push({ offset: start, data: payload.slice() });
    a.bytes += payload.length;
    this.held += payload.length;
    if (start === 0) a.first = h;
    if (a.total === undefined || a.first === undefined || a.bytes !== a.total) return null;
    // No overlaps and the byte count matches the total, so the fragments tile [0, total).
    const out = new Uint8Array(a.total);
    for (const f of a.frags) out.set(f.data, f.offset);
    const header = { ...a.first, moreFragments: false, fragmentOffset: 0, totalLength: a.first.headerLength + a.total };
    this.discard(key);
    this.stats.ipReassembled++;
    return { header, payload: out };
  }

  get pendingDatagrams(): number {
    return this.assemblies.size;
  }

  private discard(key: string): void {
    const a = this.assemblies.get(key);
    if (a === undefined) return;
    a.timer.cancel();
    this.held -= a.bytes;
    this.assemblies.delete(key);
  }

  private evictOldest(): void {
    const oldest = this.assemblies.keys().next();
    if (!oldest.done) {
      this.stats.ipReassemblyDropped++;
      this.discard(oldest.value);
    }
  }
}
