// Strict ELF64 (x86-64, little-endian) header and program-header parsing. Every field comes
// from an untrusted file: anything malformed is ENOEXEC, as Linux's binfmt_elf answers for a
// non-ELF, wrong-arch or truncated executable.

import { E } from '../abi/errno.js';
import { err, isErr, type Result } from '../abi/result.js';
import { PAGE_SIZE, USER_ADDR_LIMIT, type ExecFile } from './types.js';

export const ELF_HEADER_SIZE = 64;
export const ELF_PHDR_SIZE = 56;
/** Linux reads at most one page of program headers (load_elf_phdrs: size <= ELF_MIN_ALIGN). */
export const MAX_PHNUM = Math.floor(PAGE_SIZE / ELF_PHDR_SIZE);
/** PATH_MAX: Linux's bound on PT_INTERP's p_filesz. */
export const MAX_INTERP_LEN = 4096;

export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const EM_X86_64 = 62;
export const ET_EXEC = 2;
export const ET_DYN = 3;

export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const PT_PHDR = 6;
export const PT_GNU_STACK = 0x6474e551;

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export interface ElfHeader {
  readonly type: number;     // ET_EXEC or ET_DYN
  readonly entry: number;    // unrelocated e_entry
  readonly phoff: number;
  readonly phnum: number;
}

export interface ProgramHeader {
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
  readonly memsz: number;
  readonly align: number;
}

/** An executable's load-relevant facts, validated. Addresses are unrelocated. */
export interface ElfImage extends ElfHeader {
  readonly phdrs: readonly ProgramHeader[];
  /** PT_LOAD entries in file order (memsz may be 0). */
  readonly loads: readonly ProgramHeader[];
  /** PT_INTERP path (up to its first NUL), when present and asked for. */
  readonly interp?: string;
  /** PT_PHDR's p_vaddr, when present. */
  readonly phdrVaddr?: number;
  /** PT_GNU_STACK with PF_X: the stack is mapped executable. */
  readonly execStack: boolean;
  /** Largest power-of-two PT_LOAD p_align, at least a page (Linux's maximum_alignment). */
  readonly maxAlign: number;
  /** Lowest PT_LOAD vaddr, page aligned down, and highest vaddr+memsz (unrelocated). */
  readonly loadStart: number;
  readonly loadEnd: number;
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

export function hasElfMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/** A u64 as a number, or -1 when it cannot be a sane user value (>= 2^53). */
function u64(v: DataView, off: number): number {
  const b = v.getBigUint64(off, true);
  return b > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(b);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Checks the ELF identification and header fields of the first bytes of a file. */
export function parseElfHeader(bytes: Uint8Array): Result<ElfHeader> {
  if (bytes.length < ELF_HEADER_SIZE || !hasElfMagic(bytes)) return err(E.ENOEXEC);
  if (bytes[4] !== ELFCLASS64 || bytes[5] !== ELFDATA2LSB) return err(E.ENOEXEC);
  const v = view(bytes);
  const type = v.getUint16(16, true);
  if (type !== ET_EXEC && type !== ET_DYN) return err(E.ENOEXEC);
  if (v.getUint16(18, true) !== EM_X86_64) return err(E.ENOEXEC);
  const entry = u64(v, 24);
  const phoff = u64(v, 32);
  const phentsize = v.getUint16(54, true);
  const phnum = v.getUint16(56, true);
  if (phentsize !== ELF_PHDR_SIZE) return err(E.ENOEXEC);
  if (phnum < 1 || phnum > MAX_PHNUM) return err(E.ENOEXEC);
  if (entry < 0 || entry >= USER_ADDR_LIMIT || phoff < 0) return err(E.ENOEXEC);
  return { type, entry, phoff, phnum };
}

function isPow2(x: number): boolean {
  return x > 0 && Number.isInteger(Math.log2(x));
}

function parseOnePhdr(v: DataView, off: number): ProgramHeader {
  return {
    type: v.getUint32(off, true),
    flags: v.getUint32(off + 4, true),
    offset: u64(v, off + 8),
    vaddr: u64(v, off + 16),
    filesz: u64(v, off + 32),
    memsz: u64(v, off + 40),
    align: u64(v, off + 48),
  };
}

/** A PT_LOAD that can be mapped: in the file, in the user range, page-congruent. */
function loadIsSane(p: ProgramHeader, fileSize: number): boolean {
  if (p.offset < 0 || p.vaddr < 0 || p.filesz < 0 || p.memsz < 0) return false;
  if (p.filesz > p.memsz) return false;
  // Bounded operands (< 2^47 and < 2^53) keep these sums exact.
  if (p.vaddr >= USER_ADDR_LIMIT || p.memsz > USER_ADDR_LIMIT - p.vaddr) return false;
  if (p.offset > fileSize || p.filesz > fileSize - p.offset) return false;
  // mmap needs file offset and address congruent modulo the page; the ELF spec modulo p_align.
  if (p.offset % PAGE_SIZE !== p.vaddr % PAGE_SIZE) return false;
  if (p.align > PAGE_SIZE && isPow2(p.align) && p.offset % p.align !== p.vaddr % p.align) return false;
  return true;
}

export interface ReadElfOptions {
  /** Read and validate PT_INTERP (false for the interpreter itself: Linux ignores its PT_INTERP). */
  readonly wantInterp: boolean;
}

/**
 * Reads and validates an ELF executable's headers. ENOEXEC for anything malformed; read
 * errors from the file pass through.
 */
export function readElf(file: ExecFile, opts: ReadElfOptions = { wantInterp: true }): Result<ElfImage> {
  const head = file.readAt(0, ELF_HEADER_SIZE);
  if (isErr(head)) return head;
  const hdr = parseElfHeader(head);
  if (isErr(hdr)) return hdr;

  const phSize = hdr.phnum * ELF_PHDR_SIZE;
  if (hdr.phoff > file.size || phSize > file.size - hdr.phoff) return err(E.ENOEXEC);
  const phBytes = file.readAt(hdr.phoff, phSize);
  if (isErr(phBytes)) return phBytes;
  if (phBytes.length < phSize) return err(E.ENOEXEC);
  const v = view(phBytes);

  const phdrs: ProgramHeader[] = [];
  const loads: ProgramHeader[] = [];
  let interpHdr: ProgramHeader | undefined;
  let phdrVaddr: number | undefined;
  let execStack = false;
  let maxAlign = PAGE_SIZE;
  let loadStart = Number.POSITIVE_INFINITY;
  let loadEnd = 0;

  for (let i = 0; i < hdr.phnum; i++) {
    const p = parseOnePhdr(v, i * ELF_PHDR_SIZE);
    phdrs.push(p);
    switch (p.type) {
      case PT_LOAD:
        if (!loadIsSane(p, file.size)) return err(E.ENOEXEC);
        loads.push(p);
        if (isPow2(p.align) && p.align > maxAlign) maxAlign = p.align;
        if (p.memsz > 0) {
          loadStart = Math.min(loadStart, p.vaddr - (p.vaddr % PAGE_SIZE));
          loadEnd = Math.max(loadEnd, p.vaddr + p.memsz);
        }
        break;
      case PT_INTERP:
        if (interpHdr !== undefined) return err(E.ENOEXEC);
        interpHdr = p;
        break;
      case PT_PHDR:
        if (p.vaddr < 0 || p.vaddr >= USER_ADDR_LIMIT) return err(E.ENOEXEC);
        phdrVaddr = p.vaddr;
        break;
      case PT_GNU_STACK:
        execStack = (p.flags & PF_X) !== 0;
        break;
    }
  }
  // Nothing to map means nothing to run.
  if (loadEnd === 0) return err(E.ENOEXEC);
  // A 2^k alignment larger than the user range is nonsense (and would overflow placement).
  if (maxAlign >= USER_ADDR_LIMIT) return err(E.ENOEXEC);

  let interp: string | undefined;
  if (interpHdr !== undefined && opts.wantInterp) {
    const r = readInterpPath(file, interpHdr);
    if (isErr(r)) return r;
    interp = r;
  }
  return {
    ...hdr, phdrs, loads, interp, phdrVaddr, execStack, maxAlign, loadStart, loadEnd,
  };
}

/** PT_INTERP's path: 2..PATH_MAX bytes inside the file, its last byte NUL (as Linux demands). */
function readInterpPath(file: ExecFile, p: ProgramHeader): Result<string> {
  if (p.filesz < 2 || p.filesz > MAX_INTERP_LEN) return err(E.ENOEXEC);
  if (p.offset < 0 || p.offset > file.size || p.filesz > file.size - p.offset) return err(E.ENOEXEC);
  const bytes = file.readAt(p.offset, p.filesz);
  if (isErr(bytes)) return bytes;
  if (bytes.length !== p.filesz || bytes[p.filesz - 1] !== 0) return err(E.ENOEXEC);
  // Linux opens it as a C string: up to the first NUL.
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, nul));
}
