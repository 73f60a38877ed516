// The sandbox's network: one netstack per sandbox (its network namespace), with a loopback
// device holding 127.0.0.1/8 (and, with --network=sandbox, outside links: outside_link.ts). The netstack runs on virtual time; this drives it with the
// Sentry's clock: every socket operation first advances it to now, and a Node timer fires
// the next protocol timer (retransmission, delayed ACK, TIME_WAIT...).

import type { Kernel } from '../../kernel/kernel.js';
import { IPV6_LOOPBACK } from '../../netstack/ipv6/addr6.js';
import { LoopbackLink } from '../../netstack/link/loopback.js';
import { Stack, type StackOptions } from '../../netstack/stack.js';

export class NetService {
  readonly stack: Stack;
  readonly loopbackNic: number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = Infinity;

  constructor(opts: StackOptions = {}) {
    this.stack = new Stack({ ...opts, startMs: performance.now() });
    this.loopbackNic = this.stack.addNic(new LoopbackLink(65536), 'lo');
    this.stack.addAddress(this.loopbackNic, '127.0.0.1', 8);
    this.stack.ipv6.addAddress(this.loopbackNic, IPV6_LOOPBACK, 128);
  }

  /** Runs fn against the stack at the current time, then re-arms the protocol timer. */
  run<T>(fn: () => T): T {
    this.stack.tick(performance.now());
    const r = fn();
    this.schedule();
    return r;
  }

  private schedule(): void {
    const next = this.stack.nextTimerAt();
    if (next === undefined) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer !== null && this.timerAt <= next) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.run(() => undefined);
    }, Math.max(0, Math.ceil(next - performance.now())));
    // Protocol timers alone (a TIME_WAIT) must not keep the Sentry alive.
    this.timer.unref?.();
  }
}

const services = new WeakMap<Kernel, NetService>();

/** Gives a sandbox the stack its network configuration built (before init runs). */
export function installNetService(k: Kernel, s: NetService): void {
  services.set(k, s);
}

/** The network stack of a sandbox, made at its first socket (loopback only) unless installed. */
export function netServiceOf(k: Kernel): NetService {
  let s = services.get(k);
  if (s === undefined) {
    s = new NetService();
    services.set(k, s);
  }
  return s;
}
