// IPv6 fragment reassembly (RFC 8200 4.5). Overlapping fragments discard the whole datagram
// (RFC 5722), as do inconsistent lengths; incomplete datagrams expire after 60 s.

import { Timer, type TimerQueue } from '../timer.js';
import { key6 } from './addr6.js';
import type { Ipv6Packet } from './ipv6.js';

export interface Reassembly6Limits {
  timeoutMs: number;
  /** Datagrams being reassembled at once; a flood of first fragments cannot grow past it. */
  maxDatagrams: number;
}

export const DEFAULT_REASSEMBLY6: Reassembly6Limits = { timeoutMs: 60_000, maxDatagrams: 64 };

interface Piece {
  offset: number;
  data: Uint8Array;
}

interface Datagram {
  pieces: Piece[];
  /** Known once the last fragment (M=0) arrives. */
  total: number | undefined;
  protocol: number;
  timer: Timer;
}

export interface Reassembly6Counters {
  overlaps: number;
  timeouts: number;
  dropped: number;
}

export class Reassembler6 {
  private datagrams = new Map<string, Datagram>();
  readonly counters: Reassembly6Counters = { overlaps: 0, timeouts: 0, dropped: 0 };

  constructor(
    private readonly timers: TimerQueue,
    private readonly limits: Reassembly6Limits = DEFAULT_REASSEMBLY6,
  ) {}

  /** Adds a fragment; returns the upper-layer protocol and whole payload when complete. */
  add(p: Ipv6Packet): { protocol: number; payload: Uint8Array } | null {
    const f = p.fragment;
    if (f === undefined) return null;
    const k = `${key6(p.header.src)}${key6(p.header.dst)}${f.id}`;
    const end = f.offset + p.payload.length;
    let d = this.datagrams.get(k);
    if (end > 0xffff) {
      if (d !== undefined) this.discard(k, d);
      this.counters.dropped++;
      return null;
    }
    if (d === undefined) {
      if (this.datagrams.size >= this.limits.maxDatagrams) {
        this.counters.dropped++;
        return null;
      }
      const timer = new Timer(this.timers, () => {
        this.counters.timeouts++;
        this.datagrams.delete(k);
      });
      d = { pieces: [], total: undefined, protocol: p.protocol, timer };
      this.datagrams.set(k, d);
      timer.arm(this.limits.timeoutMs);
    }
    const badTotal = (!f.more && d.total !== undefined && d.total !== end) || (d.total !== undefined && end > d.total);
    const overlap = d.pieces.some((x) => f.offset < x.offset + x.data.length && x.offset < end);
    if (badTotal || overlap) {
      if (overlap) this.counters.overlaps++;
      else this.counters.dropped++;
      this.discard(k, d);
      return null;
    }
    if (!f.more) {
      if (d.pieces.some((x) => x.offset + x.data.length > end)) {
        this.counters.dropped++;
        this.discard(k, d);
        return null;
      }
      d.total = end;
    }
    if (f.offset === 0) d.protocol = p.protocol;
    d.pieces.push({ offset: f.offset, data: p.payload.slice() });
    if (d.total === undefined) return null;
    const have = d.pieces.reduce((n, x) => n + x.data.length, 0);
    if (have !== d.total) return null;
    const out = new Uint8Array(d.total);
    for (const x of d.pieces) out.set(x.data, x.offset);
    this.discard(k, d);
    return { protocol: d.protocol, payload: out };
  }

  get pendingCount(): number {
    return this.datagrams.size;
  }

  private discard(k: string, d: Datagram): void {
    d.timer.cancel();
    this.datagrams.delete(k);
  }
}
