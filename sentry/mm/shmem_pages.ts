// The pages of a shmem object (shared anonymous memory, SysV shm segments): zero-filled
// memory-file pages allocated on first touch, one reference each held by the object, so
// every mapping of it (fork included) sees the same bytes until the object lets them go.

import { isErr, type Result } from '../abi/result.js';
import type { MemoryFile } from './memory_file.js';

export class ShmemPages {
  /** Page index -> memory-file page. */
  private readonly pages = new Map<number, number>();
  private mf?: MemoryFile;

  /** The memory-file page for page `index`, allocated (zeroed) on first use. */
  page(mf: MemoryFile, index: number): Result<number> {
    const have = this.pages.get(index);
    if (have !== undefined) return have;
    const got = mf.alloc(1);
    if (isErr(got)) return got;
    this.mf = mf;
    this.pages.set(index, got[0]);
    return got[0];
  }

  /** Pages allocated so far (resident). */
  get size(): number {
    return this.pages.size;
  }

  /** Gives every page back. */
  releaseAll(): void {
    for (const ppn of this.pages.values()) this.mf?.release(ppn);
    this.pages.clear();
  }
}
