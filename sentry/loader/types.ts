// What the loader needs from the rest of the kernel: a fresh address space to fill and the
// files it executes. The memory manager and the VFS implement these.

import type { Result } from '../abi/result.js';
import type { Mappable } from '../mm/mappable.js';

export interface LoaderMemory {
  /** Maps anonymous zeroed memory. fixed=true: exactly at addr (replacing); false: addr is a hint (0 = anywhere), returns the address chosen. len is rounded up to pages. */
  mapAnonymous(addr: number, len: number, prot: number, fixed: boolean): Result<number>;
  /** Private (copy-on-write) mapping of file bytes [offset, offset+len) (offset page-aligned). Same fixed/hint rule. */
  mapFile(addr: number, len: number, prot: number, fixed: boolean, file: Mappable, offset: number): Result<number>;
  copyOut(addr: number, src: Uint8Array): Result<void>;
  /** Works on any mapped page regardless of prot (a kernel write). */
  zero(addr: number, len: number): Result<void>;
  /** Where brk starts (end of the highest PT_LOAD of the main executable, page aligned). */
  setBrkBase(addr: number): void;
}

export interface ExecFile {
  /** The path used to open it, for AT_EXECFN/diagnostics. */
  readonly path: string;
  readonly size: number;
  /** Short read at EOF. */
  readAt(offset: number, len: number): Result<Uint8Array>;
  readonly mappable: Mappable;
  /** Has an x bit for the caller and is a regular file (EACCES otherwise). */
  readonly executable: boolean;
}

export const PAGE_SIZE = 4096;
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

/** Highest address (exclusive) an ELF segment may occupy: the stack and the stub live above. */
export const USER_ADDR_LIMIT = 0x7ffe00000000;

export function pageDown(x: number): number {
  return Math.floor(x / PAGE_SIZE) * PAGE_SIZE;
}

export function pageUp(x: number): number {
  const r = x % PAGE_SIZE;
  return r === 0 ? x : x + (PAGE_SIZE - r);
}
