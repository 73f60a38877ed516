// The shmem object behind MAP_SHARED|MAP_ANONYMOUS: zero-filled pages in the memory file
// that every mapping of it shares (fork included, even pages nobody touched before the
// fork), freed when the last mapping goes.

import { isErr, type Result } from '../abi/result.js';
import type { Mappable } from './mappable.js';
import type { MemoryFile } from './memory_file.js';

let nextId = 0;

export class AnonSharedMemory implements Mappable {
  readonly id = `anon-shared:${nextId++}`;
  /** Page index -> memory-file page; the object holds one reference on each. */
  private readonly pages = new Map<number, number>();
  private mf?: MemoryFile;
  private mappings = 0;

  /** Fresh pages come zeroed from the memory file: nothing to copy in. */
  readSync(_offset: number, _dst: Uint8Array): number {
    return 0;
  }

  sharedPage(mf: MemoryFile, index: number): Result<number> {
    const have = this.pages.get(index);
    if (have !== undefined) return have;
    const got = mf.alloc(1);
    if (isErr(got)) return got;
    this.mf = mf;
    this.pages.set(index, got[0]);
    return got[0];
  }

  mapped(): void {
    this.mappings++;
  }

  unmapped(): void {
    if (--this.mappings > 0) return;
    for (const ppn of this.pages.values()) this.mf?.release(ppn);
    this.pages.clear();
  }

  /** Pages allocated so far (for tests and accounting). */
  get pageCount(): number {
    return this.pages.size;
  }
}
