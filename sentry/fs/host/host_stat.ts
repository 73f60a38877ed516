// node:fs BigIntStats to the VFS's Stat.

import type { BigIntStats } from 'node:fs';
import type { Stat } from '../../vfs/stat.js';

export function statFromHost(st: BigIntStats): Stat {
  return {
    dev: st.dev, ino: st.ino, mode: Number(st.mode), nlink: Number(st.nlink),
    uid: Number(st.uid), gid: Number(st.gid), rdev: st.rdev, size: st.size,
    blksize: Number(st.blksize), blocks: st.blocks, atimeNs: st.atimeNs,
    mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs,
    btimeNs: st.birthtimeNs > 0n ? st.birthtimeNs : undefined,
  };
}
