import { describe, expect, it } from 'vitest';
import { SYS } from '../../sentry/abi/sysno.js';
import { Action } from '../../sentry/seccomp/action.js';
import { BpfError, decodeProgram, jump, stmt, type SockFilter } from '../../sentry/seccomp/bpf.js';
import { disassemble, dumpFilter, formatSummary, summarize, type FilterSummary } from '../../sentry/seccomp/dump.js';
import { Arg, SyscallFilter } from '../../sentry/seccomp/rules.js';

const HEADER = ' line  CODE  JT   JF      K\n=================================\n';

const fromBytes = (bytes: number[]): SockFilter[] => {
  const p = decodeProgram(Uint8Array.from(bytes));
  if (p instanceof BpfError) throw new Error(p.toString());
  return p;
};

const sum = (prog: SockFilter[]): FilterSummary => {
  const s = summarize(prog);
  if (s instanceof BpfError) throw new Error(s.toString());
  return s;
};

describe('disassemble matches seccomp-tools output', () => {
  it('for the libseccomp example in seccomp-tools README', () => {
    const prog = fromBytes([
      32, 0, 0, 0, 4, 0, 0, 0, 21, 0, 0, 8, 62, 0, 0, 192, 32, 0, 0, 0, 0, 0, 0, 0, 53, 0, 6, 0, 0, 0, 0, 64, 21, 0, 4, 0, 1, 0, 0,
      0, 21, 0, 3, 0, 3, 0, 0, 0, 21, 0, 2, 0, 32, 0, 0, 0, 21, 0, 1, 0, 60, 0, 0, 0, 6, 0, 0, 0, 5, 0, 5, 0, 6, 0, 0, 0, 0, 0, 255,
      127, 6, 0, 0, 0, 0, 0, 0, 0,
    ]);
    expect(disassemble(prog)).toBe(
      HEADER +
        ' 0000: 0x20 0x00 0x00 0x00000004  A = arch\n' +
        ' 0001: 0x15 0x00 0x08 0xc000003e  if (A != ARCH_X86_64) goto 0010\n' +
        ' 0002: 0x20 0x00 0x00 0x00000000  A = sys_number\n' +
        ' 0003: 0x35 0x06 0x00 0x40000000  if (A >= 0x40000000) goto 0010\n' +
        ' 0004: 0x15 0x04 0x00 0x00000001  if (A == write) goto 0009\n' +
        ' 0005: 0x15 0x03 0x00 0x00000003  if (A == close) goto 0009\n' +
        ' 0006: 0x15 0x02 0x00 0x00000020  if (A == dup) goto 0009\n' +
        ' 0007: 0x15 0x01 0x00 0x0000003c  if (A == exit) goto 0009\n' +
        ' 0008: 0x06 0x00 0x00 0x00050005  return ERRNO(5)\n' +
        ' 0009: 0x06 0x00 0x00 0x7fff0000  return ALLOW\n' +
        ' 0010: 0x06 0x00 0x00 0x00000000  return KILL\n',
    );
  });

  it('for the syntax example in seccomp-tools README (X, args, JSET, memory)', () => {
    const prog: SockFilter[] = [
      jump(0x1d, 0, 0, 7),
      stmt(0x20, 0x10),
      jump(0x15, 0x123, 6, 0),
      jump(0x45, 0x1337, 2, 0),
      stmt(0x20, 0),
      stmt(0x20, 0xc),
      stmt(0x02, 0),
      stmt(0x20, 4),
      stmt(0x06, 0x50539),
      stmt(0x06, 0),
    ];
    expect(disassemble(prog)).toBe(
      HEADER +
        ' 0000: 0x1d 0x00 0x07 0x00000000  if (A != X) goto 0008\n' +
        ' 0001: 0x20 0x00 0x00 0x00000010  A = args[0]\n' +
        ' 0002: 0x15 0x06 0x00 0x00000123  if (A == 0x123) goto 0009\n' +
        ' 0003: 0x45 0x02 0x00 0x00001337  if (A & 0x1337) goto 0006\n' +
        ' 0004: 0x20 0x00 0x00 0x00000000  A = sys_number\n' +
        ' 0005: 0x20 0x00 0x00 0x0000000c  A = instruction_pointer >> 32\n' +
        ' 0006: 0x02 0x00 0x00 0x00000000  mem[0] = A\n' +
        ' 0007: 0x20 0x00 0x00 0x00000004  A = arch\n' +
        ' 0008: 0x06 0x00 0x00 0x00050539  return ERRNO(1337)\n' +
        ' 0009: 0x06 0x00 0x00 0x00000000  return KILL\n',
    );
  });

  it('spells the remaining instruction forms', () => {
    const prog: SockFilter[] = [
      stmt(0x00, 7), // A = imm
      stmt(0x01, 9), // X = imm
      stmt(0x54, 0xff), // A &= k
      stmt(0x7c, 0), // A >>= X
      stmt(0x84, 0), // A = -A
      stmt(0x07, 0), // X = A
      stmt(0x87, 0), // A = X
      stmt(0x03, 2), // mem[2] = X
      stmt(0x61, 2), // X = mem[2]
      jump(0x25, 5, 1, 1), // both branches
      jump(0x45, 8, 0, 1), // !(A & k)
      stmt(0x16, 0), // return A
      stmt(0x06, 0x80000000),
      stmt(0x06, 0x7fc00000),
      stmt(0x06, 0x7ff00005),
      stmt(0x06, 0x00030000),
      stmt(0x06, 0x7ffc0000),
    ];
    const lines = disassemble(prog).split('\n').slice(2, -1).map((l) => l.slice(34));
    expect(lines).toEqual([
      'A = 0x7',
      'X = 0x9',
      'A &= 0xff',
      'A >>= X',
      'A = -A',
      'X = A',
      'A = X',
      'mem[2] = X',
      'X = mem[2]',
      'if (A > 0x5) goto 0011 else goto 0011',
      'if (!(A & 0x8)) goto 0012',
      'return A',
      'return KILL_PROCESS',
      'return USER_NOTIF',
      'return TRACE(5)',
      'return TRAP',
      'return LOG',
    ]);
  });
});

// The filter the Gofer-style audit examples use: small, with argument conditions.
function smallFilter(): SyscallFilter {
  return new SyscallFilter({ defaultAction: Action.KILL_PROCESS })
    .allow(SYS.read)
    .allow(SYS.write)
    .allow(SYS.close)
    .allow(SYS.ioctl, [undefined, Arg.eq(0x5401)])
    .allow(SYS.fcntl, [undefined, Arg.ge(0x100000000n)])
    .add(SYS.ptrace, Action.ERRNO(1));
}

describe('dump of a SyscallFilter', () => {
  it('disassembles the compiled filter line by line', () => {
    expect(disassemble(smallFilter().program())).toBe(
      HEADER +
        ' 0000: 0x20 0x00 0x00 0x00000004  A = arch\n' +
        ' 0001: 0x15 0x00 0x15 0xc000003e  if (A != ARCH_X86_64) goto 0023\n' +
        ' 0002: 0x20 0x00 0x00 0x00000000  A = sys_number\n' +
        ' 0003: 0x35 0x13 0x00 0x40000000  if (A >= 0x40000000) goto 0023\n' +
        ' 0004: 0x35 0x04 0x00 0x00000010  if (A >= ioctl) goto 0009\n' +
        ' 0005: 0x25 0x01 0x00 0x00000001  if (A > write) goto 0007\n' +
        ' 0006: 0x05 0x00 0x00 0x00000011  goto 0024\n' +
        ' 0007: 0x15 0x10 0x00 0x00000003  if (A == close) goto 0024\n' +
        ' 0008: 0x05 0x00 0x00 0x0000000e  goto 0023\n' +
        ' 0009: 0x15 0x03 0x00 0x00000010  if (A == ioctl) goto 0013\n' +
        ' 0010: 0x15 0x08 0x00 0x00000048  if (A == fcntl) goto 0019\n' +
        ' 0011: 0x15 0x0d 0x00 0x00000065  if (A == ptrace) goto 0025\n' +
        ' 0012: 0x05 0x00 0x00 0x0000000a  goto 0023\n' +
        ' 0013: 0x20 0x00 0x00 0x0000001c  A = args[1] >> 32\n' +
        ' 0014: 0x15 0x00 0x03 0x00000000  if (A != 0x0) goto 0018\n' +
        ' 0015: 0x20 0x00 0x00 0x00000018  A = args[1]\n' +
        ' 0016: 0x15 0x00 0x01 0x00005401  if (A != 0x5401) goto 0018\n' +
        ' 0017: 0x05 0x00 0x00 0x00000006  goto 0024\n' +
        ' 0018: 0x05 0x00 0x00 0x00000004  goto 0023\n' +
        ' 0019: 0x20 0x00 0x00 0x0000001c  A = args[1] >> 32\n' +
        ' 0020: 0x35 0x00 0x01 0x00000001  if (A < 0x1) goto 0022\n' +
        ' 0021: 0x05 0x00 0x00 0x00000002  goto 0024\n' +
        ' 0022: 0x05 0x00 0x00 0x00000000  goto 0023\n' +
        ' 0023: 0x06 0x00 0x00 0x80000000  return KILL_PROCESS\n' +
        ' 0024: 0x06 0x00 0x00 0x7fff0000  return ALLOW\n' +
        ' 0025: 0x06 0x00 0x00 0x00050001  return ERRNO(1)\n',
    );
  });

  it('summarizes which syscalls are allowed and under which argument conditions', () => {
    const s = sum(smallFilter().program());
    expect(formatSummary(s)).toBe(
      '26 instructions\n' +
        'other architectures: KILL_PROCESS\n' +
        'x32 syscalls: KILL_PROCESS\n' +
        'ALLOW: read write close\n' +
        'ERRNO(1): ptrace\n' +
        'ioctl:\n' +
        '  ALLOW if args[1] == 0x5401\n' +
        '  KILL_PROCESS otherwise\n' +
        'fcntl:\n' +
        '  ALLOW if args[1].hi >= 0x1\n' +
        '  KILL_PROCESS otherwise\n' +
        'everything else: KILL_PROCESS\n',
    );
    expect(s.syscalls.map((x) => x.name)).toEqual(['read', 'write', 'close', 'ioctl', 'fcntl', 'ptrace']);
    expect(s.default).toEqual([{ ret: 0x80000000, conditions: [] }]);
  });

  it('factors a condition every syscall shares (the stub code-page guard) into the default', () => {
    const prog = new SyscallFilter({ defaultAction: Action.ALLOW })
      .requireInstructionPointer([{ start: 0x7fff_0000_0000n, end: 0x7fff_0000_1000n }], Action.KILL_PROCESS)
      .program();
    expect(formatSummary(sum(prog))).toBe(
      `${prog.length} instructions\n` +
        'other architectures: KILL_PROCESS\n' +
        'x32 syscalls: KILL_PROCESS\n' +
        'everything else:\n' +
        '  ALLOW if ip.hi == 0x7fff && ip.lo < 0x1000\n' +
        '  KILL_PROCESS otherwise\n',
    );
  });

  it('groups unnamed syscall numbers into ranges and reports an unchecked arch', () => {
    // No arch check at all: the summary must say the i386 outcome depends on the number.
    const prog: SockFilter[] = [stmt(0x20, 0), jump(0x35, 500, 1, 0), stmt(0x06, 0x7fff0000), stmt(0x06, 0x50026)];
    const s = sum(prog);
    expect(s.otherArch).toBeUndefined();
    expect(formatSummary(s)).toBe(
      '4 instructions\n' +
        'other architectures: depends on the syscall number\n' +
        'x32 syscalls: ERRNO(38)\n' +
        'ERRNO(38): 0x1f4-0x3fffffff\n' +
        'everything else: ALLOW\n',
    );
  });

  it('prints both views from raw bytes, and says why bad bytes are not a filter', () => {
    const bytes = smallFilter().compile();
    const out = dumpFilter(bytes);
    expect(out.startsWith(HEADER + ' 0000: 0x20 0x00 0x00 0x00000004  A = arch\n')).toBe(true);
    expect(out).toContain('\n26 instructions\n');
    expect(out.endsWith('everything else: KILL_PROCESS\n')).toBe(true);
    expect(dumpFilter(bytes.subarray(0, 12))).toBe('invalid filter: length 12 is not a multiple of 8\n');
    // Valid bytes, but the last instruction is not a RET: disassembled, then refused.
    expect(dumpFilter(bytes.subarray(0, 8))).toBe(`${HEADER} 0000: 0x20 0x00 0x00 0x00000004  A = arch\n\ninvalid filter: last instruction is not RET (at 0)\n`);
    expect(dumpFilter(bytes.subarray(0, 16))).toMatch(/\n\ninvalid filter: jump offsets 0\/21 leave the program \(at 1\)\n$/);
  });
});
