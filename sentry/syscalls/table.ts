// The x86-64 syscall table: every family's handlers merged, indexed by number.

import { fileSyscalls } from './sys_file.js';
import { fsSyscalls } from './sys_fs.js';
import { futexSyscalls } from './sys_futex.js';
import { infoSyscalls } from './sys_info.js';
import { mmSyscalls } from './sys_mm.js';
import { mountSyscalls } from './sys_mount.js';
import { inotifySyscalls } from './sys_inotify.js';
import { pipeSyscalls } from './sys_pipe.js';
import { pollSyscalls } from './sys_poll.js';
import { epollSyscalls } from './sys_epoll.js';
import { eventfdSyscalls } from './sys_eventfd.js';
import { timerfdSyscalls } from './sys_timerfd.js';
import { processSyscalls } from './sys_process.js';
import { signalSyscalls } from './sys_signal.js';
import { timerSyscalls } from './sys_timer.js';
import { socketSyscalls } from './sys_socket.js';
import { namespaceSyscalls } from './sys_namespace.js';
import { ipcSyscalls } from './sys_ipc.js';
import { mqueueSyscalls } from './sys_mqueue.js';
import type { SyscallHandler, SyscallTable } from './types.js';

const families: SyscallTable[] = [
  fileSyscalls, fsSyscalls, pipeSyscalls, pollSyscalls, mmSyscalls, futexSyscalls, processSyscalls, signalSyscalls, infoSyscalls, timerSyscalls,
  eventfdSyscalls, epollSyscalls, timerfdSyscalls, socketSyscalls, mountSyscalls, inotifySyscalls, namespaceSyscalls,
  ipcSyscalls, mqueueSyscalls,
];

export function buildSyscallTable(): (SyscallHandler | undefined)[] {
  const table: (SyscallHandler | undefined)[] = new Array(512).fill(undefined);
  for (const f of families) {
    for (const [k, h] of Object.entries(f)) {
      const nr = Number(k);
      if (table[nr] !== undefined) throw new Error(`syscall ${nr} registered twice`);
      table[nr] = h;
    }
  }
  return table;
}
