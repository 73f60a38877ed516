import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr } from '../../sentry/abi/result.js';
import {
  AT, MAX_ARG_STRLEN, STACK_SIZE, STACK_TOP, argSpaceLimit, checkArgLimits, mapStack, writeInitialStack,
  type AuxInput, type InitialStack,
} from '../../sentry/loader/stack.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../sentry/loader/types.js';
import {
  FakeLoaderMemory, LINUX_STACK_TOP, PROBE_FLAGS, PROBE_SOURCE, compile, runProbe, removeTempDirs, tempDir,
} from './loader_helpers.js';

afterAll(removeTempDirs);

const AUX: AuxInput = {
  phdr: 0x400040, phent: 56, phnum: 9, base: 0x7ffff7fc3000, entry: 0x401020,
  uid: 1000, euid: 1001, gid: 2000, egid: 2001, hwcap: 0x178bfbff, hwcap2: 2, minsigstksz: 3376,
};
const RANDOM = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

interface ReadBack {
  argc: number;
  argv: string[];
  envp: string[];
  auxv: Map<number, number>;
  auxOrder: number[];
}

/** Walks the stack from sp as a libc _start would. */
function readBack(mem: FakeLoaderMemory, sp: number): ReadBack {
  let at = sp;
  const next = (): number => {
    const v = mem.u64(at);
    at += 8;
    return v;
  };
  const argc = next();
  const argv: string[] = [];
  for (let i = 0; i < argc; i++) argv.push(mem.cstring(next()));
  expect(next()).toBe(0);
  const envp: string[] = [];
  for (let p = next(); p !== 0; p = next()) envp.push(mem.cstring(p));
  const auxv = new Map<number, number>();
  const auxOrder: number[] = [];
  for (;;) {
    const k = next();
    const v = next();
    auxOrder.push(k);
    if (k === AT.NULL) break;
    auxv.set(k, v);
  }
  return { argc, argv, envp, auxv, auxOrder };
}

function build(argv: string[], envp: string[], execfn = '/bin/prog', aux: AuxInput = AUX): { mem: FakeLoaderMemory; st: InitialStack } {
  const mem = new FakeLoaderMemory();
  expect(mapStack(mem, false)).toBeUndefined();
  const st = writeInitialStack(mem, { argv, envp, execfn, random16: RANDOM, aux });
  if (isErr(st)) throw new Error(`errno ${st.errno}`);
  return { mem, st };
}

describe('initial stack', () => {
  it('maps an 8 MiB read/write stack ending at STACK_TOP, executable only on request', () => {
    const mem = new FakeLoaderMemory();
    mapStack(mem, false);
    expect(mem.vmas()).toEqual([{ start: STACK_TOP - STACK_SIZE, end: STACK_TOP, prot: PROT_READ | PROT_WRITE, file: undefined, offset: 0 }]);
    const x = new FakeLoaderMemory();
    mapStack(x, true);
    expect(x.vmas()[0].prot).toBe(PROT_READ | PROT_WRITE | PROT_EXEC);
  });

  it('lays out argc, argv, envp and auxv readable by a libc', () => {
    const { mem, st } = build(['prog', 'one', 'twö'], ['A=1', 'PATH=/bin']);
    const r = readBack(mem, st.sp);
    expect(r.argc).toBe(3);
    expect(r.argv).toEqual(['prog', 'one', 'twö']);
    expect(r.envp).toEqual(['A=1', 'PATH=/bin']);
    expect(mem.cstring(r.auxv.get(AT.EXECFN)!)).toBe('/bin/prog');
    expect(mem.cstring(r.auxv.get(AT.PLATFORM)!)).toBe('x86_64');
    expect([...mem.read(r.auxv.get(AT.RANDOM)!, 16)]).toEqual([...RANDOM]);
    expect(r.auxv.get(AT.PAGESZ)).toBe(4096);
    expect(r.auxv.get(AT.CLKTCK)).toBe(100);
    expect(r.auxv.get(AT.PHDR)).toBe(AUX.phdr);
    expect(r.auxv.get(AT.PHENT)).toBe(56);
    expect(r.auxv.get(AT.PHNUM)).toBe(9);
    expect(r.auxv.get(AT.BASE)).toBe(AUX.base);
    expect(r.auxv.get(AT.ENTRY)).toBe(AUX.entry);
    expect(r.auxv.get(AT.FLAGS)).toBe(0);
    expect(r.auxv.get(AT.SECURE)).toBe(0);
    expect([r.auxv.get(AT.UID), r.auxv.get(AT.EUID), r.auxv.get(AT.GID), r.auxv.get(AT.EGID)]).toEqual([1000, 1001, 2000, 2001]);
    expect(r.auxv.get(AT.HWCAP)).toBe(0x178bfbff);
    expect(r.auxv.get(AT.HWCAP2)).toBe(2);
    expect(r.auxv.get(AT.MINSIGSTKSZ)).toBe(3376);
    expect(r.auxv.has(AT.SYSINFO_EHDR)).toBe(false);
    // The same vector is returned for /proc/[pid]/auxv.
    expect(st.auxv.map(([k]) => k)).toEqual(r.auxOrder);
  });

  it('places the strings at the top: argv, envp, execfn, then 8 zero bytes', () => {
    const { mem, st } = build(['a', 'bc'], ['D=e']);
    expect([...mem.read(STACK_TOP - 8, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const strings = new TextDecoder().decode(mem.read(st.argStart, STACK_TOP - 8 - st.argStart));
    expect(strings).toBe('a\0bc\0D=e\0/bin/prog\0');
    expect(st.argEnd).toBe(st.argStart + 5);
    expect(st.envStart).toBe(st.argEnd);
    expect(st.envEnd).toBe(st.execfnAddr);
    // "x86_64\0" sits just below a 16-byte boundary, the random bytes just below it.
    expect((st.platformAddr + 7) % 16).toBe(0);
    expect(mem.cstring(st.platformAddr)).toBe('x86_64');
    expect(st.randomAddr).toBe(st.platformAddr - 16);
  });

  it('keeps rsp 16-byte aligned for every parity of argc and envc', () => {
    for (let argc = 1; argc <= 4; argc++) {
      for (let envc = 0; envc <= 3; envc++) {
        for (const pad of ['', 'x', 'xyzzy']) {
          const { mem, st } = build(Array(argc).fill('arg' + pad), Array(envc).fill('E=' + pad));
          expect(st.sp % 16).toBe(0);
          expect(readBack(mem, st.sp).argc).toBe(argc);
        }
      }
    }
  });

  it('gives an empty argv an argv[0] of "" as Linux does', () => {
    const { mem, st } = build([], []);
    const r = readBack(mem, st.sp);
    expect(r.argc).toBe(1);
    expect(r.argv).toEqual(['']);
  });

  it('adds AT_SYSINFO_EHDR first and extra entries before AT_NULL', () => {
    const { mem, st } = build(['p'], [], '/p', { ...AUX, sysinfoEhdr: 0x7ffff7fc1000, extra: [[AT.RSEQ_FEATURE_SIZE, 28], [AT.RSEQ_ALIGN, 32]] });
    const r = readBack(mem, st.sp);
    expect(r.auxOrder[0]).toBe(AT.SYSINFO_EHDR);
    expect(r.auxv.get(AT.SYSINFO_EHDR)).toBe(0x7ffff7fc1000);
    expect(r.auxOrder.slice(-3)).toEqual([AT.RSEQ_FEATURE_SIZE, AT.RSEQ_ALIGN, AT.NULL]);
  });
});

describe('argument limits', () => {
  const s = (argv: string[], envp: string[] = []) => ({ execfn: '/p', argv, envp });

  it('allows a quarter of the stack rlimit, at least ARG_MAX and at most 6 MiB', () => {
    expect(argSpaceLimit(8 << 20)).toBe(2 << 20);
    expect(argSpaceLimit(64 << 10)).toBe(128 << 10);
    expect(argSpaceLimit(1 << 30)).toBe(6 << 20);
  });

  it('gives E2BIG for a string of MAX_ARG_STRLEN bytes or more', () => {
    expect(checkArgLimits(s(['a'.repeat(MAX_ARG_STRLEN - 1)]), 1, 0)).toBeUndefined();
    expect(checkArgLimits(s(['a'.repeat(MAX_ARG_STRLEN)]), 1, 0)).toEqual(expect.objectContaining({ errno: E.E2BIG }));
    expect(checkArgLimits(s([], ['E=' + 'a'.repeat(MAX_ARG_STRLEN)]), 0, 1)).toEqual(expect.objectContaining({ errno: E.E2BIG }));
  });

  it('gives E2BIG when strings and pointers exceed the limit', () => {
    const chunk = 'x'.repeat(100_000);
    // 20 strings of 100001 bytes fit in 2 MiB; 21 do not.
    expect(checkArgLimits(s(Array(20).fill(chunk)), 20, 0)).toBeUndefined();
    expect(checkArgLimits(s(Array(21).fill(chunk)), 21, 0)).toEqual(expect.objectContaining({ errno: E.E2BIG }));
    // A smaller stack rlimit shrinks the room.
    expect(checkArgLimits(s(Array(3).fill(chunk)), 3, 0, 1 << 20)).toEqual(expect.objectContaining({ errno: E.E2BIG }));
    // Pointers count too: many empty strings.
    expect(checkArgLimits(s([], Array(300_000).fill('')), 0, 300_000)).toEqual(expect.objectContaining({ errno: E.E2BIG }));
  });
});

describe('initial stack compared with the host kernel', () => {
  let probe = '';
  beforeAll(() => {
    probe = compile(tempDir(), 'probe', PROBE_SOURCE, [...PROBE_FLAGS, '-static', '-no-pie']);
  });

  it('is byte-identical to what Linux builds for the same inputs', () => {
    const env = { FOO: 'bar', EMPTY: '', LONGER_NAME: 'some value with spaces' };
    const run = runProbe(probe, ['first', 'second arg', ''], env);
    const realSp = LINUX_STACK_TOP - run.stack.length;
    // Read the real stack back through a fake memory holding the dump.
    const real = new FakeLoaderMemory();
    mapStack(real, false, LINUX_STACK_TOP);
    real.copyOut(realSp, run.stack);
    const r = readBack(real, realSp);
    const auxPairs = r.auxOrder.slice(0, -1).map((k) => [k, r.auxv.get(k)!] as const);
    const afterPlatform = auxPairs.slice(r.auxOrder.indexOf(AT.PLATFORM) + 1);

    const mem = new FakeLoaderMemory();
    mapStack(mem, false, LINUX_STACK_TOP);
    const get = (k: number): number => r.auxv.get(k)!;
    const st = writeInitialStack(mem, {
      argv: r.argv, envp: r.envp, execfn: real.cstring(get(AT.EXECFN)),
      random16: real.read(get(AT.RANDOM), 16),
      top: LINUX_STACK_TOP,
      aux: {
        phdr: get(AT.PHDR), phent: get(AT.PHENT), phnum: get(AT.PHNUM), base: get(AT.BASE), entry: get(AT.ENTRY),
        uid: get(AT.UID), euid: get(AT.EUID), gid: get(AT.GID), egid: get(AT.EGID),
        hwcap: get(AT.HWCAP), hwcap2: get(AT.HWCAP2), minsigstksz: get(AT.MINSIGSTKSZ),
        sysinfoEhdr: r.auxv.get(AT.SYSINFO_EHDR), extra: afterPlatform,
      },
    });
    if (isErr(st)) throw new Error(`errno ${st.errno}`);
    expect(r.argv).toEqual([probe, 'first', 'second arg', '']);
    expect(r.envp).toEqual(Object.entries(env).map(([k, v]) => `${k}=${v}`));
    expect(st.sp).toBe(realSp);
    expect(Buffer.from(mem.read(st.sp, LINUX_STACK_TOP - st.sp)).equals(Buffer.from(run.stack))).toBe(true);
  });
});
