// An Ethernet device whose other side is code: frames the stack sends are handed to onWrite
// (or queued in `outbound`), and inject() feeds received frames in. Tests script peers with
// it; the host-side bridge (AF_PACKET/tap) can sit behind it the same way.

import type { MacAddr } from '../addr.js';
import type { LinkEndpoint } from './link.js';

export class ChannelLink implements LinkEndpoint {
  readonly kind = 'ethernet' as const;
  readonly outbound: Uint8Array[] = [];
  onWrite: ((frame: Uint8Array) => void) | null = null;
  private deliver: ((frame: Uint8Array) => void) | null = null;

  constructor(
    readonly mac: MacAddr,
    readonly mtu = 1500,
  ) {}

  attach(deliver: (frame: Uint8Array) => void): void {
    this.deliver = deliver;
  }

  write(frame: Uint8Array): void {
    if (this.onWrite !== null) this.onWrite(frame);
    else this.outbound.push(frame);
  }

  /** A frame arriving from the wire. */
  inject(frame: Uint8Array): void {
    this.deliver?.(frame);
  }

  /** Remove and return everything sent so far. */
  drain(): Uint8Array[] {
    return this.outbound.splice(0);
  }
}
