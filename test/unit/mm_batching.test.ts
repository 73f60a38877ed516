// The memory manager's batching: growing fault windows for sequential anonymous access,
// run-wise punching and contiguous reuse of freed pages, fork's write-protection in runs.

import { describe, expect, it } from 'vitest';
import { isErr } from '../../sentry/abi/result.js';
import { MemoryFile, PAGE } from '../../sentry/mm/memory_file.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MemoryManager } from '../../sentry/mm/mm.js';
import { PROT_READ, PROT_WRITE } from '../../sentry/mm/vma.js';
import type { AddressSpace } from '../../sentry/platform/platform.js';

type Op = { kind: 'map' | 'unmap' | 'protect'; addr: number; len: number; prot?: number; off?: number };

class FakeAs implements AddressSpace {
  ops: Op[] = [];
  flushes = 0;
  map(addr: number, len: number, prot: number, off: number): void {
    this.ops.push({ kind: 'map', addr, len, prot, off });
  }
  unmap(addr: number, len: number): void {
    this.ops.push({ kind: 'unmap', addr, len });
  }
  protect(addr: number, len: number, prot: number): void {
    this.ops.push({ kind: 'protect', addr, len, prot });
  }
  flush(): void {
    this.flushes++;
  }
  release(): void {}
}

function memoryFile(punches: [number, number][]): MemoryFile {
  const chunk = new ArrayBuffer(32 << 20);
  const view = new Uint8Array(chunk);
  return new MemoryFile({ fd: -1, chunks: [chunk], punch: (off, len) => { punches.push([off, len]); view.fill(0, off, off + len); } });
}

const RW = PROT_READ | PROT_WRITE;

/** An anonymous private mapping at a 2 MiB-aligned address, so windows line up. */
function anon(mm: MemoryManager, len: number, addr = 0x100000000): number {
  const a = mm.mmap({ addr, len, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, offset: 0 });
  if (isErr(a)) throw new Error('mmap failed');
  return a;
}

/** Touches every page in order as the app would: a fault only where nothing is mapped yet. */
function touchAll(mm: MemoryManager, as: FakeAs, base: number, len: number): number {
  let faults = 0;
  for (let off = 0; off < len; off += PAGE) {
    const a = base + off;
    if (as.ops.some((o) => o.kind === 'map' && o.addr <= a && a < o.addr + o.len)) continue;
    expect(mm.handleFault(a)).toBe('mapped');
    faults++;
  }
  return faults;
}

describe('fault windows', () => {
  it('grows the window while anonymous memory is touched in order, up to 2 MiB', () => {
    const as = new FakeAs();
    const mm = new MemoryManager(memoryFile([]), as);
    const len = 8 << 20;
    const base = anon(mm, len);
    const faults = touchAll(mm, as, base, len);
    const sizes = as.ops.filter((o) => o.kind === 'map').map((o) => o.len / PAGE);
    // Fresh pages come contiguous from the file: one host mmap per fault.
    expect(sizes.slice(0, 6)).toEqual([16, 32, 64, 128, 256, 512]);
    expect(Math.max(...sizes)).toBe(512);
    expect(faults).toBe(sizes.length);
    expect(faults).toBeLessThan(20);
    expect(mm.residentPages).toBe(len / PAGE);
  });

  it('keeps 16-page windows for scattered faults', () => {
    const as = new FakeAs();
    const mm = new MemoryManager(memoryFile([]), as);
    const base = anon(mm, 8 << 20);
    expect(mm.handleFault(base + 100 * PAGE)).toBe('mapped');
    expect(mm.handleFault(base + 1000 * PAGE)).toBe('mapped');
    expect(as.ops.map((o) => o.len / PAGE)).toEqual([16, 16]);
    expect(mm.residentPages).toBe(32);
  });
});

describe('releasing pages', () => {
  it('unmaps before freeing, punches by runs and hands the pages out contiguous again', () => {
    const punches: [number, number][] = [];
    const as = new FakeAs();
    const mf = memoryFile(punches);
    const mm = new MemoryManager(mf, as);
    const len = 4 << 20;
    const base = anon(mm, len);
    touchAll(mm, as, base, len);
    expect(mm.copyOut(base + 5 * PAGE, new Uint8Array([7]))).toBeUndefined();
    as.ops = [];
    expect(mm.munmap(base, len)).toBe(0);
    expect(as.ops).toEqual([{ kind: 'unmap', addr: base, len }]);
    expect(punches).toEqual([[PAGE, len]]);
    expect(mf.allocated).toBe(0);
    // Mapped again: the freed pages come back as one run, zeroed.
    const again = anon(mm, len);
    as.ops = [];
    touchAll(mm, as, again, len);
    expect(as.ops.filter((o) => o.kind === 'map').every((o) => o.len >= 16 * PAGE)).toBe(true);
    const b = mm.copyIn(again, len);
    if (isErr(b)) throw new Error('copyIn failed');
    expect(b.every((x) => x === 0)).toBe(true);
  });
});

describe('fork', () => {
  it('write-protects the parent in runs and copies on write', () => {
    const as = new FakeAs();
    const mf = memoryFile([]);
    const mm = new MemoryManager(mf, as);
    const a = anon(mm, 64 * PAGE);
    const b = anon(mm, 64 * PAGE, a + 1024 * PAGE);
    touchAll(mm, as, a, 64 * PAGE);
    touchAll(mm, as, b, 64 * PAGE);
    expect(mm.writeU32(a, 1)).toBeUndefined();
    as.ops = [];
    const childAs = new FakeAs();
    const child = mm.fork(childAs);
    const prots = as.ops.filter((o) => o.kind === 'protect');
    expect(as.ops.length).toBe(prots.length);
    expect(prots.every((o) => o.prot === PROT_READ)).toBe(true);
    expect(prots.reduce((n, o) => n + o.len, 0)).toBe(128 * PAGE);
    expect(prots.length).toBeLessThanOrEqual(2);
    // The child maps the same pages read-only up front, by runs, instead of faulting.
    const childMaps = childAs.ops.filter((o) => o.kind === 'map');
    expect(childAs.ops.length).toBe(childMaps.length);
    expect(childMaps.every((o) => o.prot === PROT_READ)).toBe(true);
    expect(childMaps.reduce((n, o) => n + o.len, 0)).toBe(128 * PAGE);
    expect(childMaps.length).toBeLessThanOrEqual(2);
    // A write in the child copies too.
    childAs.ops = [];
    expect(child.handleFault(b)).toBe('mapped');
    expect(childAs.ops.map((o) => o.kind)).toEqual(['unmap', 'map']);
    // A write fault in the parent now copies the page; the child keeps the old value.
    as.ops = [];
    expect(mm.handleFault(a)).toBe('mapped');
    expect(as.ops.map((o) => o.kind)).toEqual(['unmap', 'map']);
    expect(mm.writeU32(a, 2)).toBeUndefined();
    expect(child.readU32(a)).toBe(1);
    expect(mm.readU32(a)).toBe(2);
    child.release();
    mm.release();
    expect(mf.allocated).toBe(0);
  });

  it('gives the child at most 64 runs up front, the highest addresses first', () => {
    const as = new FakeAs();
    const mm = new MemoryManager(memoryFile([]), as);
    const base = anon(mm, 200 * 32 * PAGE);
    // 100 scattered windows: 100 runs in the parent.
    for (let i = 0; i < 100; i++) expect(mm.handleFault(base + i * 64 * PAGE)).toBe('mapped');
    const childAs = new FakeAs();
    const child = mm.fork(childAs);
    const maps = childAs.ops.filter((o) => o.kind === 'map');
    expect(maps.length).toBe(64);
    expect(maps[0].addr).toBe(base + 99 * 64 * PAGE);
    // Pages left out fault in as usual.
    expect(child.handleFault(base)).toBe('mapped');
    expect(childAs.ops.length).toBe(65);
  });
});
