// config.json's linux.readonlyPaths and linux.maskedPaths, applied as runc applies them
// once the root's mounts exist: read-only paths first (a read-only bind of the path on
// itself), then masks (a directory gets an empty read-only tmpfs, anything else a bind of
// /dev/null). Paths that do not exist are skipped, as runc skips them.

import { E } from '../abi/errno.js';
import { isErr } from '../abi/result.js';
import { Credentials } from '../kernel/credentials.js';
import { TmpFs } from '../fs/tmpfs/tmpfs.js';
import { isDir } from '../vfs/constants.js';
import { FsContext } from '../vfs/fs_context.js';
import { pathInFilesystem, type Location } from '../vfs/mount.js';
import type { PathCtx, Vfs } from '../vfs/vfs.js';

/** Applies both lists under root; returns an error message naming the path that failed. */
export async function restrictPaths(vfs: Vfs, readonlyPaths: string[], maskedPaths: string[], root: Location = vfs.rootLocation()): Promise<string | undefined> {
  const ctx: PathCtx = { fs: new FsContext(root, root, 0o022), creds: new Credentials() };
  for (const p of readonlyPaths) {
    const at = await vfs.walk(ctx, root, p, true);
    if (isErr(at)) {
      if (at.errno === E.ENOENT) continue;
      return `linux.readonlyPaths: cannot resolve ${p}: errno ${at.errno}`;
    }
    const m = vfs.mountAt(at, at.mount.fs, { readOnly: true, flags: at.mount.flags, rootInode: at.dentry.inode, rootPath: pathInFilesystem(at) });
    if (isErr(m)) return `linux.readonlyPaths: cannot make ${p} read-only: errno ${m.errno}`;
  }
  const devNull = await vfs.walk(ctx, root, '/dev/null', true);
  for (const p of maskedPaths) {
    const at = await vfs.walk(ctx, root, p, true);
    if (isErr(at)) {
      if (at.errno === E.ENOENT) continue;
      return `linux.maskedPaths: cannot resolve ${p}: errno ${at.errno}`;
    }
    let m;
    if (isDir(at.dentry.inode.mode)) {
      m = vfs.mountAt(at, new TmpFs({ source: 'tmpfs' }), { readOnly: true });
    } else {
      if (isErr(devNull)) return `linux.maskedPaths: cannot mask ${p}: the sandbox has no /dev/null`;
      m = vfs.mountAt(at, devNull.mount.fs, { readOnly: devNull.mount.readOnly, flags: devNull.mount.flags, rootInode: devNull.dentry.inode, rootPath: pathInFilesystem(devNull) });
    }
    if (isErr(m)) return `linux.maskedPaths: cannot mask ${p}: errno ${m.errno}`;
  }
  return undefined;
}
