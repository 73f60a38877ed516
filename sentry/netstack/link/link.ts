// The link-endpoint contract between the stack and a device (loopback, an in-memory wire,
// later AF_PACKET/tap on the sandbox's veth). A device hands whole received frames to the
// function the stack attached, and the stack hands it whole frames to transmit.

import type { MacAddr } from '../addr.js';

export interface LinkEndpoint {
  /** 'ethernet' frames carry an Ethernet II header; 'ip' frames are bare IP packets (loopback). */
  readonly kind: 'ethernet' | 'ip';
  /** Largest IP packet the link carries (excluding the link header). */
  readonly mtu: number;
  /** The device's address; all zeros for 'ip' links. */
  readonly mac: MacAddr;
  /** Called once by the stack: frames the device receives go to deliver. */
  attach(deliver: (frame: Uint8Array) => void): void;
  /** Transmit one frame. The device owns the array afterwards. */
  write(frame: Uint8Array): void;
}
