// Something whose bytes can back a file mapping (a regular file's contents).

import type { Result } from '../abi/result.js';
import type { MemoryFile } from './memory_file.js';

export interface Mappable {
  /** Stable identity, so one page cache per file can be shared later. */
  readonly id: string;
  /**
   * Fills dst with the file's bytes from offset; returns how many came from the file.
   * Bytes past end of file are left as they are (the caller zeroes them). Synchronous:
   * page faults are served without yielding (the Gofer donates fds for this).
   */
  readSync(offset: number, dst: Uint8Array): number;
  /**
   * A file with a page cache in the memory file (tmpfs, memfd): the memory-file page
   * holding page `index` of the file, allocated on first use, so every MAP_SHARED mapping
   * and read()/write() see the same bytes. The mapping takes its own reference.
   */
  sharedPage?(mf: MemoryFile, index: number): Result<number>;
  /**
   * The file's size now, in bytes: a fault on a page wholly past it is SIGBUS (the partial
   * last page reads zeros past EOF). Absent: the object has no end (anonymous shared memory).
   */
  fileSize?(): Result<number>;
  /** A page cache held apart from its file (Gofer files): msync writes its dirty pages back. */
  flush?(): Promise<Result<void>>;
  /**
   * A VMA now refers to this file (mmap, a split of a mapping, fork): the file's data must
   * outlive it even if every fd is closed and the file unlinked, until the matching unmapped().
   */
  mapped?(): void;
  /** A VMA referring to this file went (munmap, exit, exec): a chance to write back and let go. */
  unmapped?(): void;
}
