// Linux gives eventfd, epoll, timerfd and signalfd files one shared "anon_inode" inode: fstat
// shows a mode-0600 file with no type bits on the anon_inodefs device.

import { nowNs, type Stat } from '../../vfs/stat.js';
import { allocAnonDev } from '../../vfs/synthetic.js';

const anonDev = allocAnonDev();
const created = nowNs();

/** The stat of the anonymous inode every anon file shares. */
export function anonInodeStat(): Stat {
  return {
    dev: anonDev, ino: 1n, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0n, size: 0n,
    blksize: 4096, blocks: 0n, atimeNs: created, mtimeNs: created, ctimeNs: created,
  };
}
