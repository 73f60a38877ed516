// A tmpfs file's bytes: sparse 4 KiB pages (absent pages are holes and read as zeros),
// charged to the filesystem's size limit. Also the file's Mappable for mmap and execve.

import { E } from '../../abi/errno.js';
import { err, isErr, type Result } from '../../abi/result.js';
import type { Mappable } from '../../mm/mappable.js';
import type { MemoryFile } from '../../mm/memory_file.js';
import type { TmpFs } from './tmpfs.js';

const PAGE = 4096;

export class TmpFileData implements Mappable {
  readonly pages = new Map<number, Uint8Array>();
  /**
   * Pages that live in the memory file because a MAP_SHARED mapping uses them: the
   * Uint8Array in pages is then a view of that memory-file page, so read(), write() and
   * every mapping share the bytes. The file holds one reference on each.
   */
  private readonly cached = new Map<number, number>();
  private mf?: MemoryFile;
  size = 0;
  /** Open files and mappings holding the data; pages go when this and the links reach 0. */
  private holders = 0;
  private linked = true;
  /** O_TMPFILE without O_EXCL: linkat may still give the file a name. */
  anonymousLinkable = false;

  constructor(private readonly fs: TmpFs, readonly id: string) {}

  get pageCount(): number {
    return this.pages.size;
  }

  hold(): void {
    this.holders++;
  }

  releaseHold(): void {
    if (--this.holders <= 0 && !this.linked) this.freeAll();
  }

  unlinked(): void {
    this.linked = false;
    if (this.holders <= 0) this.freeAll();
  }

  relinked(): void {
    this.linked = true;
  }

  /** Mappable: a mapping holds the data like an open file does (mmap, close, unlink still works). */
  mapped(): void {
    this.hold();
  }

  unmapped(): void {
    this.releaseHold();
  }

  private freeAll(): void {
    this.fs.releasePages(this.pages.size);
    this.pages.clear();
    for (const ppn of this.cached.values()) this.mf?.release(ppn);
    this.cached.clear();
  }

  /** Drops page pi (truncate, punch): mappings keep their reference to a cached page. */
  private dropPage(pi: number): void {
    this.pages.delete(pi);
    const ppn = this.cached.get(pi);
    if (ppn !== undefined) {
      this.cached.delete(pi);
      this.mf?.release(ppn);
    }
  }

  sharedPage(mf: MemoryFile, index: number): Result<number> {
    const have = this.cached.get(index);
    if (have !== undefined) return have;
    if (this.mf !== undefined && this.mf !== mf) return err(E.ENODEV);
    const old = this.pages.get(index);
    if (old === undefined && !this.fs.reservePages(1)) return err(E.ENOSPC);
    const got = mf.alloc(1);
    if (isErr(got)) {
      if (old === undefined) this.fs.releasePages(1);
      return got;
    }
    const ppn = got[0];
    const view = mf.page(ppn);
    if (old !== undefined) view.set(old);
    this.mf = mf;
    this.pages.set(index, view);
    this.cached.set(index, ppn);
    return ppn;
  }

  /** Copies bytes from offset into dst (zeros in holes); returns the count read (0 at EOF). */
  read(dst: Uint8Array, offset: number): number {
    const n = Math.max(0, Math.min(dst.length, this.size - offset));
    let done = 0;
    while (done < n) {
      const pos = offset + done;
      const pi = Math.floor(pos / PAGE);
      const po = pos - pi * PAGE;
      const k = Math.min(PAGE - po, n - done);
      const page = this.pages.get(pi);
      if (page === undefined) dst.fill(0, done, done + k);
      else dst.set(page.subarray(po, po + k), done);
      done += k;
    }
    return n;
  }

  /** Mappable: fills dst from offset; bytes past EOF are left as they are. */
  readSync(offset: number, dst: Uint8Array): number {
    return this.read(dst, offset);
  }

  /**
   * Writes src at offset, allocating pages as needed. Stops at the first page the size
   * limit refuses: returns the bytes written, or ENOSPC if none were.
   */
  write(src: Uint8Array, offset: number): Result<number> {
    if (offset + src.length > Number.MAX_SAFE_INTEGER) return err(E.EFBIG);
    let done = 0;
    while (done < src.length) {
      const pos = offset + done;
      const pi = Math.floor(pos / PAGE);
      const po = pos - pi * PAGE;
      const k = Math.min(PAGE - po, src.length - done);
      let page = this.pages.get(pi);
      if (page === undefined) {
        if (!this.fs.reservePages(1)) break;
        page = new Uint8Array(PAGE);
        this.pages.set(pi, page);
      }
      page.set(src.subarray(done, done + k), po);
      done += k;
    }
    if (done === 0 && src.length > 0) return err(E.ENOSPC);
    if (offset + done > this.size) this.size = offset + done;
    return done;
  }

  /** Sets the size; pages wholly past the new end are freed, the tail of the last zeroed. */
  truncate(size: number): Result<void> {
    if (size < this.size) {
      const keep = Math.ceil(size / PAGE);
      let freed = 0;
      for (const pi of [...this.pages.keys()]) {
        if (pi >= keep) {
          this.dropPage(pi);
          freed++;
        }
      }
      this.fs.releasePages(freed);
      const tail = this.pages.get(Math.floor(size / PAGE));
      if (tail !== undefined) tail.fill(0, size % PAGE);
    }
    this.size = size;
    return undefined;
  }

  /** fallocate(mode 0 / KEEP_SIZE): allocates the pages of [offset, offset+len). */
  allocate(offset: number, len: number, keepSize: boolean): Result<void> {
    const first = Math.floor(offset / PAGE);
    const last = Math.ceil((offset + len) / PAGE);
    let missing = 0;
    for (let pi = first; pi < last; pi++) if (!this.pages.has(pi)) missing++;
    if (!this.fs.reservePages(missing)) return err(E.ENOSPC);
    for (let pi = first; pi < last; pi++) if (!this.pages.has(pi)) this.pages.set(pi, new Uint8Array(PAGE));
    if (!keepSize && offset + len > this.size) this.size = offset + len;
    return undefined;
  }

  /** FALLOC_FL_PUNCH_HOLE: zeroes [offset, offset+len), freeing whole pages. */
  punchHole(offset: number, len: number): void {
    const end = Math.min(offset + len, this.size);
    let pos = offset;
    let freed = 0;
    while (pos < end) {
      const pi = Math.floor(pos / PAGE);
      const po = pos - pi * PAGE;
      const k = Math.min(PAGE - po, end - pos);
      const page = this.pages.get(pi);
      if (page !== undefined) {
        if (k === PAGE) {
          this.dropPage(pi);
          freed++;
        } else page.fill(0, po, po + k);
      }
      pos += k;
    }
    this.fs.releasePages(freed);
  }

  /** SEEK_DATA / SEEK_HOLE over allocated pages; ENXIO at or past EOF. */
  seekData(offset: number, hole: boolean): Result<number> {
    if (offset >= this.size || offset < 0) return err(E.ENXIO);
    let pi = Math.floor(offset / PAGE);
    const lastPage = Math.ceil(this.size / PAGE);
    for (; pi < lastPage; pi++) {
      const present = this.pages.has(pi);
      if (present !== hole) return Math.max(offset, Math.min(pi * PAGE, this.size));
    }
    return hole ? this.size : err(E.ENXIO);
  }
}
