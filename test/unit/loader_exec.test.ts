import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr, type Result } from '../../sentry/abi/result.js';
import { readElf } from '../../sentry/loader/elf.js';
import { loadExecutable, type ExecImage, type ExecRequest } from '../../sentry/loader/exec.js';
import { AT, STACK_SIZE, STACK_TOP } from '../../sentry/loader/stack.js';
import { PROT_NONE, PROT_READ, PROT_WRITE, pageUp, type ExecFile } from '../../sentry/loader/types.js';
import {
  FAKE_MMAP_TOP, FakeLoaderMemory, PROBE_FLAGS, PROBE_SOURCE, TEXT_LOAD, bytesExecFile, compile, craftElf,
  hostExecFile, makeOpener, runProbe, removeTempDirs, tempDir, type Vma,
} from './loader_helpers.js';

afterAll(removeTempDirs);

const RANDOM = new Uint8Array(16).fill(7);
const LDSO = '/lib64/ld-linux-x86-64.so.2';

function request(filename: string, argv: string[], files = new Map<string, ExecFile>(), mem = new FakeLoaderMemory()): ExecRequest {
  return {
    filename, argv, envp: ['HOME=/root', 'TERM=dumb'], open: makeOpener(files, true), mem, random16: RANDOM,
    hwcap: 0x178bfbff, uid: 0, euid: 0, gid: 0, egid: 0,
  };
}

async function load(req: ExecRequest): Promise<ExecImage> {
  const r = await loadExecutable(req);
  if (isErr(r)) throw new Error(`loadExecutable failed with errno ${r.errno}`);
  return r;
}

async function errnoOf(req: ExecRequest): Promise<number | undefined> {
  const r: Result<ExecImage> = await loadExecutable(req);
  return isErr(r) ? r.errno : undefined;
}

/** argv, envp and auxv as the new program will read them from its stack. */
function stackView(mem: FakeLoaderMemory, sp: number) {
  let at = sp;
  const next = (): number => { const v = mem.u64(at); at += 8; return v; };
  const argc = next();
  const argv = Array.from({ length: argc }, () => mem.cstring(next()));
  next();
  const envp: string[] = [];
  for (let p = next(); p !== 0; p = next()) envp.push(mem.cstring(p));
  const auxv = new Map<number, number>();
  for (let k = next(), v = next(); k !== AT.NULL; k = next(), v = next()) auxv.set(k, v);
  return { argv, envp, auxv };
}

/** The loader's VMAs, without the stack. */
function imageVmas(mem: FakeLoaderMemory): Vma[] {
  return mem.vmas().filter((v) => v.end !== STACK_TOP);
}

function relative(vmas: Vma[]): Vma[] {
  const base = vmas[0].start;
  return vmas.map((v) => ({ ...v, start: v.start - base, end: v.end - base }));
}

const elfEntry = (path: string): number => {
  const e = readElf(hostExecFile(path));
  if (isErr(e)) throw new Error('bad elf');
  return e.entry;
};

describe('loadExecutable compared with the host kernel', () => {
  let dir = '';
  let probe = '';
  let probePie = '';
  beforeAll(() => {
    dir = tempDir();
    probe = compile(dir, 'probe', PROBE_SOURCE, [...PROBE_FLAGS, '-static', '-no-pie']);
    probePie = compile(dir, 'probe-pie', PROBE_SOURCE, [...PROBE_FLAGS, '-static-pie', '-fPIE']);
  });

  it('maps a static ET_EXEC exactly where and how Linux does', async () => {
    const mem = new FakeLoaderMemory();
    const img = await load(request(probe, [probe], new Map(), mem));
    const real = runProbe(probe, [], {});
    expect(imageVmas(mem)).toEqual(real.maps);
    expect(img.entry).toBe(elfEntry(probe));
    expect(img.interpreter).toBeUndefined();
    const v = stackView(mem, img.sp);
    expect(v.auxv.get(AT.BASE)).toBe(0);
    expect(v.auxv.get(AT.ENTRY)).toBe(img.entry);
    expect(v.auxv.get(AT.PHDR)).toBe(0x400040);
    // brk starts right after the bss: the last VMA's end.
    expect(mem.brkBase).toBe(real.maps[real.maps.length - 1].end);
    expect(img.brkBase).toBe(mem.brkBase);
  });

  it('maps a static PIE like Linux: in the mmap area, with brk at ELF_ET_DYN_BASE', async () => {
    const mem = new FakeLoaderMemory();
    const img = await load(request(probePie, [probePie], new Map(), mem));
    const real = runProbe(probePie, [], {});
    const ours = imageVmas(mem);
    expect(relative(ours)).toEqual(relative(real.maps));
    expect(ours[ours.length - 1].end).toBe(FAKE_MMAP_TOP);
    expect(img.entry).toBe(ours[0].start + elfEntry(probePie));
    expect(stackView(mem, img.sp).auxv.get(AT.PHDR)).toBe(ours[0].start + 64);
    expect(mem.brkBase).toBe(0x555555555000);
  });

  it('zeroes the bss: the tail of the last file page and the anonymous pages after it', async () => {
    const mem = new FakeLoaderMemory();
    await load(request(probe, [probe], new Map(), mem));
    const out = execFileSync('readelf', ['-lW', probe], { encoding: 'utf8' });
    const rw = out.split('\n').find((l) => /^\s+LOAD.*RW/.test(l))!.trim().split(/\s+/);
    const [off, vaddr, filesz, memsz] = [Number(rw[1]), Number(rw[2]), Number(rw[4]), Number(rw[5])];
    const file = readFileSync(probe);
    const bssStart = vaddr + filesz;
    const tail = pageUp(bssStart) - bssStart;
    // The file has other bytes after the segment in that page; memory must not show them.
    expect(file.subarray(off + filesz, off + filesz + tail).some((b) => b !== 0)).toBe(true);
    expect(mem.read(bssStart, memsz - filesz).every((b) => b === 0)).toBe(true);
    expect(Buffer.from(mem.read(vaddr, filesz)).equals(file.subarray(off, off + filesz))).toBe(true);
  });
});

describe('loadExecutable on dynamic and static system binaries', () => {
  it('loads /bin/ls at 0x555555554000 with ld.so placed by the memory manager', async () => {
    const mem = new FakeLoaderMemory();
    const img = await load(request('/bin/ls', ['ls', '-l'], new Map(), mem));
    const v = stackView(mem, img.sp);
    expect(img.interpreter).toBe(LDSO);
    const vmas = imageVmas(mem);
    expect(vmas[0]).toEqual({ start: 0x555555554000, end: 0x555555558000, prot: PROT_READ, file: '/bin/ls', offset: 0 });
    expect(v.auxv.get(AT.PHDR)).toBe(0x555555554040);
    expect(v.auxv.get(AT.PHNUM)).toBe(13);
    expect(v.auxv.get(AT.ENTRY)).toBe(0x555555554000 + elfEntry('/bin/ls'));
    const base = v.auxv.get(AT.BASE)!;
    const ldVmas = vmas.filter((x) => x.file === LDSO);
    expect(ldVmas[0].start).toBe(base);
    expect(ldVmas[0].offset).toBe(0);
    expect(ldVmas[ldVmas.length - 1].end).toBe(FAKE_MMAP_TOP);
    expect(img.entry).toBe(base + elfEntry(LDSO));
    // No reservation is left uncovered: ld.so's segments are contiguous.
    expect(vmas.some((x) => x.prot === PROT_NONE)).toBe(false);
    // brk: page after /bin/ls's bss (RW LOAD at 0x232b0, memsz 0x25f8).
    expect(mem.brkBase).toBe(pageUp(0x555555554000 + 0x232b0 + 0x25f8));
    expect(v.argv).toEqual(['ls', '-l']);
    expect(v.envp).toEqual(['HOME=/root', 'TERM=dumb']);
    expect(mem.cstring(v.auxv.get(AT.EXECFN)!)).toBe('/bin/ls');
    expect(img.exePath).toBe('/bin/ls');
    expect(img.sp % 16).toBe(0);
    expect(img.sp).toBeGreaterThan(STACK_TOP - STACK_SIZE);
  });

  it('aligns a PIE\'s load address to its largest p_align, as Linux does', async () => {
    const src = `#include <stdio.h>
int main(void) { FILE *f = fopen("/proc/self/maps", "r"); char b[8192]; size_t n = fread(b, 1, sizeof b, f);
  fwrite(b, 1, n, stdout); fputs("@@STACK@@", stdout); return 0; }
`;
    const p = compile(tempDir(), 'bigalign', src, ['-O2', '-Wl,-z,max-page-size=0x200000']);
    const real = runProbe(p, [], {}).maps.filter((v) => v.file === p);
    const mem = new FakeLoaderMemory();
    await load(request(p, [p], new Map(), mem));
    const ours = imageVmas(mem).filter((v) => v.file === p);
    expect(ours[0].start).toBe(0x555555400000);
    // The read-only and text segments (ld.so's RELRO mprotect later splits the data one).
    expect(ours.slice(0, 3)).toEqual(real.slice(0, 3));
  });

  it('loads the static busybox', async () => {
    const mem = new FakeLoaderMemory();
    const img = await load(request('/bin/busybox', ['sh', '-c', 'true'], new Map(), mem));
    expect(img.entry).toBe(elfEntry('/bin/busybox'));
    expect(imageVmas(mem)[0].start).toBe(0x400000);
    expect(stackView(mem, img.sp).argv).toEqual(['sh', '-c', 'true']);
  });
});

describe('scripts', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const files = (entries: Record<string, string>) =>
    new Map(Object.entries(entries).map(([p, s]) => [p, bytesExecFile(p, enc(s))] as const));

  it('rewrites argv as Linux does: interpreter, argument, script path, argv[1..]', async () => {
    const mem = new FakeLoaderMemory();
    const img = await load(request('./run.sh', ['ignored-argv0', 'x', 'y'], files({ './run.sh': '#!/bin/busybox sh -e\necho\n' }), mem));
    const v = stackView(mem, img.sp);
    expect(v.argv).toEqual(['/bin/busybox', 'sh -e', './run.sh', 'x', 'y']);
    expect(img.argv).toEqual(v.argv);
    // AT_EXECFN stays the script's name; the mapped file is the interpreter.
    expect(mem.cstring(v.auxv.get(AT.EXECFN)!)).toBe('./run.sh');
    expect(img.execfn).toBe('./run.sh');
    expect(img.exePath).toBe('/bin/busybox');
  });

  it('follows nested scripts up to 5 levels, then ELOOP', async () => {
    const chain = (n: number): Record<string, string> => {
      const f: Record<string, string> = {};
      for (let i = 0; i < n; i++) f[`/s${i}`] = i === n - 1 ? '#!/bin/busybox\n' : `#!/s${i + 1}\n`;
      return f;
    };
    const mem = new FakeLoaderMemory();
    const img = await load(request('/s0', ['s0', 'arg'], files(chain(5)), mem));
    expect(stackView(mem, img.sp).argv).toEqual(['/bin/busybox', '/s4', '/s3', '/s2', '/s1', '/s0', 'arg']);
    expect(await errnoOf(request('/s0', ['s0'], files(chain(6))))).toBe(E.ELOOP);
  });

  it('fails the way Linux does for bad interpreter lines', async () => {
    expect(await errnoOf(request('/s', ['s'], files({ '/s': '#!/no/such/interp\n' })))).toBe(E.ENOENT);
    expect(await errnoOf(request('/s', ['s'], files({ '/s': '#!\n' })))).toBe(E.ENOEXEC);
    expect(await errnoOf(request('/s', ['s'], files({ '/s': '#!' })))).toBe(E.EACCES);
    expect(await errnoOf(request('/s', ['s'], files({ '/s': '#!/i\n', '/i': 'plain text' })))).toBe(E.ENOEXEC);
  });

  it('gives E2BIG when the rewritten argv no longer fits', async () => {
    const big = 'a'.repeat(100_000);
    // Fill the 2 MiB to 100 bytes short: strings, execfn, envp and one pointer per entry.
    const base = ['s', ...Array(20).fill(big)];
    const env = ['HOME=/root', 'TERM=dumb'];
    const used = [...base, '/s', ...env].reduce((n, x) => n + x.length + 1, 0) + (base.length + 1 + env.length) * 8;
    const argv = [...base, 'c'.repeat(2 * 1024 * 1024 - 100 - used - 1)];
    const f = files({ '/s': `#!/bin/busybox ${'b'.repeat(200)}\n` });
    // Fits as given (the ELF itself loads) ...
    expect(await errnoOf(request('/bin/busybox', argv.map((a, i) => (i === 0 ? '/s' : a)), new Map()))).toBeUndefined();
    // ... but the interpreter's name, argument and the script path push it over.
    expect(await errnoOf(request('/s', argv, f))).toBe(E.E2BIG);
  });
});

describe('exec errors', () => {
  const elfWithInterp = (interp: string) => craftElf({
    phdrs: [{ type: 3, flags: 4, offset: 0x200, vaddr: 0x400200, filesz: interp.length + 1, memsz: interp.length + 1, align: 1 }, TEXT_LOAD],
    put: [[0x200, interp + '\0']],
  });

  it('ENOENT for a missing file', async () => {
    expect(await errnoOf(request('/nope', ['nope']))).toBe(E.ENOENT);
  });

  it('EACCES for a file without an x bit', async () => {
    const f = new Map([['/f', bytesExecFile('/f', readFileSync('/bin/busybox'), false)]]);
    expect(await errnoOf(request('/f', ['f'], f))).toBe(E.EACCES);
  });

  it('ENOEXEC for unknown formats and broken ELFs', async () => {
    const f = new Map([
      ['/txt', bytesExecFile('/txt', new TextEncoder().encode('echo hi\n'))],
      ['/arm', bytesExecFile('/arm', craftElf({ phdrs: [TEXT_LOAD], machine: 40 }))],
      ['/trunc', bytesExecFile('/trunc', readFileSync('/bin/busybox').subarray(0, 100))],
    ]);
    for (const p of f.keys()) expect(await errnoOf(request(p, ['x'], f))).toBe(E.ENOEXEC);
  });

  it('ENOENT, EACCES, ELIBBAD, EIO for interpreter problems', async () => {
    const f = new Map<string, ExecFile>([
      ['/missing', bytesExecFile('/missing', elfWithInterp('/lib/none.so'))],
      ['/noexec', bytesExecFile('/noexec', elfWithInterp('/lib/noexec.so'))],
      ['/lib/noexec.so', bytesExecFile('/lib/noexec.so', readFileSync(LDSO), false)],
      ['/notelf', bytesExecFile('/notelf', elfWithInterp('/lib/text.so'))],
      ['/lib/text.so', bytesExecFile('/lib/text.so', new Uint8Array(200).fill(0x41))],
      ['/arm', bytesExecFile('/arm', elfWithInterp('/lib/arm.so'))],
      ['/lib/arm.so', bytesExecFile('/lib/arm.so', craftElf({ phdrs: [TEXT_LOAD], type: 3, machine: 183 }))],
      ['/short', bytesExecFile('/short', elfWithInterp('/lib/short.so'))],
      ['/lib/short.so', bytesExecFile('/lib/short.so', new Uint8Array([0x7f, 0x45, 0x4c, 0x46]))],
    ]);
    expect(await errnoOf(request('/missing', ['x'], f))).toBe(E.ENOENT);
    expect(await errnoOf(request('/noexec', ['x'], f))).toBe(E.EACCES);
    expect(await errnoOf(request('/notelf', ['x'], f))).toBe(E.ELIBBAD);
    expect(await errnoOf(request('/arm', ['x'], f))).toBe(E.ELIBBAD);
    expect(await errnoOf(request('/short', ['x'], f))).toBe(E.EIO);
  });

  it('E2BIG for oversized arguments, checked before anything is mapped', async () => {
    const mem = new FakeLoaderMemory();
    expect(await errnoOf(request('/bin/busybox', ['x', 'a'.repeat(200_000)], new Map(), mem))).toBe(E.E2BIG);
    expect(mem.pages.size).toBe(0);
  });

  it('runs with argc 0 as argv [""]', async () => {
    const mem = new FakeLoaderMemory();
    const img = await load(request('/bin/busybox', [], new Map(), mem));
    expect(stackView(mem, img.sp).argv).toEqual(['']);
  });

  it('maps an executable stack when PT_GNU_STACK asks for one', async () => {
    const dir = tempDir();
    const p = compile(dir, 'xs', 'int main(void){return 0;}\n', ['-static', '-no-pie', '-z', 'execstack']);
    const mem = new FakeLoaderMemory();
    const img = await load(request(p, [p], new Map(), mem));
    expect(img.execStack).toBe(true);
    expect(mem.vmas().find((v) => v.end === STACK_TOP)!.prot).toBe(PROT_READ | PROT_WRITE | 4);
  });
});
