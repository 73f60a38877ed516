// inotify_init(1), inotify_add_watch, inotify_rm_watch.

import { E } from '../abi/errno.js';
import type { SyscallArgs } from '../abi/regs.js';
import { isErr, toRet } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import type { Task } from '../kernel/task.js';
import { fileOf, readPath } from '../vfs/at.js';
import { isDir, O, R_OK } from '../vfs/constants.js';
import { IN } from '../vfs/fsnotify.js';
import { InotifyFile } from '../vfs/inotify.js';
import { permits } from '../vfs/permissions.js';
import type { SyscallTable } from './types.js';

/** inotify_init1(flags): IN_NONBLOCK and IN_CLOEXEC only. */
function inotifyInit(t: Task, flags: number): number {
  if ((flags & ~(O.NONBLOCK | O.CLOEXEC)) !== 0) return -E.EINVAL;
  const f = new InotifyFile(flags);
  const fd = t.fds.install(f, { cloexec: (flags & O.CLOEXEC) !== 0 });
  f.decRef();
  return toRet(fd);
}

/**
 * inotify_add_watch(fd, path, mask): needs read permission on the file; IN_ONLYDIR
 * refuses non-directories; a second watch on one inode updates the first (same wd).
 */
async function sysAddWatch(t: Task, a: SyscallArgs): Promise<number> {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  const mask = a.uint(2);
  const valid = IN.ALL_EVENTS | IN.ONLYDIR | IN.DONT_FOLLOW | IN.EXCL_UNLINK | IN.MASK_CREATE | IN.MASK_ADD | IN.ONESHOT;
  if ((mask & IN.ALL_EVENTS) === 0 || (mask & ~valid) !== 0) return -E.EINVAL;
  if ((mask & IN.MASK_CREATE) !== 0 && (mask & IN.MASK_ADD) !== 0) return -E.EINVAL;
  if (!(f instanceof InotifyFile)) return -E.EINVAL;
  const path = readPath(t, a.ptr(1));
  if (isErr(path)) return -path.errno;
  const loc = await t.kernel.vfs.walk(t, t.fs.cwd, path, (mask & IN.DONT_FOLLOW) === 0);
  if (isErr(loc)) return -loc.errno;
  const inode = loc.dentry.inode;
  if ((mask & IN.ONLYDIR) !== 0 && !isDir(inode.mode)) return -E.ENOTDIR;
  if (!permits(t.creds, inode, R_OK)) return -E.EACCES;
  return toRet(f.addWatch(inode.key, mask & ~(IN.ONLYDIR | IN.DONT_FOLLOW | IN.MASK_CREATE)));
}

function sysRmWatch(t: Task, a: SyscallArgs): number {
  const f = fileOf(t, a.int(0));
  if (isErr(f)) return -f.errno;
  if (!(f instanceof InotifyFile)) return -E.EINVAL;
  return toRet(f.rmWatch(a.int(1)) ?? 0);
}

export const inotifySyscalls: SyscallTable = {
  [SYS.inotify_init]: (t) => inotifyInit(t, 0),
  [SYS.inotify_init1]: (t, a) => inotifyInit(t, a.int(0)),
  [SYS.inotify_add_watch]: sysAddWatch,
  [SYS.inotify_rm_watch]: sysRmWatch,
};
