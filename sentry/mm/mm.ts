// The memory manager of one address space: VMAs, the page table (app page -> memory-file
// page), lazy population on faults, copy-on-write after fork, and checked access to app
// memory for the kernel. Host mappings in the stub are a cache of this state: they may be
// dropped at any time and come back on the next fault.

import { E } from '../abi/errno.js';
import type { Result } from '../abi/result.js';
import { err, isErr } from '../abi/result.js';
import type { AddressSpace } from '../platform/platform.js';
import type { AppMemory } from './app_memory.js';
import type { Mappable } from './mappable.js';
import { AnonSharedMemory } from './anon_shared.js';
import { LockedRanges } from './mlock.js';
import { MemoryFile, PAGE, PAGE_SHIFT } from './memory_file.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE, Vma, VmaList } from './vma.js';

/** Lowest address the app may map (vm.mmap_min_addr). */
export const USER_MIN = 0x10000;
/** Everything from here up belongs to the stub (its code page, host stack, vDSO). */
export const USER_MAX = 0x7fff00000000;
/** Top of the initial stack (the loader maps it below this). */
export const STACK_TOP = 0x7ffefffff000;
/** Where top-down mmap starts: below the stack and its 128 MiB gap, as Linux places it. */
export const MMAP_TOP = STACK_TOP - 128 * 1024 * 1024;

/** Pages populated and mapped per fault, aligned: fewer traps for sequential access. */
const FAULT_WINDOW_PAGES = 16;
/**
 * Largest window for anonymous private memory (2 MiB, gVisor's private allocation unit):
 * a fault right where the previous window ended doubles the window, up to this.
 */
const MAX_ANON_WINDOW_PAGES = 512;
/** Host mmaps a forked child is given up front (see premapLike). */
const PREMAP_RUNS = 64;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x100;
export const MAP_DENYWRITE = 0x800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;

const pageDown = (a: number): number => Math.floor(a / PAGE) * PAGE;
const pageUp = (a: number): number => Math.ceil(a / PAGE) * PAGE;

export interface ProcArgs {
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
  /** The filename execve was given (AT_EXECFN). */
  execfn: string;
}

/**
 * Reads the argv/envp layout out of an initial stack image written at sp (argc, argv
 * pointers, NULL, envp pointers, NULL; the strings above them, AT_EXECFN's at the top).
 */
function parseInitialStack(sp: number, buf: Uint8Array): ProcArgs | undefined {
  if (buf.length < 24) return undefined;
  const v = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const word = (i: number): number => Number(v.getBigUint64(i * 8, true));
  const strlenAt = (addr: number): number => {
    const off = addr - sp;
    if (off < 0 || off >= buf.length) return -1;
    const end = buf.indexOf(0, off);
    return end < 0 ? -1 : end - off;
  };
  const argc = word(0);
  if (argc < 1 || (argc + 3) * 8 > buf.length) return undefined;
  const argStart = word(1);
  let i = argc + 2;
  const envp: number[] = [];
  while ((i + 1) * 8 <= buf.length && word(i) !== 0) envp.push(word(i++));
  const lastArg = word(argc);
  const lastArgLen = strlenAt(lastArg);
  if (lastArgLen < 0) return undefined;
  const argEnd = lastArg + lastArgLen + 1;
  const envStart = envp.length > 0 ? envp[0] : argEnd;
  const lastEnvLen = envp.length > 0 ? strlenAt(envp[envp.length - 1]) : 0;
  const envEnd = envp.length > 0 ? envp[envp.length - 1] + lastEnvLen + 1 : argEnd;
  const fnLen = strlenAt(envEnd);
  const execfn = fnLen < 0 ? '' : Buffer.from(buf.subarray(envEnd - sp, envEnd - sp + fnLen)).toString('utf8');
  return { argStart, argEnd, envStart, envEnd, execfn };
}

/**
 * What a host fault comes to: 'mapped' (retry the instruction), 'segv' (no mapping, or its
 * protection forbids the access: SIGSEGV), 'bus' (the page lies wholly past the end of the
 * mapped file: SIGBUS with BUS_ADRERR).
 */
export type FaultResult = 'mapped' | 'segv' | 'bus';

/** Every live address space, so that a file which shrinks can take its pages out of all of them. */
const liveManagers = new Set<WeakRef<MemoryManager>>();

/**
 * A file shrank to `size` bytes (ftruncate, O_TRUNC): every mapping of it forgets the pages
 * wholly past the new end, private copies included (as Linux's truncate does), so the next
 * touch faults and gets SIGBUS, or the file's data again once it has grown back.
 */
export function fileShrunk(file: Mappable, size: number): void {
  for (const ref of liveManagers) {
    const mm = ref.deref();
    if (mm === undefined) liveManagers.delete(ref);
    else mm.dropPastEof(file, size);
  }
}

export interface MmapRequest {
  addr: number;
  len: number;
  prot: number;
  flags: number;
  file?: Mappable;
  offset: number;
  name?: string;
  /** Shared file mappings: the file is open for writing. */
  mayWrite?: boolean;
}

export class MemoryManager implements AppMemory {
  readonly vmas: VmaList;
  /** mlock'ed ranges (accounting only); not inherited by fork, gone on exec with the mm. */
  readonly locked = new LockedRanges();
  /** app page number -> memory-file page number */
  readonly pt: Map<number, number>;
  /** app page number -> prot it is mapped with in the stub (absent: not mapped there) */
  private readonly host = new Map<number, number>();
  /** Sequential-fault detection: the page after the last anonymous window, and its size. */
  private seqNext = -1;
  private seqPages = FAULT_WINDOW_PAGES;
  brkBase = 0;
  brkCur = 0;
  /** mm->arg_start..env_end and AT_EXECFN, recorded when exec writes the initial stack. */
  procArgs?: ProcArgs;
  /** Set when the address space has been released (process gone). */
  private released = false;
  private readonly selfRef = new WeakRef(this);

  constructor(
    readonly mf: MemoryFile,
    readonly as: AddressSpace,
    vmas?: VmaList,
    pt?: Map<number, number>,
  ) {
    this.vmas = vmas ?? new VmaList();
    this.pt = pt ?? new Map();
    liveManagers.add(this.selfRef);
  }

  /** Resident pages, for /proc and accounting. */
  get residentPages(): number {
    return this.pt.size;
  }

  // ---- mapping operations (the mmap family) ----

  /** mmap(2) after argument decoding; returns the address or an errno. */
  mmap(req: MmapRequest): Result<number> {
    const { prot, flags } = req;
    if (req.len === 0) return err(E.EINVAL);
    const len = pageUp(req.len);
    if (len > USER_MAX || len < req.len) return err(E.ENOMEM);
    if (req.offset % PAGE !== 0) return err(E.EINVAL);
    if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) !== 0) return err(E.EINVAL);
    const type = flags & MAP_SHARED_VALIDATE;
    if (type === 0) return err(E.EINVAL);
    const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
    let addr: number;
    if (fixed) {
      if (req.addr % PAGE !== 0) return err(E.EINVAL);
      if (req.addr < USER_MIN || req.addr + len > USER_MAX) return err(fixed && req.addr < USER_MIN ? E.EPERM : E.ENOMEM);
      if ((flags & MAP_FIXED_NOREPLACE) !== 0 && this.vmas.overlapping(req.addr, req.addr + len).length > 0) return err(E.EEXIST);
      addr = req.addr;
    } else {
      const hint = pageDown(req.addr);
      if (hint >= USER_MIN && hint + len <= USER_MAX && this.vmas.overlapping(hint, hint + len).length === 0) addr = hint;
      else {
        const a = this.vmas.findGapTopDown(len, MMAP_TOP, USER_MIN);
        if (a === undefined) return err(E.ENOMEM);
        addr = a;
      }
    }
    this.unmapRange(addr, addr + len);
    // MAP_SHARED|MAP_ANONYMOUS is a shmem object, as on Linux: fork shares even pages
    // nobody has touched yet.
    const file = req.file ?? (type !== MAP_PRIVATE ? new AnonSharedMemory() : undefined);
    const vma: Vma = {
      start: addr,
      end: addr + len,
      prot,
      shared: type === MAP_SHARED || type === MAP_SHARED_VALIDATE,
      file,
      fileOffset: req.offset,
      growsDown: (flags & MAP_GROWSDOWN) !== 0,
      name: req.name,
      mayWrite: req.mayWrite,
    };
    this.vmas.insert(vma);
    file?.mapped?.();
    if (this.locked.future) this.locked.add(addr, addr + len);
    return addr;
  }

  munmap(addr: number, len: number): Result<number> {
    if (addr % PAGE !== 0 || len === 0) return err(E.EINVAL);
    const end = addr + pageUp(len);
    if (end > USER_MAX || end < addr) return err(E.EINVAL);
    this.unmapRange(addr, end);
    return 0;
  }

  /** Drops VMAs and pages in [start, end). */
  private unmapRange(start: number, end: number): void {
    const removed = this.vmas.remove(start, end);
    this.locked.remove(start, end);
    if (removed.length === 0) return;
    this.dropPages(start, end);
    for (const v of removed) v.file?.unmapped?.();
  }

  /** Releases the pages backing [start, end) and their host mappings. */
  private dropPages(start: number, end: number): void {
    const first = start / PAGE;
    const last = end / PAGE;
    let hostHad = false;
    const freed: number[] = [];
    const drop = (vpn: number): void => {
      const ppn = this.pt.get(vpn);
      if (ppn !== undefined) {
        freed.push(ppn);
        this.pt.delete(vpn);
      }
      if (this.host.delete(vpn)) hostHad = true;
    };
    if (last - first > this.pt.size + this.host.size) {
      for (const vpn of [...this.pt.keys()]) if (vpn >= first && vpn < last) drop(vpn);
      for (const vpn of [...this.host.keys()]) if (vpn >= first && vpn < last) drop(vpn);
    } else {
      for (let vpn = first; vpn < last; vpn++) drop(vpn);
    }
    // The stub stops seeing the pages before they can go to anyone else.
    if (hostHad && !this.released) {
      this.as.unmap(start, end - start);
      this.as.flush();
    }
    this.mf.releaseMany(freed);
  }

  /** Forgets host mappings in [start, end) so they are re-made (with current prot) on fault. */
  private invalidateHost(start: number, end: number): void {
    const first = start / PAGE;
    const last = end / PAGE;
    let had = false;
    if (last - first > this.host.size) {
      for (const vpn of [...this.host.keys()]) if (vpn >= first && vpn < last) had = this.host.delete(vpn) || had;
    } else {
      for (let vpn = first; vpn < last; vpn++) had = this.host.delete(vpn) || had;
    }
    if (had && !this.released) {
      this.as.unmap(start, end - start);
      this.as.flush();
    }
  }

  mprotect(addr: number, len: number, prot: number): Result<number> {
    if (addr % PAGE !== 0) return err(E.EINVAL);
    const PROT_GROWSDOWN = 0x01000000;
    const PROT_GROWSUP = 0x02000000;
    if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) !== 0) return err(E.EINVAL);
    prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
    if (len === 0) return 0;
    const end = addr + pageUp(len);
    if (end > USER_MAX || end < addr) return err(E.ENOMEM);
    if (!this.vmas.covers(addr, end)) return err(E.ENOMEM);
    // A shared file mapping may not gain write access the file does not allow.
    for (const v of this.vmas.overlapping(addr, end)) {
      if (v.shared && v.file !== undefined && v.mayWrite !== true && (prot & PROT_WRITE) !== 0) return err(E.EACCES);
    }
    this.vmas.protect(addr, end, prot);
    this.invalidateHost(addr, end);
    return 0;
  }

  madviseDontNeed(addr: number, len: number): Result<number> {
    if (addr % PAGE !== 0) return err(E.EINVAL);
    const end = addr + pageUp(len);
    for (const v of this.vmas.overlapping(addr, end)) {
      // Shared pages stay (other mappers see them); private ones read back as zero or file data.
      if (!v.shared) this.dropPages(Math.max(v.start, addr), Math.min(v.end, end));
    }
    return 0;
  }

  /** brk(2): Linux returns the (possibly unchanged) break, never an error. */
  brk(newBrk: number): number {
    if (newBrk === 0 || newBrk < this.brkBase) return this.brkCur;
    const oldTop = pageUp(this.brkCur);
    const newTop = pageUp(newBrk);
    if (newTop > oldTop) {
      if (this.vmas.overlapping(oldTop, newTop).length > 0 || newTop > MMAP_TOP) return this.brkCur;
      const r = this.mmap({ addr: oldTop, len: newTop - oldTop, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, offset: 0, name: '[heap]' });
      if (isErr(r)) return this.brkCur;
    } else if (newTop < oldTop) {
      this.unmapRange(newTop, oldTop);
    }
    this.brkCur = newBrk;
    return this.brkCur;
  }

  /** mremap(2). */
  mremap(oldAddr: number, oldLen: number, newLen: number, flags: number, newAddr: number): Result<number> {
    const MREMAP_MAYMOVE = 1;
    const MREMAP_FIXED = 2;
    const MREMAP_DONTUNMAP = 4;
    if (oldAddr % PAGE !== 0 || (flags & ~7) !== 0) return err(E.EINVAL);
    if ((flags & MREMAP_FIXED) !== 0 && (flags & MREMAP_MAYMOVE) === 0) return err(E.EINVAL);
    if ((flags & MREMAP_DONTUNMAP) !== 0) return err(E.EINVAL);
    oldLen = pageUp(oldLen);
    newLen = pageUp(newLen);
    if (newLen === 0) return err(E.EINVAL);
    const v = this.vmas.find(oldAddr);
    if (v === undefined) return err(E.EFAULT);
    if (oldLen === 0) return err(E.EINVAL); // duplicating shared mappings is not supported
    if (oldAddr + oldLen > v.end) return err(E.EFAULT);
    if ((flags & MREMAP_FIXED) === 0) {
      if (newLen <= oldLen) {
        if (newLen < oldLen) this.unmapRange(oldAddr + newLen, oldAddr + oldLen);
        return oldAddr;
      }
      // Grow in place when the VMA ends here and the space after it is free.
      if (oldAddr + oldLen === v.end && v.end + (newLen - oldLen) <= MMAP_TOP + (USER_MAX - MMAP_TOP) &&
          this.vmas.overlapping(v.end, oldAddr + newLen).length === 0) {
        v.end = oldAddr + newLen;
        return oldAddr;
      }
      if ((flags & MREMAP_MAYMOVE) === 0) return err(E.ENOMEM);
    }
    let dest: number;
    if ((flags & MREMAP_FIXED) !== 0) {
      if (newAddr % PAGE !== 0 || newAddr < USER_MIN || newAddr + newLen > USER_MAX) return err(E.EINVAL);
      if (newAddr < oldAddr + oldLen && oldAddr < newAddr + newLen) return err(E.EINVAL);
      this.unmapRange(newAddr, newAddr + newLen);
      dest = newAddr;
    } else {
      const a = this.vmas.findGapTopDown(newLen, MMAP_TOP, USER_MIN);
      if (a === undefined) return err(E.ENOMEM);
      dest = a;
    }
    // Move the VMA piece and its pages.
    const pieces = this.vmas.remove(oldAddr, oldAddr + oldLen);
    const delta = dest - oldAddr;
    for (const p of pieces) this.vmas.insert({ ...p, start: p.start + delta, end: p.end + delta });
    const moved = pieces.length > 0 ? pieces[pieces.length - 1] : v;
    if (newLen > oldLen) {
      this.vmas.insert({ ...moved, start: dest + oldLen, end: dest + newLen, fileOffset: moved.fileOffset + (moved.end - moved.start) });
      moved.file?.mapped?.();
    } else if (newLen < oldLen) {
      for (const p of this.vmas.remove(dest + newLen, dest + oldLen)) p.file?.unmapped?.();
    }
    const first = oldAddr / PAGE;
    const n = oldLen / PAGE;
    const keep = newLen / PAGE;
    for (let i = 0; i < n; i++) {
      const ppn = this.pt.get(first + i);
      if (ppn === undefined) continue;
      this.pt.delete(first + i);
      if (i < keep) this.pt.set(first + i + delta / PAGE, ppn);
      else this.mf.release(ppn);
    }
    this.invalidateHost(oldAddr, oldAddr + oldLen);
    return dest;
  }

  // ---- faults ----

  /** Handles a host fault at addr in the stub (see FaultResult). */
  handleFault(addr: number): FaultResult {
    if (addr < USER_MIN || addr >= USER_MAX) return 'segv';
    const v = this.vmas.find(addr);
    if (v === undefined || v.prot === 0) return 'segv';
    const vpn = Math.floor(addr / PAGE);
    const hostProt = this.host.get(vpn);
    if (hostProt === undefined) return this.populateAndMap(v, vpn);
    // Mapped already: the only fault we can fix is a write to a copy-on-write page.
    if ((v.prot & PROT_WRITE) === 0 || (hostProt & PROT_WRITE) !== 0) return 'segv';
    const r = this.pageForWrite(vpn, v);
    if (isErr(r)) return 'segv';
    const ppn = this.pt.get(vpn)!;
    this.as.map(vpn * PAGE, PAGE, v.prot, ppn * PAGE);
    this.as.flush();
    this.host.set(vpn, v.prot);
    return 'mapped';
  }

  /**
   * The first page of v wholly past the end of its file, as the file is now (v.end's page
   * when the file reaches that far or has no end). An unreadable size counts as 0 (SIGBUS,
   * as a failed read in a fault is on Linux).
   */
  private eofVpn(v: Vma): number {
    const f = v.file;
    if (f?.fileSize === undefined) return v.end / PAGE;
    const size = f.fileSize();
    const filePages = Math.ceil((isErr(size) ? 0 : size) / PAGE) - v.fileOffset / PAGE;
    return Math.min(v.end / PAGE, v.start / PAGE + Math.max(0, filePages));
  }

  /** fileShrunk's work in this address space. */
  dropPastEof(file: Mappable, size: number): void {
    if (this.released) return;
    for (const v of this.vmas.list) {
      if (v.file !== file) continue;
      const from = v.start + Math.max(0, pageUp(size) - v.fileOffset);
      if (from < v.end) this.dropPages(from, v.end);
    }
  }

  /** Populates the fault window around vpn inside v (never past the file's end) and maps it in the stub. */
  private populateAndMap(v: Vma, vpn: number): FaultResult {
    const eof = this.eofVpn(v);
    if (vpn >= eof) return 'bus';
    let winStart = Math.max(Math.floor(vpn / FAULT_WINDOW_PAGES) * FAULT_WINDOW_PAGES, v.start / PAGE);
    let winEnd = Math.min(winStart - (winStart % FAULT_WINDOW_PAGES) + FAULT_WINDOW_PAGES, eof);
    if (v.file === undefined && !v.shared) {
      // Anonymous private memory touched sequentially: grow the window (zero pages cost
      // nothing to fill, and each fault is a full trap round trip).
      if (vpn === this.seqNext) {
        const pages = Math.min(this.seqPages * 2, MAX_ANON_WINDOW_PAGES);
        winStart = vpn;
        winEnd = Math.min(vpn + pages, v.end / PAGE);
        this.seqPages = pages;
      } else {
        this.seqPages = FAULT_WINDOW_PAGES;
      }
      this.seqNext = winEnd;
    }
    const missing: number[] = [];
    for (let p = winStart; p < winEnd; p++) {
      if (this.pt.has(p)) continue;
      const c = this.cachePage(v, p);
      if (c === false) missing.push(p);
      // The file could not give its page (tmpfs full): SIGBUS, as shmem does; a neighbour
      // in the window just stays unmapped.
      else if (c === null && p === vpn) return 'bus';
    }
    if (missing.length > 0) {
      const pages = this.mf.alloc(missing.length);
      if (isErr(pages)) return 'segv';
      for (let i = 0; i < missing.length; i++) {
        this.pt.set(missing[i], pages[i]);
        this.fill(v, missing[i], pages[i]);
      }
    }
    // Map runs of pages contiguous in the file with the same prot.
    let runStart = -1;
    let runPpn = 0;
    let runProt = 0;
    const flushRun = (end: number): void => {
      if (runStart >= 0) {
        this.as.map(runStart * PAGE, (end - runStart) * PAGE, runProt, runPpn * PAGE);
        for (let p = runStart; p < end; p++) this.host.set(p, runProt);
      }
      runStart = -1;
    };
    for (let p = winStart; p < winEnd; p++) {
      if (this.host.has(p)) {
        flushRun(p);
        continue;
      }
      const ppn = this.pt.get(p);
      if (ppn === undefined) {
        flushRun(p);
        continue;
      }
      const prot = !v.shared && this.mf.refcount(ppn) > 1 ? v.prot & ~PROT_WRITE : v.prot;
      if (runStart >= 0 && ppn === runPpn + (p - runStart) && prot === runProt) continue;
      flushRun(p);
      runStart = p;
      runPpn = ppn;
      runProt = prot;
    }
    flushRun(winEnd);
    this.as.flush();
    return 'mapped';
  }

  /**
   * For a shared mapping of a file with a page cache: points vpn at the file's own page.
   * false: the file has no page cache (use a private copy); null: no page (SIGBUS/EFAULT).
   */
  private cachePage(v: Vma, vpn: number): boolean | null {
    const f = v.file;
    if (!v.shared || f?.sharedPage === undefined) return false;
    const index = (v.fileOffset + (vpn * PAGE - v.start)) / PAGE;
    const ppn = f.sharedPage(this.mf, index);
    if (isErr(ppn)) return null;
    this.mf.incRef(ppn);
    this.pt.set(vpn, ppn);
    return true;
  }

  /** Fills a fresh (zeroed) page with its file contents, if file-backed. */
  private fill(v: Vma, vpn: number, ppn: number): void {
    if (v.file === undefined) return;
    const off = v.fileOffset + (vpn * PAGE - v.start);
    v.file.readSync(off, this.mf.page(ppn));
  }

  /** The page backing vpn for a kernel read, populating it if needed. */
  private pageForRead(vpn: number, v: Vma): Result<Uint8Array> {
    let ppn = this.pt.get(vpn);
    if (ppn === undefined) {
      // Past the end of a mapped file: the kernel's access fails as the app's would (EFAULT).
      if (vpn >= this.eofVpn(v)) return err(E.EFAULT);
      const c = this.cachePage(v, vpn);
      if (c === null) return err(E.EFAULT);
      if (c) return this.mf.page(this.pt.get(vpn) as number);
      const pages = this.mf.alloc(1);
      if (isErr(pages)) return pages;
      ppn = pages[0];
      this.pt.set(vpn, ppn);
      this.fill(v, vpn, ppn);
    }
    return this.mf.page(ppn);
  }

  /** The page backing vpn for a write: private shared-by-fork pages are copied first. */
  private pageForWrite(vpn: number, v: Vma): Result<Uint8Array> {
    const ppn = this.pt.get(vpn);
    if (ppn === undefined) return this.pageForRead(vpn, v);
    if (v.shared || this.mf.refcount(ppn) === 1) return this.mf.page(ppn);
    const fresh = this.mf.alloc(1);
    if (isErr(fresh)) return fresh;
    const np = fresh[0];
    this.mf.page(np).set(this.mf.page(ppn));
    this.mf.release(ppn);
    this.pt.set(vpn, np);
    if (this.host.delete(vpn) && !this.released) {
      // At once: a sibling thread must not keep writing the page the other process keeps.
      this.as.unmap(vpn * PAGE, PAGE);
      this.as.flush();
    }
    return this.mf.page(np);
  }

  // ---- kernel access to app memory (AppMemory) ----

  /**
   * Visits [addr, addr+len) page by page, checking VMAs and prot. `force` ignores prot
   * (the loader writing read-only segments, like the kernel's own setup).
   */
  private access(addr: number, len: number, write: boolean, force: boolean,
    fn: (page: Uint8Array, pageOff: number, bufOff: number, n: number) => void): Result<void> {
    if (len === 0) return undefined;
    if (!Number.isSafeInteger(addr) || addr < 0 || addr + len > USER_MAX || len < 0) return err(E.EFAULT);
    let done = 0;
    let v: Vma | undefined;
    while (done < len) {
      const a = addr + done;
      if (v === undefined || a >= v.end) {
        v = this.vmas.find(a);
        if (v === undefined) return err(E.EFAULT);
        if (!force && (v.prot & (write ? PROT_WRITE : PROT_READ)) === 0) return err(E.EFAULT);
      }
      const vpn = Math.floor(a / PAGE);
      const off = a - vpn * PAGE;
      const n = Math.min(PAGE - off, len - done);
      const page = write ? this.pageForWrite(vpn, v) : this.pageForRead(vpn, v);
      if (isErr(page)) return page;
      fn(page, off, done, n);
      done += n;
    }
    return undefined;
  }

  readInto(addr: number, dst: Uint8Array): Result<void> {
    return this.access(addr, dst.length, false, false, (page, po, bo, n) => dst.set(page.subarray(po, po + n), bo));
  }

  copyIn(addr: number, len: number): Result<Uint8Array> {
    if (len < 0 || len > 0x7fffffff) return err(E.EFAULT);
    const out = new Uint8Array(len);
    const r = this.readInto(addr, out);
    return isErr(r) ? r : out;
  }

  copyOut(addr: number, src: Uint8Array): Result<void> {
    return this.access(addr, src.length, true, false, (page, po, bo, n) => page.set(src.subarray(bo, bo + n), po));
  }

  /** copyOut ignoring prot, for the loader (bss tails and the stack of a fresh image). */
  copyOutForce(addr: number, src: Uint8Array): Result<void> {
    return this.access(addr, src.length, true, true, (page, po, bo, n) => page.set(src.subarray(bo, bo + n), po));
  }

  zero(addr: number, len: number): Result<void> {
    return this.access(addr, len, true, false, (page, po, _bo, n) => page.fill(0, po, po + n));
  }

  zeroForce(addr: number, len: number): Result<void> {
    return this.access(addr, len, true, true, (page, po, _bo, n) => page.fill(0, po, po + n));
  }

  readCString(addr: number, maxLen: number): Result<string> {
    const parts: Uint8Array[] = [];
    let total = 0;
    let a = addr;
    while (total <= maxLen) {
      const pageEnd = (Math.floor(a / PAGE) + 1) * PAGE;
      const n = Math.min(pageEnd - a, maxLen + 1 - total);
      const chunk = this.copyIn(a, n);
      if (isErr(chunk)) return chunk;
      const nul = chunk.indexOf(0);
      if (nul >= 0) {
        parts.push(chunk.subarray(0, nul));
        total += nul;
        const all = parts.length === 1 ? parts[0] : Buffer.concat(parts);
        return Buffer.from(all.buffer, all.byteOffset, all.length).toString('utf8');
      }
      parts.push(chunk);
      total += n;
      a += n;
    }
    return err(E.ENAMETOOLONG);
  }

  /** Reads a NUL-terminated string as raw bytes (paths and argv are bytes, not UTF-8). */
  readCBytes(addr: number, maxLen: number): Result<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    let a = addr;
    while (total <= maxLen) {
      const pageEnd = (Math.floor(a / PAGE) + 1) * PAGE;
      const n = Math.min(pageEnd - a, maxLen + 1 - total);
      const chunk = this.copyIn(a, n);
      if (isErr(chunk)) return chunk;
      const nul = chunk.indexOf(0);
      if (nul >= 0) {
        parts.push(chunk.subarray(0, nul));
        return parts.length === 1 ? parts[0] : new Uint8Array(Buffer.concat(parts));
      }
      parts.push(chunk);
      total += n;
      a += n;
    }
    return err(E.E2BIG);
  }

  private scratch = new Uint8Array(8);
  private scratchView = new DataView(this.scratch.buffer);

  readU32(addr: number): Result<number> {
    const r = this.readInto(addr, this.scratch.subarray(0, 4));
    return isErr(r) ? r : this.scratchView.getUint32(0, true);
  }

  readU64(addr: number): Result<number> {
    const r = this.readInto(addr, this.scratch);
    return isErr(r) ? r : this.scratchView.getUint32(0, true) + this.scratchView.getUint32(4, true) * 4294967296;
  }

  writeU32(addr: number, v: number): Result<void> {
    this.scratchView.setUint32(0, v >>> 0, true);
    return this.copyOut(addr, this.scratch.subarray(0, 4));
  }

  writeU64(addr: number, v: number): Result<void> {
    this.scratchView.setBigUint64(0, BigInt.asUintN(64, BigInt(Math.trunc(v))), true);
    return this.copyOut(addr, this.scratch.subarray(0, 8));
  }

  // ---- lifecycle ----

  /**
   * fork: a new manager over `childAs` sharing every page; private pages become
   * copy-on-write in both (the parent's writable host mappings are dropped so its next
   * write faults and copies).
   */
  fork(childAs: AddressSpace): MemoryManager {
    const child = new MemoryManager(this.mf, childAs, this.vmas.clone(), new Map(this.pt));
    for (const ppn of this.pt.values()) this.mf.incRef(ppn);
    child.brkBase = this.brkBase;
    child.brkCur = this.brkCur;
    this.writeProtectPrivate();
    child.premapLike(this.host);
    return child;
  }

  /**
   * A fresh child maps what its parent had mapped (private pages read-only, as they are
   * now shared), queued for its first resume: one batch instead of a fault per window.
   * At most PREMAP_RUNS host mmaps, highest addresses (the stack, then libraries) first, so
   * a big parent forking to exec pays little for pages its child never touches.
   */
  private premapLike(parentHost: Map<number, number>): void {
    const vpns = [...parentHost.keys()].sort((a, b) => b - a);
    let runs = 0;
    let runLo = -1;
    let runHi = -1;
    let runPpn = 0;
    let runProt = 0;
    const flushRun = (): void => {
      if (runLo < 0) return;
      this.as.map(runLo * PAGE, (runHi - runLo) * PAGE, runProt, runPpn * PAGE);
      for (let p = runLo; p < runHi; p++) this.host.set(p, runProt);
      runLo = -1;
      runs++;
    };
    for (const vpn of vpns) {
      const ppn = this.pt.get(vpn);
      if (ppn === undefined) continue;
      const prot = parentHost.get(vpn)!;
      // Descending: a run grows downwards, its file offset with it.
      if (runLo >= 0 && vpn === runLo - 1 && ppn === runPpn - 1 && prot === runProt) {
        runLo = vpn;
        runPpn = ppn;
        continue;
      }
      flushRun();
      if (runs >= PREMAP_RUNS) return;
      runLo = vpn;
      runHi = vpn + 1;
      runPpn = ppn;
      runProt = prot;
    }
    flushRun();
  }

  /**
   * fork's half of copy-on-write in the parent: host mappings of writable private pages
   * lose PROT_WRITE (reads keep working without a fault), in one batch of mprotects over
   * the runs of such pages.
   */
  private writeProtectPrivate(): void {
    if (this.released || this.host.size === 0) return;
    const vpns: number[] = [];
    for (const [vpn, prot] of this.host) if ((prot & PROT_WRITE) !== 0) vpns.push(vpn);
    vpns.sort((a, b) => a - b);
    let v: Vma | undefined;
    let runStart = -1;
    let runEnd = -1;
    let runProt = 0;
    const flushRun = (): void => {
      if (runStart >= 0) this.as.protect(runStart * PAGE, (runEnd - runStart) * PAGE, runProt);
      runStart = -1;
    };
    for (const vpn of vpns) {
      const addr = vpn * PAGE;
      if (v === undefined || addr < v.start || addr >= v.end) v = this.vmas.find(addr);
      if (v === undefined || v.shared) continue;
      const prot = this.host.get(vpn)! & ~PROT_WRITE;
      this.host.set(vpn, prot);
      // A run stays inside one VMA (one prot) and has no unmapped holes (mprotect's ENOMEM).
      if (runStart >= 0 && vpn === runEnd && prot === runProt && addr < v.end && runStart * PAGE >= v.start) {
        runEnd++;
        continue;
      }
      flushRun();
      runStart = vpn;
      runEnd = vpn + 1;
      runProt = prot;
    }
    flushRun();
    this.as.flush();
  }

  /** Frees every page; the address space itself is released by its owner. */
  release(): void {
    if (this.released) return;
    this.released = true;
    liveManagers.delete(this.selfRef);
    this.mf.releaseMany([...this.pt.values()]);
    this.pt.clear();
    this.host.clear();
    const gone = this.vmas.list.slice();
    this.vmas.list.length = 0;
    for (const v of gone) v.file?.unmapped?.();
  }

  /** The loader's view: writes ignore prot, as the kernel's own setup of a new image does. */
  loaderView(): LoaderMemoryImpl {
    return new LoaderMemoryImpl(this);
  }
}

/** Implements sentry/loader's LoaderMemory over a MemoryManager. */
export class LoaderMemoryImpl {
  constructor(private readonly mm: MemoryManager) {}
  mapAnonymous(addr: number, len: number, prot: number, fixed: boolean): Result<number> {
    return this.mm.mmap({ addr, len, prot, flags: MAP_PRIVATE | MAP_ANONYMOUS | (fixed ? MAP_FIXED : 0), offset: 0 });
  }
  mapFile(addr: number, len: number, prot: number, fixed: boolean, file: Mappable, offset: number): Result<number> {
    return this.mm.mmap({ addr, len, prot, flags: MAP_PRIVATE | (fixed ? MAP_FIXED : 0), offset, file });
  }
  copyOut(addr: number, src: Uint8Array): Result<void> {
    // The initial stack is the one write that ends at the stack top: remember its layout.
    if (addr + src.length === STACK_TOP) this.mm.procArgs = parseInitialStack(addr, src);
    return this.mm.copyOutForce(addr, src);
  }
  zero(addr: number, len: number): Result<void> {
    return this.mm.zeroForce(addr, len);
  }
  setBrkBase(addr: number): void {
    this.mm.brkBase = addr;
    this.mm.brkCur = addr;
  }
}
