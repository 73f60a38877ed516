// /proc/[pid]/ns: one symlink per namespace kind reading "<kind>:[ino]". Opening one gives
// an nsfs file (what setns(2) takes). Linux makes them magic links; here the link target is
// a name the ns directory itself resolves (hidden from readdir), so the VFS needs nothing new.

import { E } from '../../abi/errno.js';
import { err, isErr, type Result } from '../../abi/result.js';
import type { Namespace } from '../../kernel/namespaces.js';
import { nsKind } from '../../kernel/namespaces.js';
import type { Task } from '../../kernel/task.js';
import { O, S } from '../../vfs/constants.js';
import { FileDescription } from '../../vfs/file.js';
import type { Inode } from '../../vfs/inode.js';
import type { Location } from '../../vfs/mount.js';
import type { Stat } from '../../vfs/stat.js';
import { allocAnonDev } from '../../vfs/synthetic.js';
import { GenDir, GenInode, GenSymlink, type Entries, type GenFs, type Owner } from './nodes.js';

/** nsfs's device: every namespace file shares it, its inode number names the namespace. */
const NSFS_DEV = allocAnonDev();

/** The names under /proc/[pid]/ns, and which namespace of the task each shows. */
export const NS_LINKS: [string, (t: Task) => Namespace][] = [
  ['cgroup', (t) => t.nsproxy.fixed.cgroup],
  ['ipc', (t) => t.nsproxy.ipc],
  ['mnt', (t) => t.fs.root.mount.ns],
  ['net', (t) => t.nsproxy.fixed.net],
  ['pid', (t) => t.tg.pidNs],
  ['pid_for_children', (t) => t.nsproxy.pidForChildren],
  ['time', (t) => t.nsproxy.fixed.time],
  ['time_for_children', (t) => t.nsproxy.fixed.time],
  ['user', (t) => t.nsproxy.fixed.user],
  ['uts', (t) => t.nsproxy.uts],
];

export function nsLinkText(ns: Namespace): string {
  return `${nsKind(ns)}:[${ns.ino}]`;
}

/** An nsfs inode: stat shows nsfs's device and the namespace's inode number. */
export class NsInode extends GenInode {
  constructor(fs: GenFs, path: string, readonly ns: Namespace, owner?: () => Owner) {
    super(fs, path, S.IFREG | 0o444, owner);
  }
  override stat(): Result<Stat> {
    const st = super.stat();
    if (isErr(st)) return st;
    return { ...st, dev: NSFS_DEV, ino: BigInt(this.ns.ino) };
  }
  open(loc: Location, flags: number): Result<FileDescription> {
    if ((flags & O.ACCMODE) !== O.RDONLY) return err(E.EACCES);
    return new NsFile(flags, loc, this.ns);
  }
}

/** An open namespace: holds it (for setns), reads nothing. */
export class NsFile extends FileDescription {
  constructor(flags: number, loc: Location, readonly ns: Namespace) {
    super(flags, loc);
  }
  override read(): Result<number> {
    return err(E.EINVAL);
  }
}

/** The namespace an open file stands for, if it is an nsfs file. */
export function nsOfFile(f: FileDescription): Namespace | undefined {
  if (f instanceof NsFile) return f.ns;
  const inode: Inode | undefined = f.location?.dentry.inode;
  return inode instanceof NsInode ? inode.ns : undefined;
}

/** The /proc/[pid]/ns directory of the task taskOf finds (ESRCH once it is gone). */
export function nsDir(fs: GenFs, path: string, taskOf: () => Result<Task>, owner: () => Owner): GenDir {
  const links = (): Entries => {
    const e: Entries = new Map();
    for (const [name, get] of NS_LINKS) {
      e.set(name, (p) => new GenSymlink(fs, p, () => {
        const t = taskOf();
        return isErr(t) ? t : nsLinkText(get(t));
      }, owner));
    }
    return e;
  };
  return new NsDirNode(fs, path, links, taskOf, owner);
}

class NsDirNode extends GenDir {
  constructor(fs: GenFs, path: string, links: () => Entries, private readonly taskOf: () => Result<Task>, owner: () => Owner) {
    super(fs, path, links, 0o511, owner);
  }
  override lookup(name: string): Result<Inode> {
    const t = this.taskOf();
    if (!isErr(t)) {
      // A link's target ("uts:[4026531838]"): the namespace itself, as an nsfs inode.
      for (const [, get] of NS_LINKS) {
        const ns = get(t);
        if (nsLinkText(ns) === name) return new NsInode(this.fs, `${this.path}/${name}`, ns);
      }
    }
    return super.lookup(name);
  }
}
