// The Gofer's seccomp allowlist: what Node's event loop, V8's threads and the file server
// need after confinement, and nothing else. No exec, no fork (clone only makes threads), no
// sockets or network, no mount, no ptrace, no open relative to the working directory.
// Anything not listed kills the whole process.

import { E } from '../../sentry/abi/errno.js';
import { SYS } from '../../sentry/abi/sysno.js';
import { Action } from '../../sentry/seccomp/action.js';
import { Arg, SyscallFilter } from '../../sentry/seccomp/rules.js';

const SYS_FCHMODAT2 = 452;
const AT_FDCWD_LO32 = 0xffffff9c;
const CLONE_THREAD = 0x10000;
const FIONBIO = 0x5421;
const FIOCLEX = 0x5451;
const TCGETS = 0x5401;
const PR_SET_NAME = 15;
const PR_GET_NAME = 16;
const PR_SET_VMA = 0x53564d41;

/** Syscalls allowed with any arguments. */
const ALWAYS: readonly number[] = [
  // I/O on fds the Gofer already holds.
  SYS.read, SYS.write, SYS.readv, SYS.writev, SYS.pread64, SYS.pwrite64, SYS.preadv, SYS.pwritev,
  SYS.preadv2, SYS.pwritev2, SYS.close, SYS.lseek, SYS.fstat, SYS.newfstatat, SYS.statx, SYS.fcntl,
  SYS.getdents64, SYS.ftruncate, SYS.fsync, SYS.fdatasync, SYS.fstatfs, SYS.sendmsg, SYS.recvmsg,
  SYS.recvfrom, SYS.sendto, SYS.shutdown, SYS.getsockname, SYS.getpeername, SYS.getsockopt,
  SYS.setsockopt, SYS.dup, SYS.dup3, SYS.pipe2,
  // Path operations: each names one component under a directory fd (openat2 checked in C).
  SYS.openat2, SYS.mkdirat, SYS.mknodat, SYS.symlinkat, SYS.linkat, SYS.unlinkat, SYS.renameat,
  SYS.renameat2, SYS.readlinkat, SYS.fchownat, SYS.utimensat, SYS_FCHMODAT2, SYS.fchmod, SYS.fchown,
  SYS.fgetxattr, SYS.flistxattr, SYS.fsetxattr, SYS.fremovexattr,
  // Memory, threads, time, signals: the runtime itself.
  SYS.mmap, SYS.mprotect, SYS.munmap, SYS.mremap, SYS.madvise, SYS.brk, SYS.mincore, SYS.membarrier,
  SYS.futex, SYS.set_robust_list, SYS.get_robust_list, SYS.rseq, SYS.sched_yield, SYS.sched_getaffinity,
  SYS.sched_getparam, SYS.sched_getscheduler, SYS.getpid, SYS.gettid, SYS.getppid, SYS.getuid,
  SYS.geteuid, SYS.getgid, SYS.getegid, SYS.clock_gettime, SYS.clock_getres, SYS.gettimeofday,
  SYS.nanosleep, SYS.clock_nanosleep, SYS.getrandom, SYS.rt_sigaction, SYS.rt_sigprocmask,
  SYS.rt_sigreturn, SYS.sigaltstack, SYS.epoll_create1, SYS.epoll_ctl, SYS.epoll_wait, SYS.epoll_pwait,
  SYS.epoll_pwait2, SYS.eventfd2, SYS.poll, SYS.ppoll, SYS.uname, SYS.getrusage, SYS.prlimit64,
  SYS.exit, SYS.exit_group,
];

/** The filter for a Gofer whose process id is `pid` (signals may only go to itself). */
export function goferSeccompFilter(pid: number): SyscallFilter {
  const f = new SyscallFilter({ defaultAction: Action.KILL_PROCESS });
  for (const nr of ALWAYS) f.allow(nr);
  // openat only relative to a directory fd, never the working directory.
  f.add(SYS.openat, Action.ERRNO(E.EPERM), { 0: Arg.maskedEq(0xffffffff, AT_FDCWD_LO32) });
  f.allow(SYS.openat);
  // Threads only: a fork or exec has nothing to run.
  f.allow(SYS.clone, { 0: Arg.maskedEq(CLONE_THREAD, CLONE_THREAD) });
  // clone3's flags sit in memory the filter cannot see: make libc fall back to clone.
  f.add(SYS.clone3, Action.ERRNO(E.ENOSYS));
  f.allow(SYS.ioctl, { 1: Arg.eq(FIONBIO) });
  f.allow(SYS.ioctl, { 1: Arg.eq(FIOCLEX) });
  f.allow(SYS.ioctl, { 1: Arg.eq(TCGETS) });
  f.allow(SYS.tgkill, { 0: Arg.eq(pid) });
  f.allow(SYS.kill, { 0: Arg.eq(pid) });
  // Thread and memory-region names (libuv, V8); any other prctl is refused, not fatal.
  f.allow(SYS.prctl, { 0: Arg.eq(PR_SET_NAME) });
  f.allow(SYS.prctl, { 0: Arg.eq(PR_GET_NAME) });
  f.allow(SYS.prctl, { 0: Arg.eq(PR_SET_VMA) });
  f.add(SYS.prctl, Action.ERRNO(E.EPERM));
  // libuv falls back to the thread pool when io_uring is missing.
  f.add(SYS.io_uring_setup, Action.ERRNO(E.ENOSYS));
  return f;
}
