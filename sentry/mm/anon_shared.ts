// The shmem object behind MAP_SHARED|MAP_ANONYMOUS: zero-filled pages in the memory file
// that every mapping of it shares (fork included, even pages nobody touched before the
// fork), freed when the last mapping goes.

import type { Result } from '../abi/result.js';
import type { Mappable } from './mappable.js';
import type { MemoryFile } from './memory_file.js';
import { ShmemPages } from './shmem_pages.js';

let nextId = 0;

export class AnonSharedMemory implements Mappable {
  readonly id = `anon-shared:${nextId++}`;
  private readonly pages = new ShmemPages();
  private mappings = 0;

  /** Fresh pages come zeroed from the memory file: nothing to copy in. */
  readSync(_offset: number, _dst: Uint8Array): number {
    return 0;
  }

  sharedPage(mf: MemoryFile, index: number): Result<number> {
    return this.pages.page(mf, index);
  }

  mapped(): void {
    this.mappings++;
  }

  unmapped(): void {
    if (--this.mappings > 0) return;
    this.pages.releaseAll();
  }

  /** Pages allocated so far (for tests and accounting). */
  get pageCount(): number {
    return this.pages.size;
  }
}
