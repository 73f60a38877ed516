// The memory file: one memfd holding every page of application memory. The Sentry maps it
// once and reaches pages as typed-array views; stubs map the same pages at app addresses.
// Pages are reference-counted so fork can share them copy-on-write.

import type { Result } from '../abi/result.js';
import { err } from '../abi/result.js';
import { E } from '../abi/errno.js';

export const PAGE = 4096;
export const PAGE_SHIFT = 12;

export interface MemoryFileBacking {
  /** The memfd number in the Sentry and (as fd 3) in every stub. */
  readonly fd: number;
  readonly chunks: ArrayBuffer[];
  /** Gives pages back to the host; they read as zeros afterwards. */
  punch(offset: number, len: number): void;
}

export class MemoryFile {
  readonly fd: number;
  private readonly views: Uint8Array[];
  private readonly chunkPagesShift: number;
  private readonly chunkMask: number;
  readonly totalPages: number;
  private readonly refs: Uint32Array;
  /** Never-used pages start at bump; freed pages go to freeList (already zeroed by punch). */
  private bump = 1; // page 0 stays unused so a zero "ppn" is never valid
  private freeList: number[] = [];
  private usedPages = 0;

  constructor(private readonly backing: MemoryFileBacking) {
    this.fd = backing.fd;
    this.views = backing.chunks.map((c) => new Uint8Array(c));
    const chunkBytes = backing.chunks[0].byteLength;
    this.chunkPagesShift = Math.log2(chunkBytes / PAGE);
    if (!Number.isInteger(this.chunkPagesShift)) throw new Error('memory file chunk must be a power of two');
    this.chunkMask = (1 << this.chunkPagesShift) - 1;
    this.totalPages = backing.chunks.length << this.chunkPagesShift;
    this.refs = new Uint32Array(this.totalPages);
  }

  /** Pages currently allocated (RSS of all app memory). */
  get allocated(): number {
    return this.usedPages;
  }

  /** A view of one page (ppn = page number in the file). */
  page(ppn: number): Uint8Array {
    const chunk = this.views[ppn >>> this.chunkPagesShift];
    const off = (ppn & this.chunkMask) * PAGE;
    return chunk.subarray(off, off + PAGE);
  }

  /**
   * Allocates n zeroed pages, contiguous in the file when possible (so one host mmap
   * covers them); returns their page numbers with refcount 1.
   */
  alloc(n: number): Result<number[]> {
    const out: number[] = [];
    // Contiguous from the bump region unless it would straddle a chunk boundary.
    const sameChunk = (this.bump >>> this.chunkPagesShift) === ((this.bump + n - 1) >>> this.chunkPagesShift);
    if (this.freeList.length < n && this.bump + n <= this.totalPages && sameChunk) {
      for (let i = 0; i < n; i++) out.push(this.bump + i);
      this.bump += n;
    } else if (this.freeList.length >= n) {
      // The tail of the free list in its own order: pages freed together (releaseMany
      // sorts them) come back contiguous, so their host mapping stays one mmap.
      const from = this.freeList.length - n;
      for (let i = from; i < this.freeList.length; i++) out.push(this.freeList[i]);
      this.freeList.length = from;
    } else {
      for (let i = 0; i < n; i++) {
        let p = this.freeList.pop();
        if (p === undefined) {
          if (this.bump >= this.totalPages) {
            for (const q of out) this.release(q);
            return err(E.ENOMEM);
          }
          p = this.bump++;
        }
        out.push(p);
      }
    }
    for (const p of out) this.refs[p] = 1;
    this.usedPages += n;
    return out;
  }

  refcount(ppn: number): number {
    return this.refs[ppn];
  }

  incRef(ppn: number): void {
    this.refs[ppn]++;
  }

  /**
   * release() for many pages: the freed ones go back to the host by runs (one punch per
   * contiguous run instead of one per page) and to the free list in ascending order.
   */
  releaseMany(ppns: number[]): void {
    const freed: number[] = [];
    for (const ppn of ppns) {
      if (this.refs[ppn] === 0) continue;
      if (--this.refs[ppn] === 0) freed.push(ppn);
    }
    if (freed.length === 0) return;
    freed.sort((a, b) => a - b);
    let runStart = freed[0];
    let prev = runStart;
    for (let i = 1; i <= freed.length; i++) {
      const p = i < freed.length ? freed[i] : -1;
      if (p === prev + 1) {
        prev = p;
        continue;
      }
      this.backing.punch(runStart * PAGE, (prev - runStart + 1) * PAGE);
      runStart = prev = p;
    }
    // Ascending on the list's tail, so alloc hands them out contiguous again.
    for (const p of freed) this.freeList.push(p);
    this.usedPages -= freed.length;
  }

  /** Drops one reference; the last one returns the page to the host. */
  release(ppn: number): void {
    if (this.refs[ppn] === 0) return;
    if (--this.refs[ppn] === 0) {
      this.backing.punch(ppn * PAGE, PAGE);
      this.freeList.push(ppn);
      this.usedPages--;
    }
  }
}
