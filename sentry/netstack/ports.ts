// Port reservations for one transport protocol, with Linux's SO_REUSEADDR/SO_REUSEPORT rules
// in simplified form, and ephemeral port choice from 32768-60999 (Linux's default range).

import { E } from '../abi/errno.js';
import { err, type Result } from '../abi/result.js';
import type { Ipv4Addr } from './addr.js';

export interface PortOwner {
  reuseAddr: boolean;
  reusePort: boolean;
  /** A TCP listener blocks SO_REUSEADDR binds to its port. */
  isListening(): boolean;
  /** A TIME_WAIT endpoint yields its port to SO_REUSEADDR binds. */
  isTimeWait(): boolean;
}

export const EPHEMERAL_LOW = 32768;
export const EPHEMERAL_HIGH = 60999;

interface Reservation {
  owner: PortOwner;
  addr: Ipv4Addr;
}

export class PortTable {
  private byPort = new Map<number, Reservation[]>();

  constructor(private readonly random: () => number) {}

  /** Reserve addr:port for owner; port 0 picks a free ephemeral port. Returns the port. */
  reserve(owner: PortOwner, addr: Ipv4Addr, port: number): Result<number> {
    if (port !== 0) {
      if (!this.free(owner, addr, port)) return err(E.EADDRINUSE);
      this.add(owner, addr, port);
      return port;
    }
    const span = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
    const start = Math.floor(this.random() * span);
    for (let i = 0; i < span; i++) {
      const p = EPHEMERAL_LOW + ((start + i) % span);
      if (!this.byPort.has(p)) {
        this.add(owner, addr, p);
        return p;
      }
    }
    return err(E.EADDRINUSE);
  }

  release(owner: PortOwner, port: number): void {
    const list = this.byPort.get(port);
    if (list === undefined) return;
    const rest = list.filter((r) => r.owner !== owner);
    if (rest.length === 0) this.byPort.delete(port);
    else this.byPort.set(port, rest);
  }

  /** Every address a reservation names (for a layer that must keep those addresses known). */
  addresses(): Ipv4Addr[] {
    return [...this.byPort.values()].flatMap((list) => list.map((r) => r.addr));
  }

  private add(owner: PortOwner, addr: Ipv4Addr, port: number): void {
    const list = this.byPort.get(port) ?? [];
    list.push({ owner, addr });
    this.byPort.set(port, list);
  }

  private free(owner: PortOwner, addr: Ipv4Addr, port: number): boolean {
    for (const r of this.byPort.get(port) ?? []) {
      if (r.owner === owner) continue;
      if (r.addr !== 0 && addr !== 0 && r.addr !== addr) continue;
      if (owner.reusePort && r.owner.reusePort) continue;
      if (owner.reuseAddr && r.owner.isTimeWait()) continue;
      if (owner.reuseAddr && r.owner.reuseAddr && !r.owner.isListening()) continue;
      return false;
    }
    return true;
  }
}
