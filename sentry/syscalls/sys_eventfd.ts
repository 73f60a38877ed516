// eventfd(2) and eventfd2(2).

import { E } from '../abi/errno.js';
import type { SyscallArgs } from '../abi/regs.js';
import { isErr } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import { EFD_SEMAPHORE, EventFdFile } from '../fs/eventfd/eventfd.js';
import type { Task } from '../kernel/task.js';
import { O } from '../vfs/constants.js';
import type { SyscallTable } from './types.js';

/** Creates an eventfd with counter initval; flags EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE. */
function doEventfd(t: Task, initval: number, flags: number): number {
  if ((flags & ~(O.CLOEXEC | O.NONBLOCK | EFD_SEMAPHORE)) !== 0) return -E.EINVAL;
  const f = new EventFdFile(BigInt(initval), (flags & EFD_SEMAPHORE) !== 0, flags & O.NONBLOCK);
  const fd = t.fds.install(f, { cloexec: (flags & O.CLOEXEC) !== 0 });
  f.decRef();
  return isErr(fd) ? -fd.errno : fd;
}

export const eventfdSyscalls: SyscallTable = {
  [SYS.eventfd]: (t: Task, a: SyscallArgs) => doEventfd(t, a.uint(0), 0),
  [SYS.eventfd2]: (t: Task, a: SyscallArgs) => doEventfd(t, a.uint(0), a.int(1)),
};
