// The SOL_IP options TCP and UDP sockets share: IP_TTL lives in the endpoint (it goes on
// every packet), the others are kept and reported back as set.

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import { int32 } from '../socket_file.js';

export const IP = { TOS: 1, TTL: 2, RECVERR: 11, MTU_DISCOVER: 10 } as const;

/** An endpoint's options as far as SOL_IP reaches them. */
interface TtlHolder {
  ttl: number;
}

export class IpOptions {
  private readonly stored = new Map<number, number>();

  /** getsockopt(SOL_IP, name): the value, or ENOPROTOOPT for an option not kept. */
  get(ep: TtlHolder, name: number): Result<Uint8Array> {
    if (name === IP.TTL) return int32(ep.ttl);
    if (name === IP.TOS || name === IP.RECVERR || name === IP.MTU_DISCOVER) return int32(this.stored.get(name) ?? 0);
    return err(E.ENOPROTOOPT);
  }

  /** setsockopt(SOL_IP, name, v): IP_TTL takes 1..255, or -1 for the default 64. */
  set(ep: TtlHolder, name: number, v: number): Result<void> {
    if (name === IP.TTL) {
      if (v === -1) ep.ttl = 64;
      else if (v < 1 || v > 255) return err(E.EINVAL);
      else ep.ttl = v;
      return undefined;
    }
    if (name === IP.TOS || name === IP.RECVERR || name === IP.MTU_DISCOVER) {
      this.stored.set(name, v);
      return undefined;
    }
    return err(E.ENOPROTOOPT);
  }
}
