import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr } from '../../sentry/abi/result.js';
import { ET_DYN, ET_EXEC, PT_LOAD, readElf, type ElfImage } from '../../sentry/loader/elf.js';
import { TEXT_LOAD, bytesExecFile, compile, craftElf, hostExecFile, removeTempDirs, tempDir, type CraftOptions } from './loader_helpers.js';

afterAll(removeTempDirs);

const HELLO = 'int main(void) { return 0; }\n';

function parse(path: string): ElfImage {
  const r = readElf(hostExecFile(path));
  if (isErr(r)) throw new Error(`readElf(${path}) failed with errno ${r.errno}`);
  return r;
}

/** The PT_LOAD rows of `readelf -lW`, as the reference the parser must agree with. */
function readelfLoads(path: string): Array<{ offset: number; vaddr: number; filesz: number; memsz: number; flags: string }> {
  const out = execFileSync('readelf', ['-lW', path], { encoding: 'utf8' });
  return out.split('\n').filter((l) => /^\s+LOAD\s/.test(l)).map((l) => {
    const f = l.trim().split(/\s+/);
    // LOAD off vaddr paddr filesz memsz flags... align
    return {
      offset: Number(f[1]), vaddr: Number(f[2]), filesz: Number(f[4]), memsz: Number(f[5]),
      flags: f.slice(6, -1).join(''),
    };
  });
}

function flagString(flags: number): string {
  return (flags & 4 ? 'R' : '') + (flags & 2 ? 'W' : '') + (flags & 1 ? 'E' : '');
}

function expectMatchesReadelf(path: string, elf: ElfImage): void {
  const ref = readelfLoads(path);
  expect(elf.loads.map((p) => ({ offset: p.offset, vaddr: p.vaddr, filesz: p.filesz, memsz: p.memsz, flags: flagString(p.flags) })))
    .toEqual(ref);
}

describe('readElf on real binaries', () => {
  let dir = '';
  beforeAll(() => {
    dir = tempDir();
    compile(dir, 'static', HELLO, ['-static', '-no-pie', '-O2']);
    compile(dir, 'static-pie', HELLO, ['-static-pie', '-O2']);
    compile(dir, 'execstack', HELLO, ['-static', '-no-pie', '-z', 'execstack']);
  });

  it('reads /bin/ls as a dynamic PIE with the system interpreter', () => {
    const elf = parse('/bin/ls');
    expect(elf.type).toBe(ET_DYN);
    expect(elf.interp).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(elf.phdrVaddr).toBe(0x40);
    expect(elf.execStack).toBe(false);
    expectMatchesReadelf('/bin/ls', elf);
  });

  it('reads the static busybox as ET_EXEC without an interpreter', () => {
    expect(existsSync('/bin/busybox')).toBe(true);
    const elf = parse('/bin/busybox');
    expect(elf.type).toBe(ET_EXEC);
    expect(elf.interp).toBeUndefined();
    expect(elf.entry).toBe(Number(/Entry point address:\s+(0x[0-9a-f]+)/.exec(execFileSync('readelf', ['-h', '/bin/busybox'], { encoding: 'utf8' }))![1]));
    expectMatchesReadelf('/bin/busybox', elf);
  });

  it('reads gcc static and static-pie output', () => {
    const st = parse(`${dir}/static`);
    expect(st.type).toBe(ET_EXEC);
    expect(st.interp).toBeUndefined();
    expectMatchesReadelf(`${dir}/static`, st);
    const sp = parse(`${dir}/static-pie`);
    expect(sp.type).toBe(ET_DYN);
    expect(sp.interp).toBeUndefined();
    expect(sp.loadStart).toBe(0);
    expectMatchesReadelf(`${dir}/static-pie`, sp);
  });

  it('sees PT_GNU_STACK asking for an executable stack', () => {
    expect(parse(`${dir}/execstack`).execStack).toBe(true);
    expect(parse(`${dir}/static`).execStack).toBe(false);
  });
});

describe('readElf rejections', () => {
  const ok: CraftOptions = { phdrs: [TEXT_LOAD] };
  const interp = (s: string, filesz = s.length): CraftOptions => ({
    phdrs: [{ type: 3, flags: 4, offset: 0x200, vaddr: 0x400200, filesz, memsz: filesz, align: 1 }, TEXT_LOAD],
    put: [[0x200, s]],
  });
  const read = (bytes: Uint8Array) => readElf(bytesExecFile('/x', bytes));
  const errno = (bytes: Uint8Array): number | undefined => {
    const r = read(bytes);
    return isErr(r) ? r.errno : undefined;
  };

  it('accepts the crafted baseline', () => {
    const r = read(craftElf(ok));
    expect(isErr(r)).toBe(false);
    if (!isErr(r)) {
      expect(r.loads).toHaveLength(1);
      expect(r.loads[0].type).toBe(PT_LOAD);
      expect(r.entry).toBe(0x401000);
    }
    const i = read(craftElf(interp('/lib/ld.so\0')));
    expect(!isErr(i) && i.interp).toBe('/lib/ld.so');
  });

  const cases: Array<[string, Uint8Array]> = [
    ['a text file', new TextEncoder().encode('hello world, this is not an ELF file at all.......................')],
    ['an empty file', new Uint8Array(0)],
    ['a 32-bit ELF', craftElf({ ...ok, cls: 1 })],
    ['a big-endian ELF', craftElf({ ...ok, data: 2 })],
    ['an ARM ELF', craftElf({ ...ok, machine: 40 })],
    ['an AArch64 ELF', craftElf({ ...ok, machine: 183 })],
    ['a relocatable object', craftElf({ ...ok, type: 1 })],
    ['a core file', craftElf({ ...ok, type: 4 })],
    ['a header cut short', craftElf({ ...ok, size: 40 })],
    ['phentsize not 56', craftElf({ ...ok, phentsize: 32 })],
    ['no program headers', craftElf({ ...ok, phnum: 0 })],
    ['more program headers than fit a page', craftElf({ phdrs: Array(74).fill(TEXT_LOAD), size: 0x2000 })],
    ['program headers past EOF', craftElf({ ...ok, phoff: 0x1ff0 })],
    ['program headers offset overflowing', craftElf({ ...ok, phoff: 0xffffffffffffff00n })],
    ['file truncated inside the program headers', craftElf({ phdrs: [TEXT_LOAD, TEXT_LOAD], size: 64 + 80 })],
    ['no PT_LOAD', craftElf({ phdrs: [{ type: 4, offset: 0, vaddr: 0, filesz: 0, memsz: 0 }] })],
    ['filesz > memsz', craftElf({ phdrs: [{ ...TEXT_LOAD, memsz: 0x1000 }] })],
    ['a segment past EOF', craftElf({ phdrs: [{ ...TEXT_LOAD, filesz: 0x3000, memsz: 0x3000 }] })],
    ['a segment offset past EOF', craftElf({ phdrs: [{ ...TEXT_LOAD, offset: 0x5000, vaddr: 0x405000, filesz: 0, memsz: 0x1000 }] })],
    ['offset and vaddr not congruent', craftElf({ phdrs: [{ ...TEXT_LOAD, vaddr: 0x400010 }] })],
    ['offset and vaddr not congruent modulo p_align', craftElf({ phdrs: [{ ...TEXT_LOAD, vaddr: 0x401000, align: 0x200000 }] })],
    ['a segment in kernel space', craftElf({ phdrs: [{ ...TEXT_LOAD, vaddr: 0xffffffff80000000n }] })],
    ['a segment above the user limit', craftElf({ phdrs: [{ ...TEXT_LOAD, vaddr: 0x7ffe00000000 }] })],
    ['vaddr + memsz overflowing', craftElf({ phdrs: [{ ...TEXT_LOAD, memsz: 0xfffffffffffff000n }] })],
    ['an entry in kernel space', craftElf({ ...ok, entry: 0xffffffff81000000n })],
    ['two PT_INTERP', craftElf({ ...interp('/a\0'), phdrs: [...interp('/a\0').phdrs, interp('/a\0').phdrs[0]] })],
    ['PT_INTERP not NUL-terminated', craftElf(interp('/lib/ld.so'))],
    ['PT_INTERP of one byte', craftElf(interp('\0'))],
    ['PT_INTERP longer than PATH_MAX', craftElf(interp('/'.repeat(5000) + '\0', 5001))],
    ['PT_INTERP past EOF', craftElf({ ...interp('/a\0'), phdrs: [{ ...interp('/a\0').phdrs[0], offset: 0x1ff0, filesz: 0x20 }, TEXT_LOAD] })],
  ];
  for (const [name, bytes] of cases) {
    it(`gives ENOEXEC for ${name}`, () => {
      expect(errno(bytes)).toBe(E.ENOEXEC);
    });
  }

  it('takes the PT_INTERP string up to its first NUL, as Linux opens it', () => {
    const r = read(craftElf(interp('/lib/ld.so\0junk\0')));
    expect(!isErr(r) && r.interp).toBe('/lib/ld.so');
  });

  it('ignores PT_INTERP when reading an interpreter', () => {
    const r = readElf(bytesExecFile('/x', craftElf(interp('/lib/ld.so'))), { wantInterp: false });
    expect(isErr(r)).toBe(false);
  });
});
