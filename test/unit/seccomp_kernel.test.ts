// The host kernel is the reference: a python3 ctypes helper (no native code of ours)
// installs the compiled bytes with seccomp(2) and makes syscalls; the interpreter must
// have predicted every outcome.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SYS } from '../../sentry/abi/sysno.js';
import { Action, type SeccompAction } from '../../sentry/seccomp/action.js';
import { BpfError, decodeProgram } from '../../sentry/seccomp/bpf.js';
import { runFilter } from '../../sentry/seccomp/interpreter.js';
import { Arg, SyscallFilter } from '../../sentry/seccomp/rules.js';

const HELPER = String.raw`
import ctypes, json, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
class Fprog(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]
filt = bytes.fromhex(sys.argv[1])
buf = ctypes.create_string_buffer(filt, len(filt))
prog = Fprog(len(filt) // 8, ctypes.addressof(buf))
probes = json.loads(sys.stdin.read())
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
    sys.exit(3)
if libc.syscall(ctypes.c_long(317), ctypes.c_long(1), ctypes.c_long(0), ctypes.byref(prog)) != 0:
    print(json.dumps({'installErrno': ctypes.get_errno()}))
    sys.exit(0)
out = []
for p in probes:
    args = [ctypes.c_ulong(int(a)) for a in p['args']]
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(p['nr']), *args)
    out.append(-ctypes.get_errno() if r == -1 else r)
print(json.dumps({'results': out}))
`;

interface Probe {
  nr: number;
  args: bigint[];
}

function runInKernel(bytes: Uint8Array, probes: Probe[]) {
  const r = spawnSync('python3', ['-c', HELPER, Buffer.from(bytes).toString('hex')], {
    input: JSON.stringify(probes.map((p) => ({ nr: p.nr, args: p.args.map(String) }))),
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, signal: r.signal, out: r.stdout ? (JSON.parse(r.stdout) as { installErrno?: number; results?: number[] }) : undefined, stderr: r.stderr };
}

function predict(bytes: Uint8Array, p: Probe): SeccompAction {
  const prog = decodeProgram(bytes);
  if (prog instanceof BpfError) throw new Error(prog.toString());
  // The helper's syscalls come from libc's code, whatever the address: ip plays no part here.
  const r = runFilter(prog, { nr: p.nr, arch: 0xc000003e, instructionPointer: 0n, args: p.args });
  if (r instanceof BpfError) throw new Error(r.toString());
  return r.action;
}

// Errnos these probe syscalls never return on their own, so a match proves the filter acted.
const ENOMSG = 42;
const ENODATA = 61;
const EBADFD = 77;
const EL2HLT = 51;

function probeFilter(extraRules: number): SyscallFilter {
  const f = new SyscallFilter({ defaultAction: Action.ALLOW });
  // Rules that never match in practice but push the interesting bodies far down the program.
  for (let i = 0; i < extraRules; i++) {
    const nr = 300 + (i % 150);
    f.add(nr, Action.ERRNO(1), [Arg.eq(0xdead_0000_0000n + BigInt(i)), undefined, Arg.gt(5)]);
  }
  return f
    .add(SYS.getppid, Action.ERRNO(ENOMSG))
    .add(SYS.getpgid, Action.ERRNO(ENODATA), [Arg.eq(0x1_0000_0005n)])
    .add(SYS.getpriority, Action.ERRNO(EBADFD), [Arg.ne(0), Arg.lt(0x1_0000_0000n)])
    .add(SYS.lseek, Action.ERRNO(EL2HLT), [undefined, Arg.gt(0x10), Arg.maskedEq(0x3, 0x1)]);
}

const PROBES: Probe[] = [
  { nr: SYS.getppid, args: [] },
  { nr: SYS.getpgid, args: [0x1_0000_0005n] },
  { nr: SYS.getpgid, args: [0x5n] },
  { nr: SYS.getpgid, args: [0x2_0000_0005n] },
  { nr: SYS.getpriority, args: [0n, 0n] },
  { nr: SYS.getpriority, args: [1n, 0n] },
  { nr: SYS.getpriority, args: [1n, 0x1_0000_0000n] },
  { nr: SYS.getpriority, args: [0x1_0000_0000n, 0xffff_ffffn] },
  { nr: SYS.lseek, args: [0xffff_ffffn, 0x11n, 0x5n] },
  { nr: SYS.lseek, args: [0xffff_ffffn, 0x11n, 0x6n] },
  { nr: SYS.lseek, args: [0xffff_ffffn, 0x10n, 0x1n] },
  { nr: SYS.lseek, args: [0xffff_ffffn, 0x1_0000_0000n, 0x1_0000_0001n] },
];

function checkAgainstKernel(f: SyscallFilter): void {
  const bytes = f.compile();
  const r = runInKernel(bytes, PROBES);
  expect(r.stderr).toBe('');
  expect(r.out?.installErrno).toBeUndefined();
  const results = r.out!.results!;
  expect(results).toHaveLength(PROBES.length);
  let denied = 0;
  PROBES.forEach((p, i) => {
    const want = predict(bytes, p);
    const got = results[i]!;
    if (want.kind === 'ERRNO') {
      expect(got, `probe ${i}`).toBe(-want.data);
      denied++;
    } else {
      expect(want.kind).toBe('ALLOW');
      expect([-ENOMSG, -ENODATA, -EBADFD, -EL2HLT], `probe ${i}`).not.toContain(got);
    }
  });
  // The probe set exercises both verdicts.
  expect(denied).toBe(6);
}

describe('compiled filters under the real kernel', () => {
  it('installs and decides every probe as the interpreter predicts', () => {
    checkAgainstKernel(probeFilter(0));
  });

  it('accepts a filter of 300+ rules with long jumps and still decides alike', () => {
    const f = probeFilter(320);
    const prog = f.program();
    expect(prog.length).toBeGreaterThan(2000);
    expect(prog.some((i) => i.code === 0x05 && i.k > 255)).toBe(true);
    checkAgainstKernel(f);
  });

  it('kills the process on a KILL_PROCESS verdict', () => {
    const f = new SyscallFilter({ defaultAction: Action.ALLOW }).add(SYS.getppid, Action.KILL_PROCESS);
    const r = runInKernel(f.compile(), [{ nr: SYS.getppid, args: [] }]);
    expect(r.signal).toBe('SIGSYS');
  });

  it('refuses what our checker refuses', () => {
    // The assembler cannot produce this; hand-made: last instruction is a load.
    const r = runInKernel(Uint8Array.from([0x20, 0, 0, 0, 0, 0, 0, 0]), []);
    expect(r.out?.installErrno).toBe(22); // EINVAL
  });
});
