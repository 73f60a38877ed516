import { describe, expect, it } from 'vitest';
import { SYS } from '../../sentry/abi/sysno.js';
import { Action, type SeccompAction } from '../../sentry/seccomp/action.js';
import { BPF_JA, BPF_JMP, BpfError, checkProgram, decodeProgram, type SockFilter } from '../../sentry/seccomp/bpf.js';
import { runFilter, type SeccompData } from '../../sentry/seccomp/interpreter.js';
import { Arg, SeccompBuildError, SyscallFilter, type ArgCmp } from '../../sentry/seccomp/rules.js';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const M64 = (1n << 64n) - 1n;

// Deterministic PRNG (mulberry32) so a failure reproduces.
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const u64 = () => (BigInt(Math.floor(next() * 2 ** 32)) << 32n) | BigInt(Math.floor(next() * 2 ** 32));
  return { int, pick, u64, next };
}

// The rule model, evaluated here independently of the builder.
interface ModelRule {
  sysno: number;
  action: SeccompAction;
  conds: [number, string, bigint, bigint][]; // [arg, op, value, mask]
}

function condHolds(op: string, v: bigint, value: bigint, mask: bigint): boolean {
  switch (op) {
    case 'eq':
      return v === value;
    case 'ne':
      return v !== value;
    case 'gt':
      return v > value;
    case 'ge':
      return v >= value;
    case 'lt':
      return v < value;
    case 'le':
      return v <= value;
    default:
      return (v & mask) === value;
  }
}

interface Model {
  rules: ModelRule[];
  dflt: SeccompAction;
  badArch: SeccompAction;
  ip?: { ranges: { start: bigint; end: bigint }[]; otherwise: SeccompAction };
}

function expected(m: Model, d: SeccompData): SeccompAction {
  if (d.arch !== X86_64 || d.nr >>> 0 >= 0x40000000) return m.badArch;
  if (m.ip && !m.ip.ranges.some((r) => d.instructionPointer >= r.start && d.instructionPointer < r.end)) return m.ip.otherwise;
  for (const r of m.rules) {
    if (r.sysno !== d.nr) continue;
    if (r.conds.every(([i, op, value, mask]) => condHolds(op, BigInt.asUintN(64, d.args[i] ?? 0n), value, mask))) return r.action;
  }
  return m.dflt;
}

function build(m: Model): SyscallFilter {
  const f = new SyscallFilter({ defaultAction: m.dflt, badArchAction: m.badArch });
  for (const r of m.rules) {
    const matchers: (ArgCmp | undefined)[] = [];
    for (const [i, op, value, mask] of r.conds) {
      matchers[i] =
        op === 'maskedEq' ? Arg.maskedEq(mask, value) : Arg[op as 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'](value);
    }
    f.add(r.sysno, r.action, matchers);
  }
  if (m.ip) f.requireInstructionPointer(m.ip.ranges, m.ip.otherwise);
  return f;
}

function actual(prog: SockFilter[], d: SeccompData): SeccompAction {
  const r = runFilter(prog, d);
  if (r instanceof BpfError) throw new Error(r.toString());
  return r.action;
}

const ACTIONS = [
  Action.ALLOW,
  Action.ERRNO(1),
  Action.ERRNO(13),
  Action.TRAP(),
  Action.LOG,
  Action.KILL_THREAD,
  Action.TRACE(7),
  Action.USER_NOTIF,
  Action.KILL_PROCESS,
];
const VALUES = [0n, 1n, 2n, 0xffn, 0x5401n, 0xffffffffn, 0x100000000n, 0x100000005n, 0x7fffffffffffffffn, M64, M64 - 99n];
const OPS = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'maskedEq'];

function randomModel(r: ReturnType<typeof rng>, nSys: number, sysPool: number, maxAlts = 3, maxConds = 2): Model {
  const rules: ModelRule[] = [];
  const sys = new Set<number>();
  while (sys.size < nSys) sys.add(r.int(sysPool));
  for (const sysno of sys) {
    const alts = 1 + r.int(maxAlts);
    for (let a = 0; a < alts; a++) {
      const conds: ModelRule['conds'] = [];
      const nConds = r.int(maxConds + 1);
      const used = new Set<number>();
      for (let c = 0; c < nConds; c++) {
        const i = r.int(6);
        if (used.has(i)) continue;
        used.add(i);
        const op = r.pick(OPS);
        const mask = op === 'maskedEq' ? r.pick([0xffn, 0xff00000000n, 0x3n, M64, 0xf0000000fn]) : 0n;
        const value = op === 'maskedEq' ? r.pick(VALUES) & mask : r.pick(VALUES);
        conds.push([i, op, value, mask]);
      }
      rules.push({ sysno, action: r.pick(ACTIONS), conds });
    }
  }
  // Interleave syscalls so one syscall's alternatives are not always adjacent in insertion.
  rules.sort(() => r.next() - 0.5);
  return { rules, dflt: r.pick(ACTIONS), badArch: r.pick([Action.KILL_PROCESS, Action.ERRNO(38), Action.TRAP()]) };
}

// Probe arguments that sit on and around the rules' constants, in both 32-bit halves.
function randomArg(r: ReturnType<typeof rng>, m: Model): bigint {
  const consts = m.rules.flatMap((x) => x.conds.map((c) => c[2]));
  const base = consts.length > 0 && r.next() < 0.8 ? r.pick(consts) : r.pick(VALUES);
  switch (r.int(7)) {
    case 0:
      return r.u64();
    case 1:
      return (base + 1n) & M64;
    case 2:
      return (base - 1n) & M64;
    case 3:
      return base ^ (1n << BigInt(32 + r.int(32)));
    case 4:
      return base ^ BigInt(1 << r.int(31));
    default:
      return base;
  }
}

function probe(r: ReturnType<typeof rng>, m: Model, sysPool: number): SeccompData {
  const sysnos = m.rules.map((x) => x.sysno);
  const roll = r.next();
  const nr = roll < 0.8 ? r.pick(sysnos) : roll < 0.95 ? r.int(sysPool + 10) : 0x40000000 + r.int(600);
  const args = Array.from({ length: 6 }, () => randomArg(r, m));
  const arch = r.next() < 0.97 ? X86_64 : I386;
  const ip = r.pick([0x1000n, 0x1fffn, 0x2000n, 0x7fff00001000n, r.u64()]);
  return { nr, arch, instructionPointer: ip, args };
}

describe('SyscallFilter compiled program agrees with the rule semantics', () => {
  it('for random rule sets and hundreds of random syscalls each', () => {
    const r = rng(0x5eccc0);
    let checked = 0;
    for (let round = 0; round < 25; round++) {
      const m = randomModel(r, 1 + r.int(40), 460);
      if (round % 3 === 0) m.ip = { ranges: [{ start: 0x1000n, end: 0x2000n }, { start: 0x7fff00000000n, end: 0x7fff00002000n }], otherwise: Action.KILL_PROCESS };
      const prog = build(m).program();
      expect(checkProgram(prog)).toBeUndefined();
      for (let i = 0; i < 300; i++) {
        const d = probe(r, m, 460);
        const want = expected(m, d);
        const got = actual(prog, d);
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          throw new Error(`round ${round}: nr=${d.nr} args=${d.args.map((a) => a.toString(16))} ip=${d.instructionPointer.toString(16)}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
        }
        checked++;
      }
    }
    expect(checked).toBe(25 * 300);
  });

  it('with more than 300 conditional rules, using long jumps the kernel accepts', () => {
    const r = rng(42);
    const m = randomModel(r, 330, 450, 1, 1);
    for (const rule of m.rules) if (rule.conds.length === 0) rule.conds.push([1, 'eq', 0x5401n, 0n]);
    const prog = build(m).program();
    expect(checkProgram(prog)).toBeUndefined();
    expect(prog.length).toBeGreaterThan(1000);
    expect(prog.length).toBeLessThanOrEqual(4096);
    // Trampolines were needed: the search tree's targets lie over 255 instructions away.
    expect(prog.some((i) => i.code === (BPF_JMP | BPF_JA) && i.k > 255)).toBe(true);
    for (let i = 0; i < 600; i++) {
      const d = probe(r, m, 450);
      expect(actual(prog, d)).toEqual(expected(m, d));
    }
  });

  it('looks syscalls up by binary search, not a linear chain', () => {
    // 300 syscalls with alternating actions: no two neighbours merge into one range.
    const f = new SyscallFilter({ defaultAction: Action.KILL_PROCESS });
    for (let nr = 0; nr < 300; nr++) f.add(nr, nr % 2 ? Action.ALLOW : Action.ERRNO(nr));
    const prog = f.program();
    let longest = 0;
    for (let nr = 0; nr < 310; nr++) {
      const res = runFilter(prog, { nr, arch: X86_64, instructionPointer: 0n, args: [] });
      if (res instanceof BpfError) throw new Error(res.toString());
      expect(res.action).toEqual(nr >= 300 ? Action.KILL_PROCESS : nr % 2 ? Action.ALLOW : Action.ERRNO(nr));
      longest = Math.max(longest, res.path.length);
    }
    expect(longest).toBeLessThan(30);
  });

  it('merges neighbouring syscalls with the same action into ranges', () => {
    const f = new SyscallFilter({ defaultAction: Action.ERRNO(1) });
    for (let nr = 0; nr <= 450; nr++) if (nr !== SYS.ptrace) f.allow(nr);
    const prog = f.program();
    expect(prog.length).toBeLessThan(20);
    const act = (nr: number) => actual(prog, { nr, arch: X86_64, instructionPointer: 0n, args: [] });
    expect(act(SYS.read)).toEqual(Action.ALLOW);
    expect(act(SYS.ptrace)).toEqual(Action.ERRNO(1));
    expect(act(SYS.ptrace + 1)).toEqual(Action.ALLOW);
    expect(act(451)).toEqual(Action.ERRNO(1));
  });
});

describe('SyscallFilter rules', () => {
  const call = (prog: SockFilter[], nr: number, args: bigint[] = [], extra: Partial<SeccompData> = {}) =>
    actual(prog, { nr, arch: X86_64, instructionPointer: 0n, args, ...extra });

  it('checks the arch first and rejects x32 numbers', () => {
    const prog = new SyscallFilter({ defaultAction: Action.ALLOW }).program();
    expect(call(prog, SYS.read)).toEqual(Action.ALLOW);
    expect(call(prog, 0x40000000 + SYS.read)).toEqual(Action.KILL_PROCESS);
    expect(call(prog, -1)).toEqual(Action.KILL_PROCESS); // nr -1 is 0xffffffff
    expect(call(prog, SYS.read, [], { arch: I386 })).toEqual(Action.KILL_PROCESS);
  });

  it('compares full 64-bit arguments, including negative numbers', () => {
    const prog = new SyscallFilter({ defaultAction: Action.ERRNO(1) })
      .allow(SYS.openat, [Arg.eq(-100)])
      .allow(SYS.mmap, { 2: Arg.bitsClear(0x4) }) // no PROT_EXEC
      .allow(SYS.lseek, [undefined, Arg.le(0xffffffff)])
      .program();
    expect(call(prog, SYS.openat, [0xffffffffffffff9cn])).toEqual(Action.ALLOW);
    expect(call(prog, SYS.openat, [0xffffff9cn])).toEqual(Action.ERRNO(1));
    expect(call(prog, SYS.mmap, [0n, 4096n, 3n])).toEqual(Action.ALLOW);
    expect(call(prog, SYS.mmap, [0n, 4096n, 7n])).toEqual(Action.ERRNO(1));
    expect(call(prog, SYS.lseek, [3n, 0xffffffffn])).toEqual(Action.ALLOW);
    expect(call(prog, SYS.lseek, [3n, 0x100000000n])).toEqual(Action.ERRNO(1));
  });

  it('admits syscalls only from the instruction pointer ranges given', () => {
    const prog = new SyscallFilter({ defaultAction: Action.ALLOW })
      .requireInstructionPointer([{ start: 0x7fff_0000_0000n, end: 0x7fff_0000_1000n }], Action.KILL_PROCESS)
      .program();
    expect(call(prog, SYS.getpid, [], { instructionPointer: 0x7fff_0000_0002n })).toEqual(Action.ALLOW);
    expect(call(prog, SYS.getpid, [], { instructionPointer: 0x7fff_0000_1000n })).toEqual(Action.KILL_PROCESS);
    expect(call(prog, SYS.getpid, [], { instructionPointer: 0x7ffe_ffff_ffffn })).toEqual(Action.KILL_PROCESS);
    expect(call(prog, SYS.getpid, [], { instructionPointer: 0x0000_0000_0002n })).toEqual(Action.KILL_PROCESS);
  });

  it('compiles to the struct sock_filter bytes of its program', () => {
    const f = new SyscallFilter({ defaultAction: Action.KILL_PROCESS }).allow(SYS.read).allow(SYS.write);
    const bytes = f.compile();
    expect(bytes.length).toBe(f.program().length * 8);
    expect(decodeProgram(bytes)).toEqual(f.program());
  });

  it('refuses bad rules and filters the kernel would not take', () => {
    const f = () => new SyscallFilter({ defaultAction: Action.ALLOW });
    expect(() => f().allow(-1)).toThrow(SeccompBuildError);
    expect(() => f().allow(0x40000000)).toThrow(SeccompBuildError);
    expect(() => f().allow(1.5)).toThrow(SeccompBuildError);
    expect(() => f().allow(0, { 6: Arg.eq(1) })).toThrow(SeccompBuildError);
    expect(() => Arg.eq(1n << 64n)).toThrow(SeccompBuildError);
    expect(() => f().requireInstructionPointer([{ start: 10n, end: 10n }], Action.KILL_PROCESS)).toThrow(SeccompBuildError);
    const big = f();
    for (let nr = 0; nr < 450; nr++) for (let v = 0; v < 3; v++) big.add(nr, Action.ERRNO(1), [Arg.gt(v), Arg.lt(v + 1000), Arg.ne(v)]);
    expect(() => big.program()).toThrow(/4096/);
  });
});
