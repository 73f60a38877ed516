// System V shared memory segments (man 2 shmget): each segment is a shmem object whose
// pages live in the memory file; shmat maps it MAP_SHARED. Its attach count is the number
// of VMAs referring to it (so fork and mprotect splits count, as on Linux), and a segment
// marked for removal is destroyed when the last one goes.

import type { Result } from '../../abi/result.js';
import type { Mappable } from '../../mm/mappable.js';
import type { MemoryFile } from '../../mm/memory_file.js';
import { ShmemPages } from '../../mm/shmem_pages.js';
import { IdTable, IpcPerm, nowSec, type IpcObject } from './object.js';

export const SHM_RDONLY = 0o10000;
export const SHM_RND = 0o20000;
export const SHM_REMAP = 0o40000;
export const SHM_EXEC = 0o100000;
export const SHM_LOCK = 11;
export const SHM_UNLOCK = 12;
export const SHM_STAT = 13;
export const SHM_INFO = 14;
export const SHM_STAT_ANY = 15;
/** Mode bits Linux keeps in shm_perm.mode. */
export const SHM_DEST = 0o1000;
export const SHM_LOCKED = 0o2000;

export const SHMMIN = 1;
export const SHMMAX = 18446744073692774399n;
export const SHMALL = 18446744073692774399n;
export const SHMMNI = 4096;
const PAGE = 4096;

let nextId = 0;

export class ShmSegment implements IpcObject, Mappable {
  readonly id = `sysv-shm:${nextId++}`;
  private readonly pages = new ShmemPages();
  nattch = 0;
  atime = 0;
  dtime = 0;
  lpid = 0;
  destroyed = false;

  constructor(readonly perm: IpcPerm, readonly size: number, readonly cpid: number, private readonly owner: ShmRegistry) {}

  get pageCount(): number {
    return Math.ceil(this.size / PAGE);
  }

  get rssPages(): number {
    return this.pages.size;
  }

  readSync(_offset: number, _dst: Uint8Array): number {
    return 0;
  }

  sharedPage(mf: MemoryFile, index: number): Result<number> {
    return this.pages.page(mf, index);
  }

  fileSize(): Result<number> {
    return this.size;
  }

  mapped(): void {
    this.nattch++;
  }

  unmapped(): void {
    this.nattch--;
    this.dtime = nowSec();
    if (this.nattch <= 0 && (this.perm.mode & SHM_DEST) !== 0) this.destroy();
  }

  /** IPC_RMID: gone now if nobody is attached, else at the last detach; the key is freed at once. */
  markDestroyed(): void {
    this.perm.mode |= SHM_DEST;
    this.perm.key = 0;
    if (this.nattch <= 0) this.destroy();
  }

  private destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.owner.table.remove(this);
    this.owner.totalPages -= this.pageCount;
    this.pages.releaseAll();
  }
}

export class ShmRegistry {
  readonly table = new IdTable<ShmSegment>(() => this.shmmni);
  shmmax = SHMMAX;
  shmall = SHMALL;
  shmmni = SHMMNI;
  /** Pages of every segment (shm_tot, checked against SHMALL). */
  totalPages = 0;

  /** Every segment in the namespace goes (the namespace died): attached ones when detached. */
  destroyAll(): void {
    for (const s of this.table.values()) s.markDestroyed();
  }
}
