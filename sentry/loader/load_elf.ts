// Maps a validated ELF image into a fresh address space, placing it as Linux does with
// ASLR off: ET_EXEC at its own addresses, a PIE at ELF_ET_DYN_BASE, and loaders (the
// PT_INTERP interpreter, static PIE) wherever the memory manager puts them (top-down).

import { E } from '../abi/errno.js';
import { err, isErr, type Result } from '../abi/result.js';
import { ET_EXEC, ELF_PHDR_SIZE, PF_R, PF_W, PF_X, type ElfImage, type ProgramHeader } from './elf.js';
import {
  PAGE_SIZE, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE, USER_ADDR_LIMIT,
  pageDown, pageUp, type ExecFile, type LoaderMemory,
} from './types.js';

/** x86-64's ELF_ET_DYN_BASE: 2/3 of the 47-bit user range (before page alignment). */
export const ELF_ET_DYN_BASE = Math.floor(0x7ffffffff000 / 3) * 2;

export type Placement =
  /** PIE with an interpreter: at ELF_ET_DYN_BASE, aligned to the largest p_align. */
  | 'dyn-base'
  /** A loader: anywhere the memory manager chooses (hint 0). */
  | 'anywhere';

export interface MappedElf {
  /** What was added to every p_vaddr (0 for ET_EXEC). */
  readonly bias: number;
  /** Relocated e_entry. */
  readonly entry: number;
  /** Relocated address of the program headers (AT_PHDR). */
  readonly phdrAddr: number;
  /** Relocated end of the highest segment (vaddr+memsz), not page aligned. */
  readonly end: number;
}

export interface LoadedProgram {
  /** Where execution starts: the interpreter's entry when there is one, else the program's. */
  readonly startAddr: number;
  /** AT_ENTRY: the program's own (relocated) entry. */
  readonly entry: number;
  readonly phdrAddr: number;
  readonly phent: number;
  readonly phnum: number;
  /** AT_BASE: the interpreter's load bias, 0 without one. */
  readonly base: number;
  readonly interpEntry?: number;
  readonly brkBase: number;
  readonly execStack: boolean;
}

function protOf(flags: number): number {
  return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) | ((flags & PF_X) ? PROT_EXEC : 0);
}

/** Maps one PT_LOAD at bias: file pages, the zeroed tail of the last file page, anonymous bss. */
function mapSegment(mem: LoaderMemory, file: ExecFile, p: ProgramHeader, bias: number): Result<void> {
  if (p.memsz === 0) return undefined;
  const prot = protOf(p.flags);
  const start = bias + p.vaddr;
  const pageOff = start % PAGE_SIZE;
  let zeroStart: number;
  if (p.filesz > 0) {
    const r = mem.mapFile(start - pageOff, pageUp(pageOff + p.filesz), prot, true, file.mappable, p.offset - pageOff);
    if (isErr(r)) return r;
    zeroStart = start + p.filesz;
    // Linux's padzero is a user write, so it only lands in writable segments.
    const tail = pageUp(zeroStart) - zeroStart;
    if (p.memsz > p.filesz && tail > 0 && (prot & PROT_WRITE)) {
      const z = mem.zero(zeroStart, tail);
      if (isErr(z)) return z;
    }
  } else {
    zeroStart = start - pageOff;
  }
  if (p.memsz > p.filesz) {
    const anonStart = pageUp(zeroStart);
    const anonEnd = pageUp(start + p.memsz);
    if (anonEnd > anonStart) {
      // Linux maps the bss with vm_brk_flags: always read/write, executable if the segment is.
      const r = mem.mapAnonymous(anonStart, anonEnd - anonStart, PROT_READ | PROT_WRITE | (prot & PROT_EXEC), true);
      if (isErr(r)) return r;
    }
  }
  return undefined;
}

/** AT_PHDR as Linux computes it: through the PT_LOAD whose file bytes hold the headers. */
function phdrVaddr(elf: ElfImage): number {
  for (const p of elf.loads) {
    if (p.offset <= elf.phoff && elf.phoff < p.offset + p.filesz) return elf.phoff - p.offset + p.vaddr;
  }
  if (elf.phdrVaddr !== undefined) return elf.phdrVaddr;
  const first = elf.loads[0];
  return first.vaddr - first.offset + elf.phoff;
}

/** Chooses the load bias for an image (reserving its whole span when the mm picks the place). */
function chooseBias(mem: LoaderMemory, elf: ElfImage, placement: Placement): Result<number> {
  if (elf.type === ET_EXEC) return 0;
  const span = pageUp(elf.loadEnd) - elf.loadStart;
  if (placement === 'dyn-base') {
    // As Linux: relative to the first PT_LOAD's (unaligned) vaddr, then page aligned down.
    const base = ELF_ET_DYN_BASE - (ELF_ET_DYN_BASE % elf.maxAlign);
    return pageDown(base - elf.loads[0].vaddr);
  }
  // Reserve the span (plus slack to honour a large alignment) so the segments, mapped
  // fixed over it next, cannot land on anything else.
  const slack = elf.maxAlign > PAGE_SIZE ? elf.maxAlign - PAGE_SIZE : 0;
  const at = mem.mapAnonymous(0, span + slack, PROT_NONE, false);
  if (isErr(at)) return at;
  const aligned = slack > 0 ? Math.ceil(at / elf.maxAlign) * elf.maxAlign : at;
  return aligned - elf.loadStart;
}

/** Maps every PT_LOAD of an image. */
export function mapElf(mem: LoaderMemory, file: ExecFile, elf: ElfImage, placement: Placement): Result<MappedElf> {
  const bias = chooseBias(mem, elf, placement);
  if (isErr(bias)) return bias;
  // Addresses we chose must stay below the stack; where the mm placed the image is its call.
  // A bias may be negative (a prelinked loader moved down).
  const chosenByUs = elf.type === ET_EXEC || placement === 'dyn-base';
  if (bias + elf.loadStart < 0 || (chosenByUs && bias + elf.loadEnd > USER_ADDR_LIMIT)) return err(E.ENOMEM);
  for (const p of elf.loads) {
    const r = mapSegment(mem, file, p, bias);
    if (isErr(r)) return r;
  }
  return { bias, entry: bias + elf.entry, phdrAddr: bias + phdrVaddr(elf), end: bias + elf.loadEnd };
}

/**
 * Maps the program (read with readElf) and, when it has a PT_INTERP, the already opened and
 * read interpreter; sets the brk base. The stack should be mapped first, as Linux does.
 */
export function loadProgram(
  mem: LoaderMemory,
  main: { file: ExecFile; elf: ElfImage },
  interp?: { file: ExecFile; elf: ElfImage },
): Result<LoadedProgram> {
  const isStaticPie = main.elf.type !== ET_EXEC && interp === undefined;
  const m = mapElf(mem, main.file, main.elf, isStaticPie ? 'anywhere' : 'dyn-base');
  if (isErr(m)) return m;
  // Linux moves a static PIE's brk away from the mmap area, to ELF_ET_DYN_BASE.
  const brkBase = isStaticPie ? pageUp(ELF_ET_DYN_BASE) : pageUp(m.end);
  mem.setBrkBase(brkBase);

  let base = 0;
  let interpEntry: number | undefined;
  if (interp !== undefined) {
    const i = mapElf(mem, interp.file, interp.elf, 'anywhere');
    if (isErr(i)) return i;
    base = i.bias;
    interpEntry = i.entry;
  }
  return {
    startAddr: interpEntry ?? m.entry,
    entry: m.entry,
    phdrAddr: m.phdrAddr,
    phent: ELF_PHDR_SIZE,
    phnum: main.elf.phnum,
    base,
    interpEntry,
    brkBase,
    execStack: main.elf.execStack,
  };
}
