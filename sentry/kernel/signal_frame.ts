// The x86-64 rt_sigframe: what a signal handler finds on its stack, and what rt_sigreturn
// reads back. Layout as arch/x86/include/asm/sigframe.h and uapi/asm/sigcontext.h define:
//   frame+0   pretcode (sa_restorer; the handler's `ret` jumps there)
//   frame+8   struct ucontext { flags, link, stack_t(24), sigcontext(256), sigmask(8) }
//   frame+312 siginfo (128)
// with the XSAVE area (64-byte aligned) above the frame, pointed to by sigcontext.fpstate.

import { E } from '../abi/errno.js';
import { REG } from '../abi/regs.js';
import type { Result } from '../abi/result.js';
import { err, isErr } from '../abi/result.js';
import type { Task } from './task.js';

const UC_SIZE = 304;
const FRAME_SIZE = 8 + UC_SIZE + 128;
const UC_OFF = 8;
const SIGINFO_OFF = 8 + UC_SIZE;
const MC_OFF = 40; // sigcontext within ucontext
const REDZONE = 128;
const UC_FP_XSTATE = 1;
const UC_SIGCONTEXT_SS = 2;
const UC_STRICT_RESTORE_SS = 4;
const FP_XSTATE_MAGIC1 = 0x46505853;
const FP_XSTATE_MAGIC2 = 0x46505845;
export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;
export const SS_AUTODISARM = 1 << 31;
/** EFLAGS bits a handler may change through sigreturn (AC OF DF TF SF ZF AF PF CF RF). */
const FIX_EFLAGS = 0x50dd5;

/** sigcontext general registers in order, as REG indices. */
const MC_REGS = [REG.r8, REG.r9, REG.r10, REG.r11, REG.r12, REG.r13, REG.r14, REG.r15, REG.rdi, REG.rsi,
  REG.rbp, REG.rbx, REG.rdx, REG.rax, REG.rcx, REG.rsp, REG.rip, REG.eflags];

export interface FaultContext {
  trapno: number;
  err: number;
  cr2: number;
}

export function onAltStack(t: Task, sp: number): boolean {
  const s = t.altStack;
  if ((s.flags & SS_DISABLE) !== 0) return false;
  return sp > s.sp && sp - s.sp <= s.size;
}

/**
 * Builds a frame for handler `handler` on t's stack (or its alternate stack) and points
 * t's registers at the handler. Returns EFAULT when the frame cannot be written.
 */
export function pushSignalFrame(
  t: Task, signo: number, info: Uint8Array, handler: bigint, restorer: bigint, onStack: boolean,
  oldMask: bigint, fault?: FaultContext,
): Result<void> {
  const regs = t.regs;
  const curSp = regs.get(REG.rsp);
  const wasOnAlt = onAltStack(t, curSp);
  let sp: number;
  if (onStack && (t.altStack.flags & SS_DISABLE) === 0 && !wasOnAlt) sp = t.altStack.sp + t.altStack.size;
  else sp = curSp - REDZONE;
  const fp = t.thread.getFpState();
  const fpLen = fp.length;
  sp -= fpLen + 4;
  sp -= sp % 64;
  const fpAddr = sp;
  sp -= FRAME_SIZE;
  sp = sp - (sp % 16) - 8;
  const frame = sp;

  const fpOut = new Uint8Array(fpLen + 4);
  fpOut.set(fp);
  const fdv = new DataView(fpOut.buffer);
  if (fpLen > 512) {
    // _fpx_sw_bytes in the FXSAVE area's software-reserved bytes, so sigreturn (and
    // programs that inspect the frame) know an XSAVE area of fpLen follows.
    const xfeatures = fdv.getBigUint64(464, true) !== 0n ? fdv.getBigUint64(464, true) : fdv.getBigUint64(512, true);
    fdv.setUint32(464, FP_XSTATE_MAGIC1, true);
    fdv.setUint32(468, fpLen + 4, true);
    fdv.setBigUint64(472, xfeatures, true);
    fdv.setUint32(480, fpLen, true);
    fdv.setUint32(fpLen, FP_XSTATE_MAGIC2, true);
  }

  const b = new Uint8Array(FRAME_SIZE);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, restorer, true);
  dv.setBigUint64(UC_OFF, BigInt(fpLen > 512 ? UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS : UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS), true);
  dv.setBigUint64(UC_OFF + 8, 0n, true);
  dv.setBigUint64(UC_OFF + 16, BigInt(t.altStack.sp), true);
  dv.setInt32(UC_OFF + 24, t.altStack.flags, true);
  dv.setBigUint64(UC_OFF + 32, BigInt(t.altStack.size), true);
  const mc = UC_OFF + MC_OFF;
  MC_REGS.forEach((r, i) => dv.setBigUint64(mc + i * 8, regs.getBig(r), true));
  dv.setUint16(mc + 144, 0x33, true); // cs
  dv.setUint16(mc + 150, 0x2b, true); // ss
  dv.setBigUint64(mc + 152, BigInt(fault?.err ?? 0), true);
  dv.setBigUint64(mc + 160, BigInt(fault?.trapno ?? 0), true);
  dv.setBigUint64(mc + 168, oldMask, true);
  dv.setBigUint64(mc + 176, BigInt(fault?.cr2 ?? 0), true);
  dv.setBigUint64(mc + 184, BigInt(fpAddr), true);
  dv.setBigUint64(UC_OFF + 296, oldMask, true);
  b.set(info.subarray(0, 128), SIGINFO_OFF);

  if (restorer === 0n) return err(E.EFAULT); // x86-64 requires SA_RESTORER
  const w1 = t.mem.copyOut(fpAddr, fpOut);
  if (isErr(w1)) return w1;
  const w2 = t.mem.copyOut(frame, b);
  if (isErr(w2)) return w2;

  regs.set(REG.rsp, frame);
  regs.setBig(REG.rip, handler);
  regs.set(REG.rdi, signo);
  regs.set(REG.rsi, frame + SIGINFO_OFF);
  regs.set(REG.rdx, frame + UC_OFF);
  regs.set(REG.rax, 0);
  // The handler starts with DF and TF clear, as the ABI promises.
  regs.set(REG.eflags, regs.get(REG.eflags) & ~(0x400 | 0x100));
  regs.set(REG.orig_rax, -1);
  regs.set(REG.cs, 0x33);
  regs.set(REG.ss, 0x2b);
  if (onStack && (t.altStack.flags & SS_AUTODISARM) !== 0) t.altStack = { sp: 0, flags: SS_DISABLE, size: 0 };
  return undefined;
}

/** rt_sigreturn: restores registers, FP state, mask and alternate stack from the frame. */
export function popSignalFrame(t: Task): Result<bigint> {
  const regs = t.regs;
  const uc = regs.get(REG.rsp); // the handler's `ret` popped pretcode
  const b = t.mem.copyIn(uc, UC_SIZE);
  if (isErr(b)) return b;
  const dv = new DataView(b.buffer, b.byteOffset, UC_SIZE);
  const mc = MC_OFF;
  const oldFlags = regs.get(REG.eflags);
  MC_REGS.forEach((r, i) => regs.setBig(r, dv.getBigUint64(mc + i * 8, true)));
  const saved = regs.get(REG.eflags);
  regs.set(REG.eflags, (oldFlags & ~FIX_EFLAGS) | (saved & FIX_EFLAGS));
  regs.set(REG.cs, 0x33);
  regs.set(REG.ss, 0x2b);
  regs.set(REG.orig_rax, -1);
  const fpAddr = Number(dv.getBigUint64(mc + 184, true));
  if (fpAddr !== 0) {
    const cur = t.thread.getFpState();
    const fp = t.mem.copyIn(fpAddr, cur.length);
    if (isErr(fp)) return fp;
    const restored = new Uint8Array(fp);
    // The software bytes are ours, not hardware state: put the XCR0 word back.
    restored.set(cur.subarray(464, 512), 464);
    t.thread.setFpState(restored);
  }
  const ssSp = Number(dv.getBigUint64(16, true));
  const ssFlags = dv.getInt32(24, true);
  const ssSize = Number(dv.getBigUint64(32, true));
  // restore_altstack: applied like sigaltstack(2), silently ignored when invalid or in use.
  if (!onAltStack(t, regs.get(REG.rsp))) {
    if ((ssFlags & SS_DISABLE) !== 0) t.altStack = { sp: 0, flags: SS_DISABLE, size: 0 };
    else if (ssSize >= 2048) t.altStack = { sp: ssSp, flags: ssFlags & SS_AUTODISARM, size: ssSize };
  }
  return dv.getBigUint64(296, true);
}
