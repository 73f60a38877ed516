// One page cache per Gofer file, in the memory file: every MAP_SHARED mapping of the file
// maps the same pages, read() and write() through this Sentry see them, and dirty pages go
// back to the host file through the Gofer on msync, munmap and process exit. Pages are
// filled from the fd the Gofer donated (page faults cannot wait for a 9P round trip).

import { E } from '../../abi/errno.js';
import { err, isErr, type Result } from '../../abi/result.js';
import type { MemoryFile } from '../../mm/memory_file.js';
import { fileShrunk } from '../../mm/mm.js';
import { FdMappable, type SizedMappable } from './mappables.js';

const PAGE = 4096;

interface CachedPage {
  ppn: number;
  /** The page as the host file has it (after fill or the last write-back): differences are dirty. */
  clean: Uint8Array;
}

/** Writes data at offset to the host file (through a writable fid); the count written. */
export type WriteBack = (offset: number, data: Uint8Array) => Promise<Result<number>>;

/** Write-backs started by unmaps that nobody waits for (process exit): the sandbox waits before it ends. */
const unawaited = new Set<Promise<void>>();

/** Resolves once every write-back started so far has finished. */
export async function writeBacksSettled(): Promise<void> {
  while (unawaited.size > 0) await Promise.all([...unawaited]);
}

export class GoferPageCache implements SizedMappable {
  private readonly pages = new Map<number, CachedPage>();
  private mf: MemoryFile | null = null;
  /** Write-backs run one at a time, in order. */
  private chain: Promise<Result<void>> = Promise.resolve(undefined);
  private readonly file: FdMappable;

  /** writeBack is null for read-only filesystems: their pages never become dirty. */
  constructor(readonly id: string, fd: number, private readonly writeBack: WriteBack | null) {
    this.file = new FdMappable(id, fd);
  }

  get fd(): number {
    return this.file.fd;
  }

  get cachedPages(): number {
    return this.pages.size;
  }

  size(): Result<number> {
    return this.file.size();
  }

  sharedPage(mf: MemoryFile, index: number): Result<number> {
    const have = this.pages.get(index);
    if (have !== undefined) return have.ppn;
    if (this.mf !== null && this.mf !== mf) return err(E.ENODEV);
    const got = mf.alloc(1);
    if (isErr(got)) return got;
    const ppn = got[0]!;
    const view = mf.page(ppn);
    this.file.readSync(index * PAGE, view);
    this.mf = mf;
    this.pages.set(index, { ppn, clean: view.slice() });
    return ppn;
  }

  /** The file's bytes from offset, cached pages included; bytes past EOF are left alone. */
  readSync(offset: number, dst: Uint8Array): number {
    const n = this.file.readSync(offset, dst);
    this.overlay(dst.subarray(0, n), offset);
    return n;
  }

  /** Replaces what dst (read from the host at offset) holds with the cached pages' bytes. */
  overlay(dst: Uint8Array, offset: number): void {
    if (this.pages.size === 0 || this.mf === null) return;
    this.forRange(offset, dst.length, (p, po, at, k) => dst.set(this.mf!.page(p.ppn).subarray(po, po + k), at));
  }

  /** A write() through this Sentry reached the host: cached pages take the same bytes, clean. */
  wrote(offset: number, src: Uint8Array): void {
    if (this.pages.size === 0 || this.mf === null) return;
    this.forRange(offset, src.length, (p, po, at, k) => {
      const bytes = src.subarray(at, at + k);
      this.mf!.page(p.ppn).set(bytes, po);
      p.clean.set(bytes, po);
    });
  }

  /** Mappable: faults on pages wholly past the host file's size are SIGBUS. */
  fileSize(): Result<number> {
    return this.size();
  }

  /**
   * The host file was cut to `size`: cached bytes past it read as zeros, as they do there,
   * and mappings let go of pages wholly past it.
   */
  truncated(size: number): void {
    fileShrunk(this, size);
    if (this.mf === null) return;
    for (const [index, p] of this.pages) {
      const from = Math.max(0, size - index * PAGE);
      if (from >= PAGE) continue;
      this.mf.page(p.ppn).fill(0, from);
      p.clean.fill(0, from);
    }
  }

  private forRange(offset: number, len: number, fn: (p: CachedPage, pageOff: number, at: number, n: number) => void): void {
    let done = 0;
    while (done < len) {
      const pos = offset + done;
      const index = Math.floor(pos / PAGE);
      const po = pos - index * PAGE;
      const k = Math.min(PAGE - po, len - done);
      const p = this.pages.get(index);
      if (p !== undefined) fn(p, po, done, k);
      done += k;
    }
  }

  private isDirty(p: CachedPage): boolean {
    return this.mf !== null && Buffer.compare(this.mf.page(p.ppn), p.clean) !== 0;
  }

  /** Writes every dirty page (within the file's size) back to the host, after earlier write-backs. */
  flush(): Promise<Result<void>> {
    const next = this.chain.then(() => this.flushNow());
    this.chain = next.then(() => undefined, () => undefined);
    return next;
  }

  private async flushNow(): Promise<Result<void>> {
    try {
      return await this.writeDirty();
    } catch {
      return err(E.EIO);
    }
  }

  private async writeDirty(): Promise<Result<void>> {
    const mf = this.mf;
    if (mf === null || this.writeBack === null) return undefined;
    const size = this.size();
    if (isErr(size)) return size;
    // Runs of consecutive dirty pages, each snapshotted now: later stores make them dirty again.
    const runs: { offset: number; data: Uint8Array[] }[] = [];
    for (const index of [...this.pages.keys()].sort((a, b) => a - b)) {
      const p = this.pages.get(index)!;
      const len = Math.min(PAGE, size - index * PAGE);
      if (len <= 0 || !this.isDirty(p)) continue;
      const snap = mf.page(p.ppn).slice();
      p.clean = snap;
      const last = runs[runs.length - 1];
      const data = snap.subarray(0, len);
      if (last !== undefined && last.offset + last.data.length * PAGE === index * PAGE && last.data[last.data.length - 1]!.length === PAGE) {
        last.data.push(data);
      } else {
        runs.push({ offset: index * PAGE, data: [data] });
      }
    }
    let failed: Result<void> = undefined;
    for (const r of runs) {
      const buf = Buffer.concat(r.data);
      const w = await this.writeBack(r.offset, buf);
      if (isErr(w)) failed = w;
      else if (w !== buf.length) failed = err(E.EIO);
    }
    return failed;
  }

  /** A mapping of the file went: write back, then free pages no mapping holds. */
  unmapped(): void {
    // Private mappings (libraries, executables) never make cached pages.
    if (this.pages.size === 0) return;
    const p = this.flush().then(() => this.trim());
    unawaited.add(p);
    void p.finally(() => unawaited.delete(p));
  }

  /** Frees clean pages only the cache still references. */
  trim(): void {
    const mf = this.mf;
    if (mf === null) return;
    for (const [index, p] of this.pages) {
      if (mf.refcount(p.ppn) === 1 && !this.isDirty(p)) {
        this.pages.delete(index);
        mf.release(p.ppn);
      }
    }
  }
}
