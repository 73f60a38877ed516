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
