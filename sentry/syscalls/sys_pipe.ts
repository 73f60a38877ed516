// pipe(2) and pipe2(2).

import { E } from '../abi/errno.js';
import type { SyscallArgs } from '../abi/regs.js';
import { isErr } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import { createPipe } from '../fs/pipe/pipe.js';
import type { Task } from '../kernel/task.js';
import { O } from '../vfs/constants.js';
import type { SyscallTable } from './types.js';

/**
 * Creates a pipe and stores its read and write fds at fdsAddr. Flags: O_CLOEXEC and
 * O_NONBLOCK; O_DIRECT (packet mode) is not supported and, like any other flag, is EINVAL.
 */
function doPipe(t: Task, fdsAddr: number, flags: number): number {
  if ((flags & ~(O.CLOEXEC | O.NONBLOCK)) !== 0) return -E.EINVAL;
  const { read, write } = createPipe(flags & O.NONBLOCK);
  const cloexec = (flags & O.CLOEXEC) !== 0;
  const rfd = t.fds.install(read, { cloexec });
  read.decRef();
  if (isErr(rfd)) {
    write.decRef();
    return -rfd.errno;
  }
  const wfd = t.fds.install(write, { cloexec });
  write.decRef();
  if (isErr(wfd)) {
    t.fds.close(rfd);
    return -wfd.errno;
  }
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setInt32(0, rfd, true);
  v.setInt32(4, wfd, true);
  const r = t.mem.copyOut(fdsAddr, out);
  if (isErr(r)) {
    t.fds.close(rfd);
    t.fds.close(wfd);
    return -r.errno;
  }
  return 0;
}

export const pipeSyscalls: SyscallTable = {
  [SYS.pipe]: (t: Task, a: SyscallArgs) => doPipe(t, a.ptr(0), 0),
  [SYS.pipe2]: (t: Task, a: SyscallArgs) => doPipe(t, a.ptr(0), a.int(1)),
};
