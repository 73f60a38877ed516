// Ethernet II framing. VLAN-tagged and 802.3 length-field frames are not ours: they fall
// through as unknown EtherTypes and are counted.

import type { MacAddr } from './addr.js';
import { rd16, wr16 } from './bytes.js';
import { prepend } from './headroom.js';

export const ETH_HLEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;

export interface EthernetFrame {
  dst: MacAddr;
  src: MacAddr;
  etherType: number;
  payload: Uint8Array;
}

/** Views into frame (no copy); null when shorter than a header. */
export function parseEthernet(frame: Uint8Array): EthernetFrame | null {
  if (frame.length < ETH_HLEN) return null;
  return {
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    etherType: rd16(frame, 12),
    payload: frame.subarray(ETH_HLEN),
  };
}

export function buildEthernet(dst: MacAddr, src: MacAddr, etherType: number, payload: Uint8Array): Uint8Array {
  const f = prepend(payload, ETH_HLEN);
  f.set(dst.subarray(0, 6), 0);
  f.set(src.subarray(0, 6), 6);
  wr16(f, 12, etherType);
  return f;
}
