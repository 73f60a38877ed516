// A link endpoint on a host AF_PACKET socket bound to one interface (the sandbox end of a
// veth pair): whole Ethernet frames in and out. Reads run on Node's thread pool, one frame
// per read; the socket's receive timeout lets a closed link's reader stop.

import { read, writeSync, closeSync } from 'node:fs';
import type { MacAddr } from '../addr.js';
import type { LinkEndpoint } from './link.js';

/** Ethernet header plus one VLAN tag. */
const LINK_OVERHEAD = 18;

export interface PacketLinkStats {
  rxFrames: number;
  txFrames: number;
  txErrors: number;
}

export class PacketLink implements LinkEndpoint {
  readonly kind = 'ethernet' as const;
  readonly stats: PacketLinkStats = { rxFrames: 0, txFrames: 0, txErrors: 0 };
  private deliver: ((frame: Uint8Array) => void) | null = null;
  private closed = false;
  private reading = false;

  /**
   * fd: a bound AF_PACKET socket (owned by the link from now on). run: how received frames
   * enter the stack (the NetService advances the stack's clock first).
   */
  constructor(private readonly fd: number, readonly mtu: number, readonly mac: MacAddr,
    private readonly run: (fn: () => void) => void) {}

  attach(deliver: (frame: Uint8Array) => void): void {
    this.deliver = deliver;
    if (!this.reading) this.readNext();
  }

  private readNext(): void {
    if (this.closed) return;
    this.reading = true;
    const buf = Buffer.allocUnsafe(this.mtu + LINK_OVERHEAD);
    read(this.fd, buf, 0, buf.length, null, (e, n) => {
      this.reading = false;
      if (this.closed) {
        closeSync(this.fd);
        return;
      }
      if (e === null && n > 0 && this.deliver !== null) {
        this.stats.rxFrames++;
        const d = this.deliver;
        this.run(() => d(new Uint8Array(buf.buffer, buf.byteOffset, n)));
      }
      // EAGAIN is the receive timeout; anything else (ENETDOWN) is retried the same way.
      this.readNext();
    });
  }

  write(frame: Uint8Array): void {
    if (this.closed) return;
    try {
      writeSync(this.fd, frame);
      this.stats.txFrames++;
    } catch {
      // A full device queue (ENOBUFS) or a link going down drops the frame, as a NIC would.
      this.stats.txErrors++;
    }
  }

  /** Stops reading; the fd is closed once the pending read returns. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.reading) closeSync(this.fd);
  }
}
