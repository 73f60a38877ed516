// Ping sockets' echo identifiers: like ports, each identifier belongs to one socket per
// stack and address family, and an unbound socket gets a random free one.

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import type { NetService } from './net_service.js';

/** The identifiers in use, per stack, for one address family. */
export class EchoIds {
  private readonly inUse = new WeakMap<NetService, Set<number>>();

  private ids(net: NetService): Set<number> {
    let s = this.inUse.get(net);
    if (s === undefined) this.inUse.set(net, (s = new Set()));
    return s;
  }

  /** Claims id on net (0: a random free one): the identifier, EADDRINUSE, or EAGAIN when none is free. */
  claim(net: NetService, id: number): Result<number> {
    const ids = this.ids(net);
    if (id === 0) {
      for (let i = 0; i < 0xffff && id === 0; i++) {
        const c = 1 + Math.floor(net.stack.random() * 0xfffe);
        if (!ids.has(c)) id = c;
      }
      if (id === 0) return err(E.EAGAIN);
    } else if (ids.has(id)) {
      return err(E.EADDRINUSE);
    }
    ids.add(id);
    return id;
  }

  release(net: NetService, id: number): void {
    this.ids(net).delete(id);
  }
}
