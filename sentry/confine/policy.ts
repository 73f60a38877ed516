// The Sentry's seccomp allowlist, installed once the sandbox is booted (Gofers, master stub,
// packet sockets and host terminal all exist by then): what Node's event loop, V8's threads,
// the addon's ptrace driving of the stubs and the already-open host fds need. Running
// something else (exec, fork), reaching other processes (ptrace attach, process_vm_*),
// changing namespaces or mounts, loading code into the kernel kill the whole process; any
// other syscall not listed fails with EPERM (Node copes with a refused open or ioctl).

import { E } from '../abi/errno.js';
import { SYS } from '../abi/sysno.js';
import { Action, type SeccompAction } from '../seccomp/action.js';
import { Arg, SyscallFilter } from '../seccomp/rules.js';

const CLONE_THREAD = 0x10000;
const PR_SET_NAME = 15;
const PR_GET_NAME = 16;
const PR_SET_VMA = 0x53564d41;

/** Requests the addon makes on stubs it already traces (never attach or seize). */
const PTRACE_REQUESTS: readonly number[] = [
  7, // PTRACE_CONT
  8, // PTRACE_KILL
  12, // PTRACE_GETREGS
  13, // PTRACE_SETREGS
  14, // PTRACE_GETFPREGS
  15, // PTRACE_SETFPREGS
  0x4200, // PTRACE_SETOPTIONS
  0x4201, // PTRACE_GETEVENTMSG
  0x4202, // PTRACE_GETSIGINFO
  0x4204, // PTRACE_GETREGSET
  0x4205, // PTRACE_SETREGSET
  31, // PTRACE_SYSEMU
  32, // PTRACE_SYSEMU_SINGLESTEP
];

/** Terminal and fd ioctls on the host fds the Sentry holds (stdio relay, sockets). */
const IOCTLS: readonly number[] = [
  0x5401, // TCGETS
  0x5402, // TCSETS
  0x5403, // TCSETSW
  0x5404, // TCSETSF
  0x540f, // TIOCGPGRP
  0x5413, // TIOCGWINSZ
  0x5414, // TIOCSWINSZ
  0x541b, // FIONREAD
  0x5421, // FIONBIO
  0x5450, // FIONCLEX
  0x5451, // FIOCLEX
];

/** Syscalls allowed with any arguments. */
const ALWAYS: readonly number[] = [
  // I/O on fds the Sentry already holds: stdio, Gofer sockets, donated files, packet sockets, memfd.
  SYS.read, SYS.write, SYS.readv, SYS.writev, SYS.pread64, SYS.pwrite64, SYS.preadv, SYS.pwritev,
  SYS.preadv2, SYS.pwritev2, SYS.close, SYS.close_range, SYS.lseek, SYS.fstat, SYS.newfstatat, SYS.statx,
  SYS.fcntl, SYS.ftruncate, SYS.fallocate, SYS.fsync, SYS.fdatasync, SYS.fstatfs, SYS.sendmsg, SYS.recvmsg,
  SYS.sendmmsg, SYS.recvmmsg, SYS.recvfrom, SYS.sendto, SYS.shutdown, SYS.getsockname, SYS.getpeername,
  SYS.getsockopt, SYS.setsockopt, SYS.dup, SYS.dup2, SYS.dup3, SYS.pipe2, SYS.socketpair, SYS.memfd_create,
  SYS.getdents64,
  // Connections to a listening socket made before confinement (the OCI control socket).
  SYS.accept, SYS.accept4,
  // Memory, threads, time, signals: the runtime itself.
  SYS.mmap, SYS.mprotect, SYS.munmap, SYS.mremap, SYS.madvise, SYS.brk, SYS.mincore, SYS.membarrier,
  SYS.futex, SYS.set_robust_list, SYS.get_robust_list, SYS.rseq, SYS.sched_yield, SYS.sched_getaffinity,
  SYS.sched_getparam, SYS.sched_getscheduler, SYS.getpid, SYS.gettid, SYS.getppid, SYS.getuid,
  SYS.geteuid, SYS.getgid, SYS.getegid, SYS.getresuid, SYS.getresgid, SYS.getgroups, SYS.getpgrp,
  SYS.getpgid, SYS.getsid, SYS.clock_gettime, SYS.clock_getres, SYS.gettimeofday, SYS.time,
  SYS.nanosleep, SYS.clock_nanosleep, SYS.getrandom, SYS.rt_sigaction, SYS.rt_sigprocmask,
  SYS.rt_sigreturn, SYS.rt_sigtimedwait, SYS.sigaltstack, SYS.epoll_create1, SYS.epoll_ctl, SYS.epoll_wait,
  SYS.epoll_pwait, SYS.epoll_pwait2, SYS.eventfd2, SYS.timerfd_create, SYS.timerfd_settime,
  SYS.timerfd_gettime, SYS.poll, SYS.ppoll, SYS.select, SYS.pselect6, SYS.uname, SYS.sysinfo,
  SYS.getrusage, SYS.times, SYS.getrlimit, SYS.prlimit64, SYS.getcpu, SYS.getcwd, SYS.capget,
  SYS.exit, SYS.exit_group,
  // Driving the stubs: waiting for their stops, signalling them (they are our children).
  SYS.wait4, SYS.waitid, SYS.kill, SYS.tgkill, SYS.tkill,
];

/** Kill on sight: what only an attacker who took over the Sentry would try. */
const FATAL: readonly number[] = [
  SYS.execve, SYS.execveat, SYS.fork, SYS.vfork, SYS.mount, SYS.umount2, SYS.pivot_root, SYS.chroot,
  SYS.setns, SYS.unshare, SYS.process_vm_readv, SYS.process_vm_writev, SYS.ptrace, SYS.init_module,
  SYS.finit_module, SYS.delete_module, SYS.kexec_load, SYS.kexec_file_load, SYS.reboot, SYS.bpf,
  SYS.perf_event_open, SYS.open_by_handle_at, SYS.name_to_handle_at, SYS.keyctl, SYS.add_key,
  SYS.request_key, SYS.userfaultfd, SYS.swapon, SYS.swapoff, SYS.acct, SYS.settimeofday,
  SYS.clock_settime, SYS.adjtimex, SYS.iopl, SYS.ioperm, SYS.setuid, SYS.setgid, SYS.setreuid,
  SYS.setregid, SYS.setresuid, SYS.setresgid, SYS.setgroups, SYS.capset, SYS.seccomp,
];

/**
 * --network=host only: what hostinet (native/hostinet.c) needs beyond the default policy to
 * make and drive AF_INET/AF_INET6 host sockets. Sending, receiving, options, names, accept4
 * and shutdown on held fds are in ALWAYS already.
 */
const HOSTINET_SOCKET_DOMAINS: readonly number[] = [2, 10]; // AF_INET, AF_INET6
const HOSTINET_CALLS: readonly number[] = [SYS.bind, SYS.connect, SYS.listen];
/** The read-only socket and netdevice queries hostinet passes through (SIOCOUTQ, SIOCATMARK, SIOCGIF*). */
const HOSTINET_IOCTLS: readonly number[] = [
  0x5411, 0x8905, 0x894b, // SIOCOUTQ, SIOCATMARK, SIOCOUTQNSD
  0x8910, 0x8912, 0x8913, 0x8915, 0x8917, 0x8919, 0x891b, 0x891d, 0x8921, 0x8927, 0x8933, 0x8942, // SIOCGIF*
];

export interface SentryFilterOptions {
  /** For syscalls not listed (default EPERM). */
  defaultAction?: SeccompAction;
  /** --network=host: also allow the host socket calls hostinet makes. */
  hostNetwork?: boolean;
}

/** The Sentry's filter. */
export function sentrySeccompFilter(opts: SentryFilterOptions = {}): SyscallFilter {
  const f = new SyscallFilter({ defaultAction: opts.defaultAction ?? Action.ERRNO(E.EPERM) });
  for (const nr of ALWAYS) f.allow(nr);
  // Threads only: a new process would start outside this filter's intent (a fork has nothing to run).
  f.allow(SYS.clone, { 0: Arg.maskedEq(CLONE_THREAD, CLONE_THREAD) });
  // clone3's flags sit in memory the filter cannot see: make libc fall back to clone.
  f.add(SYS.clone3, Action.ERRNO(E.ENOSYS));
  for (const req of PTRACE_REQUESTS) f.allow(SYS.ptrace, { 0: Arg.eq(req) });
  for (const cmd of IOCTLS) f.allow(SYS.ioctl, { 1: Arg.eq(cmd) });
  if (opts.hostNetwork === true) {
    for (const d of HOSTINET_SOCKET_DOMAINS) f.allow(SYS.socket, { 0: Arg.eq(d) });
    for (const nr of HOSTINET_CALLS) f.allow(nr);
    for (const cmd of HOSTINET_IOCTLS) f.allow(SYS.ioctl, { 1: Arg.eq(cmd) });
  }
  f.allow(SYS.prctl, { 0: Arg.eq(PR_SET_NAME) });
  f.allow(SYS.prctl, { 0: Arg.eq(PR_GET_NAME) });
  f.allow(SYS.prctl, { 0: Arg.eq(PR_SET_VMA) });
  // The Sentry opens no host path once booted (invariant 2): a path open is refused, not
  // fatal, because libuv tries to reopen a tty's /dev/pts name and falls back when refused.
  for (const nr of [SYS.open, SYS.openat, SYS.openat2, SYS.creat]) f.add(nr, Action.ERRNO(E.EACCES));
  // libuv falls back to its thread pool when io_uring is missing.
  f.add(SYS.io_uring_setup, Action.ERRNO(E.ENOSYS));
  for (const nr of FATAL) f.add(nr, Action.KILL_PROCESS);
  // A clone that is not a thread is a fork: fatal.
  f.add(SYS.clone, Action.KILL_PROCESS);
  return f;
}
