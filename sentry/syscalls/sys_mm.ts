// Memory syscalls: the Sentry decides, the stub's host mappings follow on faults.

import { E } from '../abi/errno.js';
import { isErr, toRet, type Result } from '../abi/result.js';
import type { Mappable } from '../mm/mappable.js';
import type { FileDescription } from '../vfs/file.js';
import { SYS } from '../abi/sysno.js';
import { MAP_ANONYMOUS, MAP_SHARED, MAP_SHARED_VALIDATE } from '../mm/mm.js';
import { PROT_WRITE } from '../mm/vma.js';
import type { SyscallHandler, SyscallTable } from './types.js';

/** The path /proc/[pid]/maps shows for a file mapping. */
function mappedName(t: Parameters<SyscallHandler>[0], f: FileDescription): string | undefined {
  return f.location === null ? undefined : t.kernel.vfs.pathOf(f.location, t.fs.root).path;
}

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
    isErr(m) ? -m.errno : toRet(t.mm.mmap({ addr, len, prot, flags, file: m, offset: off, mayWrite: file.writable, name: mappedName(t, file) }));
  const m = file.mappable();
  return m instanceof Promise ? m.then(finish) : finish(m);
};

/** munmap: a shared mapping of a Gofer file has its dirty pages written back before it returns. */
const sysMunmap: SyscallHandler = (t, a) => {
  const addr = a.ptr(0);
  const end = addr + a.size(1);
  const files = new Set<Mappable>();
  for (const v of t.mm.vmas.list) if (v.shared && v.start < end && v.end > addr && v.file?.flush !== undefined) files.add(v.file);
  const r = toRet(t.mm.munmap(addr, a.size(1)));
  if (r < 0 || files.size === 0) return r;
  // Queued behind the write-back the unmap started: resolves when that one is done.
  return Promise.all([...files].map((f) => f.flush!())).then(() => r);
};
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

/**
 * msync: shared file mappings write into the file's own pages (its page cache); files whose
 * cache is held apart from the host file (Gofer files) write their dirty pages back, and
 * MS_SYNC waits for it.
 */
const sysMsync: SyscallHandler = (t, a) => {
  const addr = a.ptr(0);
  const flags = a.int(2);
  const MS_SYNC = 4;
  if (addr % 4096 !== 0 || (flags & ~7) !== 0 || (flags & 5) === 5) return -E.EINVAL;
  const end = addr + Math.ceil(a.size(1) / 4096) * 4096;
  if (!t.mm.vmas.covers(addr, end)) return -E.ENOMEM;
  const files = new Set<Mappable>();
  for (const v of t.mm.vmas.list) if (v.shared && v.start < end && v.end > addr && v.file?.flush !== undefined) files.add(v.file);
  if (files.size === 0) return 0;
  const done = Promise.all([...files].map((f) => f.flush!())).then((rs) => {
    const bad = rs.find((r) => isErr(r));
    return bad !== undefined && isErr(bad) ? -bad.errno : 0;
  });
  return (flags & MS_SYNC) !== 0 ? done : 0;
};

const CAP_IPC_LOCK = 14;
const RLIMIT_MEMLOCK = 8;
const MLOCK_ONFAULT = 1;
const MCL_CURRENT = 1;
const MCL_FUTURE = 2;
const MCL_ONFAULT = 4;

/** RLIMIT_MEMLOCK in bytes, or undefined when CAP_IPC_LOCK lifts it. */
function lockLimit(t: Parameters<SyscallHandler>[0]): number | undefined {
  if (t.creds.hasCap(CAP_IPC_LOCK)) return undefined;
  const cur = t.tg.rlimits[RLIMIT_MEMLOCK].cur;
  return cur >= BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(cur);
}

/**
 * mlock/mlock2(addr, len[, flags]): the whole range must be mapped (ENOMEM); without
 * CAP_IPC_LOCK a zero RLIMIT_MEMLOCK is EPERM and going over it ENOMEM. Accounting only:
 * the Sentry never swaps app memory out.
 */
function mlockRange(t: Parameters<SyscallHandler>[0], start: number, len: number, lock: boolean): number {
  const addr = Math.floor(start / 4096) * 4096;
  const end = Math.ceil((start + len) / 4096) * 4096;
  if (end < addr) return -E.EINVAL;
  if (end === addr) return 0;
  if (!t.mm.vmas.covers(addr, end)) return -E.ENOMEM;
  if (!lock) {
    t.mm.locked.remove(addr, end);
    return 0;
  }
  const limit = lockLimit(t);
  if (limit === 0) return -E.EPERM;
  const adding = end - addr - t.mm.locked.bytesWithin(addr, end);
  if (limit !== undefined && t.mm.locked.bytes + adding > limit) return -E.ENOMEM;
  t.mm.locked.add(addr, end);
  return 0;
}

const sysMlock: SyscallHandler = (t, a) => mlockRange(t, a.ptr(0), a.size(1), true);
const sysMunlock: SyscallHandler = (t, a) => mlockRange(t, a.ptr(0), a.size(1), false);
const sysMlock2: SyscallHandler = (t, a) =>
  (a.int(2) & ~MLOCK_ONFAULT) !== 0 ? -E.EINVAL : mlockRange(t, a.ptr(0), a.size(1), true);

/** mlockall(flags): MCL_CURRENT locks every mapping now, MCL_FUTURE every later one. */
const sysMlockall: SyscallHandler = (t, a) => {
  const flags = a.int(0);
  if (flags === 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) !== 0 || flags === MCL_ONFAULT) return -E.EINVAL;
  const limit = lockLimit(t);
  if (limit === 0) return -E.EPERM;
  if ((flags & MCL_CURRENT) !== 0) {
    const total = t.mm.vmas.list.reduce((n, v) => n + (v.end - v.start), 0);
    if (limit !== undefined && total > limit) return -E.ENOMEM;
    for (const v of t.mm.vmas.list) t.mm.locked.add(v.start, v.end);
  }
  t.mm.locked.future = (flags & MCL_FUTURE) !== 0;
  return 0;
};

const sysMunlockall: SyscallHandler = (t) => {
  t.mm.locked.clear();
  return 0;
};

/** mincore(addr, len, vec): one byte per page, 1 when the page is populated. */
const sysMincore: SyscallHandler = (t, a) => {
  const addr = a.ptr(0);
  const len = a.size(1);
  if (addr % 4096 !== 0) return -E.EINVAL;
  const pages = Math.ceil(len / 4096);
  if (!t.mm.vmas.covers(addr, addr + pages * 4096)) return -E.ENOMEM;
  const vec = new Uint8Array(pages);
  for (let i = 0; i < pages; i++) vec[i] = t.mm.pt.has(addr / 4096 + i) ? 1 : 0;
  return toRet(t.mem.copyOut(a.ptr(2), vec) ?? 0);
};

export const mmSyscalls: SyscallTable = {
  [SYS.mincore]: sysMincore,
  [SYS.mmap]: sysMmap,
  [SYS.munmap]: sysMunmap,
  [SYS.mprotect]: sysMprotect,
  [SYS.brk]: sysBrk,
  [SYS.mremap]: sysMremap,
  [SYS.madvise]: sysMadvise,
  [SYS.msync]: sysMsync,
  [SYS.mlock]: sysMlock,
  [SYS.munlock]: sysMunlock,
  [SYS.mlock2]: sysMlock2,
  [SYS.mlockall]: sysMlockall,
  [SYS.munlockall]: sysMunlockall,
};
