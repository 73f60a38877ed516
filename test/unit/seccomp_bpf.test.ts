import { describe, expect, it } from 'vitest';
import { SYS } from '../../sentry/abi/sysno.js';
import { Action, actionToRet, combineRets, formatRet, retToAction } from '../../sentry/seccomp/action.js';
import {
  Assembler,
  BpfAssembleError,
  BpfError,
  BPF_ABS,
  BPF_ALU,
  BPF_B,
  BPF_DIV,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LSH,
  BPF_MEM,
  BPF_MOD,
  BPF_RET,
  BPF_ST,
  BPF_W,
  checkProgram,
  decodeProgram,
  encodeProgram,
  jump,
  stmt,
  type SockFilter,
} from '../../sentry/seccomp/bpf.js';
import { runFilter } from '../../sentry/seccomp/interpreter.js';

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// The raw dump of twctf-2016-diary's filter as published in seccomp-tools' README (xxd).
const DIARY_HEX = (
  '2000 0000 0000 0000 1500 0001 0200 0000 0600 0000 0000 0000 1500 0001 0101 0000' +
  '0600 0000 0000 0000 1500 0001 3b00 0000 0600 0000 0000 0000 1500 0001 3800 0000' +
  '0600 0000 0000 0000 1500 0001 3900 0000 0600 0000 0000 0000 1500 0001 3a00 0000' +
  '0600 0000 0000 0000 1500 0001 5500 0000 0600 0000 0000 0000 1500 0001 4201 0000' +
  '0600 0000 0000 0000 0600 0000 0000 ff7f'
).replace(/ /g, '');

// seccomp-tools' libseccomp.asm example, assembled (its README's c_source bytes).
const LIBSECCOMP_BYTES = [
  32, 0, 0, 0, 4, 0, 0, 0, 21, 0, 0, 8, 62, 0, 0, 192, 32, 0, 0, 0, 0, 0, 0, 0, 53, 0, 6, 0, 0, 0, 0, 64, 21, 0, 4, 0, 1, 0, 0, 0,
  21, 0, 3, 0, 3, 0, 0, 0, 21, 0, 2, 0, 32, 0, 0, 0, 21, 0, 1, 0, 60, 0, 0, 0, 6, 0, 0, 0, 5, 0, 5, 0, 6, 0, 0, 0, 0, 0, 255, 127,
  6, 0, 0, 0, 0, 0, 0, 0,
];

const data = (nr: number, args: bigint[] = [], arch = 0xc000003e, ip = 0n) => ({ nr, arch, instructionPointer: ip, args });

describe('sock_filter encoding', () => {
  it('encodes single instructions byte-exactly as struct sock_filter', () => {
    expect(hexOf(encodeProgram([stmt(BPF_LD | BPF_W | BPF_ABS, 4)]))).toBe('2000000004000000');
    expect(hexOf(encodeProgram([jump(BPF_JMP | BPF_JEQ | BPF_K, 0xc000003e, 1, 0)]))).toBe('150001003e0000c0');
    expect(hexOf(encodeProgram([stmt(BPF_RET | BPF_K, actionToRet(Action.ALLOW))]))).toBe('060000000000ff7f');
    expect(hexOf(encodeProgram([stmt(BPF_RET | BPF_K, actionToRet(Action.KILL_PROCESS))]))).toBe('0600000000000080');
    expect(hexOf(encodeProgram([stmt(BPF_RET | BPF_K, actionToRet(Action.ERRNO(1)))]))).toBe('0600000001000500');
    expect(hexOf(encodeProgram([jump(BPF_JMP | BPF_JA, 0x12345, 0, 0)]))).toBe('0500000045230100');
  });

  it('assembles the seccomp-tools diary filter to the published bytes', () => {
    const asm = new Assembler().load(0);
    for (const nr of [SYS.open, SYS.openat, SYS.execve, SYS.clone, SYS.fork, SYS.vfork, SYS.creat, SYS.execveat]) {
      const next = asm.label();
      asm.jump(BPF_JEQ, nr, null, next).ret(actionToRet(Action.KILL_THREAD)).bind(next);
    }
    const prog = asm.ret(actionToRet(Action.ALLOW)).assemble();
    expect(hexOf(encodeProgram(prog))).toBe(DIARY_HEX);
    expect(checkProgram(prog)).toBeUndefined();
  });

  it('assembles the seccomp-tools libseccomp example with labels to the published bytes', () => {
    const asm = new Assembler();
    const ok = asm.label('ok');
    const dead = asm.label('dead');
    asm.load(4).jump(BPF_JEQ, 0xc000003e, null, dead);
    asm.load(0).jump(BPF_JGE, 0x40000000, dead, null);
    for (const nr of [SYS.write, SYS.close, SYS.dup, SYS.exit]) asm.jump(BPF_JEQ, nr, ok, null);
    asm.ret(actionToRet(Action.ERRNO(5)));
    asm.bind(ok).ret(actionToRet(Action.ALLOW));
    asm.bind(dead).ret(actionToRet(Action.KILL_THREAD));
    expect([...encodeProgram(asm.assemble())]).toEqual(LIBSECCOMP_BYTES);
  });

  it('decodes what it encodes and rejects a ragged length', () => {
    const prog = decodeProgram(Uint8Array.from(LIBSECCOMP_BYTES));
    expect(prog).not.toBeInstanceOf(BpfError);
    const p = prog as SockFilter[];
    expect(p).toHaveLength(11);
    expect(p[1]).toEqual({ code: 0x15, jt: 0, jf: 8, k: 0xc000003e });
    expect([...encodeProgram(p)]).toEqual(LIBSECCOMP_BYTES);
    // A subarray at an offset decodes too (DataView over the right window).
    const shifted = new Uint8Array(LIBSECCOMP_BYTES.length + 3);
    shifted.set(LIBSECCOMP_BYTES, 3);
    expect(decodeProgram(shifted.subarray(3))).toEqual(p);
    expect(decodeProgram(new Uint8Array(12))).toBeInstanceOf(BpfError);
  });
});

describe('return values', () => {
  it('round-trips every action through its 32-bit encoding', () => {
    const all = [
      Action.ALLOW,
      Action.LOG,
      Action.KILL_PROCESS,
      Action.KILL_THREAD,
      Action.USER_NOTIF,
      Action.ERRNO(13),
      Action.TRAP(2),
      Action.TRACE(7),
    ];
    for (const a of all) expect(retToAction(actionToRet(a))).toEqual(a);
    expect(actionToRet(Action.USER_NOTIF)).toBe(0x7fc00000);
    expect(actionToRet(Action.LOG)).toBe(0x7ffc0000);
    expect(actionToRet(Action.TRACE(7))).toBe(0x7ff00007);
    expect(actionToRet(Action.TRAP())).toBe(0x00030000);
    expect(formatRet(0x00050539)).toBe('ERRNO(1337)');
    expect(formatRet(0)).toBe('KILL');
    expect(formatRet(0x12340000)).toBe('0x12340000');
    // Unknown actions are treated by the kernel as KILL_PROCESS.
    expect(retToAction(0x12340000)).toEqual(Action.KILL_PROCESS);
  });

  it('combines stacked filters like the kernel: the most restrictive action wins', () => {
    const r = (a: Parameters<typeof actionToRet>[0]) => actionToRet(a);
    expect(combineRets([r(Action.ALLOW), r(Action.ERRNO(1)), r(Action.LOG)])).toBe(r(Action.ERRNO(1)));
    expect(combineRets([r(Action.KILL_THREAD), r(Action.KILL_PROCESS)])).toBe(r(Action.KILL_PROCESS));
    expect(combineRets([r(Action.TRACE(1)), r(Action.TRAP())])).toBe(r(Action.TRAP()));
    expect(combineRets([])).toBe(r(Action.ALLOW));
  });
});

describe('validation (what seccomp(2) would refuse)', () => {
  const ret = stmt(BPF_RET | BPF_K, 0x7fff0000);
  const bad = (prog: SockFilter[], pc: number | undefined, msg: RegExp) => {
    const e = checkProgram(prog);
    expect(e).toBeInstanceOf(BpfError);
    expect(e!.pc).toBe(pc);
    expect(e!.message).toMatch(msg);
  };

  it('accepts a well-formed program', () => {
    expect(checkProgram([stmt(BPF_LD | BPF_W | BPF_ABS, 60), ret])).toBeUndefined();
  });
  it('rejects empty and oversized programs', () => {
    bad([], undefined, /empty/);
    bad(new Array<SockFilter>(4097).fill(ret), undefined, /4096/);
    expect(checkProgram(new Array<SockFilter>(4096).fill(ret))).toBeUndefined();
  });
  it('requires RET last', () => {
    bad([ret, stmt(BPF_LD | BPF_W | BPF_ABS, 0)], 1, /last instruction/);
  });
  it('rejects loads outside or misaligned in seccomp_data, and non-word loads', () => {
    bad([stmt(BPF_LD | BPF_W | BPF_ABS, 64), ret], 0, /outside/);
    bad([stmt(BPF_LD | BPF_W | BPF_ABS, 2), ret], 0, /unaligned/);
    bad([stmt(BPF_LD | BPF_B | BPF_ABS, 0), ret], 0, /not allowed/);
  });
  it('rejects jumps out of the program', () => {
    bad([jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 0), ret], 0, /leave/);
    bad([jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1), ret], 0, /leave/);
    bad([jump(BPF_JMP | BPF_JA, 1, 0, 0), ret], 0, /leave/);
    expect(checkProgram([jump(BPF_JMP | BPF_JA, 1, 0, 0), ret, ret])).toBeUndefined();
  });
  it('rejects constant division by zero, big shifts, MOD and bad memory slots', () => {
    bad([stmt(BPF_ALU | BPF_DIV | BPF_K, 0), ret], 0, /division/);
    bad([stmt(BPF_ALU | BPF_LSH | BPF_K, 32), ret], 0, /shift/);
    bad([stmt(BPF_ALU | BPF_MOD | BPF_K, 3), ret], 0, /not allowed/);
    bad([stmt(BPF_ST, 16), ret], 0, /slot 16/);
  });
  it('rejects a memory slot read on a path where it was never written', () => {
    bad([stmt(BPF_LD | BPF_MEM, 3), ret], 0, /read before written/);
    // Written only when the jump is taken; the fall-through path reaches the load unwritten.
    const partial = [
      jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
      stmt(BPF_ST, 3),
      stmt(BPF_LD | BPF_MEM, 3),
      ret,
    ];
    bad(partial, 2, /read before written/);
    expect(checkProgram([stmt(BPF_ST, 3), ...partial.slice(0)])).toBeUndefined();
  });
  it('makes the interpreter refuse what the kernel refuses', () => {
    expect(runFilter([stmt(BPF_LD | BPF_W | BPF_ABS, 64), ret], data(0))).toBeInstanceOf(BpfError);
  });
});

describe('assembler', () => {
  it('inserts long jumps when a conditional target is beyond 255 instructions', () => {
    const asm = new Assembler();
    const far = asm.label('far');
    const alsoFar = asm.label('alsoFar');
    asm.load(0).jump(BPF_JEQ, 7, far, null).jump(BPF_JEQ, 8, null, alsoFar);
    for (let i = 0; i < 300; i++) asm.load(16);
    asm.ret(actionToRet(Action.ERRNO(1)));
    asm.bind(far).ret(actionToRet(Action.ALLOW));
    asm.bind(alsoFar).ret(actionToRet(Action.ERRNO(2)));
    const prog = asm.assemble();
    expect(checkProgram(prog)).toBeUndefined();
    // Two trampolines: 3 + 2 + 300 + 3 instructions.
    expect(prog).toHaveLength(308);
    expect(prog.filter((i) => i.code === (BPF_JMP | BPF_JA))).toHaveLength(2);
    const act = (nr: number) => {
      const r = runFilter(prog, data(nr));
      if (r instanceof BpfError) throw new Error(r.toString());
      return r.action;
    };
    expect(act(7)).toEqual(Action.ALLOW);
    expect(act(8)).toEqual(Action.ERRNO(1));
    expect(act(9)).toEqual(Action.ERRNO(2));
  });

  it('handles both branches far, and jumps of exactly 255', () => {
    for (const gap of [254, 255, 256]) {
      const asm = new Assembler();
      const t = asm.label();
      const f = asm.label();
      asm.load(0).jump(BPF_JEQ, 1, t, f);
      for (let i = 0; i < gap; i++) asm.load(4);
      asm.bind(t).ret(actionToRet(Action.ALLOW));
      for (let i = 0; i < gap; i++) asm.load(4);
      asm.bind(f).ret(actionToRet(Action.KILL_PROCESS));
      const prog = asm.assemble();
      expect(checkProgram(prog)).toBeUndefined();
      const r1 = runFilter(prog, data(1));
      const r2 = runFilter(prog, data(2));
      expect(r1).toMatchObject({ action: Action.ALLOW });
      expect(r2).toMatchObject({ action: Action.KILL_PROCESS });
    }
  });

  it('throws on unbound labels and backward jumps (bugs in the caller)', () => {
    const a = new Assembler();
    a.jump(BPF_JEQ, 1, a.label('nowhere'), null).ret(0);
    expect(() => a.assemble()).toThrow(BpfAssembleError);
    const b = new Assembler();
    const top = b.label('top');
    b.bind(top).load(0).ja(top).ret(0);
    expect(() => b.assemble()).toThrow(/backward/);
    expect(() => new Assembler().stmt(BPF_JMP | BPF_JA, 0)).toThrow(BpfAssembleError);
  });
});

describe('interpreter', () => {
  it('reads seccomp_data words little-endian and reports the path taken', () => {
    const prog2 = new Assembler();
    const y2 = prog2.label();
    prog2.load(20).jump(BPF_JEQ, 0x11223344, null, y2).load(16).jump(BPF_JEQ, 0x55667788, null, y2);
    prog2.load(12).jump(BPF_JEQ, 0xaabbccdd, null, y2).ret(actionToRet(Action.ALLOW)).bind(y2).ret(actionToRet(Action.ERRNO(3)));
    const p = prog2.assemble();
    const r = runFilter(p, data(0, [0x1122334455667788n], 0xc000003e, 0xaabbccdd00000000n));
    expect(r).toEqual({ ret: 0x7fff0000, action: Action.ALLOW, path: [0, 1, 2, 3, 4, 5, 6] });
    expect(runFilter(p, data(0, [0x1122334455667789n]))).toMatchObject({ action: Action.ERRNO(3), path: [0, 1, 2, 3, 7] });
  });

  it('computes ALU operations, scratch memory and RET A', () => {
    const prog: SockFilter[] = [
      stmt(BPF_LD | BPF_W | BPF_ABS, 16), // A = args[0]
      stmt(BPF_ALU | 0x50, 0xff), // A &= 0xff
      stmt(BPF_ALU | 0x00, 0x50000), // A += ERRNO base
      stmt(BPF_ST, 2),
      stmt(BPF_LD | 0x00, 0), // A = 0
      stmt(BPF_LD | BPF_MEM, 2),
      stmt(BPF_RET | 0x10, 0), // return A
    ];
    expect(runFilter(prog, data(0, [0x1234n]))).toMatchObject({ ret: 0x50034, action: Action.ERRNO(0x34) });
  });
});
