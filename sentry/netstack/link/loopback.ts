// The loopback device: every packet written is received again. The stack queues deliveries
// made while it is already processing, so this cannot recurse without bound.

import { MAC_ZERO } from '../addr.js';
import type { LinkEndpoint } from './link.js';

export class LoopbackLink implements LinkEndpoint {
  readonly kind = 'ip' as const;
  readonly mac = MAC_ZERO;
  private deliver: ((frame: Uint8Array) => void) | null = null;

  constructor(readonly mtu = 65536) {}

  attach(deliver: (frame: Uint8Array) => void): void {
    this.deliver = deliver;
  }

  write(frame: Uint8Array): void {
    this.deliver?.(frame);
  }
}
