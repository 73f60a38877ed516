// x86-64 struct user_regs_struct (ptrace GETREGS layout), 27 u64 slots.

export const REG = {
  r15: 0, r14: 1, r13: 2, r12: 3, rbp: 4, rbx: 5, r11: 6, r10: 7, r9: 8, r8: 9,
  rax: 10, rcx: 11, rdx: 12, rsi: 13, rdi: 14, orig_rax: 15, rip: 16, cs: 17,
  eflags: 18, rsp: 19, ss: 20, fs_base: 21, gs_base: 22, ds: 23, es: 24, fs: 25, gs: 26,
} as const;
export const NREGS = 27;
export const REGS_BYTES = NREGS * 8;

/** Syscall argument registers in ABI order: rdi, rsi, rdx, r10, r8, r9. */
export const ARG_REGS = [REG.rdi, REG.rsi, REG.rdx, REG.r10, REG.r8, REG.r9] as const;

const TWO32 = 4294967296;

/**
 * A register file backed by a byte buffer that the native layer fills, read as u32 halves
 * so hot paths avoid BigInt. Values above 2^53 lose precision in get(); use getBig().
 */
export class Regs {
  readonly bytes: Uint8Array;
  readonly u32: Uint32Array;
  constructor(bytes?: Uint8Array) {
    this.bytes = bytes ?? new Uint8Array(REGS_BYTES);
    this.u32 = new Uint32Array(this.bytes.buffer, this.bytes.byteOffset, NREGS * 2);
  }
  get(r: number): number {
    return this.u32[r * 2] + this.u32[r * 2 + 1] * TWO32;
  }
  /** Low 32 bits as a signed int (C `int` arguments such as fds and AT_FDCWD). */
  int(r: number): number {
    return this.u32[r * 2] | 0;
  }
  /** Full value as a signed 64-bit number (off_t arguments). */
  i64(r: number): number {
    const hi = this.u32[r * 2 + 1] | 0;
    return hi * TWO32 + this.u32[r * 2];
  }
  getBig(r: number): bigint {
    return (BigInt(this.u32[r * 2 + 1]) << 32n) | BigInt(this.u32[r * 2]);
  }
  set(r: number, v: number): void {
    if (v < 0) {
      // Two's complement for negative results such as -errno.
      const lo = v % TWO32;
      const loU = (lo + TWO32) % TWO32;
      const hi = Math.floor(v / TWO32);
      this.u32[r * 2] = loU;
      this.u32[r * 2 + 1] = hi >>> 0;
    } else {
      this.u32[r * 2] = v % TWO32;
      this.u32[r * 2 + 1] = Math.floor(v / TWO32);
    }
  }
  setBig(r: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.u32[r * 2] = Number(u & 0xffffffffn);
    this.u32[r * 2 + 1] = Number(u >> 32n);
  }
  copyFrom(o: Regs): void {
    this.bytes.set(o.bytes);
  }
  clone(): Regs {
    const r = new Regs();
    r.copyFrom(this);
    return r;
  }
}

/** The six syscall arguments of a trapped syscall, decoded from its registers. */
export class SyscallArgs {
  constructor(readonly regs: Regs) {}
  /** Unsigned 64-bit value as a number (exact below 2^53). */
  u64(i: number): number {
    return this.regs.get(ARG_REGS[i]);
  }
  /** Signed 64-bit value (off_t, loff_t). */
  i64(i: number): number {
    return this.regs.i64(ARG_REGS[i]);
  }
  /** C int (fd, AT_FDCWD, flags). */
  int(i: number): number {
    return this.regs.int(ARG_REGS[i]);
  }
  /** C unsigned int. */
  uint(i: number): number {
    return this.regs.u32[ARG_REGS[i] * 2];
  }
  /** A user pointer. Values beyond the user address space come back as-is and fail with EFAULT later. */
  ptr(i: number): number {
    return this.regs.get(ARG_REGS[i]);
  }
  /** size_t argument. */
  size(i: number): number {
    return this.regs.get(ARG_REGS[i]);
  }
  big(i: number): bigint {
    return this.regs.getBig(ARG_REGS[i]);
  }
}
