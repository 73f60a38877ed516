// Readiness bits, numerically equal to Linux's EPOLL*/POLL* so the socket layer passes them through.

export const EV_IN = 0x001;
export const EV_PRI = 0x002;
export const EV_OUT = 0x004;
export const EV_ERR = 0x008;
export const EV_HUP = 0x010;
export const EV_RDHUP = 0x2000;

export type ReadinessListener = (mask: number) => void;

/** A set of listeners told the current readiness mask whenever it may have changed. */
export class Notifier {
  private listeners = new Set<ReadinessListener>();

  subscribe(fn: ReadinessListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify(mask: number): void {
    for (const fn of [...this.listeners]) fn(mask);
  }

  get size(): number {
    return this.listeners.size;
  }
}
