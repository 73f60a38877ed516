// The Sentry's seccomp allowlist, run through the BPF interpreter: what the runtime and the
// ptrace platform need passes, path opens are refused, and what only a compromised Sentry
// would do (exec, fork, attach to other processes, namespaces, mounts) kills it.

import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { SYS } from '../../sentry/abi/sysno.js';
import { Action, type SeccompAction } from '../../sentry/seccomp/action.js';
import { BpfError } from '../../sentry/seccomp/bpf.js';
import { runFilter } from '../../sentry/seccomp/interpreter.js';
import { sentrySeccompFilter } from '../../sentry/confine/policy.js';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const prog = sentrySeccompFilter().program();

function decide(nr: number, args: bigint[] = [], arch = X86_64): SeccompAction {
  const r = runFilter(prog, { nr, arch, instructionPointer: 0x7f0000001000n, args });
  if (r instanceof BpfError) throw new Error(r.toString());
  return r.action;
}

const CLONE_THREAD_FLAGS = 0x3d0f00n; // what glibc's pthread_create passes
const SIGCHLD = 17n;

describe('the Sentry seccomp filter', () => {
  it('lets the runtime run: memory, threads, event loop, I/O on held fds', () => {
    for (const nr of [SYS.read, SYS.write, SYS.mmap, SYS.futex, SYS.epoll_pwait, SYS.memfd_create, SYS.sendto, SYS.recvmsg, SYS.exit_group]) {
      expect(decide(nr)).toEqual(Action.ALLOW);
    }
    expect(decide(SYS.clone, [CLONE_THREAD_FLAGS])).toEqual(Action.ALLOW);
    expect(decide(SYS.clone3)).toEqual(Action.ERRNO(E.ENOSYS));
    expect(decide(SYS.io_uring_setup)).toEqual(Action.ERRNO(E.ENOSYS));
  });

  it('lets the platform drive its stubs, but never attach to another process', () => {
    for (const req of [7n, 12n, 13n, 0x4201n, 0x4202n, 0x4204n, 0x4205n, 31n, 32n]) expect(decide(SYS.ptrace, [req])).toEqual(Action.ALLOW);
    for (const req of [16n /* ATTACH */, 0x4206n /* SEIZE */, 0n /* TRACEME */, 5n /* POKEDATA */]) {
      expect(decide(SYS.ptrace, [req])).toEqual(Action.KILL_PROCESS);
    }
    expect(decide(SYS.wait4)).toEqual(Action.ALLOW);
    expect(decide(SYS.process_vm_writev)).toEqual(Action.KILL_PROCESS);
  });

  it('refuses path opens and unknown ioctls and prctls without killing', () => {
    for (const nr of [SYS.open, SYS.openat, SYS.openat2, SYS.creat]) expect(decide(nr, [0xffffff9cn])).toEqual(Action.ERRNO(E.EACCES));
    expect(decide(SYS.ioctl, [1n, 0x5413n])).toEqual(Action.ALLOW);
    expect(decide(SYS.ioctl, [1n, 0x80045430n])).toEqual(Action.ERRNO(E.EPERM));
    expect(decide(SYS.prctl, [15n])).toEqual(Action.ALLOW);
    expect(decide(SYS.prctl, [8n /* PR_SET_KEEPCAPS */])).toEqual(Action.ERRNO(E.EPERM));
    expect(decide(SYS.socket, [17n /* AF_PACKET */, 3n, 0n])).toEqual(Action.ERRNO(E.EPERM));
  });

  it('kills on exec, fork, namespace and mount changes, privilege changes and other ABIs', () => {
    for (const nr of [SYS.execve, SYS.execveat, SYS.fork, SYS.vfork, SYS.mount, SYS.umount2, SYS.pivot_root, SYS.setns, SYS.unshare,
      SYS.setuid, SYS.capset, SYS.init_module, SYS.bpf, SYS.seccomp]) {
      expect(decide(nr)).toEqual(Action.KILL_PROCESS);
    }
    expect(decide(SYS.clone, [SIGCHLD])).toEqual(Action.KILL_PROCESS);
    expect(decide(SYS.getpid, [], I386)).toEqual(Action.KILL_PROCESS);
    expect(decide(SYS.getpid + 0x40000000)).toEqual(Action.KILL_PROCESS);
  });
});
