// Mounts inside the sandbox: mount(2) (new tmpfs/proc/sysfs instances, bind mounts,
// remounts, and the propagation flags, which have nothing to propagate to), umount2(2)
// and pivot_root(2). All need CAP_SYS_ADMIN, which the sandbox's root holds.

import { E } from '../abi/errno.js';
import type { SyscallArgs } from '../abi/regs.js';
import { err, isErr, toRet, type Result } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import type { Task } from '../kernel/task.js';
import { ProcFs } from '../fs/proc/procfs.js';
import { SysFs } from '../fs/sys/sysfs.js';
import { TmpFs } from '../fs/tmpfs/tmpfs.js';
import { readPath } from '../vfs/at.js';
import { isDir } from '../vfs/constants.js';
import type { Filesystem } from '../vfs/inode.js';
import { MNT, pathInFilesystem, sameLocation, type Location } from '../vfs/mount.js';
import { CAP, capable } from '../vfs/permissions.js';
import { Vfs } from '../vfs/vfs.js';
import type { SyscallTable } from './types.js';

const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64, DIRSYNC: 128,
  NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192, REC: 16384, SILENT: 32768,
  UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20, RELATIME: 1 << 21,
  STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
} as const;
const PROPAGATION = MS.UNBINDABLE | MS.PRIVATE | MS.SLAVE | MS.SHARED;
const MNT_FORCE = 1;
const MNT_DETACH = 2;
const MNT_EXPIRE = 4;
const UMOUNT_NOFOLLOW = 8;

function mntFlags(flags: number): number {
  return (flags & MS.NOSUID ? MNT.NOSUID : 0) | (flags & MS.NODEV ? MNT.NODEV : 0) | (flags & MS.NOEXEC ? MNT.NOEXEC : 0);
}

async function dirAt(t: Task, addr: number, follow = true): Promise<Result<Location>> {
  const path = readPath(t, addr);
  if (isErr(path)) return path;
  return t.kernel.vfs.walk(t, t.fs.cwd, path, follow);
}

/** Reads mount(2)'s data argument as "key=value,..." options (NULL: none). */
function readOptions(t: Task, addr: number): Result<Map<string, string>> {
  const out = new Map<string, string>();
  if (addr === 0) return out;
  const s = t.mem.readCString(addr, 4095);
  if (isErr(s)) return s;
  for (const part of s.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.set(eq < 0 ? part : part.slice(0, eq), eq < 0 ? '' : part.slice(eq + 1));
  }
  return out;
}

/** tmpfs's size=: bytes with an optional k/m/g suffix, or a percentage (of 2 GiB here). */
function parseSize(v: string): number | undefined {
  const m = /^(\d+)([kmgKMG%]?)$/.exec(v);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2].toLowerCase();
  if (unit === '%') return Math.floor((2 * 1024 * 1024 * 1024 * n) / 100);
  return n * (unit === 'k' ? 1024 : unit === 'm' ? 1 << 20 : unit === 'g' ? 1 << 30 : 1);
}

function newFilesystem(t: Task, type: string, opts: Map<string, string>): Result<Filesystem> {
  switch (type) {
    case 'tmpfs': {
      const size = opts.has('size') ? parseSize(opts.get('size') as string) : undefined;
      if (opts.has('size') && size === undefined) return err(E.EINVAL);
      const mode = opts.has('mode') ? parseInt(opts.get('mode') as string, 8) : 0o1777;
      if (Number.isNaN(mode)) return err(E.EINVAL);
      const nr = opts.has('nr_inodes') ? Number(opts.get('nr_inodes')) : undefined;
      return new TmpFs({ sizeBytes: size, rootMode: mode & 0o7777, maxInodes: nr });
    }
    case 'proc': {
      const p = new ProcFs();
      p.kernel = t.kernel;
      // A proc mount shows the pids of the mounting task's pid namespace.
      p.mountNs = t.tg.pidNs;
      return p;
    }
    case 'sysfs':
      return new SysFs(new ProcFs().host.cpus.length);
    case 'mqueue':
      // One mqueue filesystem per IPC namespace: every mount of it shows the same queues.
      return t.nsproxy.ipc.sysv.mqueue;
    default:
      return err(E.ENODEV);
  }
}

/** mount(source, target, fstype, flags, data). */
async function sysMount(t: Task, a: SyscallArgs): Promise<number> {
  let flags = a.uint(3);
  // The old magic number in the high half is ignored, as Linux does.
  if ((flags & 0xffff0000) === 0xc0ed0000) flags &= 0xffff;
  const vfs = t.kernel.vfs;
  // Linux resolves the target before checking the capability.
  const target = await dirAt(t, a.ptr(1));
  if (isErr(target)) return -target.errno;
  if (!capable(t.creds, CAP.SYS_ADMIN)) return -E.EPERM;
  if ((flags & PROPAGATION) !== 0) {
    // Every mount is private: namespaces never share mount events, so there is nothing to set.
    return Vfs.isMountRoot(target) ? 0 : -E.EINVAL;
  }
  if ((flags & MS.REMOUNT) !== 0) {
    if (!Vfs.isMountRoot(target)) return -E.EINVAL;
    target.mount.readOnly = (flags & MS.RDONLY) !== 0;
    target.mount.flags = mntFlags(flags);
    return 0;
  }
  if ((flags & MS.MOVE) !== 0) return -E.EINVAL;
  if ((flags & MS.BIND) !== 0) {
    const src = await dirAt(t, a.ptr(0));
    if (isErr(src)) return -src.errno;
    if (isDir(src.dentry.inode.mode) !== isDir(target.dentry.inode.mode)) return -E.ENOTDIR;
    const m = vfs.mountAt(target, src.mount.fs, {
      readOnly: src.mount.readOnly, flags: src.mount.flags, rootInode: src.dentry.inode, rootPath: pathInFilesystem(src),
    });
    return isErr(m) ? -m.errno : 0;
  }
  if (!isDir(target.dentry.inode.mode)) return -E.ENOTDIR;
  const type = t.mem.readCString(a.ptr(2), 255);
  if (isErr(type)) return -type.errno;
  const opts = readOptions(t, a.ptr(4));
  if (isErr(opts)) return -opts.errno;
  const fs = newFilesystem(t, type, opts);
  if (isErr(fs)) return -fs.errno;
  const m = vfs.mountAt(target, fs, { readOnly: (flags & MS.RDONLY) !== 0, flags: mntFlags(flags) });
  return isErr(m) ? -m.errno : 0;
}

/** umount2(target, flags): the mount whose root target is. */
async function sysUmount2(t: Task, a: SyscallArgs): Promise<number> {
  const flags = a.int(1);
  if ((flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) !== 0) return -E.EINVAL;
  if ((flags & MNT_EXPIRE) !== 0 && (flags & (MNT_FORCE | MNT_DETACH)) !== 0) return -E.EINVAL;
  const target = await dirAt(t, a.ptr(0), (flags & UMOUNT_NOFOLLOW) === 0);
  if (isErr(target)) return -target.errno;
  if (!capable(t.creds, CAP.SYS_ADMIN)) return -E.EPERM;
  if (!Vfs.isMountRoot(target)) return -E.EINVAL;
  const m = target.mount;
  // A mount someone stands in (cwd or root) is busy unless detached lazily.
  if ((flags & MNT_DETACH) === 0) {
    for (const o of t.kernel.tasks.values()) {
      if (o.fs.cwd.mount === m || (o.fs.root.mount === m)) return -E.EBUSY;
    }
  }
  return toRet(t.kernel.vfs.umount(m, (flags & MNT_DETACH) !== 0) ?? 0);
}

/**
 * pivot_root(new_root, put_old): new_root (a mount root) becomes the root of every task
 * whose root was the old one, and the old root is reachable at put_old (under new_root),
 * from where umount2(put_old, MNT_DETACH) drops it.
 */
async function sysPivotRoot(t: Task, a: SyscallArgs): Promise<number> {
  if (!capable(t.creds, CAP.SYS_ADMIN)) return -E.EPERM;
  const vfs = t.kernel.vfs;
  const newRoot = await dirAt(t, a.ptr(0));
  if (isErr(newRoot)) return -newRoot.errno;
  const putOld = await dirAt(t, a.ptr(1));
  if (isErr(putOld)) return -putOld.errno;
  if (!isDir(newRoot.dentry.inode.mode) || !isDir(putOld.dentry.inode.mode)) return -E.ENOTDIR;
  const oldRoot = t.fs.root;
  if (!Vfs.isMountRoot(newRoot) || sameLocation(newRoot, oldRoot)) return -E.EINVAL;
  // put_old must be at or under new_root.
  let under = false;
  for (let cur = putOld; ;) {
    if (sameLocation(cur, newRoot)) {
      under = true;
      break;
    }
    const up = vfs.parentOf(cur, oldRoot);
    if (sameLocation(up, cur)) break;
    cur = up;
  }
  if (!under) return -E.EINVAL;
  const bind = vfs.mountAt(putOld, oldRoot.mount.fs, {
    readOnly: oldRoot.mount.readOnly, flags: oldRoot.mount.flags, rootInode: oldRoot.dentry.inode, rootPath: pathInFilesystem(oldRoot),
  });
  if (isErr(bind)) return -bind.errno;
  const top: Location = { mount: newRoot.mount, dentry: newRoot.mount.root };
  for (const o of t.kernel.tasks.values()) {
    // Only tasks in the caller's mount namespace: another namespace's tree is its own.
    if (o.fs.root.mount.ns !== oldRoot.mount.ns) continue;
    if (sameLocation(o.fs.root, oldRoot)) o.fs.root = top;
    if (sameLocation(o.fs.cwd, oldRoot)) o.fs.cwd = top;
  }
  return 0;
}

export const mountSyscalls: SyscallTable = {
  [SYS.mount]: sysMount,
  [SYS.umount2]: sysUmount2,
  [SYS.pivot_root]: sysPivotRoot,
};
