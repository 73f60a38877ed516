// The initial process stack, laid out byte for byte as Linux's exec (fs/exec.c copy_strings
// and binfmt_elf create_elf_tables) does on x86-64 with ASLR off:
//
//   top:  8 zero bytes, execfn, envp strings, argv strings   (argv[0] lowest)
//         (align 16) "x86_64\0", 16 AT_RANDOM bytes
//         padding, so that sp ends 16-byte aligned
//   sp:   argc, argv[0..n], NULL, envp[0..m], NULL, auxv pairs ..., AT_NULL 0

import { E } from '../abi/errno.js';
import { err, isErr, type Result } from '../abi/result.js';
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, type LoaderMemory } from './types.js';

/** The stack's top: everything above 0x7fff00000000 belongs to the stub. */
export const STACK_TOP = 0x7ffefffff000;
export const STACK_SIZE = 8 * 1024 * 1024;
export const DEFAULT_STACK_RLIMIT = 8 * 1024 * 1024;
/** MAX_ARG_STRLEN: the longest single argument or environment string, with its NUL. */
export const MAX_ARG_STRLEN = 32 * PAGE_SIZE;
/** ARG_MAX: the argument space never shrinks below this whatever the stack rlimit. */
export const ARG_MAX = 32 * PAGE_SIZE;
/** _STK_LIM: Linux caps argument space at 3/4 of the default stack size. */
const STK_LIM = 8 * 1024 * 1024;

export const PLATFORM = 'x86_64';

/** Auxiliary vector tags (<uapi/linux/auxvec.h>, asm/auxvec.h). */
export const AT = {
  NULL: 0, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9,
  UID: 11, EUID: 12, GID: 13, EGID: 14, PLATFORM: 15, HWCAP: 16, CLKTCK: 17, SECURE: 23,
  RANDOM: 25, HWCAP2: 26, RSEQ_FEATURE_SIZE: 27, RSEQ_ALIGN: 28, EXECFN: 31,
  SYSINFO_EHDR: 33, MINSIGSTKSZ: 51,
} as const;

/** Clock ticks per second reported by times() (USER_HZ). */
export const CLOCKS_PER_SEC = 100;
/** The architecture's MINSIGSTKSZ, used when the caller gives no computed frame size. */
export const DEFAULT_MINSIGSTKSZ = 2048;

const encoder = new TextEncoder();

/** Bytes the argument and environment strings plus their pointers may take (bprm_stack_limits). */
export function argSpaceLimit(stackRlimit: number = DEFAULT_STACK_RLIMIT): number {
  return Math.max(Math.min(Math.floor(STK_LIM / 4) * 3, Math.floor(stackRlimit / 4)), ARG_MAX);
}

export interface ArgStrings {
  readonly execfn: string;
  readonly argv: readonly string[];
  readonly envp: readonly string[];
}

/**
 * E2BIG as Linux decides it: any string longer than MAX_ARG_STRLEN, or the strings (with
 * execfn) plus one pointer per original argv/envp entry (argc counted as at least 1) over
 * the limit. ptrArgc/ptrEnvc are the counts execve was called with (scripts add strings
 * later but not pointer room).
 */
export function checkArgLimits(
  s: ArgStrings, ptrArgc: number, ptrEnvc: number, stackRlimit: number = DEFAULT_STACK_RLIMIT,
): Result<void> {
  let room = argSpaceLimit(stackRlimit);
  const ptrs = (Math.max(ptrArgc, 1) + ptrEnvc) * 8;
  if (room <= ptrs) return err(E.E2BIG);
  room -= ptrs;
  for (const str of [s.execfn, ...s.envp, ...s.argv]) {
    const len = encoder.encode(str).length + 1;
    if (len > MAX_ARG_STRLEN) return err(E.E2BIG);
    room -= len;
    if (room < 0) return err(E.E2BIG);
  }
  return undefined;
}

/** Maps the stack VMA (read/write, executable when PT_GNU_STACK asks). */
export function mapStack(mem: LoaderMemory, execStack: boolean, top = STACK_TOP, size = STACK_SIZE): Result<void> {
  const prot = PROT_READ | PROT_WRITE | (execStack ? PROT_EXEC : 0);
  const r = mem.mapAnonymous(top - size, size, prot, true);
  return isErr(r) ? r : undefined;
}

export interface AuxInput {
  readonly phdr: number;
  readonly phent: number;
  readonly phnum: number;
  readonly base: number;
  readonly entry: number;
  readonly uid: number;
  readonly euid: number;
  readonly gid: number;
  readonly egid: number;
  readonly hwcap: number;
  readonly hwcap2?: number;
  readonly minsigstksz?: number;
  /** Our vDSO's address; AT_SYSINFO_EHDR is left out without it. */
  readonly sysinfoEhdr?: number;
  /** Entries placed just before AT_NULL (e.g. AT_RSEQ_FEATURE_SIZE/ALIGN once rseq exists). */
  readonly extra?: ReadonlyArray<readonly [number, number]>;
}

export interface StackInput {
  readonly argv: readonly string[];
  readonly envp: readonly string[];
  readonly execfn: string;
  readonly random16: Uint8Array;
  readonly aux: AuxInput;
  /** Defaults to STACK_TOP; the stack VMA below it must already be mapped. */
  readonly top?: number;
  readonly size?: number;
}

export interface InitialStack {
  readonly sp: number;
  readonly auxv: ReadonlyArray<readonly [number, number]>;
  /** mm->arg_start/arg_end/env_start/env_end, for /proc/[pid]/cmdline and environ. */
  readonly argStart: number;
  readonly argEnd: number;
  readonly envStart: number;
  readonly envEnd: number;
  readonly execfnAddr: number;
  readonly randomAddr: number;
  readonly platformAddr: number;
}

/** The auxiliary vector in create_elf_tables' order (ARCH_DLINFO first). */
function buildAuxv(a: AuxInput, addrs: { random: number; execfn: number; platform: number }): Array<[number, number]> {
  const v: Array<[number, number]> = [];
  if (a.sysinfoEhdr !== undefined) v.push([AT.SYSINFO_EHDR, a.sysinfoEhdr]);
  v.push(
    [AT.MINSIGSTKSZ, a.minsigstksz ?? DEFAULT_MINSIGSTKSZ],
    [AT.HWCAP, a.hwcap],
    [AT.PAGESZ, PAGE_SIZE],
    [AT.CLKTCK, CLOCKS_PER_SEC],
    [AT.PHDR, a.phdr],
    [AT.PHENT, a.phent],
    [AT.PHNUM, a.phnum],
    [AT.BASE, a.base],
    [AT.FLAGS, 0],
    [AT.ENTRY, a.entry],
    [AT.UID, a.uid],
    [AT.EUID, a.euid],
    [AT.GID, a.gid],
    [AT.EGID, a.egid],
    [AT.SECURE, 0],
    [AT.RANDOM, addrs.random],
    [AT.HWCAP2, a.hwcap2 ?? 0],
    [AT.EXECFN, addrs.execfn],
    [AT.PLATFORM, addrs.platform],
  );
  for (const [k, val] of a.extra ?? []) v.push([k, val]);
  v.push([AT.NULL, 0]);
  return v;
}

/** Writes the initial stack into the (already mapped) stack VMA and returns the start rsp. */
export function writeInitialStack(mem: LoaderMemory, input: StackInput): Result<InitialStack> {
  if (input.random16.length !== 16) return err(E.EINVAL);
  const top = input.top ?? STACK_TOP;
  const bottom = top - (input.size ?? STACK_SIZE);
  // Linux execs with argc >= 1: an empty argv gets "" as argv[0].
  const argv = input.argv.length === 0 ? [''] : input.argv;

  // Strings go downwards from just below an 8-byte NULL at the very top.
  let p = top - 8;
  const strings: Array<{ addr: number; bytes: Uint8Array }> = [];
  const pushString = (s: string): number => {
    const bytes = encoder.encode(s + '\0');
    p -= bytes.length;
    strings.push({ addr: p, bytes });
    return p;
  };
  const execfnAddr = pushString(input.execfn);
  const envAddrs: number[] = [];
  for (let i = input.envp.length - 1; i >= 0; i--) envAddrs[i] = pushString(input.envp[i]);
  const argAddrs: number[] = [];
  for (let i = argv.length - 1; i >= 0; i--) argAddrs[i] = pushString(argv[i]);
  const argStart = p;
  const envStart = input.envp.length > 0 ? envAddrs[0] : execfnAddr;

  p -= p % 16;
  const platformAddr = pushString(PLATFORM);
  p -= 16;
  const randomAddr = p;

  const auxv = buildAuxv(input.aux, { random: randomAddr, execfn: execfnAddr, platform: platformAddr });
  const items = argv.length + 1 + input.envp.length + 1 + 1;
  let sp = p - auxv.length * 16 - items * 8;
  sp -= sp % 16;
  if (sp < bottom) return err(E.E2BIG);

  const buf = new Uint8Array(top - sp);
  const dv = new DataView(buf.buffer);
  for (const s of strings) buf.set(s.bytes, s.addr - sp);
  buf.set(input.random16, randomAddr - sp);
  let w = 0;
  const word = (x: number): void => {
    // asUintN: a caller's negative (e.g. a sign-extended CPUID word) must not throw.
    dv.setBigUint64(w, BigInt.asUintN(64, BigInt(Number.isFinite(x) ? Math.trunc(x) : 0)), true);
    w += 8;
  };
  word(argv.length);
  for (const a of argAddrs) word(a);
  word(0);
  for (const e of envAddrs) word(e);
  word(0);
  for (const [k, v] of auxv) {
    word(k);
    word(v);
  }
  const r = mem.copyOut(sp, buf);
  if (isErr(r)) return r;
  return {
    sp, auxv, argStart, argEnd: envStart, envStart, envEnd: execfnAddr, execfnAddr, randomAddr, platformAddr,
  };
}
