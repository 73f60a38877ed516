// Runs a seccomp classic-BPF program the way the kernel does, to prove what a filter
// decides and to explain a decision (`tsvisor debug seccomp`).

import { retToAction, type SeccompAction } from './action.js';
import {
  BPF_A,
  BPF_ABS,
  BPF_ALU,
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
  BPF_MEM,
  BPF_MISC,
  BPF_RET,
  BPF_ST,
  BPF_STX,
  BPF_TAX,
  BPF_X,
  BpfError,
  SECCOMP_DATA_SIZE,
  bpfClass,
  bpfMode,
  bpfOp,
  bpfSrc,
  checkProgram,
  type SockFilter,
} from './bpf.js';

/** The input of a seccomp filter (struct seccomp_data). */
export interface SeccompData {
  /** Syscall number; negative values are seen as their u32 bits, as the kernel does. */
  readonly nr: number;
  readonly arch: number;
  readonly instructionPointer: bigint;
  /** Up to six 64-bit arguments; missing ones are 0. */
  readonly args: readonly bigint[];
}

export interface FilterRun {
  /** The 32-bit value the filter returned. */
  readonly ret: number;
  readonly action: SeccompAction;
  /** Instruction indexes executed, in order, ending with the RET. */
  readonly path: readonly number[];
}

const MASK32 = 0xffffffffn;

/** The 32-bit word at byte offset `off` of struct seccomp_data (little-endian). */
export function seccompDataWord(d: SeccompData, off: number): number {
  if (off === 0) return d.nr >>> 0;
  if (off === 4) return d.arch >>> 0;
  let v: bigint;
  if (off === 8 || off === 12) v = d.instructionPointer;
  else v = d.args[(off - 16) >> 3] ?? 0n;
  return Number((off & 4 ? v >> 32n : v) & MASK32);
}

/**
 * Validates `prog` as seccomp(2) would, then runs it on `data`. An invalid program is
 * returned as a BpfError (the kernel would refuse to install it).
 */
export function runFilter(prog: readonly SockFilter[], data: SeccompData): FilterRun | BpfError {
  const bad = checkProgram(prog);
  if (bad) return bad;
  return execute(prog, data);
}

/** Runs an already-validated program (no checks; a bad program may yield a BpfError). */
export function execute(prog: readonly SockFilter[], data: SeccompData): FilterRun | BpfError {
  let a = 0;
  let x = 0;
  const mem = new Uint32Array(16);
  const path: number[] = [];
  let pc = 0;
  while (pc < prog.length) {
    const ins = prog[pc]!;
    path.push(pc);
    const { code, k } = ins;
    switch (bpfClass(code)) {
      case BPF_LD:
        switch (bpfMode(code)) {
          case BPF_ABS:
            a = seccompDataWord(data, k);
            break;
          case BPF_LEN:
            a = SECCOMP_DATA_SIZE;
            break;
          case BPF_IMM:
            a = k;
            break;
          case BPF_MEM:
            a = mem[k]!;
            break;
          default:
            return new BpfError('unsupported load', pc);
        }
        break;
      case BPF_LDX:
        switch (bpfMode(code)) {
          case BPF_LEN:
            x = SECCOMP_DATA_SIZE;
            break;
          case BPF_IMM:
            x = k;
            break;
          case BPF_MEM:
            x = mem[k]!;
            break;
          default:
            return new BpfError('unsupported load', pc);
        }
        break;
      case BPF_ST:
        mem[k] = a;
        break;
      case BPF_STX:
        mem[k] = x;
        break;
      case BPF_ALU: {
        const src = bpfSrc(code) === BPF_X ? x : k;
        // A run-time division by zero ends the program returning 0 (the kernel's cBPF rule).
        if ((bpfOp(code) === BPF_DIV || bpfOp(code) === 0x90) && src === 0) {
          return { ret: 0, action: retToAction(0), path };
        }
        a = aluOp(bpfOp(code), a, src);
        break;
      }
      case BPF_JMP: {
        if (bpfOp(code) === BPF_JA) {
          pc += 1 + k;
          continue;
        }
        const src = bpfSrc(code) === BPF_X ? x : k;
        let taken: boolean;
        switch (bpfOp(code)) {
          case BPF_JEQ:
            taken = a === src;
            break;
          case BPF_JGT:
            taken = a > src;
            break;
          case BPF_JGE:
            taken = a >= src;
            break;
          case BPF_JSET:
            taken = (a & src) !== 0;
            break;
          default:
            return new BpfError('unsupported jump', pc);
        }
        pc += 1 + (taken ? ins.jt : ins.jf);
        continue;
      }
      case BPF_RET: {
        const ret = ((code & 0x18) === BPF_A ? a : k) >>> 0;
        return { ret, action: retToAction(ret), path };
      }
      case BPF_MISC:
        if ((code & 0xf8) === BPF_TAX) x = a;
        else a = x;
        break;
    }
    pc++;
  }
  return new BpfError('ran off the end of the program', pc);
}

/** One 32-bit ALU operation; shifts by a register use its low five bits, as the JIT does. */
export function aluOp(op: number, a: number, src: number): number {
  switch (op) {
    case 0x00:
      return (a + src) >>> 0;
    case 0x10:
      return (a - src) >>> 0;
    case 0x20:
      return Math.imul(a, src) >>> 0;
    case 0x30:
      return Math.floor((a >>> 0) / (src >>> 0)) >>> 0;
    case 0x40:
      return (a | src) >>> 0;
    case 0x50:
      return (a & src) >>> 0;
    case 0x60:
      return (a << (src & 31)) >>> 0;
    case 0x70:
      return a >>> (src & 31);
    case 0x80:
      return -a >>> 0;
    case 0x90:
      return (a >>> 0) % (src >>> 0);
    case 0xa0:
      return (a ^ src) >>> 0;
    default:
      return a;
  }
}
