// Two stacks joined by a VirtualWire, with one virtual clock stepping to the next event.

import { parseIPv4, parseMac, type Ipv4Addr, type MacAddr } from '../addr.js';
import { VirtualWire, type WireOptions } from '../link/wire.js';
import { Stack, type StackOptions } from '../stack.js';
import { seededRandom } from './rng.js';

export const A_IP = parseIPv4('192.168.7.1') as Ipv4Addr;
export const B_IP = parseIPv4('192.168.7.2') as Ipv4Addr;

export class TwoHosts {
  readonly a: Stack;
  readonly b: Stack;
  readonly wire: VirtualWire;
  now = 0;

  constructor(seed: number, wire: WireOptions = {}, stackOpts: StackOptions = {}) {
    const macA = parseMac('02:00:00:00:0a:01') as MacAddr;
    const macB = parseMac('02:00:00:00:0b:01') as MacAddr;
    this.wire = new VirtualWire(macA, macB, { random: seededRandom(seed ^ 0x5eed), ...wire });
    this.a = new Stack({ random: seededRandom(seed), ...stackOpts });
    this.b = new Stack({ random: seededRandom(seed + 1), ...stackOpts });
    this.a.addAddress(this.a.addNic(this.wire.a), A_IP, 24);
    this.b.addAddress(this.b.addNic(this.wire.b), B_IP, 24);
  }

  /** The next time anything happens (a timer or a frame arrival), if anything is pending. */
  nextEvent(): number | undefined {
    const ts = [this.a.nextTimerAt(), this.b.nextTimerAt(), this.wire.nextDeliveryAt()].filter((t): t is number => t !== undefined);
    return ts.length === 0 ? undefined : Math.min(...ts);
  }

  /** Step to time t: timers first, then frames due. */
  stepTo(t: number): void {
    if (t < this.now) t = this.now;
    this.now = t;
    this.wire.setTime(t);
    this.a.tick(t);
    this.b.tick(t);
    this.wire.advance(t);
  }

  /** Run events until done() holds or virtual time passes limitMs. Returns whether done() held. */
  runUntil(done: () => boolean, limitMs: number): boolean {
    const end = this.now + limitMs;
    while (!done()) {
      const t = this.nextEvent();
      if (t === undefined || t > end) return done();
      this.stepTo(t);
    }
    return true;
  }
}
