// Builds an OCI container's mounts inside the Sentry's VFS, before init runs. Mount points
// are made in the (overlay) root as runc makes them. What a mount becomes:
//   bind of a host directory -> a Gofer-served filesystem (read-only with "ro");
//   bind of a host file      -> a copy of its contents at the destination (engines bind
//                               /etc/hosts, /etc/resolv.conf, /etc/hostname this way);
//   tmpfs                    -> a Sentry tmpfs (size= honoured);
//   proc, sysfs, devpts, and tmpfs on /dev -> the Sentry's own, already mounted;
//   mqueue                   -> the sandbox IPC namespace's mqueue filesystem;
//   cgroup                   -> nothing yet (logged).

import { E } from '../abi/errno.js';
import { isErr, type Result } from '../abi/result.js';
import { Credentials } from '../kernel/credentials.js';
import { goferFilesystem } from '../fs/gofer/mount_gofer.js';
import { initialMqueue } from '../kernel/ipc/registry.js';
import type { GoferMounter } from './gofer_broker.js';
import { TmpFs } from '../fs/tmpfs/tmpfs.js';
import { O } from '../vfs/constants.js';
import { FsContext } from '../vfs/fs_context.js';
import type { Filesystem, Inode } from '../vfs/inode.js';
import type { Location } from '../vfs/mount.js';
import type { Vfs, PathCtx } from '../vfs/vfs.js';

export type RootMount =
  | { kind: 'dir'; source: string; destination: string; readOnly: boolean }
  | { kind: 'file'; data: Uint8Array; mode: number; destination: string }
  | { kind: 'tmpfs'; destination: string; sizeBytes?: number }
  | { kind: 'mqueue'; destination: string };

/** Makes every missing directory of path (mkdir -p) under ctx's root, as root. */
export async function mkdirAll(vfs: Vfs, ctx: PathCtx, path: string): Promise<Result<void>> {
  let cur = '';
  for (const comp of path.split('/').filter((c) => c !== '')) {
    cur += `/${comp}`;
    const r = await vfs.mkdir(ctx, ctx.fs.root, cur, 0o755);
    if (isErr(r) && r.errno !== E.EEXIST) return r;
  }
  return undefined;
}

async function writeFile(vfs: Vfs, ctx: PathCtx, path: string, data: Uint8Array, mode: number): Promise<Result<void>> {
  const f = await vfs.open(ctx, ctx.fs.root, path, O.WRONLY | O.CREAT | O.TRUNC, mode & 0o7777);
  if (isErr(f)) return f;
  try {
    let off = 0;
    while (off < data.length) {
      const n = await f.write(data.subarray(off), {});
      if (isErr(n)) return n;
      if (n === 0) return { errno: E.EIO };
      off += n;
    }
    return undefined;
  } finally {
    f.decRef();
  }
}

/** mount(2) of fs on path, resolved under ctx's root (bind mounts pass the directory to show). */
export async function mountUnder(vfs: Vfs, ctx: PathCtx, path: string, fs: Filesystem, readOnly: boolean, rootInode?: Inode): Promise<Result<void>> {
  const at = await vfs.walk(ctx, ctx.fs.root, path, true);
  if (isErr(at)) return at;
  const m = vfs.mountAt(at, fs, { readOnly, rootInode });
  return isErr(m) ? m : undefined;
}

/**
 * Applies the mounts in order under root (default: the sandbox's "/"; a pod's other
 * containers have roots of their own); returns an error message naming the failing one.
 */
export async function buildRoot(
  vfs: Vfs, mounts: RootMount[], log: (line: string) => void, root: Location = vfs.rootLocation(), mountGofer: GoferMounter = goferFilesystem,
  mqueue: () => Filesystem = () => initialMqueue,
): Promise<string | undefined> {
  const ctx: PathCtx = { fs: new FsContext(root, root, 0o022), creds: new Credentials() };
  for (const m of mounts) {
    const parent = m.kind === 'file' ? m.destination.slice(0, m.destination.lastIndexOf('/')) : m.destination;
    const made = await mkdirAll(vfs, ctx, parent);
    if (isErr(made)) return `cannot make the mount point ${parent}: errno ${made.errno}`;
    if (m.kind === 'file') {
      const w = await writeFile(vfs, ctx, m.destination, m.data, m.mode);
      if (isErr(w)) return `cannot place ${m.destination}: errno ${w.errno}`;
      log(`mount ${m.destination}: host file copied in`);
      continue;
    }
    if (m.kind === 'mqueue') {
      const r = await mountUnder(vfs, ctx, m.destination, mqueue(), false);
      if (isErr(r)) return `cannot mount mqueue on ${m.destination}: errno ${r.errno}`;
      continue;
    }
    const fs = m.kind === 'tmpfs' ? new TmpFs(m.sizeBytes !== undefined ? { sizeBytes: m.sizeBytes } : {}) : await mountGofer(m.source, { readOnly: m.readOnly, log });
    if (isErr(fs)) return `cannot serve ${m.kind === 'dir' ? m.source : 'tmpfs'} for ${m.destination}: errno ${fs.errno}`;
    const r = await mountUnder(vfs, ctx, m.destination, fs, m.kind === 'dir' && m.readOnly);
    if (isErr(r)) return `cannot mount on ${m.destination}: errno ${r.errno}`;
  }
  return undefined;
}
