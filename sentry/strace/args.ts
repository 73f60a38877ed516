// Argument kinds: how one syscall argument is printed. An input argument is decoded once at
// entry (the X line reuses that text, which matters for execve whose memory is gone by
// then); an output argument prints as a pointer at entry and is decoded at exit, only
// when the call succeeded.

import { isErr } from '../abi/result.js';
import type { AppMemory } from '../mm/app_memory.js';
import { AT_FDCWD, enumOf, flagsOf, modeArg, signalName, type EnumTable, type FlagTable } from './flags.js';
import { addrOf, hex, i64dec, int32, octal, ptr, u64dec, uint32 } from './format.js';
import { buffer, cstring, type Limits } from './structs.js';

export interface DecodeCtx {
  readonly mem: AppMemory;
  /** The six raw argument registers. */
  readonly args: readonly bigint[];
  /** rax at exit; undefined while decoding the entry. */
  readonly ret: number | undefined;
  readonly limits: Limits;
}

export interface ArgFmt {
  /** The text at entry. An empty string leaves the argument out (fcntl(fd, F_GETFL)). */
  enter(c: DecodeCtx, v: bigint): string;
  /** For output arguments: the text at exit; undefined keeps the entry text. */
  exit?(c: DecodeCtx, v: bigint): string | undefined;
}

/** The value printed after " = " on the X line of a successful call. */
export type RetFmt = (c: DecodeCtx, ret: number) => string;

/** Linux returns -4095..-1 for errors. */
export function isErrRet(ret: number): boolean {
  return ret < 0 && ret >= -4095;
}

/** True at exit of a call that succeeded. */
export function succeeded(c: DecodeCtx): boolean {
  return c.ret !== undefined && !isErrRet(c.ret);
}

/** Follows a pointer argument; NULL or a bad address prints as the address itself. */
export function deref(v: bigint, f: (addr: number) => string | undefined): string {
  const a = addrOf(v);
  if (a === undefined) return ptr(v);
  return f(a) ?? hex(v);
}

// ---- scalars -----------------------------------------------------------------------------

function scalar(f: (v: bigint) => string): ArgFmt {
  return { enter: (_c, v) => f(v) };
}

/** A C int. */
export const int: ArgFmt = scalar((v) => String(int32(v)));
/** An unsigned int. */
export const uint: ArgFmt = scalar((v) => String(uint32(v)));
/** size_t and other unsigned longs. */
export const size: ArgFmt = scalar(u64dec);
/** off_t and other signed longs. */
export const long: ArgFmt = scalar(i64dec);
export const hexa: ArgFmt = scalar(hex);
export const pointer: ArgFmt = scalar(ptr);

function fdText(v: bigint): string {
  const fd = int32(v);
  return fd === AT_FDCWD ? 'AT_FDCWD' : String(fd);
}
/** A file descriptor; dirfds print AT_FDCWD. */
export const fd: ArgFmt = scalar(fdText);
/** A file mode: 0o644, with the file type when present (mknod). */
export const mode: ArgFmt = scalar((v) => modeArg(uint32(v)));
export const signal: ArgFmt = scalar((v) => signalName(int32(v)));

export function flags(table: FlagTable, zero = '0'): ArgFmt {
  return scalar((v) => flagsOf(table, v, zero));
}
/** Flags in a C int (only the low 32 bits are meaningful). */
export function flags32(table: FlagTable, zero = '0'): ArgFmt {
  return scalar((v) => flagsOf(table, BigInt.asUintN(32, v), zero));
}
export function choice(table: EnumTable): ArgFmt {
  return scalar((v) => enumOf(table, int32(v)));
}
export function custom(f: (v: bigint) => string): ArgFmt {
  return scalar(f);
}

// ---- memory ------------------------------------------------------------------------------

/** A path or other C string the call reads. */
export const path: ArgFmt = {
  enter: (c, v) => deref(v, (a) => cstring(c.mem, a, c.limits)),
};

/** A buffer the call reads, its length in argument lenArg. */
export function inBuf(lenArg: number): ArgFmt {
  return {
    enter: (c, v) => deref(v, (a) => buffer(c.mem, a, Number(BigInt.asUintN(63, c.args[lenArg])), c.limits)),
  };
}

/** A buffer the call fills; the return value says how many bytes. */
export const outBuf: ArgFmt = out((c, a) => buffer(c.mem, a, c.ret ?? 0, c.limits));

/** A string the call writes (getcwd, PR_GET_NAME). */
export const outStr: ArgFmt = out((c, a) => cstring(c.mem, a, c.limits));

/** Something the call reads through a pointer, decoded at entry. */
export function inp(f: (c: DecodeCtx, addr: number) => string | undefined): ArgFmt {
  return { enter: (c, v) => deref(v, (a) => f(c, a)) };
}

/** Something the call writes through a pointer, decoded at exit when the call succeeded. */
export function out(f: (c: DecodeCtx, addr: number) => string | undefined): ArgFmt {
  return {
    enter: (_c, v) => ptr(v),
    exit: (c, v) => (succeeded(c) ? deref(v, (a) => f(c, a)) : ptr(v)),
  };
}

/** Read at entry and updated by the call: decoded again at exit when it succeeded. */
export function inout(f: (c: DecodeCtx, addr: number) => string | undefined): ArgFmt {
  const e = (c: DecodeCtx, v: bigint): string => deref(v, (a) => f(c, a));
  return { enter: e, exit: (c, v) => (succeeded(c) ? e(c, v) : undefined) };
}

const MAX_ARGV = 32;

/** A u64 from app memory, exact (readU64 rounds above 2^53, which garbage pointers are). */
function readPtr(mem: AppMemory, addr: number): bigint | undefined {
  const b = mem.copyIn(addr, 8);
  if (isErr(b) || b.length < 8) return undefined;
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}

/** execve's argv: ["ls", "-l"]. */
export const argv: ArgFmt = inp((c, a) => {
  const items: string[] = [];
  for (let i = 0; i <= MAX_ARGV; i++) {
    const p = readPtr(c.mem, a + 8 * i);
    if (p === undefined) return items.length === 0 ? undefined : `[${items.join(', ')}, ${hex(a + 8 * i)}]`;
    if (p === 0n) return `[${items.join(', ')}]`;
    if (i === MAX_ARGV) return `[${items.join(', ')}, ...]`;
    items.push(deref(p, (s) => cstring(c.mem, s, c.limits)));
  }
  return `[${items.join(', ')}]`;
});

const MAX_ENV_COUNT = 65536;

/** execve's envp: only how many variables, as gVisor and strace do by default. */
export const envp: ArgFmt = inp((c, a) => {
  for (let i = 0; i < MAX_ENV_COUNT; i++) {
    const p = readPtr(c.mem, a + 8 * i);
    if (p === undefined) return i === 0 ? undefined : `${hex(a)} /* ${i}+ vars, then a bad pointer */`;
    if (p === 0n) return `${hex(a)} /* ${i} vars */`;
  }
  return `${hex(a)} /* ${MAX_ENV_COUNT}+ vars */`;
});

// ---- return values -----------------------------------------------------------------------

export const retDec: RetFmt = (_c, r) => String(r);
export const retHex: RetFmt = (_c, r) => hex(r);
export const retOct: RetFmt = (_c, r) => octal(r);
export const retSignal: RetFmt = (_c, r) => signalName(r);
export function retFlags(table: FlagTable): RetFmt {
  return (_c, r) => flagsOf(table, BigInt(r));
}
