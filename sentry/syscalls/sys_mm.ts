// Memory syscalls: the Sentry decides, the stub's host mappings follow on faults.

import { E } from '../abi/errno.js';
import { isErr, toRet, type Result } from '../abi/result.js';
import type { Mappable } from '../mm/mappable.js';
import { SYS } from '../abi/sysno.js';
import { MAP_ANONYMOUS, MAP_SHARED, MAP_SHARED_VALIDATE } from '../mm/mm.js';
import { PROT_WRITE } from '../mm/vma.js';
import type { SyscallHandler, SyscallTable } from './types.js';

/** mmap(addr, len, prot, flags, fd, off): anonymous or file-backed; shared writable file mappings need a writable file. */
const sysMmap: SyscallHandler = (t, a) => {
  const addr = a.ptr(0);
  const len = a.size(1);
  const prot = a.int(2);
  const flags = a.int(3);
  const fd = a.int(4);
  const off = a.i64(5);
  if (off < 0) return -E.EINVAL;
  if ((flags & MAP_ANONYMOUS) !== 0) {
    return toRet(t.mm.mmap({ addr, len, prot, flags, offset: 0 }));
  }
  const file = t.fds.get(fd);
  if (file === undefined) return -E.EBADF;
  const type = flags & MAP_SHARED_VALIDATE;
  if ((type === MAP_SHARED || type === MAP_SHARED_VALIDATE) && (prot & PROT_WRITE) !== 0 && !file.writable) return -E.EACCES;
  if (!file.readable) return -E.EACCES;
  const finish = (m: Result<Mappable>): number =>
    isErr(m) ? -m.errno : toRet(t.mm.mmap({ addr, len, prot, flags, file: m, offset: off }));
  const m = file.mappable();
  return m instanceof Promise ? m.then(finish) : finish(m);
};

const sysMunmap: SyscallHandler = (t, a) => toRet(t.mm.munmap(a.ptr(0), a.size(1)));
const sysMprotect: SyscallHandler = (t, a) => toRet(t.mm.mprotect(a.ptr(0), a.size(1), a.int(2)));
const sysBrk: SyscallHandler = (t, a) => t.mm.brk(a.ptr(0));
const sysMremap: SyscallHandler = (t, a) => toRet(t.mm.mremap(a.ptr(0), a.size(1), a.size(2), a.int(3), a.ptr(4)));

/** madvise: DONTNEED/FREE drop private pages (they read back as zero or file data); the rest are hints. */
const sysMadvise: SyscallHandler = (t, a) => {
  const addr = a.ptr(0);
  const len = a.size(1);
  const advice = a.int(2);
  if (addr % 4096 !== 0) return -E.EINVAL;
  const MADV_DONTNEED = 4;
  const MADV_FREE = 8;
  const known = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 25, 100, 101];
  if (!known.includes(advice)) return -E.EINVAL;
  if (advice === MADV_DONTNEED || advice === MADV_FREE) return toRet(t.mm.madviseDontNeed(addr, len));
  return 0;
};

/** msync: private and anonymous mappings have nothing to write back; shared file mappings arrive with the page cache. */
const sysMsync: SyscallHandler = (t, a) => {
  const addr = a.ptr(0);
  const flags = a.int(2);
  if (addr % 4096 !== 0 || (flags & ~7) !== 0 || (flags & 5) === 5) return -E.EINVAL;
  return t.mm.vmas.covers(addr, addr + Math.ceil(a.size(1) / 4096) * 4096) ? 0 : -E.ENOMEM;
};

/** mlock family: accounting only (the Sentry never swaps app memory). */
const sysMlock: SyscallHandler = (t, a) => {
  const addr = Math.floor(a.ptr(0) / 4096) * 4096;
  return t.mm.vmas.covers(addr, a.ptr(0) + a.size(1)) ? 0 : -E.ENOMEM;
};

export const mmSyscalls: SyscallTable = {
  [SYS.mmap]: sysMmap,
  [SYS.munmap]: sysMunmap,
  [SYS.mprotect]: sysMprotect,
  [SYS.brk]: sysBrk,
  [SYS.mremap]: sysMremap,
  [SYS.madvise]: sysMadvise,
  [SYS.msync]: sysMsync,
  [SYS.mlock]: sysMlock,
  [SYS.munlock]: sysMlock,
};
