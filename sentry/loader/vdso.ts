// tsvisor's vDSO (native/vdso, built by node-gyp into build/Release/tsvisor-vdso.so) and the
// [vvar] page it reads: exec maps both into every new address space, as Linux does, and
// passes the image's address in AT_SYSINFO_EHDR. The image is read once at boot, before the
// Sentry confines itself; its pages are copied into the memory file like any file mapping.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { E } from '../abi/errno.js';
import { err, isErr, type Result } from '../abi/result.js';
import type { Mappable } from '../mm/mappable.js';
import type { MemoryFile } from '../mm/memory_file.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, type MemoryManager } from '../mm/mm.js';
import { PROT_EXEC, PROT_READ } from '../mm/vma.js';

const PAGE = 4096;

/** The vDSO image, read-only and private to each process (a debugger may write breakpoints). */
class VdsoImage implements Mappable {
  readonly id = 'vdso';
  constructor(readonly bytes: Uint8Array) {}
  readSync(offset: number, dst: Uint8Array): number {
    if (offset >= this.bytes.length) return 0;
    const n = Math.min(dst.length, this.bytes.length - offset);
    dst.set(this.bytes.subarray(offset, offset + n));
    return n;
  }
}

/** The parameter page: one memory-file page that every [vvar] mapping shares. */
class VvarPage implements Mappable {
  readonly id = 'vvar';
  constructor(private readonly ppn: number) {}
  readSync(): number {
    return 0;
  }
  sharedPage(_mf: MemoryFile, index: number): Result<number> {
    return index === 0 ? this.ppn : err(E.EFAULT);
  }
}

/** Whether the host's TSC is invariant and synchronised (read at boot, before confinement). */
export function hostHasInvariantTsc(): boolean {
  try {
    const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
    return flags.includes('constant_tsc') && flags.includes('nonstop_tsc');
  } catch {
    return false;
  }
}

export class Vdso {
  private readonly image: VdsoImage;
  private readonly vvar: VvarPage;
  private readonly textLen: number;

  constructor(bytes: Uint8Array, vvarPpn: number) {
    this.image = new VdsoImage(bytes);
    this.vvar = new VvarPage(vvarPpn);
    this.textLen = Math.ceil(bytes.length / PAGE) * PAGE;
  }

  /** Reads the built image; undefined when it is missing or not an ELF (the app then simply has no vDSO). */
  static load(root: string, vvarPpn: number): Vdso | undefined {
    const path = join(root, 'build', 'Release', 'tsvisor-vdso.so');
    if (!existsSync(path)) return undefined;
    const bytes = new Uint8Array(readFileSync(path));
    if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) return undefined;
    return new Vdso(bytes, vvarPpn);
  }

  /** Maps [vvar] and, one page above it, [vdso]; returns the vDSO's address (AT_SYSINFO_EHDR). */
  map(mm: MemoryManager): Result<number> {
    const total = PAGE + this.textLen;
    // Reserve both at once so they are adjacent: the vDSO finds its page PC-relatively.
    const base = mm.mmap({ addr: 0, len: total, prot: 0, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0 });
    if (isErr(base)) return base;
    const vvar = mm.mmap({ addr: base, len: PAGE, prot: PROT_READ, flags: MAP_SHARED | MAP_FIXED, offset: 0, file: this.vvar, name: '[vvar]' });
    if (isErr(vvar)) return vvar;
    const text = mm.mmap({ addr: base + PAGE, len: this.textLen, prot: PROT_READ | PROT_EXEC, flags: MAP_PRIVATE | MAP_FIXED, offset: 0, file: this.image, name: '[vdso]' });
    if (isErr(text)) return text;
    return text;
  }
}
