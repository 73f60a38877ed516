// A virtual Ethernet cable between two ChannelLinks with fixed latency and random loss.
// Time is virtual: the owner calls advance(nowMs) to deliver frames that are due.

import type { MacAddr } from '../addr.js';
import { ChannelLink } from './channel.js';

export interface WireOptions {
  mtu?: number;
  latencyMs?: number;
  /** Probability in [0, 1) that a frame is dropped. */
  lossRate?: number;
  random?: () => number;
  /** Optional filter: return false to drop a specific frame (scripted loss). */
  filter?: (frame: Uint8Array, fromA: boolean) => boolean;
}

interface InFlight {
  at: number;
  to: ChannelLink;
  frame: Uint8Array;
}

export class VirtualWire {
  readonly a: ChannelLink;
  readonly b: ChannelLink;
  dropped = 0;
  carried = 0;
  private queue: InFlight[] = [];
  private head = 0;
  private now = 0;
  private readonly latency: number;
  private readonly loss: number;
  private readonly random: () => number;
  private readonly filter: ((frame: Uint8Array, fromA: boolean) => boolean) | undefined;

  constructor(macA: MacAddr, macB: MacAddr, o: WireOptions = {}) {
    this.a = new ChannelLink(macA, o.mtu ?? 1500);
    this.b = new ChannelLink(macB, o.mtu ?? 1500);
    this.latency = o.latencyMs ?? 1;
    this.loss = o.lossRate ?? 0;
    this.random = o.random ?? Math.random;
    this.filter = o.filter;
    this.a.onWrite = (f) => this.send(f, this.b, true);
    this.b.onWrite = (f) => this.send(f, this.a, false);
  }

  private send(frame: Uint8Array, to: ChannelLink, fromA: boolean): void {
    if ((this.loss > 0 && this.random() < this.loss) || (this.filter !== undefined && !this.filter(frame, fromA))) {
      this.dropped++;
      return;
    }
    this.queue.push({ at: this.now + this.latency, to, frame });
  }

  /** Move the wire's clock (frames written now arrive at now + latency). */
  setTime(nowMs: number): void {
    if (nowMs > this.now) this.now = nowMs;
  }

  nextDeliveryAt(): number | undefined {
    return this.queue[this.head]?.at;
  }

  /** Deliver every frame due by nowMs, in order. */
  advance(nowMs: number): void {
    if (nowMs > this.now) this.now = nowMs;
    while (this.head < this.queue.length && this.queue[this.head].at <= nowMs) {
      const f = this.queue[this.head++];
      this.carried++;
      f.to.inject(f.frame);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
