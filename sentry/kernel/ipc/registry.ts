// The IPC state one IPC namespace owns: its SysV shm, semaphore and message-queue tables,
// and its POSIX message-queue filesystem.

import { MqueueFs } from '../../fs/mqueue/mqueue.js';
import { MsgRegistry } from './msg.js';
import { SemRegistry } from './sem.js';
import { ShmRegistry } from './shm.js';

/** The initial IPC namespace's mqueue fs: made before the kernel, so an OCI root can mount it. */
export const initialMqueue = new MqueueFs();

export class IpcRegistries {
  readonly shm = new ShmRegistry();
  readonly sem = new SemRegistry();
  readonly msg = new MsgRegistry();
  constructor(readonly mqueue = new MqueueFs()) {}
}
