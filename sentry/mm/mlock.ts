// mlock bookkeeping: which page ranges an address space has locked, and whether new
// mappings are locked too (MCL_FUTURE). The Sentry never swaps app memory, so a lock
// changes nothing but accounting: VmLck in /proc and RLIMIT_MEMLOCK.

export class LockedRanges {
  /** Sorted, disjoint, non-adjacent [start, end) ranges. */
  private ranges: [number, number][] = [];
  /** mlockall(MCL_FUTURE): mappings created from now on are locked. */
  future = false;

  add(start: number, end: number): void {
    if (end <= start) return;
    const out: [number, number][] = [];
    let s = start;
    let e = end;
    for (const [a, b] of this.ranges) {
      if (b < s || a > e) out.push([a, b]);
      else {
        s = Math.min(s, a);
        e = Math.max(e, b);
      }
    }
    out.push([s, e]);
    out.sort((x, y) => x[0] - y[0]);
    this.ranges = out;
  }

  remove(start: number, end: number): void {
    if (end <= start || this.ranges.length === 0) return;
    const out: [number, number][] = [];
    for (const [a, b] of this.ranges) {
      if (b <= start || a >= end) {
        out.push([a, b]);
        continue;
      }
      if (a < start) out.push([a, start]);
      if (b > end) out.push([end, b]);
    }
    this.ranges = out;
  }

  clear(): void {
    this.ranges = [];
    this.future = false;
  }

  /** Locked bytes, as VmLck counts them. */
  get bytes(): number {
    let n = 0;
    for (const [a, b] of this.ranges) n += b - a;
    return n;
  }

  /** Locked bytes inside [start, end) (already counted when re-locking). */
  bytesWithin(start: number, end: number): number {
    let n = 0;
    for (const [a, b] of this.ranges) n += Math.max(0, Math.min(b, end) - Math.max(a, start));
    return n;
  }
}
