// Faults on file mappings past the end of the file: SIGBUS for the page, the fault window
// stops at EOF, kernel accesses get EFAULT, and a shrinking file takes mapped pages away.

import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr, type Result } from '../../sentry/abi/result.js';
import type { Mappable } from '../../sentry/mm/mappable.js';
import { MemoryFile, PAGE } from '../../sentry/mm/memory_file.js';
import { fileShrunk, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MemoryManager } from '../../sentry/mm/mm.js';
import { PROT_READ, PROT_WRITE } from '../../sentry/mm/vma.js';
import type { AddressSpace } from '../../sentry/platform/platform.js';

class FakeAs implements AddressSpace {
  maps: { addr: number; len: number }[] = [];
  unmaps: { addr: number; len: number }[] = [];
  map(addr: number, len: number): void {
    this.maps.push({ addr, len });
  }
  unmap(addr: number, len: number): void {
    this.unmaps.push({ addr, len });
  }
  protect(): void {}
  flush(): void {}
  release(): void {}
}

/** A file of `size` bytes of 0x41 with no page cache (as Gofer files without donations are). */
class SizedFile implements Mappable {
  readonly id = 'sized';
  constructor(public size: number) {}
  readSync(offset: number, dst: Uint8Array): number {
    const n = Math.max(0, Math.min(dst.length, this.size - offset));
    dst.fill(0x41, 0, n);
    return n;
  }
  fileSize(): Result<number> {
    return this.size;
  }
}

function setup(size: number, flags = MAP_PRIVATE): { mm: MemoryManager; as: FakeAs; file: SizedFile; base: number } {
  const as = new FakeAs();
  const mf = new MemoryFile({ fd: -1, chunks: [new ArrayBuffer(8 << 20)], punch: () => {} });
  const mm = new MemoryManager(mf, as);
  const file = new SizedFile(size);
  const base = 0x200000000;
  const a = mm.mmap({ addr: base, len: 32 * PAGE, prot: PROT_READ | PROT_WRITE, flags: flags | MAP_FIXED, offset: 0, file });
  if (isErr(a)) throw new Error('mmap failed');
  return { mm, as, file, base };
}

describe('faults past the end of a mapped file', () => {
  it('maps up to the partial last page and gives SIGBUS past it', () => {
    const { mm, as, base } = setup(3 * PAGE + 10);
    expect(mm.handleFault(base)).toBe('mapped');
    // The fault window stops at the end of the file.
    expect(as.maps).toEqual([{ addr: base, len: 4 * PAGE }]);
    expect(mm.handleFault(base + 4 * PAGE)).toBe('bus');
    expect(mm.handleFault(base + 20 * PAGE + 5)).toBe('bus');
    const tail = mm.copyIn(base + 3 * PAGE, PAGE);
    if (isErr(tail)) throw new Error('copyIn failed');
    expect(tail.subarray(0, 10).every((b) => b === 0x41)).toBe(true);
    expect(tail.subarray(10).every((b) => b === 0)).toBe(true);
  });

  it('gives the kernel EFAULT past the end', () => {
    const { mm, base } = setup(PAGE);
    const r = mm.copyIn(base + PAGE - 4, 8);
    expect(isErr(r) && r.errno).toBe(E.EFAULT);
    expect(isErr(mm.copyIn(base, PAGE))).toBe(false);
  });

  it('drops mapped pages past a new, smaller end and maps them again once the file grows', () => {
    const { mm, as, file, base } = setup(8 * PAGE);
    expect(mm.handleFault(base + 5 * PAGE)).toBe('mapped');
    expect(mm.writeU32(base + 5 * PAGE, 7)).toBeUndefined();
    file.size = 2 * PAGE;
    fileShrunk(file, file.size);
    expect(as.unmaps).toContainEqual({ addr: base + 2 * PAGE, len: 30 * PAGE });
    expect(mm.handleFault(base + 5 * PAGE)).toBe('bus');
    // Pages before the new end stay mapped.
    expect(as.unmaps.some((u) => u.addr <= base + PAGE && base + PAGE < u.addr + u.len)).toBe(false);
    file.size = 8 * PAGE;
    expect(mm.handleFault(base + 5 * PAGE)).toBe('mapped');
    // The private copy went with the shrink: the file's bytes are back.
    expect(mm.readU32(base + 5 * PAGE)).toBe(0x41414141);
    mm.release();
  });

  it('leaves anonymous shared memory alone (it has no end)', () => {
    const as = new FakeAs();
    const mf = new MemoryFile({ fd: -1, chunks: [new ArrayBuffer(4 << 20)], punch: () => {} });
    const mm = new MemoryManager(mf, as);
    const a = mm.mmap({ addr: 0, len: 4 * PAGE, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | 0x20, offset: 0 });
    if (isErr(a)) throw new Error('mmap failed');
    expect(mm.handleFault(a + 3 * PAGE)).toBe('mapped');
  });
});
