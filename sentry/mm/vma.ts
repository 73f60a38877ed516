// Virtual memory areas: the app's view of its address space, kept sorted and non-overlapping.

import type { Mappable } from './mappable.js';

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

export interface Vma {
  start: number;
  end: number;
  prot: number;
  /** MAP_SHARED: pages are shared by fork instead of copy-on-write. */
  shared: boolean;
  file?: Mappable;
  /** Shared file mappings: whether the file was opened for writing (mprotect may add PROT_WRITE). */
  mayWrite?: boolean;
  /** File offset of `start` for file mappings. */
  fileOffset: number;
  growsDown: boolean;
  name?: string;
}

export class VmaList {
  readonly list: Vma[] = [];

  /** Index of the first VMA with end > addr. */
  private lowerBound(addr: number): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid].end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  find(addr: number): Vma | undefined {
    const i = this.lowerBound(addr);
    const v = this.list[i];
    return v !== undefined && v.start <= addr ? v : undefined;
  }

  /** VMAs intersecting [start, end), in order. */
  overlapping(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = this.lowerBound(start); i < this.list.length && this.list[i].start < end; i++) out.push(this.list[i]);
    return out;
  }

  /** Cuts VMAs so that start and end fall on VMA boundaries. */
  private splitAt(addr: number): void {
    const i = this.lowerBound(addr);
    const v = this.list[i];
    if (v === undefined || v.start >= addr) return;
    const right: Vma = { ...v, start: addr, fileOffset: v.fileOffset + (addr - v.start) };
    v.end = addr;
    right.file?.mapped?.();
    this.list.splice(i + 1, 0, right);
  }

  /** Removes [start, end) and returns the removed pieces. */
  remove(start: number, end: number): Vma[] {
    this.splitAt(start);
    this.splitAt(end);
    const i = this.lowerBound(start);
    let j = i;
    while (j < this.list.length && this.list[j].start < end) j++;
    return this.list.splice(i, j - i);
  }

  insert(v: Vma): void {
    this.remove(v.start, v.end);
    this.list.splice(this.lowerBound(v.start), 0, v);
  }

  /** Changes prot on [start, end); the range must be fully mapped (checked by the caller). */
  protect(start: number, end: number, prot: number): void {
    this.splitAt(start);
    this.splitAt(end);
    for (const v of this.overlapping(start, end)) v.prot = prot;
  }

  /** True if every byte of [start, end) is in some VMA. */
  covers(start: number, end: number): boolean {
    let at = start;
    for (const v of this.overlapping(start, end)) {
      if (v.start > at) return false;
      at = v.end;
      if (at >= end) return true;
    }
    return at >= end;
  }

  /** The highest gap of len bytes ending at or below `below` and above `floor`. */
  findGapTopDown(len: number, below: number, floor: number): number | undefined {
    let top = below;
    for (let i = this.list.length - 1; i >= -1; i--) {
      const v = i >= 0 ? this.list[i] : undefined;
      if (v !== undefined && v.start >= top) continue;
      const gapStart = v === undefined ? floor : Math.max(v.end, floor);
      if (top - gapStart >= len) return top - len;
      if (v === undefined) break;
      top = Math.min(top, v.start);
      if (top <= floor) break;
    }
    return undefined;
  }

  clone(): VmaList {
    const c = new VmaList();
    for (const v of this.list) {
      c.list.push({ ...v });
      v.file?.mapped?.();
    }
    return c;
  }
}
