// Test doubles for the loader: an address space that records mappings page by page and holds
// their bytes, and ExecFiles backed by host files or by crafted bytes.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E } from '../../sentry/abi/errno.js';
import { err, isErr, type Result } from '../../sentry/abi/result.js';
import type { Mappable } from '../../sentry/mm/mappable.js';
import { PAGE_SIZE, PROT_WRITE, type ExecFile, type LoaderMemory } from '../../sentry/loader/types.js';

export interface PageInfo {
  prot: number;
  /** Mappable id and file offset of this page, or undefined for anonymous memory. */
  file?: string;
  offset: number;
  data: Uint8Array;
}

export interface Vma {
  start: number;
  end: number;
  prot: number;
  file?: string;
  offset: number;
}

/** Where hint-0 mappings go, top-down: Linux's mmap_base, 128 MiB below the stack top. */
export const FAKE_MMAP_TOP = 0x7ffefffff000 - 128 * 1024 * 1024;

export class FakeLoaderMemory implements LoaderMemory {
  readonly pages = new Map<number, PageInfo>();
  readonly calls: string[] = [];
  brkBase = -1;
  private nextTop = FAKE_MMAP_TOP;

  private place(addr: number, len: number, fixed: boolean): Result<{ start: number; n: number }> {
    if (len <= 0 || addr % PAGE_SIZE !== 0) return err(E.EINVAL);
    const n = Math.ceil(len / PAGE_SIZE);
    if (fixed) return { start: addr, n };
    this.nextTop -= n * PAGE_SIZE;
    return { start: this.nextTop, n };
  }

  mapAnonymous(addr: number, len: number, prot: number, fixed: boolean): Result<number> {
    const p = this.place(addr, len, fixed);
    if (isErr(p)) return p;
    this.calls.push(`anon ${hex(p.start)} ${hex(p.n * PAGE_SIZE)} ${prot} ${fixed}`);
    for (let i = 0; i < p.n; i++) {
      this.pages.set(p.start / PAGE_SIZE + i, { prot, offset: 0, data: new Uint8Array(PAGE_SIZE) });
    }
    return p.start;
  }

  mapFile(addr: number, len: number, prot: number, fixed: boolean, file: Mappable, offset: number): Result<number> {
    if (offset % PAGE_SIZE !== 0) return err(E.EINVAL);
    const p = this.place(addr, len, fixed);
    if (isErr(p)) return p;
    this.calls.push(`file ${hex(p.start)} ${hex(p.n * PAGE_SIZE)} ${prot} ${fixed} ${hex(offset)}`);
    for (let i = 0; i < p.n; i++) {
      const data = new Uint8Array(PAGE_SIZE);
      file.readSync(offset + i * PAGE_SIZE, data);
      this.pages.set(p.start / PAGE_SIZE + i, { prot, file: file.id, offset: offset + i * PAGE_SIZE, data });
    }
    return p.start;
  }

  private each(addr: number, len: number, needWrite: boolean, f: (page: PageInfo, off: number, at: number, n: number) => void): Result<void> {
    for (let a = addr; a < addr + len;) {
      const page = this.pages.get(Math.floor(a / PAGE_SIZE));
      if (page === undefined || (needWrite && !(page.prot & PROT_WRITE))) return err(E.EFAULT);
      const off = a % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, addr + len - a);
      f(page, off, a - addr, n);
      a += n;
    }
    return undefined;
  }

  copyOut(addr: number, src: Uint8Array): Result<void> {
    return this.each(addr, src.length, true, (pg, off, at, n) => pg.data.set(src.subarray(at, at + n), off));
  }

  zero(addr: number, len: number): Result<void> {
    this.calls.push(`zero ${hex(addr)} ${hex(len)}`);
    return this.each(addr, len, false, (pg, off, _at, n) => pg.data.fill(0, off, off + n));
  }

  setBrkBase(addr: number): void {
    this.brkBase = addr;
  }

  read(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const r = this.each(addr, len, false, (pg, off, at, n) => out.set(pg.data.subarray(off, off + n), at));
    if (r !== undefined) throw new Error(`unmapped read at ${hex(addr)}`);
    return out;
  }

  u64(addr: number): number {
    return Number(new DataView(this.read(addr, 8).buffer).getBigUint64(0, true));
  }

  cstring(addr: number): string {
    const bytes: number[] = [];
    for (let a = addr; ; a++) {
      const b = this.read(a, 1)[0];
      if (b === 0) break;
      bytes.push(b);
    }
    return Buffer.from(bytes).toString('utf8');
  }

  /** The address space as /proc/self/maps would group it (adjacent compatible pages merged). */
  vmas(): Vma[] {
    const keys = [...this.pages.keys()].sort((a, b) => a - b);
    const out: Vma[] = [];
    for (const k of keys) {
      const p = this.pages.get(k)!;
      const last = out[out.length - 1];
      const start = k * PAGE_SIZE;
      if (last !== undefined && last.end === start && last.prot === p.prot && last.file === p.file &&
        (p.file === undefined || last.offset + (last.end - last.start) === p.offset)) {
        last.end += PAGE_SIZE;
      } else {
        out.push({ start, end: start + PAGE_SIZE, prot: p.prot, file: p.file, offset: p.file === undefined ? 0 : p.offset });
      }
    }
    return out;
  }
}

export function hex(n: number): string {
  return '0x' + n.toString(16);
}

/** An ExecFile over bytes in memory. */
export function bytesExecFile(path: string, bytes: Uint8Array, executable = true): ExecFile {
  return {
    path,
    size: bytes.length,
    executable,
    readAt(offset: number, len: number): Result<Uint8Array> {
      return bytes.slice(Math.min(offset, bytes.length), Math.min(offset + len, bytes.length));
    },
    mappable: {
      id: path,
      readSync(offset: number, dst: Uint8Array): number {
        const part = bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + dst.length, bytes.length));
        dst.set(part);
        return part.length;
      },
    },
  };
}

/** An ExecFile over a host file (read whole; test binaries are small). */
export function hostExecFile(path: string): ExecFile {
  const st = statSync(path);
  return bytesExecFile(path, new Uint8Array(readFileSync(path)), st.isFile() && (st.mode & 0o111) !== 0);
}

/** An opener over a table of crafted files, falling back to host files when allowed. */
export function makeOpener(files: Map<string, ExecFile>, hostFallback = false) {
  return async (path: string): Promise<Result<ExecFile>> => {
    const f = files.get(path);
    if (f !== undefined) return f;
    if (hostFallback) {
      try {
        return hostExecFile(path);
      } catch {
        return err(E.ENOENT);
      }
    }
    return err(E.ENOENT);
  };
}

const tempDirs: string[] = [];

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsvisor-loader-'));
  tempDirs.push(d);
  return d;
}

/** Removes the directories tempDir made (call from afterAll). */
export function removeTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Compiles C source with gcc into dir/name. */
export function compile(dir: string, name: string, source: string, flags: string[]): string {
  const src = join(dir, `${name}.c`);
  const out = join(dir, name);
  writeFileSync(src, source);
  execFileSync('gcc', [...flags, '-o', out, src], { stdio: 'pipe' });
  return out;
}

export interface CraftPhdr {
  type: number;
  flags?: number;
  offset: number | bigint;
  vaddr: number | bigint;
  filesz: number | bigint;
  memsz: number | bigint;
  align?: number | bigint;
}

export interface CraftOptions {
  cls?: number;       // e_ident[EI_CLASS]
  data?: number;      // e_ident[EI_DATA]
  type?: number;
  machine?: number;
  entry?: number | bigint;
  phoff?: number | bigint;
  phentsize?: number;
  phnum?: number;     // defaults to phdrs.length
  phdrs: CraftPhdr[];
  size?: number;      // total file size (default 0x2000)
  /** Bytes to place at file offsets. */
  put?: Array<[number, Uint8Array | string]>;
}

/** Builds an ELF64 file image from parts, for the parser's rejection tests. */
export function craftElf(o: CraftOptions): Uint8Array {
  const size = o.size ?? 0x2000;
  const b = new Uint8Array(Math.max(size, 64 + 56 * o.phdrs.length));
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, o.cls ?? 2, o.data ?? 1, 1, 0]);
  v.setUint16(16, o.type ?? 2, true);
  v.setUint16(18, o.machine ?? 62, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(o.entry ?? 0x401000), true);
  const phoff = BigInt(o.phoff ?? 64);
  v.setBigUint64(32, phoff, true);
  v.setUint16(52, 64, true);
  v.setUint16(54, o.phentsize ?? 56, true);
  v.setUint16(56, o.phnum ?? o.phdrs.length, true);
  o.phdrs.forEach((p, i) => {
    const at = Number(phoff) + i * 56;
    if (at + 56 > b.length) return;
    v.setUint32(at, p.type, true);
    v.setUint32(at + 4, p.flags ?? 5, true);
    v.setBigUint64(at + 8, BigInt(p.offset), true);
    v.setBigUint64(at + 16, BigInt(p.vaddr), true);
    v.setBigUint64(at + 24, BigInt(p.vaddr), true);
    v.setBigUint64(at + 32, BigInt(p.filesz), true);
    v.setBigUint64(at + 40, BigInt(p.memsz), true);
    v.setBigUint64(at + 48, BigInt(p.align ?? 0x1000), true);
  });
  for (const [off, bytes] of o.put ?? []) {
    b.set(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes, off);
  }
  return b.subarray(0, size);
}

/** A minimal valid static ET_EXEC: one R+X segment mapping the whole file at 0x400000. */
export const TEXT_LOAD: CraftPhdr = { type: 1, flags: 5, offset: 0, vaddr: 0x400000, filesz: 0x2000, memsz: 0x2000 };

/**
 * A libc-free program that prints its own /proc/self/maps, then "@@STACK@@", then the raw
 * bytes of its initial stack from the entry rsp to the top (0x7ffffffff000 with ASLR off):
 * what the real kernel built, before any user code touched it. It has .data and a big .bss.
 */
export const PROBE_SOURCE = String.raw`
typedef unsigned long u64;
static long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
volatile long dat = 5;
volatile char big[100000];
__attribute__((noreturn, used)) void probe(u64 *sp) {
  char buf[65536];
  long fd = sys3(2, (long)"/proc/self/maps", 0, 0), n, tot = 0;
  while ((n = sys3(0, fd, (long)buf + tot, sizeof buf - tot)) > 0) tot += n;
  sys3(1, 1, (long)buf, tot);
  sys3(1, 1, (long)"@@STACK@@", 9);
  sys3(1, 1, (long)sp, 0x7ffffffff000UL - (u64)sp);
  sys3(60, (int)(dat + big[dat]) - 5, 0, 0);
  for (;;) {}
}
__attribute__((naked)) void _start(void) { __asm__("mov %rsp, %rdi\n call probe\n"); }
`;

export const PROBE_FLAGS = ['-O2', '-fno-stack-protector', '-nostdlib'];
/** The initial stack top on Linux x86-64 with ASLR off. */
export const LINUX_STACK_TOP = 0x7ffffffff000;

export interface ProbeRun {
  maps: Vma[];
  stack: Uint8Array;
}

const PERM_PROT: Record<string, number> = { r: 1, w: 2, x: 4 };

/** Runs a probe under `setarch -R` (no ASLR) and parses what it printed. */
export function runProbe(path: string, args: string[], env: Record<string, string>): ProbeRun {
  const out = execFileSync('setarch', ['-R', path, ...args], { env, maxBuffer: 1 << 24 });
  const sep = out.indexOf('@@STACK@@');
  const maps: Vma[] = [];
  for (const line of out.subarray(0, sep).toString('latin1').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ \d+\s*(.*)$/.exec(line);
    if (m === null || m[5].startsWith('[')) continue; // vdso, vvar, stack, vsyscall are not the loader's
    let prot = 0;
    for (const c of m[3].slice(0, 3)) prot |= PERM_PROT[c] ?? 0;
    maps.push({
      start: parseInt(m[1], 16), end: parseInt(m[2], 16), prot,
      file: m[5] === '' ? undefined : m[5], offset: m[5] === '' ? 0 : parseInt(m[4], 16),
    });
  }
  return { maps, stack: new Uint8Array(out.subarray(sep + 9)) };
}
