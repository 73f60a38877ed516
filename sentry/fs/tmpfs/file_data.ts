// A tmpfs file's bytes: sparse 4 KiB pages (absent pages are holes and read as zeros),
// charged to the filesystem's size limit. Also the file's Mappable for mmap and execve.

import { E } from '../../abi/errno.js';
import { err, isErr, type Result } from '../../abi/result.js';
import type { Mappable } from '../../mm/mappable.js';
import type { MemoryFile } from '../../mm/memory_file.js';
import { fileShrunk } from '../../mm/mm.js';
import type { TmpFs } from './tmpfs.js';

const PAGE = 4096;
/** Most pages one write allocates together (a block lives until its last page goes). */
const MAX_RUN_PAGES = 256;
const ZERO_PAGE = new Uint8Array(PAGE);

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
  /** VMAs referring to the data (a shrink need not look for mappings when there are none). */
  private mappings = 0;
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
    this.mappings++;
    this.hold();
  }

  unmapped(): void {
    this.mappings--;
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
    const n = this.readTo(dst.length, offset, (at, bytes) => {
      dst.set(bytes, at);
      return undefined;
    });
    return isErr(n) ? 0 : n;
  }

  /**
   * Hands up to len bytes from offset to put(at, bytes) page by page, without a staging
   * buffer (holes as zeros). Stops at put's first error: the count so far, or that error.
   */
  readTo(len: number, offset: number, put: (at: number, bytes: Uint8Array) => Result<void>): Result<number> {
    const n = Math.max(0, Math.min(len, this.size - offset));
    let done = 0;
    let merge = true;
    while (done < n) {
      const pos = offset + done;
      const pi = Math.floor(pos / PAGE);
      const po = pos - pi * PAGE;
      const k = Math.min(PAGE - po, n - done);
      const page = this.pages.get(pi);
      const bytes = page === undefined ? ZERO_PAGE.subarray(0, k) : merge ? this.span(pi, page, po, n - done) : page.subarray(po, po + k);
      const r = put(done, bytes);
      if (isErr(r)) {
        // Which page failed decides the count: go on page by page.
        if (bytes.length > k) {
          merge = false;
          continue;
        }
        return done > 0 ? done : r;
      }
      done += bytes.length;
    }
    return n;
  }

  /**
   * page (index first) from byte po, joined with the following pages while they sit right
   * after it in the same block (pages written together): one copy instead of one per page.
   */
  private span(first: number, page: Uint8Array, po: number, max: number): Uint8Array {
    let len = Math.min(PAGE - po, max);
    let last = page;
    for (let i = first + 1; len < max; i++) {
      const next = this.pages.get(i);
      if (next === undefined || next.buffer !== last.buffer || next.byteOffset !== last.byteOffset + PAGE) break;
      len += Math.min(PAGE, max - len);
      last = next;
    }
    return len <= PAGE - po ? page.subarray(po, po + len) : new Uint8Array(page.buffer, page.byteOffset + po, len);
  }

  /** Mappable: faults on pages wholly past this are SIGBUS. */
  fileSize(): Result<number> {
    return this.size;
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
    return this.writeFrom(src.length, offset, (at, dst) => {
      dst.set(src.subarray(at, at + dst.length));
      return undefined;
    });
  }

  /**
   * Writes len bytes at offset, each page's part filled by get(at, dst) straight from the
   * source. Stops at the size limit or get's first error: the count so far, else the error.
   */
  writeFrom(len: number, offset: number, get: (at: number, dst: Uint8Array) => Result<void>): Result<number> {
    if (offset + len > Number.MAX_SAFE_INTEGER) return err(E.EFBIG);
    let done = 0;
    let failed: Result<never> | null = null;
    let merge = true;
    while (done < len) {
      const pos = offset + done;
      const pi = Math.floor(pos / PAGE);
      const po = pos - pi * PAGE;
      const k = Math.min(PAGE - po, len - done);
      const page = this.pages.get(pi) ?? this.allocRun(pi, Math.floor((offset + len - 1) / PAGE));
      if (page === undefined) break;
      const dst = merge ? this.span(pi, page, po, len - done) : page.subarray(po, po + k);
      const r = get(done, dst);
      if (isErr(r)) {
        // Again page by page, to stop exactly at the page that failed.
        if (dst.length > k) {
          merge = false;
          continue;
        }
        // Bytes past the new end must stay zero: a later extension would show them.
        const end = Math.max(this.size, pos) - pi * PAGE;
        if (end < PAGE) page.fill(0, Math.max(end, 0));
        failed = r;
        break;
      }
      done += dst.length;
    }
    if (done === 0 && len > 0) return failed ?? err(E.ENOSPC);
    if (offset + done > this.size) this.size = offset + done;
    return done;
  }

  /**
   * Allocates page first and the missing pages after it up to last (as far as the size limit
   * allows) in one zeroed block, one allocation per run instead of one per page.
   */
  private allocRun(first: number, last: number): Uint8Array | undefined {
    let n = 1;
    while (first + n <= last && n < MAX_RUN_PAGES && !this.pages.has(first + n)) n++;
    const room = this.fs.maxPages - this.fs.usedPages;
    n = Math.min(n, room);
    if (n <= 0 || !this.fs.reservePages(n)) return undefined;
    const block = new ArrayBuffer(n * PAGE);
    for (let i = 0; i < n; i++) this.pages.set(first + i, new Uint8Array(block, i * PAGE, PAGE));
    return this.pages.get(first);
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
      this.size = size;
      // Mappings let go of the pages past the end: touching them is SIGBUS now.
      if (this.mappings > 0) fileShrunk(this, size);
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
