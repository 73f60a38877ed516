// The argument kinds of each x86-64 syscall strace decodes. A syscall missing here still
// prints by name, its six arguments in hex.

import { SYS } from '../abi/sysno.js';
import {
  argv, choice, custom, deref, envp, fd, flags, flags32, hexa, inBuf, inout, inp, int, long, mode,
  out, outBuf, outStr, path, pointer, retHex, retOct, retSignal, signal, size, uint,
  type ArgFmt, type DecodeCtx, type RetFmt,
} from './args.js';
import {
  ACCESS_MODE, AF, AT_FLAGS, CLOCK_ID, CLOEXEC_NONBLOCK, CLOSE_RANGE_FLAGS, EFD_FLAGS,
  EPOLL_CREATE_FLAGS, EPOLL_CTL, FACCESSAT_FLAGS, FADVISE, FALLOC_FLAGS, FCNTL_CMD, FLOCK_OPS,
  GRND_FLAGS, IDTYPE, INOTIFY_INIT_FLAGS, INOTIFY_MASK, IOCTL, ITIMER_WHICH, MADVISE, MEMBARRIER_CMD,
  MEMFD_FLAGS, MLOCKALL_FLAGS, MOUNT_FLAGS, MREMAP_FLAGS, MSG_FLAGS, MSYNC_FLAGS, PIDFD_FLAGS,
  PRIO_WHICH, PROT, RENAME_FLAGS, RLIMIT, RUSAGE_WHO, RWF_FLAGS, SCHED_POLICY, SECCOMP_OP, SHUT_HOW,
  SIGPROCMASK_HOW, SPLICE_FLAGS, STATX_MASK, TFD_CREATE_FLAGS, TFD_SETTIME_FLAGS, TIMER_FLAGS,
  UMOUNT_FLAGS, UNLINKAT_FLAGS, WAITID_OPTIONS, WAIT_OPTIONS, WHENCE, XATTR_FLAGS,
  cloneFlags, enumOf, futexOp, mapFlags, openFlags, sockType,
} from './flags.js';
import { hex, int32, uint32 } from './format.js';
import {
  archPrctlAddr, archPrctlCode, fcntlArg, fcntlRet, futexTail, futexTimeout, getsockoptVal, ioctlArg,
  prctlArg2, prctlOption, setsockoptVal, sockFlags, sockLevel, sockOptName, sockProtocol, sockaddrIn,
  sockaddrOut,
} from './special_args.js';
import {
  buffer, cloneArgs, dirents64, epollEvents, fdset, idList, ints, itimerspec, itimerval, iovecs,
  msghdr, openHow, pollfds, rlimit, sigaction, sigsetAt, siginfoChild, stackT, stat, statx,
  longAt, timespec, timeval, utimens, utsname, waitStatus,
} from './structs.js';

export interface SyscallSpec {
  readonly args: readonly ArgFmt[];
  /** How a successful return value prints (decimal when absent). */
  readonly ret?: RetFmt;
  /** exit and exit_group: there is no X line to wait for. */
  readonly noReturn?: boolean;
}

// ---- argument kinds used by several syscalls ---------------------------------------------

const openFlagsArg = custom((v) => openFlags(BigInt.asUintN(32, v)));
const atFlags = flags32(AT_FLAGS);
const accessMode = flags32(ACCESS_MODE, 'F_OK');
const prot = flags32(PROT, 'PROT_NONE');
const fdFlags = flags32(CLOEXEC_NONBLOCK);
const clockId = custom((v) => enumOf(CLOCK_ID, int32(v)));
const statOut = out((c, a) => stat(c.mem, a));
const tsIn = inp((c, a) => timespec(c.mem, a));
const tsOut = out((c, a) => timespec(c.mem, a));
const tvIn = inp((c, a) => timeval(c.mem, a));
const tvOut = out((c, a) => timeval(c.mem, a));
const itsIn = inp((c, a) => itimerspec(c.mem, a));
const itsOut = out((c, a) => itimerspec(c.mem, a));
const itvIn = inp((c, a) => itimerval(c.mem, a));
const itvOut = out((c, a) => itimerval(c.mem, a));
const sigsetIn = inp((c, a) => sigsetAt(c.mem, a));
const sigsetOut = out((c, a) => sigsetAt(c.mem, a));
const rlimIn = inp((c, a) => rlimit(c.mem, a));
const rlimOut = out((c, a) => rlimit(c.mem, a));
const intOut = out((c, a) => ints(c.mem, a, 1));
const uintOut = out((c, a) => ints(c.mem, a, 1, true));
const fdPair = out((c, a) => ints(c.mem, a, 2));
const offPtr = inout((c, a) => longAt(c.mem, a));
const socklenPtr = inout((c, a) => ints(c.mem, a, 1, true));
const iovIn = inp((c, a) => iovecs(c.mem, a, int32(c.args[2]), Infinity, c.limits));
const iovOut = out((c, a) => iovecs(c.mem, a, int32(c.args[2]), c.ret ?? 0, c.limits));
const fdsetIO = inout((c, a) => fdset(c.mem, a, int32(c.args[0])));
const msgFlags = flags32(MSG_FLAGS);
const xattrValueOut = out((c, a) => buffer(c.mem, a, c.ret ?? 0, c.limits));

/** poll's array: events at entry, revents too at exit. */
const pollArray: ArgFmt = {
  enter: (c, v) => deref(v, (a) => pollfds(c.mem, a, uint32(c.args[1]), false)),
  exit: (c, v) => (c.ret !== undefined && c.ret >= 0 ? deref(v, (a) => pollfds(c.mem, a, uint32(c.args[1]), true)) : undefined),
};

/** wait4's status is written only when a child was reaped (ret > 0). */
const waitStatusOut = out((c: DecodeCtx, a) => ((c.ret ?? 0) > 0 ? waitStatus(c.mem, a) : undefined));

function sp(args: ArgFmt[], ret?: RetFmt): SyscallSpec {
  return ret === undefined ? { args } : { args, ret };
}

const TABLE: Record<number, SyscallSpec> = {
  // ---- file I/O ----
  [SYS.read]: sp([fd, outBuf, size]),
  [SYS.write]: sp([fd, inBuf(2), size]),
  [SYS.pread64]: sp([fd, outBuf, size, long]),
  [SYS.pwrite64]: sp([fd, inBuf(2), size, long]),
  [SYS.readv]: sp([fd, iovOut, int]),
  [SYS.writev]: sp([fd, iovIn, int]),
  [SYS.preadv]: sp([fd, iovOut, int, long, long]),
  [SYS.pwritev]: sp([fd, iovIn, int, long, long]),
  [SYS.preadv2]: sp([fd, iovOut, int, long, long, flags32(RWF_FLAGS)]),
  [SYS.pwritev2]: sp([fd, iovIn, int, long, long, flags32(RWF_FLAGS)]),
  [SYS.lseek]: sp([fd, long, choice(WHENCE)]),
  [SYS.close]: sp([fd]),
  [SYS.close_range]: sp([uint, uint, flags32(CLOSE_RANGE_FLAGS)]),
  [SYS.dup]: sp([fd]),
  [SYS.dup2]: sp([fd, fd]),
  [SYS.dup3]: sp([fd, fd, fdFlags]),
  [SYS.fcntl]: sp([fd, choice(FCNTL_CMD), fcntlArg], fcntlRet),
  [SYS.ioctl]: sp([fd, custom((v) => IOCTL.get(uint32(v)) ?? hex(uint32(v))), ioctlArg]),
  [SYS.flock]: sp([fd, flags32(FLOCK_OPS)]),
  [SYS.fsync]: sp([fd]),
  [SYS.fdatasync]: sp([fd]),
  [SYS.sync]: sp([]),
  [SYS.syncfs]: sp([fd]),
  [SYS.truncate]: sp([path, long]),
  [SYS.ftruncate]: sp([fd, long]),
  [SYS.fallocate]: sp([fd, flags32(FALLOC_FLAGS), long, long]),
  [SYS.fadvise64]: sp([fd, long, long, choice(FADVISE)]),
  [SYS.readahead]: sp([fd, long, size]),
  [SYS.sendfile]: sp([fd, fd, offPtr, size]),
  [SYS.splice]: sp([fd, offPtr, fd, offPtr, size, flags32(SPLICE_FLAGS)]),
  [SYS.tee]: sp([fd, fd, size, flags32(SPLICE_FLAGS)]),
  [SYS.copy_file_range]: sp([fd, offPtr, fd, offPtr, size, hexa]),
  [SYS.pipe]: sp([fdPair]),
  [SYS.pipe2]: sp([fdPair, fdFlags]),

  // ---- paths and metadata ----
  [SYS.open]: sp([path, openFlagsArg, mode]),
  [SYS.openat]: sp([fd, path, openFlagsArg, mode]),
  [SYS.openat2]: sp([fd, path, inp((c, a) => openHow(c.mem, a)), size]),
  [SYS.creat]: sp([path, mode]),
  [SYS.stat]: sp([path, statOut]),
  [SYS.lstat]: sp([path, statOut]),
  [SYS.fstat]: sp([fd, statOut]),
  [SYS.newfstatat]: sp([fd, path, statOut, atFlags]),
  [SYS.statx]: sp([fd, path, atFlags, flags32(STATX_MASK), out((c, a) => statx(c.mem, a))]),
  [SYS.statfs]: sp([path, pointer]),
  [SYS.fstatfs]: sp([fd, pointer]),
  [SYS.access]: sp([path, accessMode]),
  [SYS.faccessat]: sp([fd, path, accessMode]),
  [SYS.faccessat2]: sp([fd, path, accessMode, flags32(FACCESSAT_FLAGS)]),
  [SYS.getdents]: sp([fd, pointer, uint]),
  [SYS.getdents64]: sp([fd, out((c, a) => dirents64(c.mem, a, c.ret ?? 0, c.limits)), uint]),
  [SYS.getcwd]: sp([outStr, size]),
  [SYS.chdir]: sp([path]),
  [SYS.fchdir]: sp([fd]),
  [SYS.chroot]: sp([path]),
  [SYS.rename]: sp([path, path]),
  [SYS.renameat]: sp([fd, path, fd, path]),
  [SYS.renameat2]: sp([fd, path, fd, path, flags32(RENAME_FLAGS)]),
  [SYS.mkdir]: sp([path, mode]),
  [SYS.mkdirat]: sp([fd, path, mode]),
  [SYS.rmdir]: sp([path]),
  [SYS.link]: sp([path, path]),
  [SYS.linkat]: sp([fd, path, fd, path, atFlags]),
  [SYS.unlink]: sp([path]),
  [SYS.unlinkat]: sp([fd, path, flags32(UNLINKAT_FLAGS)]),
  [SYS.symlink]: sp([path, path]),
  [SYS.symlinkat]: sp([path, fd, path]),
  [SYS.readlink]: sp([path, outBuf, size]),
  [SYS.readlinkat]: sp([fd, path, outBuf, size]),
  [SYS.chmod]: sp([path, mode]),
  [SYS.fchmod]: sp([fd, mode]),
  [SYS.fchmodat]: sp([fd, path, mode]),
  [SYS.chown]: sp([path, int, int]),
  [SYS.fchown]: sp([fd, int, int]),
  [SYS.lchown]: sp([path, int, int]),
  [SYS.fchownat]: sp([fd, path, int, int, atFlags]),
  [SYS.umask]: sp([mode], retOct),
  [SYS.utime]: sp([path, pointer]),
  [SYS.utimes]: sp([path, pointer]),
  [SYS.utimensat]: sp([fd, path, inp((c, a) => utimens(c.mem, a)), atFlags]),
  [SYS.mknod]: sp([path, mode, hexa]),
  [SYS.mknodat]: sp([fd, path, mode, hexa]),
  [SYS.mount]: sp([path, path, path, flags(MOUNT_FLAGS), pointer]),
  [SYS.umount2]: sp([path, flags32(UMOUNT_FLAGS)]),
  [SYS.pivot_root]: sp([path, path]),
  [SYS.getxattr]: sp([path, path, xattrValueOut, size]),
  [SYS.lgetxattr]: sp([path, path, xattrValueOut, size]),
  [SYS.fgetxattr]: sp([fd, path, xattrValueOut, size]),
  [SYS.setxattr]: sp([path, path, inBuf(3), size, flags32(XATTR_FLAGS)]),
  [SYS.lsetxattr]: sp([path, path, inBuf(3), size, flags32(XATTR_FLAGS)]),
  [SYS.fsetxattr]: sp([fd, path, inBuf(3), size, flags32(XATTR_FLAGS)]),
  [SYS.listxattr]: sp([path, xattrValueOut, size]),
  [SYS.llistxattr]: sp([path, xattrValueOut, size]),
  [SYS.flistxattr]: sp([fd, xattrValueOut, size]),
  [SYS.removexattr]: sp([path, path]),
  [SYS.lremovexattr]: sp([path, path]),
  [SYS.fremovexattr]: sp([fd, path]),
  [SYS.inotify_init]: sp([]),
  [SYS.inotify_init1]: sp([flags32(INOTIFY_INIT_FLAGS)]),
  [SYS.inotify_add_watch]: sp([fd, path, flags32(INOTIFY_MASK)]),
  [SYS.inotify_rm_watch]: sp([fd, int]),
  [SYS.memfd_create]: sp([path, flags32(MEMFD_FLAGS)]),

  // ---- memory ----
  [SYS.mmap]: sp([pointer, size, prot, custom((v) => mapFlags(BigInt.asUintN(32, v))), fd, hexa], retHex),
  [SYS.mprotect]: sp([pointer, size, prot]),
  [SYS.pkey_mprotect]: sp([pointer, size, prot, int]),
  [SYS.munmap]: sp([pointer, size]),
  [SYS.brk]: sp([pointer], retHex),
  [SYS.mremap]: sp([pointer, size, size, flags32(MREMAP_FLAGS), pointer], retHex),
  [SYS.msync]: sp([pointer, size, flags32(MSYNC_FLAGS)]),
  [SYS.madvise]: sp([pointer, size, choice(MADVISE)]),
  [SYS.mincore]: sp([pointer, size, pointer]),
  [SYS.mlock]: sp([pointer, size]),
  [SYS.munlock]: sp([pointer, size]),
  [SYS.mlockall]: sp([flags32(MLOCKALL_FLAGS)]),
  [SYS.munlockall]: sp([]),
  [SYS.membarrier]: sp([choice(MEMBARRIER_CMD), hexa, int]),
  [SYS.shmat]: sp([int, pointer, hexa], retHex),

  // ---- processes and threads ----
  [SYS.execve]: sp([path, argv, envp]),
  [SYS.execveat]: sp([fd, path, argv, envp, atFlags]),
  [SYS.exit]: { args: [int], noReturn: true },
  [SYS.exit_group]: { args: [int], noReturn: true },
  [SYS.clone]: sp([custom((v) => cloneFlags(v, true)), pointer, pointer, pointer, pointer]),
  [SYS.clone3]: sp([inp((c, a) => cloneArgs(c.mem, a, Number(BigInt.asUintN(16, c.args[1])))), size]),
  [SYS.fork]: sp([]),
  [SYS.vfork]: sp([]),
  [SYS.wait4]: sp([int, waitStatusOut, flags32(WAIT_OPTIONS), pointer]),
  [SYS.waitid]: sp([choice(IDTYPE), int, out((c, a) => siginfoChild(c.mem, a)), flags32(WAITID_OPTIONS), pointer]),
  [SYS.getpid]: sp([]),
  [SYS.getppid]: sp([]),
  [SYS.gettid]: sp([]),
  [SYS.getuid]: sp([]),
  [SYS.geteuid]: sp([]),
  [SYS.getgid]: sp([]),
  [SYS.getegid]: sp([]),
  [SYS.setuid]: sp([int]),
  [SYS.setgid]: sp([int]),
  [SYS.setreuid]: sp([int, int]),
  [SYS.setregid]: sp([int, int]),
  [SYS.setresuid]: sp([int, int, int]),
  [SYS.setresgid]: sp([int, int, int]),
  [SYS.getresuid]: sp([uintOut, uintOut, uintOut]),
  [SYS.getresgid]: sp([uintOut, uintOut, uintOut]),
  [SYS.setfsuid]: sp([int]),
  [SYS.setfsgid]: sp([int]),
  [SYS.getgroups]: sp([int, out((c, a) => idList(c.mem, a, c.ret ?? 0))]),
  [SYS.setgroups]: sp([int, inp((c, a) => idList(c.mem, a, int32(c.args[0])))]),
  [SYS.setpgid]: sp([int, int]),
  [SYS.getpgid]: sp([int]),
  [SYS.getpgrp]: sp([]),
  [SYS.setsid]: sp([]),
  [SYS.getsid]: sp([int]),
  [SYS.set_tid_address]: sp([pointer]),
  [SYS.set_robust_list]: sp([pointer, size]),
  [SYS.get_robust_list]: sp([int, pointer, pointer]),
  [SYS.rseq]: sp([pointer, uint, hexa, hexa]),
  [SYS.arch_prctl]: sp([archPrctlCode, archPrctlAddr]),
  [SYS.prctl]: sp([prctlOption, prctlArg2, hexa, hexa, hexa]),
  [SYS.personality]: sp([hexa], retHex),
  [SYS.uname]: sp([out((c, a) => utsname(c.mem, a))]),
  [SYS.sethostname]: sp([inBuf(1), size]),
  [SYS.setdomainname]: sp([inBuf(1), size]),
  [SYS.sysinfo]: sp([pointer]),
  [SYS.getrandom]: sp([outBuf, size, flags32(GRND_FLAGS)]),
  [SYS.getcpu]: sp([uintOut, uintOut, pointer]),
  [SYS.getrlimit]: sp([choice(RLIMIT), rlimOut]),
  [SYS.setrlimit]: sp([choice(RLIMIT), rlimIn]),
  [SYS.prlimit64]: sp([int, choice(RLIMIT), rlimIn, rlimOut]),
  [SYS.getrusage]: sp([choice(RUSAGE_WHO), pointer]),
  [SYS.getpriority]: sp([choice(PRIO_WHICH), int]),
  [SYS.setpriority]: sp([choice(PRIO_WHICH), int, int]),
  [SYS.sched_yield]: sp([]),
  [SYS.sched_getaffinity]: sp([int, size, pointer]),
  [SYS.sched_setaffinity]: sp([int, size, pointer]),
  [SYS.sched_getscheduler]: sp([int], (_c, r) => enumOf(SCHED_POLICY, r)),
  [SYS.sched_setscheduler]: sp([int, choice(SCHED_POLICY), pointer]),
  [SYS.sched_getparam]: sp([int, pointer]),
  [SYS.sched_get_priority_max]: sp([choice(SCHED_POLICY)]),
  [SYS.sched_get_priority_min]: sp([choice(SCHED_POLICY)]),
  [SYS.capget]: sp([pointer, pointer]),
  [SYS.capset]: sp([pointer, pointer]),
  [SYS.unshare]: sp([custom((v) => cloneFlags(v, false))]),
  [SYS.setns]: sp([fd, custom((v) => cloneFlags(v, false))]),
  [SYS.seccomp]: sp([choice(SECCOMP_OP), hexa, pointer]),
  [SYS.pidfd_open]: sp([int, flags32(PIDFD_FLAGS)]),
  [SYS.pidfd_send_signal]: sp([fd, signal, pointer, hexa]),
  [SYS.pidfd_getfd]: sp([fd, fd, hexa]),
  [SYS.ptrace]: sp([int, int, pointer, pointer]),

  // ---- signals ----
  [SYS.kill]: sp([int, signal]),
  [SYS.tkill]: sp([int, signal]),
  [SYS.tgkill]: sp([int, int, signal]),
  [SYS.rt_sigaction]: sp([signal, inp((c, a) => sigaction(c.mem, a)), out((c, a) => sigaction(c.mem, a)), size]),
  [SYS.rt_sigprocmask]: sp([choice(SIGPROCMASK_HOW), sigsetIn, sigsetOut, size]),
  [SYS.rt_sigreturn]: sp([]),
  [SYS.rt_sigsuspend]: sp([sigsetIn, size]),
  [SYS.rt_sigpending]: sp([sigsetOut, size]),
  [SYS.rt_sigtimedwait]: sp([sigsetIn, pointer, tsIn, size], retSignal),
  [SYS.rt_sigqueueinfo]: sp([int, signal, pointer]),
  [SYS.rt_tgsigqueueinfo]: sp([int, int, signal, pointer]),
  [SYS.sigaltstack]: sp([inp((c, a) => stackT(c.mem, a)), out((c, a) => stackT(c.mem, a))]),
  [SYS.pause]: sp([]),
  [SYS.alarm]: sp([uint]),
  [SYS.signalfd]: sp([fd, sigsetIn, size]),
  [SYS.signalfd4]: sp([fd, sigsetIn, size, fdFlags]),

  // ---- time ----
  [SYS.nanosleep]: sp([tsIn, pointer]),
  [SYS.clock_nanosleep]: sp([clockId, flags32(TIMER_FLAGS), tsIn, pointer]),
  [SYS.clock_gettime]: sp([clockId, tsOut]),
  [SYS.clock_getres]: sp([clockId, tsOut]),
  [SYS.clock_settime]: sp([clockId, tsIn]),
  [SYS.gettimeofday]: sp([tvOut, pointer]),
  [SYS.settimeofday]: sp([tvIn, pointer]),
  [SYS.time]: sp([out((c, a) => longAt(c.mem, a))]),
  [SYS.times]: sp([pointer]),
  [SYS.getitimer]: sp([choice(ITIMER_WHICH), itvOut]),
  [SYS.setitimer]: sp([choice(ITIMER_WHICH), itvIn, itvOut]),
  [SYS.timer_create]: sp([clockId, pointer, intOut]),
  [SYS.timer_settime]: sp([int, flags32(TIMER_FLAGS), itsIn, itsOut]),
  [SYS.timer_gettime]: sp([int, itsOut]),
  [SYS.timer_getoverrun]: sp([int]),
  [SYS.timer_delete]: sp([int]),
  [SYS.timerfd_create]: sp([clockId, flags32(TFD_CREATE_FLAGS)]),
  [SYS.timerfd_settime]: sp([fd, flags32(TFD_SETTIME_FLAGS), itsIn, itsOut]),
  [SYS.timerfd_gettime]: sp([fd, itsOut]),

  // ---- futex ----
  [SYS.futex]: sp([pointer, custom((v) => futexOp(int32(v))), uint, futexTimeout, futexTail('uaddr2'), futexTail('val3')]),

  // ---- poll, select, epoll, eventfd ----
  [SYS.poll]: sp([pollArray, uint, int]),
  [SYS.ppoll]: sp([pollArray, uint, tsIn, sigsetIn, size]),
  [SYS.select]: sp([int, fdsetIO, fdsetIO, fdsetIO, tvIn]),
  [SYS.pselect6]: sp([int, fdsetIO, fdsetIO, fdsetIO, tsIn, pointer]),
  [SYS.epoll_create]: sp([int]),
  [SYS.epoll_create1]: sp([flags32(EPOLL_CREATE_FLAGS)]),
  [SYS.epoll_ctl]: sp([fd, choice(EPOLL_CTL), fd, inp((c, a) => epollEvents(c.mem, a, 1))]),
  [SYS.epoll_wait]: sp([fd, out((c, a) => epollEvents(c.mem, a, c.ret ?? 0)), int, int]),
  [SYS.epoll_pwait]: sp([fd, out((c, a) => epollEvents(c.mem, a, c.ret ?? 0)), int, int, sigsetIn, size]),
  [SYS.epoll_pwait2]: sp([fd, out((c, a) => epollEvents(c.mem, a, c.ret ?? 0)), int, tsIn, sigsetIn, size]),
  [SYS.eventfd]: sp([uint]),
  [SYS.eventfd2]: sp([uint, flags32(EFD_FLAGS)]),

  // ---- sockets ----
  [SYS.socket]: sp([custom((v) => enumOf(AF, int32(v))), custom((v) => sockType(uint32(v))), sockProtocol]),
  [SYS.socketpair]: sp([custom((v) => enumOf(AF, int32(v))), custom((v) => sockType(uint32(v))), sockProtocol, fdPair]),
  [SYS.bind]: sp([fd, sockaddrIn(2), int]),
  [SYS.connect]: sp([fd, sockaddrIn(2), int]),
  [SYS.listen]: sp([fd, int]),
  [SYS.accept]: sp([fd, sockaddrOut(2), socklenPtr]),
  [SYS.accept4]: sp([fd, sockaddrOut(2), socklenPtr, sockFlags]),
  [SYS.getsockname]: sp([fd, sockaddrOut(2), socklenPtr]),
  [SYS.getpeername]: sp([fd, sockaddrOut(2), socklenPtr]),
  [SYS.sendto]: sp([fd, inBuf(2), size, msgFlags, sockaddrIn(5), int]),
  [SYS.recvfrom]: sp([fd, outBuf, size, msgFlags, sockaddrOut(5), socklenPtr]),
  [SYS.sendmsg]: sp([fd, inp((c, a) => msghdr(c.mem, a, Infinity, c.limits)), msgFlags]),
  [SYS.recvmsg]: sp([fd, out((c, a) => msghdr(c.mem, a, c.ret ?? 0, c.limits)), msgFlags]),
  [SYS.sendmmsg]: sp([fd, pointer, uint, msgFlags]),
  [SYS.recvmmsg]: sp([fd, pointer, uint, msgFlags, tsIn]),
  [SYS.shutdown]: sp([fd, choice(SHUT_HOW)]),
  [SYS.setsockopt]: sp([fd, sockLevel, sockOptName, setsockoptVal, int]),
  [SYS.getsockopt]: sp([fd, sockLevel, sockOptName, getsockoptVal, socklenPtr]),
};

/** Specs indexed by syscall number, for a lookup without hashing. */
export const SYSCALL_SPECS: readonly (SyscallSpec | undefined)[] = (() => {
  const a: (SyscallSpec | undefined)[] = [];
  for (const [k, v] of Object.entries(TABLE)) a[Number(k)] = v;
  return a;
})();
