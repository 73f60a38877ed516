// Classic BPF as seccomp(2) takes it: instruction encoding, a label-resolving assembler
// that inserts long jumps where 8-bit offsets fall short, and the kernel's validity checks.
// Constants come from <linux/bpf_common.h>, <linux/filter.h>, <linux/seccomp.h>, <linux/audit.h>.

/** One `struct sock_filter`: u16 code, u8 jt, u8 jf, u32 k (8 bytes, little-endian). */
export interface SockFilter {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

// Instruction classes.
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;
// Load sizes and modes.
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_LEN = 0x80;
export const BPF_MSH = 0xa0;
// ALU operations.
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
// Jump operations.
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
// Operand sources / return value sources / misc ops.
export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const BPF_A = 0x10;
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

export const BPF_MAXINSNS = 4096;
export const BPF_MEMWORDS = 16;

export const bpfClass = (code: number): number => code & 0x07;
export const bpfSize = (code: number): number => code & 0x18;
export const bpfMode = (code: number): number => code & 0xe0;
export const bpfOp = (code: number): number => code & 0xf0;
export const bpfSrc = (code: number): number => code & 0x08;

// struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_IP_LO = 8;
export const SECCOMP_DATA_IP_HI = 12;
export const SECCOMP_DATA_SIZE = 64;
/** Offset of the low (hi=false) or high 32-bit half of args[i] (x86-64 is little-endian). */
export function argOffset(i: number, hi: boolean): number {
  return 16 + 8 * i + (hi ? 4 : 0);
}

// Return values. The action lives in the top 16 bits (KILL_PROCESS uses bit 31), data below.
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

/** EM_X86_64 (62) | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE. */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
/** EM_386 (3) | __AUDIT_ARCH_LE: what a 32-bit `int 0x80` syscall reports. */
export const AUDIT_ARCH_I386 = 0x40000003;
/** x32 syscalls are x86-64 numbers with this bit set; the same arch value, so check nr too. */
export const X32_SYSCALL_BIT = 0x40000000;

export function stmt(code: number, k: number): SockFilter {
  return { code, jt: 0, jf: 0, k: k >>> 0 };
}

export function jump(code: number, k: number, jt: number, jf: number): SockFilter {
  return { code, jt, jf, k: k >>> 0 };
}

/** Serializes instructions into the byte layout of a `struct sock_filter` array. */
export function encodeProgram(prog: readonly SockFilter[]): Uint8Array {
  const out = new Uint8Array(prog.length * 8);
  const dv = new DataView(out.buffer);
  prog.forEach((ins, i) => {
    dv.setUint16(i * 8, ins.code, true);
    dv.setUint8(i * 8 + 2, ins.jt);
    dv.setUint8(i * 8 + 3, ins.jf);
    dv.setUint32(i * 8 + 4, ins.k >>> 0, true);
  });
  return out;
}

/** An invalid program (or bytes that are not one): a value, never thrown. */
export class BpfError {
  constructor(
    readonly message: string,
    /** The offending instruction, when there is one. */
    readonly pc?: number,
  ) {}
  toString(): string {
    return this.pc === undefined ? this.message : `${this.message} (at ${this.pc})`;
  }
}

/** Parses a `struct sock_filter` array; only the length can be wrong at this stage. */
export function decodeProgram(bytes: Uint8Array): SockFilter[] | BpfError {
  if (bytes.length % 8 !== 0) return new BpfError(`length ${bytes.length} is not a multiple of 8`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prog: SockFilter[] = [];
  for (let off = 0; off < bytes.length; off += 8) {
    prog.push({
      code: dv.getUint16(off, true),
      jt: dv.getUint8(off + 2),
      jf: dv.getUint8(off + 3),
      k: dv.getUint32(off + 4, true),
    });
  }
  return prog;
}

const CONDITIONAL_JUMPS = new Set(
  [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
);

/** True for JEQ/JGT/JGE/JSET (K or X): the instructions with jt/jf offsets. */
export function isConditionalJump(code: number): boolean {
  return CONDITIONAL_JUMPS.has(code);
}

// The instructions seccomp accepts: kernel/seccomp.c seccomp_check_filter's explicit list.
// Notably no BPF_MOD, and loads only as 32-bit words from struct seccomp_data.
const SECCOMP_CODES = new Set<number>([
  BPF_LD | BPF_W | BPF_ABS,
  BPF_LD | BPF_W | BPF_LEN,
  BPF_LDX | BPF_W | BPF_LEN,
  BPF_RET | BPF_K,
  BPF_RET | BPF_A,
  ...[BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH].flatMap((op) => [
    BPF_ALU | op | BPF_K,
    BPF_ALU | op | BPF_X,
  ]),
  BPF_ALU | BPF_NEG,
  BPF_LD | BPF_IMM,
  BPF_LDX | BPF_IMM,
  BPF_MISC | BPF_TAX,
  BPF_MISC | BPF_TXA,
  BPF_LD | BPF_MEM,
  BPF_LDX | BPF_MEM,
  BPF_ST,
  BPF_STX,
  BPF_JMP | BPF_JA,
  ...CONDITIONAL_JUMPS,
]);

/**
 * The checks seccomp(SECCOMP_SET_MODE_FILTER) makes before accepting a filter
 * (bpf_check_classic, then seccomp_check_filter): 1..4096 instructions, only seccomp's
 * opcodes, aligned in-bounds loads, no constant division by zero or shift >= 32, memory
 * slots < 16 and stored before loaded, jumps inside the program, RET last.
 * Returns undefined when the kernel would accept the program.
 */
export function checkProgram(prog: readonly SockFilter[]): BpfError | undefined {
  const n = prog.length;
  if (n === 0) return new BpfError('empty program');
  if (n > BPF_MAXINSNS) return new BpfError(`${n} instructions exceed the limit of ${BPF_MAXINSNS}`);
  for (let pc = 0; pc < n; pc++) {
    const { code, jt, jf, k } = prog[pc]!;
    if (!SECCOMP_CODES.has(code)) return new BpfError(`opcode 0x${hex(code, 2)} not allowed in seccomp`, pc);
    switch (code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (k >= SECCOMP_DATA_SIZE || (k & 3) !== 0) return new BpfError(`load at offset ${k} outside seccomp_data or unaligned`, pc);
        break;
      case BPF_ALU | BPF_DIV | BPF_K:
        if (k === 0) return new BpfError('division by constant zero', pc);
        break;
      case BPF_ALU | BPF_LSH | BPF_K:
      case BPF_ALU | BPF_RSH | BPF_K:
        if (k >= 32) return new BpfError(`shift by ${k}`, pc);
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
      case BPF_ST:
      case BPF_STX:
        if (k >= BPF_MEMWORDS) return new BpfError(`memory slot ${k} out of range`, pc);
        break;
      case BPF_JMP | BPF_JA:
        if (k >= n - pc - 1) return new BpfError(`jump offset ${k} leaves the program`, pc);
        break;
      default:
        if (isConditionalJump(code) && (pc + jt + 1 >= n || pc + jf + 1 >= n)) {
          return new BpfError(`jump offsets ${jt}/${jf} leave the program`, pc);
        }
    }
  }
  if (bpfClass(prog[n - 1]!.code) !== BPF_RET) return new BpfError('last instruction is not RET', n - 1);
  return checkLoadsAfterStores(prog);
}

// Mirrors the kernel's check_load_and_stores: a slot must be written on every path
// before it is read. Paths merge at jump targets by intersecting the "written" masks.
function checkLoadsAfterStores(prog: readonly SockFilter[]): BpfError | undefined {
  const masks = new Uint16Array(prog.length).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, jt, jf, k } = prog[pc]!;
    valid &= masks[pc]!;
    if (code === BPF_ST || code === BPF_STX) {
      valid |= 1 << k;
    } else if (code === (BPF_LD | BPF_MEM) || code === (BPF_LDX | BPF_MEM)) {
      if ((valid & (1 << k)) === 0) return new BpfError(`memory slot ${k} read before written`, pc);
    } else if (code === (BPF_JMP | BPF_JA)) {
      masks[pc + 1 + k] = masks[pc + 1 + k]! & valid;
      valid = 0xffff;
    } else if (isConditionalJump(code)) {
      masks[pc + 1 + jt] = masks[pc + 1 + jt]! & valid;
      masks[pc + 1 + jf] = masks[pc + 1 + jf]! & valid;
      valid = 0xffff;
    }
  }
  return undefined;
}

export function hex(v: number, width: number): string {
  return (v >>> 0).toString(16).padStart(width, '0');
}

// ---------------------------------------------------------------------------------------
// Assembler

/** A jump target; create with Assembler.label(), place with Assembler.bind(). */
export interface Label {
  readonly id: number;
  readonly name: string;
}

/** A misuse of the assembler (unbound label, backward jump): a bug in the caller, thrown. */
export class BpfAssembleError extends Error {}

type Item =
  | { readonly kind: 'ins'; readonly ins: SockFilter }
  | { readonly kind: 'ja'; readonly target: Label }
  | { readonly kind: 'jcc'; readonly code: number; readonly k: number; readonly jt: Label | null; readonly jf: Label | null }
  | { readonly kind: 'bind'; readonly label: Label };

/**
 * Builds a program with symbolic forward jumps. Conditional jumps whose target is more than
 * 255 instructions away get a trampoline: the 8-bit offset reaches an inserted `ja` right
 * after the jump, whose 32-bit offset reaches the target.
 */
export class Assembler {
  private readonly items: Item[] = [];
  private nextLabel = 0;

  label(name = ''): Label {
    return { id: this.nextLabel++, name };
  }

  /** Places `label` before the next instruction emitted. */
  bind(label: Label): this {
    this.items.push({ kind: 'bind', label });
    return this;
  }

  /** Any non-jump instruction. */
  stmt(code: number, k = 0): this {
    if (bpfClass(code) === BPF_JMP) throw new BpfAssembleError('use ja()/jump() for jumps');
    this.items.push({ kind: 'ins', ins: stmt(code, k) });
    return this;
  }

  /** A = 32-bit word of seccomp_data at `offset`. */
  load(offset: number): this {
    return this.stmt(BPF_LD | BPF_W | BPF_ABS, offset);
  }

  /** A op= k for an ALU operation (BPF_AND, BPF_RSH, ...). */
  alu(op: number, k: number): this {
    return this.stmt(BPF_ALU | op | BPF_K, k);
  }

  ret(k: number): this {
    return this.stmt(BPF_RET | BPF_K, k);
  }

  ja(target: Label): this {
    this.items.push({ kind: 'ja', target });
    return this;
  }

  /**
   * Conditional jump `if (A op k) goto jt else goto jf` for op in BPF_JEQ/JGT/JGE/JSET
   * (with BPF_K, or BPF_X to compare with X). A null target means the next instruction.
   */
  jump(op: number, k: number, jt: Label | null, jf: Label | null): this {
    const code = BPF_JMP | op;
    if (!isConditionalJump(code)) throw new BpfAssembleError(`not a conditional jump: 0x${hex(code, 2)}`);
    this.items.push({ kind: 'jcc', code, k: k >>> 0, jt, jf });
    return this;
  }

  /** Resolves labels into offsets, inserting long jumps as needed. */
  assemble(): SockFilter[] {
    // Which branch of which jcc item needs a trampoline; only ever grows, so this converges.
    const farT = new Set<number>();
    const farF = new Set<number>();
    for (;;) {
      const { addr, labelAddr, end } = this.layout(farT, farF);
      const target = (l: Label | null, i: number): number => {
        if (l === null) return nextAddr(i);
        const a = labelAddr.get(l.id);
        if (a === undefined) throw new BpfAssembleError(`label '${l.name || l.id}' never bound`);
        return a;
      };
      // The address just past item i and its trampolines: where "fall through" lands.
      const nextAddr = (i: number): number => {
        for (let j = i + 1; j < this.items.length; j++) {
          if (this.items[j]!.kind !== 'bind') return addr[j]!;
        }
        return end;
      };
      let grew = false;
      const out: SockFilter[] = [];
      this.items.forEach((it, i) => {
        const pc = addr[i]!;
        if (it.kind === 'bind') return;
        if (it.kind === 'ins') {
          out.push(it.ins);
          return;
        }
        if (it.kind === 'ja') {
          const t = target(it.target, i);
          if (t <= pc) throw new BpfAssembleError(`backward jump to '${it.target.name || it.target.id}'`);
          out.push(jump(BPF_JMP | BPF_JA, t - pc - 1, 0, 0));
          return;
        }
        const t = target(it.jt, i);
        const f = target(it.jf, i);
        if (t <= pc || f <= pc) throw new BpfAssembleError('backward conditional jump');
        const hasT = farT.has(i);
        const hasF = farF.has(i);
        // Trampolines sit right after the jump: [jcc][ja T]?[ja F]?
        const tAt = pc + 1;
        const fAt = pc + 1 + (hasT ? 1 : 0);
        const jtOff = (hasT ? tAt : t) - pc - 1;
        const jfOff = (hasF ? fAt : f) - pc - 1;
        if (jtOff > 255) {
          farT.add(i);
          grew = true;
        }
        if (jfOff > 255) {
          farF.add(i);
          grew = true;
        }
        out.push(jump(it.code, it.k, jtOff & 0xff, jfOff & 0xff));
        if (hasT) out.push(jump(BPF_JMP | BPF_JA, t - tAt - 1, 0, 0));
        if (hasF) out.push(jump(BPF_JMP | BPF_JA, f - fAt - 1, 0, 0));
      });
      if (!grew) return out;
    }
  }

  private layout(farT: Set<number>, farF: Set<number>): { addr: number[]; labelAddr: Map<number, number>; end: number } {
    const addr: number[] = [];
    const labelAddr = new Map<number, number>();
    let pc = 0;
    this.items.forEach((it, i) => {
      addr.push(pc);
      if (it.kind === 'bind') {
        if (labelAddr.has(it.label.id)) throw new BpfAssembleError(`label '${it.label.name || it.label.id}' bound twice`);
        labelAddr.set(it.label.id, pc);
        return;
      }
      pc += 1 + (farT.has(i) ? 1 : 0) + (farF.has(i) ? 1 : 0);
    });
    return { addr, labelAddr, end: pc };
  }
}
