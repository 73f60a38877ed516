// Human-readable forms of a seccomp filter: a seccomp-tools style disassembly, one line per
// instruction, and a summary of what each syscall gets, for auditing (`tsvisor debug seccomp`).

import { SYSCALL_NAMES } from '../abi/sysno.js';
import { formatRet } from './action.js';
import {
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  BPF_A,
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_DIV,
  BPF_IMM,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_LSH,
  BPF_MEM,
  BPF_MISC,
  BPF_MOD,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RET,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_TAX,
  BPF_X,
  BPF_XOR,
  BpfError,
  SECCOMP_DATA_SIZE,
  X32_SYSCALL_BIT,
  bpfClass,
  bpfMode,
  bpfOp,
  bpfSrc,
  checkProgram,
  decodeProgram,
  hex,
  isConditionalJump,
  type SockFilter,
} from './bpf.js';
import { aluOp } from './interpreter.js';

/** Name of a seccomp_data word: sys_number, arch, instruction_pointer, args[2] >> 32, ... */
export function dataWordName(off: number): string {
  if (off === 0) return 'sys_number';
  if (off === 4) return 'arch';
  if (off === 8) return 'instruction_pointer';
  if (off === 12) return 'instruction_pointer >> 32';
  if (off >= 16 && off < SECCOMP_DATA_SIZE && off % 4 === 0) {
    const i = (off - 16) >> 3;
    return off & 4 ? `args[${i}] >> 32` : `args[${i}]`;
  }
  return `data[${off}]`;
}

/** The name of an x86-64 syscall number, or its hex form. */
export function syscallName(nr: number): string {
  return SYSCALL_NAMES[nr] ?? `0x${(nr >>> 0).toString(16)}`;
}

const ALU_SYMBOL: Record<number, string> = {
  [BPF_ADD]: '+',
  [BPF_SUB]: '-',
  [BPF_MUL]: '*',
  [BPF_DIV]: '/',
  [BPF_OR]: '|',
  [BPF_AND]: '&',
  [BPF_LSH]: '<<',
  [BPF_RSH]: '>>',
  [BPF_MOD]: '%',
  [BPF_XOR]: '^',
};

const UNKNOWN = -1;

// What A holds before each instruction: the seccomp_data offset it was loaded from, or
// UNKNOWN. Jumps only go forward, so one pass merging at jump targets is exact.
function aSources(prog: readonly SockFilter[]): number[] {
  const incoming: (number | undefined)[] = new Array<number | undefined>(prog.length + 1).fill(undefined);
  const merge = (pc: number, src: number): void => {
    if (pc > prog.length) return;
    const cur = incoming[pc];
    incoming[pc] = cur === undefined || cur === src ? src : UNKNOWN;
  };
  const before: number[] = [];
  merge(0, UNKNOWN);
  for (let pc = 0; pc < prog.length; pc++) {
    const src = incoming[pc] ?? UNKNOWN; // unreachable code: nothing known
    before.push(src);
    const { code, k, jt, jf } = prog[pc]!;
    const cls = bpfClass(code);
    if (cls === BPF_RET) continue;
    if (cls === BPF_JMP) {
      if (bpfOp(code) === BPF_JA) merge(pc + 1 + k, src);
      else {
        merge(pc + 1 + jt, src);
        merge(pc + 1 + jf, src);
      }
      continue;
    }
    let after = src;
    if (cls === BPF_LD) after = bpfMode(code) === BPF_ABS ? k : UNKNOWN;
    else if (cls === BPF_ALU || (cls === BPF_MISC && (code & 0xf8) !== BPF_TAX)) after = UNKNOWN;
    merge(pc + 1, after);
  }
  return before;
}

function constName(src: number, k: number): string {
  if (src === 0 && SYSCALL_NAMES[k] !== undefined) return SYSCALL_NAMES[k]!;
  if (src === 4 && k === AUDIT_ARCH_X86_64) return 'ARCH_X86_64';
  if (src === 4 && k === AUDIT_ARCH_I386) return 'ARCH_I386';
  return `0x${(k >>> 0).toString(16)}`;
}

/** The readable form of instruction `pc`, e.g. `if (A == read) goto 0005`. */
function describe(ins: SockFilter, pc: number, aSrc: number): string {
  const { code, jt, jf, k } = ins;
  const kx = `0x${(k >>> 0).toString(16)}`;
  const line = (n: number): string => String(n).padStart(4, '0');
  switch (bpfClass(code)) {
    case BPF_LD:
      switch (bpfMode(code)) {
        case BPF_ABS:
          return `A = ${dataWordName(k)}`;
        case BPF_IMM:
          return `A = ${kx}`;
        case BPF_MEM:
          return `A = mem[${k}]`;
        case BPF_LEN:
          return `A = ${SECCOMP_DATA_SIZE}`;
      }
      break;
    case BPF_LDX:
      switch (bpfMode(code)) {
        case BPF_IMM:
          return `X = ${kx}`;
        case BPF_MEM:
          return `X = mem[${k}]`;
        case BPF_LEN:
          return `X = ${SECCOMP_DATA_SIZE}`;
      }
      break;
    case BPF_ST:
      return `mem[${k}] = A`;
    case BPF_STX:
      return `mem[${k}] = X`;
    case BPF_ALU: {
      if (bpfOp(code) === BPF_NEG) return 'A = -A';
      const sym = ALU_SYMBOL[bpfOp(code)];
      if (sym) return `A ${sym}= ${bpfSrc(code) === BPF_X ? 'X' : kx}`;
      break;
    }
    case BPF_JMP: {
      if (bpfOp(code) === BPF_JA) return `goto ${line(pc + 1 + k)}`;
      if (!isConditionalJump(code)) break;
      const rhs = bpfSrc(code) === BPF_X ? 'X' : constName(aSrc, k);
      const t = line(pc + 1 + jt);
      const f = line(pc + 1 + jf);
      const [pos, neg] = {
        [BPF_JEQ]: [`A == ${rhs}`, `A != ${rhs}`],
        [BPF_JGT]: [`A > ${rhs}`, `A <= ${rhs}`],
        [BPF_JGE]: [`A >= ${rhs}`, `A < ${rhs}`],
        [BPF_JSET]: [`A & ${rhs}`, `!(A & ${rhs})`],
      }[bpfOp(code)]!;
      if (jt !== 0 && jf === 0) return `if (${pos}) goto ${t}`;
      if (jt === 0 && jf !== 0) return `if (${neg}) goto ${f}`;
      return `if (${pos}) goto ${t} else goto ${f}`;
    }
    case BPF_RET:
      return (code & 0x18) === BPF_A ? 'return A' : `return ${formatRet(k)}`;
    case BPF_MISC:
      return (code & 0xf8) === BPF_TAX ? 'X = A' : 'A = X';
  }
  return `??? (code 0x${hex(code, 2)})`;
}

/**
 * seccomp-tools' `dump` layout:
 * ```
 *  line  CODE  JT   JF      K
 * =================================
 *  0000: 0x20 0x00 0x00 0x00000004  A = arch
 * ```
 */
export function disassemble(prog: readonly SockFilter[]): string {
  const src = aSources(prog);
  const lines = [' line  CODE  JT   JF      K', '================================='];
  prog.forEach((ins, pc) => {
    lines.push(
      ` ${String(pc).padStart(4, '0')}: 0x${hex(ins.code, 2)} 0x${hex(ins.jt, 2)} 0x${hex(ins.jf, 2)} 0x${hex(ins.k, 8)}  ${describe(ins, pc, src[pc]!)}`,
    );
  });
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------
// Summary by symbolic execution: nr and arch are concrete (enumerated), the instruction
// pointer and arguments are symbols; each path to a RET yields the conditions it took.

type Sym =
  | { readonly t: 'const'; readonly v: number }
  | { readonly t: 'field'; readonly field: string; readonly half: 'hi' | 'lo'; readonly mask: number }
  | { readonly t: 'opaque' };

type CmpOp = '==' | '!=' | '>' | '<=' | '>=' | '<' | '&' | '!&';

type Constraint =
  | { readonly t: 'cmp'; readonly field: string; readonly half: 'hi' | 'lo'; readonly mask: number; readonly op: CmpOp; readonly k: number }
  | { readonly t: 'complex'; readonly pc: number; readonly taken: boolean };

/** One way a syscall is decided: `ret` when every condition holds (none: always). */
export interface Outcome {
  /** The return value, or undefined when the filter returns A computed from the input. */
  readonly ret: number | undefined;
  /** Conjunction, rendered: `args[1] == 0x5401`, `args[0].hi > 0x0`, `(args[2].lo & 0x3) == 0x1`. */
  readonly conditions: readonly string[];
}

export interface SyscallSummary {
  /** An inclusive range of syscall numbers treated alike (lo === hi for a named syscall). */
  readonly lo: number;
  readonly hi: number;
  readonly name: string;
  /** Ordered: the first whose conditions hold applies; the last has none ("otherwise"). */
  readonly outcomes: readonly Outcome[];
}

export interface FilterSummary {
  readonly instructions: number;
  /** What syscalls not listed in `syscalls` get: the most common outcome among named syscalls. */
  readonly default: readonly Outcome[];
  /** Outcome for an i386 (`int 0x80`) syscall, or undefined if it depends on the number. */
  readonly otherArch: readonly Outcome[] | undefined;
  /** Outcome for x32 numbers (nr >= 0x40000000), or undefined if it depends on the number. */
  readonly x32: readonly Outcome[] | undefined;
  /** Syscalls (and ranges of unnamed numbers) whose treatment differs from `default`. */
  readonly syscalls: readonly SyscallSummary[];
  /** True when some syscall had too many paths to list them all. */
  readonly truncated: boolean;
}

const MAX_PATHS = 256;

interface Path {
  readonly ret: number | undefined;
  readonly cons: readonly Constraint[];
}

function negate(op: CmpOp): CmpOp {
  const m: Record<CmpOp, CmpOp> = { '==': '!=', '!=': '==', '>': '<=', '<=': '>', '>=': '<', '<': '>=', '&': '!&', '!&': '&' };
  return m[op];
}

function holds(op: CmpOp, a: number, k: number): boolean {
  switch (op) {
    case '==':
      return a === k;
    case '!=':
      return a !== k;
    case '>':
      return a > k;
    case '<=':
      return a <= k;
    case '>=':
      return a >= k;
    case '<':
      return a < k;
    case '&':
      return (a & k) !== 0;
    case '!&':
      return (a & k) === 0;
  }
}

// Drops paths whose conditions on one 32-bit half contradict: an exact value that fails
// another test, two masked equalities that disagree, or an empty unsigned interval.
function feasible(cons: readonly Constraint[], c: Constraint): boolean {
  if (c.t !== 'cmp') return true;
  const same = cons.filter((o): o is Extract<Constraint, { t: 'cmp' }> => o.t === 'cmp' && o.field === c.field && o.half === c.half);
  const all = [...same, c];
  const exact = all.find((o) => o.op === '==' && o.mask === 0xffffffff);
  if (exact) return all.every((o) => holds(o.op, (exact.k & o.mask) >>> 0, o.k));
  for (const o of all) {
    if (o.mask !== c.mask) continue;
    if (o.op === '==' && c.op === '==' && o.k !== c.k) return false;
    if ((o.op === '==' && c.op === '!=') || (o.op === '!=' && c.op === '==')) if (o.k === c.k) return false;
  }
  let lo = 0;
  let hi = 0xffffffff;
  for (const o of all) {
    if (o.mask !== 0xffffffff) continue;
    if (o.op === '>') lo = Math.max(lo, o.k + 1);
    if (o.op === '>=') lo = Math.max(lo, o.k);
    if (o.op === '<') hi = Math.min(hi, o.k - 1);
    if (o.op === '<=') hi = Math.min(hi, o.k);
  }
  if (lo > hi) return false;
  if (lo === hi && all.some((o) => o.mask === 0xffffffff && o.op === '!=' && o.k === lo)) return false;
  return true;
}

function load(off: number, nr: number, arch: number): Sym {
  if (off === 0) return { t: 'const', v: nr >>> 0 };
  if (off === 4) return { t: 'const', v: arch >>> 0 };
  if (off === 8 || off === 12) return { t: 'field', field: 'ip', half: off === 12 ? 'hi' : 'lo', mask: 0xffffffff };
  const i = (off - 16) >> 3;
  return { t: 'field', field: `args[${i}]`, half: off & 4 ? 'hi' : 'lo', mask: 0xffffffff };
}

/** Every path through a valid program for one (nr, arch), up to MAX_PATHS. */
function explore(prog: readonly SockFilter[], nr: number, arch: number): { paths: Path[]; truncated: boolean } {
  const paths: Path[] = [];
  let truncated = false;
  const walk = (start: number, a0: Sym, x0: Sym, mem0: readonly Sym[], cons: readonly Constraint[]): void => {
    let pc = start;
    let a = a0;
    let x = x0;
    const mem = [...mem0];
    for (;;) {
      if (paths.length >= MAX_PATHS) {
        truncated = true;
        return;
      }
      const { code, k, jt, jf } = prog[pc]!;
      switch (bpfClass(code)) {
        case BPF_LD:
        case BPF_LDX: {
          const m = bpfMode(code);
          const v: Sym =
            m === BPF_ABS ? load(k, nr, arch) : m === BPF_IMM ? { t: 'const', v: k } : m === BPF_MEM ? mem[k]! : { t: 'const', v: SECCOMP_DATA_SIZE };
          if (bpfClass(code) === BPF_LD) a = v;
          else x = v;
          break;
        }
        case BPF_ST:
          mem[k] = a;
          break;
        case BPF_STX:
          mem[k] = x;
          break;
        case BPF_MISC:
          if ((code & 0xf8) === BPF_TAX) x = a;
          else a = x;
          break;
        case BPF_ALU: {
          const op = bpfOp(code);
          const src: Sym = bpfSrc(code) === BPF_X ? x : { t: 'const', v: k };
          if (a.t === 'const' && src.t === 'const') {
            if ((op === BPF_DIV || op === BPF_MOD) && src.v === 0) {
              paths.push({ ret: 0, cons });
              return;
            }
            a = { t: 'const', v: aluOp(op, a.v, src.v) };
          } else if (op === BPF_AND && a.t === 'field' && src.t === 'const') {
            a = { ...a, mask: (a.mask & src.v) >>> 0 };
          } else {
            a = { t: 'opaque' };
          }
          break;
        }
        case BPF_RET:
          paths.push({ ret: (code & 0x18) === BPF_A ? (a.t === 'const' ? a.v : undefined) : k >>> 0, cons });
          return;
        case BPF_JMP: {
          if (bpfOp(code) === BPF_JA) {
            pc += 1 + k;
            continue;
          }
          const rhs: Sym = bpfSrc(code) === BPF_X ? x : { t: 'const', v: k };
          const op: CmpOp = ({ [BPF_JEQ]: '==', [BPF_JGT]: '>', [BPF_JGE]: '>=', [BPF_JSET]: '&' } as Record<number, CmpOp>)[bpfOp(code)]!;
          if (a.t === 'const' && rhs.t === 'const') {
            pc += 1 + (holds(op, a.v, rhs.v) ? jt : jf);
            continue;
          }
          if (jt === jf) {
            pc += 1 + jt;
            continue;
          }
          const branch = (taken: boolean): Constraint =>
            a.t === 'field' && rhs.t === 'const'
              ? { t: 'cmp', field: a.field, half: a.half, mask: a.mask, op: taken ? op : negate(op), k: rhs.v }
              : { t: 'complex', pc, taken };
          for (const taken of [true, false]) {
            const c = branch(taken);
            if (feasible(cons, c)) walk(pc + 1 + (taken ? jt : jf), a, x, mem, [...cons, c]);
          }
          return;
        }
      }
      pc++;
    }
  };
  const zero: Sym = { t: 'const', v: 0 };
  walk(0, zero, zero, new Array<Sym>(16).fill(zero), []);
  return { paths, truncated };
}

const h = (v: number): string => `0x${(v >>> 0).toString(16)}`;

// A test that always holds, or is implied by an exact value known for the same half.
function redundant(c: Extract<Constraint, { t: 'cmp' }>, all: readonly Extract<Constraint, { t: 'cmp' }>[]): boolean {
  if (c.mask === 0xffffffff && ((c.op === '>=' && c.k === 0) || (c.op === '<=' && c.k === 0xffffffff))) return true;
  if (c.op === '==' && c.mask === 0xffffffff) return false;
  return all.some((o) => o.field === c.field && o.half === c.half && o.op === '==' && o.mask === 0xffffffff);
}

function renderConditions(cons: readonly Constraint[]): string[] {
  const out: string[] = [];
  const all = cons.filter((c): c is Extract<Constraint, { t: 'cmp' }> => c.t === 'cmp');
  const cmps = all.filter((c) => !redundant(c, all));
  cons = cons.filter((c) => c.t === 'complex' || cmps.includes(c));
  const used = new Set<Constraint>();
  // hi == a && lo == b on one field reads better as one 64-bit equality.
  for (const c of cmps) {
    if (used.has(c) || c.op !== '==' || c.mask !== 0xffffffff) continue;
    const other = cmps.find((o) => o !== c && o.field === c.field && o.half !== c.half && o.op === '==' && o.mask === 0xffffffff);
    if (!other) continue;
    const [hiC, loC] = c.half === 'hi' ? [c, other] : [other, c];
    out.push(`${c.field} == 0x${((BigInt(hiC.k) << 32n) | BigInt(loC.k)).toString(16)}`);
    used.add(c).add(other);
  }
  for (const c of cons) {
    if (used.has(c)) continue;
    let s: string;
    if (c.t === 'complex') {
      s = `<test at ${String(c.pc).padStart(4, '0')} ${c.taken ? 'true' : 'false'}>`;
    } else {
      const f = `${c.field}.${c.half}`;
      if (c.op === '&' || c.op === '!&') {
        const bits = h(c.mask & c.k);
        s = c.op === '&' ? `${f} & ${bits}` : `!(${f} & ${bits})`;
      } else {
        s = `${c.mask === 0xffffffff ? f : `(${f} & ${h(c.mask)})`} ${c.op} ${h(c.k)}`;
      }
    }
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** Paths as an ordered outcome list: the others first, the `fallback` action last as "otherwise". */
function outcomesOf(paths: readonly Path[], preferredFallback: number | undefined): Outcome[] {
  if (paths.length === 0) return [];
  const rets = new Set(paths.map((p) => p.ret));
  if (rets.size === 1) return [{ ret: paths[0]!.ret, conditions: [] }];
  const fallback = preferredFallback !== undefined && rets.has(preferredFallback) ? preferredFallback : paths[paths.length - 1]!.ret;
  const out: Outcome[] = paths.filter((p) => p.ret !== fallback).map((p) => ({ ret: p.ret, conditions: renderConditions(p.cons) }));
  out.push({ ret: fallback, conditions: [] });
  return out;
}

const outcomeKey = (o: readonly Outcome[]): string => JSON.stringify(o);

// Numbers where the filter's behaviour can change: every constant compared with nr, and
// its successor; between two such points every nr takes the same path.
function nrBoundaries(prog: readonly SockFilter[]): number[] {
  const src = aSources(prog);
  const pts = new Set<number>([0]);
  prog.forEach((ins, pc) => {
    if (src[pc] === 0 && isConditionalJump(ins.code) && bpfSrc(ins.code) !== BPF_X) {
      pts.add(ins.k >>> 0);
      if (ins.k >>> 0 < 0xffffffff) pts.add((ins.k >>> 0) + 1);
    }
  });
  for (let n = 0; n < SYSCALL_NAMES.length; n++) pts.add(n);
  return [...pts].sort((a, b) => a - b);
}

/** Which syscalls a filter allows (or otherwise decides), with which argument conditions. */
export function summarize(prog: readonly SockFilter[]): FilterSummary | BpfError {
  const bad = checkProgram(prog);
  if (bad) return bad;
  let truncated = false;
  const pathsOf = (nr: number, arch: number): Path[] => {
    const r = explore(prog, nr, arch);
    truncated ||= r.truncated;
    return r.paths;
  };
  const pts = nrBoundaries(prog);
  const native: { lo: number; hi: number; paths: Path[] }[] = [];
  pts.forEach((lo, i) => {
    if (lo >= X32_SYSCALL_BIT) return;
    const hi = i + 1 < pts.length ? pts[i + 1]! - 1 : 0xffffffff;
    native.push({ lo, hi: Math.min(hi, X32_SYSCALL_BIT - 1), paths: pathsOf(lo, AUDIT_ARCH_X86_64) });
  });

  // "Otherwise" reads best as the filter's usual verdict: the most common unconditional one.
  const fallback = mostCommon(native.filter((n) => new Set(n.paths.map((p) => p.ret)).size === 1).map((n) => n.paths[0]!.ret));
  const outcomes = native.map((n) => ({ lo: n.lo, hi: n.hi, outcomes: outcomesOf(n.paths, fallback) }));
  const named = outcomes.filter((n) => n.lo < SYSCALL_NAMES.length && SYSCALL_NAMES[n.lo] !== undefined);
  const dfltKey = mostCommon(named.map((n) => outcomeKey(n.outcomes)));
  const dflt = named.find((n) => outcomeKey(n.outcomes) === dfltKey)?.outcomes ?? [];

  const syscalls: { lo: number; hi: number; outcomes: Outcome[] }[] = [];
  for (const n of outcomes) {
    if (outcomeKey(n.outcomes) === dfltKey) continue;
    const prev = syscalls[syscalls.length - 1];
    const unnamed = (nr: number) => SYSCALL_NAMES[nr] === undefined;
    if (prev && prev.hi + 1 === n.lo && unnamed(prev.hi) && unnamed(n.lo) && outcomeKey(prev.outcomes) === outcomeKey(n.outcomes)) {
      prev.hi = n.hi;
    } else syscalls.push({ ...n });
  }

  const uniform = (probes: readonly Outcome[][]): Outcome[] | undefined =>
    probes.every((p) => outcomeKey(p) === outcomeKey(probes[0]!)) ? probes[0] : undefined;
  const archProbe = pts.filter((p) => p < X32_SYSCALL_BIT).map((nr) => outcomesOf(pathsOf(nr, AUDIT_ARCH_I386), fallback));
  const x32Probe = [0, 1, 59, 0x200, 0x3fffffff].map((d) => outcomesOf(pathsOf(X32_SYSCALL_BIT + d, AUDIT_ARCH_X86_64), fallback));
  return {
    instructions: prog.length,
    default: dflt,
    otherArch: uniform(archProbe),
    x32: uniform(x32Probe),
    syscalls: syscalls.map((n) => ({
      ...n,
      name: n.lo === n.hi ? syscallName(n.lo) : `${syscallName(n.lo)}-${syscallName(n.hi)}`,
    })),
    truncated,
  };
}

function mostCommon<T>(xs: readonly T[]): T | undefined {
  const counts = new Map<T, number>();
  let best: T | undefined;
  let bestN = 0;
  for (const x of xs) {
    const n = (counts.get(x) ?? 0) + 1;
    counts.set(x, n);
    if (n > bestN) [best, bestN] = [x, n];
  }
  return best;
}

function formatOutcomes(o: readonly Outcome[]): string[] {
  const ret = (r: number | undefined): string => (r === undefined ? 'A (computed)' : formatRet(r));
  if (o.length === 1 && o[0]!.conditions.length === 0) return [ret(o[0]!.ret)];
  return o.map((x) => (x.conditions.length === 0 ? `${ret(x.ret)} otherwise` : `${ret(x.ret)} if ${x.conditions.join(' && ')}`));
}

/**
 * A readable audit of a filter:
 * ```
 * 42 instructions
 * other architectures: KILL_PROCESS
 * x32 syscalls: KILL_PROCESS
 * ALLOW: read write close
 * ioctl:
 *   ALLOW if args[1] == 0x5401
 *   KILL_PROCESS otherwise
 * everything else: KILL_PROCESS
 * ```
 */
export function formatSummary(s: FilterSummary): string {
  const lines = [`${s.instructions} instructions`];
  const one = (label: string, o: readonly Outcome[] | undefined): void => {
    if (o === undefined) lines.push(`${label}: depends on the syscall number`);
    else {
      const f = formatOutcomes(o);
      if (f.length === 1) lines.push(`${label}: ${f[0]}`);
      else lines.push(`${label}:`, ...f.map((l) => `  ${l}`));
    }
  };
  one('other architectures', s.otherArch);
  one('x32 syscalls', s.x32);
  // Unconditional outcomes grouped by action, in order of first appearance.
  const groups = new Map<string, string[]>();
  const conditional: SyscallSummary[] = [];
  for (const sc of s.syscalls) {
    const f = formatOutcomes(sc.outcomes);
    if (f.length === 1) {
      const g = groups.get(f[0]!) ?? [];
      g.push(sc.name);
      groups.set(f[0]!, g);
    } else conditional.push(sc);
  }
  for (const [action, names] of groups) lines.push(`${action}: ${names.join(' ')}`);
  for (const sc of conditional) one(sc.name, sc.outcomes);
  one('everything else', s.default);
  if (s.truncated) lines.push('(some syscalls have too many paths; their lists are incomplete)');
  return lines.join('\n') + '\n';
}

/**
 * What `tsvisor debug seccomp` prints for installed filter bytes: the disassembly and the
 * summary, or why the bytes are not a filter the kernel would accept.
 */
export function dumpFilter(bytes: Uint8Array): string {
  const prog = decodeProgram(bytes);
  if (prog instanceof BpfError) return `invalid filter: ${prog}\n`;
  const sum = summarize(prog);
  if (sum instanceof BpfError) return `${disassemble(prog)}\ninvalid filter: ${sum}\n`;
  return `${disassemble(prog)}\n${formatSummary(sum)}`;
}
