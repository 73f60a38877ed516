// The rt_sigframe round trip: a frame built for a handler restores, through sigreturn,
// every register, the FP state, the mask and the alternate stack of the interrupted code.

import { describe, expect, it } from 'vitest';
import { REG, Regs } from '../../sentry/abi/regs.js';
import { isErr } from '../../sentry/abi/result.js';
import { popSignalFrame, pushSignalFrame, SS_DISABLE, SS_ONSTACK } from '../../sentry/kernel/signal_frame.js';
import { makeSiginfo } from '../../sentry/kernel/sigqueue.js';
import type { Task } from '../../sentry/kernel/task.js';
import { BASE, FakeMem } from './vfs_fake_task.js';

function fakeTask(): { t: Task; regs: Regs; fp: { state: Uint8Array } } {
  const regs = new Regs();
  const fp = { state: new Uint8Array(2688) };
  for (let i = 0; i < 512; i++) fp.state[i] = i & 0xff;
  const thread = {
    regs,
    getFpState: () => fp.state,
    setFpState: (s: Uint8Array) => {
      fp.state = new Uint8Array(s);
    },
  };
  const mem = new FakeMem(1 << 20);
  const t = { regs, thread, mem, mm: mem, altStack: { sp: 0, flags: SS_DISABLE, size: 0 } } as unknown as Task;
  return { t, regs, fp };
}

describe('signal frames', () => {
  it('points the handler at signo, siginfo and ucontext, and sigreturn restores everything', () => {
    const { t, regs, fp } = fakeTask();
    const sp = BASE + 0x80000 + 8;
    for (let r = 0; r < 16; r++) regs.set(r, 0x1000 + r);
    regs.set(REG.rsp, sp);
    regs.set(REG.rip, 0x401234);
    regs.set(REG.eflags, 0x246);
    const before = regs.clone();
    const info = makeSiginfo(10, { code: 0, pid: 5, uid: 0 });
    const r = pushSignalFrame(t, 10, info, 0x402000n, 0x403000n, false, 0x5n);
    expect(isErr(r)).toBe(false);
    const frame = regs.get(REG.rsp);
    expect(frame % 16).toBe(8); // as after a call: the handler sees an ABI-aligned stack
    expect(frame).toBeLessThan(sp - 128); // below the red zone
    expect(regs.get(REG.rip)).toBe(0x402000);
    expect(regs.get(REG.rdi)).toBe(10);
    expect(regs.get(REG.rsi)).toBe(frame + 312);
    expect(regs.get(REG.rdx)).toBe(frame + 8);
    const siginfo = t.mem.copyIn(frame + 312, 128);
    expect(isErr(siginfo) ? undefined : Array.from(siginfo.subarray(0, 24))).toEqual(Array.from(info.subarray(0, 24)));
    // The handler clobbers registers and FP state, then returns: `ret` pops pretcode.
    fp.state = new Uint8Array(fp.state.length);
    for (let r = 0; r < 16; r++) regs.set(r, 0);
    regs.set(REG.rsp, frame + 8);
    const mask = popSignalFrame(t);
    expect(mask).toBe(0x5n);
    for (const r of [REG.r15, REG.r8, REG.rax, REG.rbx, REG.rcx, REG.rdx, REG.rsi, REG.rdi, REG.rbp, REG.rsp, REG.rip]) {
      expect(regs.get(r)).toBe(before.get(r));
    }
    expect(regs.get(REG.eflags)).toBe(0x246);
    expect(fp.state[100]).toBe(100);
  });

  it('uses the alternate stack with SA_ONSTACK and reports it in uc_stack', () => {
    const { t, regs } = fakeTask();
    t.altStack = { sp: BASE + 0x10000, flags: 0, size: 0x8000 };
    regs.set(REG.rsp, BASE + 0x80000);
    expect(isErr(pushSignalFrame(t, 10, new Uint8Array(128), 0x402000n, 0x403000n, true, 0n))).toBe(false);
    const frame = regs.get(REG.rsp);
    expect(frame).toBeGreaterThan(BASE + 0x10000);
    expect(frame).toBeLessThan(BASE + 0x18000);
    const flags = t.mem.copyIn(frame + 8 + 24, 4);
    expect(isErr(flags) ? -1 : new DataView(flags.buffer).getInt32(0, true)).toBe(0);
    expect(SS_ONSTACK).toBe(1);
  });

  it('fails without a restorer and when the stack is unwritable', () => {
    const { t, regs } = fakeTask();
    regs.set(REG.rsp, BASE + 0x80000);
    expect(isErr(pushSignalFrame(t, 10, new Uint8Array(128), 0x402000n, 0n, false, 0n))).toBe(true);
    regs.set(REG.rsp, 0x100);
    expect(isErr(pushSignalFrame(t, 10, new Uint8Array(128), 0x402000n, 0x403000n, false, 0n))).toBe(true);
  });
});
