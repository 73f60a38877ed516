// A seccomp allowlist builder: syscall rules with optional 64-bit argument conditions,
// compiled to classic BPF with a binary search over syscall numbers.

import { Action, actionToRet, type SeccompAction } from './action.js';
import {
  AUDIT_ARCH_X86_64,
  Assembler,
  BPF_AND,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_MAXINSNS,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_IP_HI,
  SECCOMP_DATA_IP_LO,
  SECCOMP_DATA_NR,
  X32_SYSCALL_BIT,
  argOffset,
  encodeProgram,
  type Label,
  type SockFilter,
} from './bpf.js';

/** A condition on one 64-bit syscall argument (compared unsigned, as two 32-bit halves). */
export type ArgCmp =
  | { readonly op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; readonly value: bigint }
  /** (arg & mask) == value */
  | { readonly op: 'maskedEq'; readonly mask: bigint; readonly value: bigint };

/**
 * Conditions by argument index (0..5), all of which must hold; an array works:
 * `[undefined, Arg.eq(TCGETS)]`.
 */
export type ArgMatchers = { readonly [index: number]: ArgCmp | undefined };

const U64 = (v: bigint | number): bigint => {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new SeccompBuildError(`not an integer: ${v}`);
  const b = BigInt(v);
  if (b < -(1n << 63n) || b >= 1n << 64n) throw new SeccompBuildError(`${b} does not fit in 64 bits`);
  return BigInt.asUintN(64, b); // negative values (AT_FDCWD) as the register holds them
};

/** Argument conditions. Numbers may be negative: -100 means 0xffffffffffffff9c. */
export const Arg = {
  eq: (v: bigint | number): ArgCmp => ({ op: 'eq', value: U64(v) }),
  ne: (v: bigint | number): ArgCmp => ({ op: 'ne', value: U64(v) }),
  gt: (v: bigint | number): ArgCmp => ({ op: 'gt', value: U64(v) }),
  ge: (v: bigint | number): ArgCmp => ({ op: 'ge', value: U64(v) }),
  lt: (v: bigint | number): ArgCmp => ({ op: 'lt', value: U64(v) }),
  le: (v: bigint | number): ArgCmp => ({ op: 'le', value: U64(v) }),
  maskedEq: (mask: bigint | number, v: bigint | number): ArgCmp => ({ op: 'maskedEq', mask: U64(mask), value: U64(v) }),
  /** None of the bits in `mask` set: e.g. flags without O_CREAT. */
  bitsClear: (mask: bigint | number): ArgCmp => ({ op: 'maskedEq', mask: U64(mask), value: 0n }),
} as const;

/** Evaluates an ArgCmp on a 64-bit value: the meaning the compiled BPF must have. */
export function argCmpHolds(c: ArgCmp, arg: bigint): boolean {
  const v = BigInt.asUintN(64, arg);
  switch (c.op) {
    case 'eq':
      return v === c.value;
    case 'ne':
      return v !== c.value;
    case 'gt':
      return v > c.value;
    case 'ge':
      return v >= c.value;
    case 'lt':
      return v < c.value;
    case 'le':
      return v <= c.value;
    case 'maskedEq':
      return (v & c.mask) === c.value;
  }
}

/** Bad rules or a filter too big for the kernel: a bug in the caller's rule set. */
export class SeccompBuildError extends Error {}

export interface SyscallFilterOptions {
  /** For syscalls no rule matches. */
  readonly defaultAction: SeccompAction;
  /** For a non-x86-64 arch (i386 `int 0x80`) or an x32 number. Default KILL_PROCESS. */
  readonly badArchAction?: SeccompAction;
}

/** An instruction pointer range [start, end) a syscall may come from. */
export interface IpRange {
  readonly start: bigint;
  readonly end: bigint;
}

export interface SyscallRule {
  readonly sysno: number;
  readonly action: SeccompAction;
  /** [argument index, condition] pairs, all required. Empty: unconditional. */
  readonly args: readonly (readonly [number, ArgCmp])[];
}

/**
 * A seccomp filter for x86-64. Evaluation order of the compiled program:
 * 1. arch != AUDIT_ARCH_X86_64, or nr >= 0x40000000 (x32 ABI) -> badArchAction;
 * 2. instruction pointer outside every requireInstructionPointer range -> that action;
 * 3. the rules for nr in the order added; the first whose conditions all hold decides;
 * 4. otherwise defaultAction.
 */
export class SyscallFilter {
  readonly defaultAction: SeccompAction;
  readonly badArchAction: SeccompAction;
  private readonly bySys = new Map<number, SyscallRule[]>();
  private ipRanges: IpRange[] = [];
  private ipAction: SeccompAction | undefined;

  constructor(opts: SyscallFilterOptions) {
    this.defaultAction = opts.defaultAction;
    this.badArchAction = opts.badArchAction ?? Action.KILL_PROCESS;
  }

  /** Allows `sysno`, only when `args` hold if given. Several calls for one syscall OR together. */
  allow(sysno: number, args?: ArgMatchers): this {
    return this.add(sysno, Action.ALLOW, args);
  }

  /** A rule with any action: `sysno` with `args` (all must hold) gets `action`. */
  add(sysno: number, action: SeccompAction, args?: ArgMatchers): this {
    if (!Number.isInteger(sysno) || sysno < 0 || sysno >= X32_SYSCALL_BIT) {
      throw new SeccompBuildError(`bad syscall number ${sysno}`);
    }
    const conds: [number, ArgCmp][] = [];
    if (args) {
      for (const key of Object.keys(args)) {
        const i = Number(key);
        const c = args[i];
        if (c === undefined) continue;
        if (!Number.isInteger(i) || i < 0 || i > 5) throw new SeccompBuildError(`bad argument index ${key}`);
        conds.push([i, c]);
      }
    }
    let list = this.bySys.get(sysno);
    if (!list) this.bySys.set(sysno, (list = []));
    list.push({ sysno, action, args: conds });
    return this;
  }

  /**
   * Syscalls made from outside `ranges` get `otherwise`: the stub's "only from my own code
   * page" guard. The kernel reports the address after the `syscall` instruction.
   */
  requireInstructionPointer(ranges: readonly IpRange[], otherwise: SeccompAction): this {
    for (const r of ranges) {
      if (r.start < 0n || r.end > 1n << 64n || r.start >= r.end) {
        throw new SeccompBuildError(`bad instruction pointer range ${r.start}..${r.end}`);
      }
    }
    this.ipRanges = [...ranges];
    this.ipAction = otherwise;
    return this;
  }

  /** All rules, grouped by syscall in ascending order, each group in insertion order. */
  rules(): SyscallRule[] {
    return [...this.bySys.keys()].sort((a, b) => a - b).flatMap((n) => this.bySys.get(n)!);
  }

  /** The filter as a `struct sock_filter` array, ready for seccomp(SECCOMP_SET_MODE_FILTER). */
  compile(): Uint8Array {
    return encodeProgram(this.program());
  }

  /** The filter as instructions. Throws SeccompBuildError past the kernel's 4096 limit. */
  program(): SockFilter[] {
    const asm = new Assembler();
    const retLabels = new Map<number, Label>();
    const actionLabel = (a: SeccompAction): Label => {
      const ret = actionToRet(a);
      let l = retLabels.get(ret);
      if (!l) retLabels.set(ret, (l = asm.label(`ret_${ret.toString(16)}`)));
      return l;
    };
    const dflt = actionLabel(this.defaultAction);
    const badArch = actionLabel(this.badArchAction);

    asm.load(SECCOMP_DATA_ARCH).jump(BPF_JEQ, AUDIT_ARCH_X86_64, null, badArch);
    asm.load(SECCOMP_DATA_NR).jump(BPF_JGE, X32_SYSCALL_BIT, badArch, null);
    if (this.ipAction && this.ipRanges.length > 0) {
      const ok = asm.label('ip_ok');
      const ip = { lo: SECCOMP_DATA_IP_LO, hi: SECCOMP_DATA_IP_HI };
      for (const r of this.ipRanges) {
        const next = asm.label();
        emitCmp(asm, ip, { op: 'ge', value: r.start }, next);
        if (r.end < 1n << 64n) emitCmp(asm, ip, { op: 'lt', value: r.end }, next);
        asm.ja(ok).bind(next);
      }
      asm.ja(actionLabel(this.ipAction)).bind(ok).load(SECCOMP_DATA_NR);
    }

    // Each syscall jumps straight to a RET when its first rule is unconditional, or to
    // its body of argument checks; equal neighbours merge into ranges for the search.
    const defaultRet = actionToRet(this.defaultAction);
    const bodies: { label: Label; rules: SyscallRule[] }[] = [];
    const ranges: SysRange[] = [];
    for (const nr of [...this.bySys.keys()].sort((a, b) => a - b)) {
      const rules = this.bySys.get(nr)!;
      let target: Label;
      if (rules[0]!.args.length === 0) {
        if (actionToRet(rules[0]!.action) === defaultRet) continue;
        target = actionLabel(rules[0]!.action);
      } else {
        target = asm.label(`sys_${nr}`);
        bodies.push({ label: target, rules });
      }
      const last = ranges[ranges.length - 1];
      if (last && last.hi === nr - 1 && last.target === target) last.hi = nr;
      else ranges.push({ lo: nr, hi: nr, target });
    }
    emitSearch(asm, ranges, 0, X32_SYSCALL_BIT - 1, dflt);

    for (const body of bodies) {
      asm.bind(body.label);
      let ended = false;
      for (const rule of body.rules) {
        if (rule.args.length === 0) {
          asm.ja(actionLabel(rule.action));
          ended = true;
          break;
        }
        const next = asm.label();
        for (const [i, c] of rule.args) emitCmp(asm, { lo: argOffset(i, false), hi: argOffset(i, true) }, c, next);
        asm.ja(actionLabel(rule.action)).bind(next);
      }
      if (!ended) asm.ja(dflt);
    }

    for (const [ret, label] of retLabels) asm.bind(label).ret(ret);
    const prog = asm.assemble();
    if (prog.length > BPF_MAXINSNS) {
      throw new SeccompBuildError(`filter needs ${prog.length} instructions; the kernel allows ${BPF_MAXINSNS}`);
    }
    return prog;
  }
}

interface SysRange {
  lo: number;
  hi: number;
  readonly target: Label;
}

// A holds nr, known to lie in [min, max]. Small sets are a linear chain; larger ones split
// at the middle range with one JGE, so a lookup costs O(log n) jumps.
function emitSearch(asm: Assembler, ranges: readonly SysRange[], min: number, max: number, dflt: Label): void {
  if (ranges.length > 4) {
    const mid = ranges.length >> 1;
    const pivot = ranges[mid]!.lo;
    const right = asm.label();
    asm.jump(BPF_JGE, pivot, right, null);
    emitSearch(asm, ranges.slice(0, mid), min, pivot - 1, dflt);
    asm.bind(right);
    emitSearch(asm, ranges.slice(mid), pivot, max, dflt);
    return;
  }
  for (const r of ranges) {
    if (r.lo === r.hi) {
      asm.jump(BPF_JEQ, r.lo, r.target, null);
      continue;
    }
    // Ranges ascend: above this one, try the next; below it, nothing later matches either.
    const next = asm.label();
    if (r.hi < max) asm.jump(BPF_JGT, r.hi, next, null);
    if (r.lo > min) asm.jump(BPF_JGE, r.lo, r.target, dflt);
    else asm.ja(r.target);
    asm.bind(next);
  }
  asm.ja(dflt);
}

interface Field {
  readonly lo: number;
  readonly hi: number;
}

const hi32 = (v: bigint): number => Number(v >> 32n);
const lo32 = (v: bigint): number => Number(v & 0xffffffffn);

// Emits a test of a 64-bit field: falls through when `c` holds, jumps to `no` otherwise.
function emitCmp(asm: Assembler, f: Field, c: ArgCmp, no: Label): void {
  const vh = hi32(c.value);
  const vl = lo32(c.value);
  if ((c.op === 'ge' && c.value === 0n) || (c.op === 'le' && c.value === (1n << 64n) - 1n)) return; // always true
  const yes = asm.label();
  switch (c.op) {
    case 'eq':
      asm.load(f.hi).jump(BPF_JEQ, vh, null, no);
      asm.load(f.lo).jump(BPF_JEQ, vl, null, no);
      break;
    case 'ne':
      asm.load(f.hi).jump(BPF_JEQ, vh, null, yes);
      asm.load(f.lo).jump(BPF_JEQ, vl, no, null);
      break;
    case 'gt':
    case 'ge':
      // With nothing possible above (gt 0xffffffff) or below (ge 0) in the low half, hi decides.
      if ((c.op === 'gt' && vl === 0xffffffff) || (c.op === 'ge' && vl === 0)) {
        asm.load(f.hi).jump(c.op === 'gt' ? BPF_JGT : BPF_JGE, vh, null, no);
        break;
      }
      asm.load(f.hi).jump(BPF_JGT, vh, yes, null).jump(BPF_JEQ, vh, null, no);
      asm.load(f.lo).jump(c.op === 'gt' ? BPF_JGT : BPF_JGE, vl, null, no);
      break;
    case 'lt':
    case 'le':
      if ((c.op === 'lt' && vl === 0) || (c.op === 'le' && vl === 0xffffffff)) {
        asm.load(f.hi).jump(c.op === 'lt' ? BPF_JGE : BPF_JGT, vh, no, null);
        break;
      }
      asm.load(f.hi).jump(BPF_JGT, vh, no, null).jump(BPF_JEQ, vh, null, yes);
      asm.load(f.lo).jump(c.op === 'lt' ? BPF_JGE : BPF_JGT, vl, no, null);
      break;
    case 'maskedEq': {
      if ((c.value & ~c.mask) !== 0n) {
        asm.ja(no); // bits outside the mask can never compare equal
        break;
      }
      for (const [off, m, v] of [
        [f.hi, hi32(c.mask), vh],
        [f.lo, lo32(c.mask), vl],
      ] as const) {
        if (m === 0) continue;
        asm.load(off);
        if (m !== 0xffffffff) asm.alu(BPF_AND, m);
        asm.jump(BPF_JEQ, v, null, no);
      }
      break;
    }
  }
  asm.bind(yes);
}
