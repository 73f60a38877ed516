// The mount tree and positions in it. A Location is (mount, dentry); dentries are made as
// a walk goes, each remembering its parent so that ".." and getcwd follow the path that
// was walked, the way Linux's dcache does.

import type { Filesystem, Inode } from './inode.js';

export class Dentry {
  constructor(
    readonly name: string,
    /** null for the root of a mount. */
    readonly parent: Dentry | null,
    readonly inode: Inode,
  ) {}
}

let nextMountId = 1;

/** Per-mount flags (mount(2)'s MS_NOSUID, MS_NODEV, MS_NOEXEC; MS_RDONLY is readOnly). */
export const MNT = { NOSUID: 2, NODEV: 4, NOEXEC: 8 } as const;

export class Mount {
  readonly id = nextMountId++;
  readonly root: Dentry;
  /** MNT.* bits. */
  flags = 0;
  /** Where the mount's root lies in its filesystem ("/" unless a bind of a subdirectory), for mountinfo. */
  rootPath = '/';
  constructor(
    readonly fs: Filesystem,
    /** The mount this one is mounted on (null for the root mount). */
    readonly parent: Mount | null,
    /** Where in parent it is mounted. */
    readonly mountpoint: Dentry | null,
    /** MS_RDONLY; a remount may change it. */
    public readOnly: boolean,
    /** A bind mount's root: a directory inside fs (default: fs's root). */
    rootInode?: Inode,
  ) {
    this.root = new Dentry('/', null, rootInode ?? fs.root());
  }
}

/** The path of loc inside its filesystem (its mount's own root path, then the names down to it). */
export function pathInFilesystem(loc: Location): string {
  const names: string[] = [];
  for (let d: Dentry | null = loc.dentry; d !== null && d.parent !== null; d = d.parent) names.unshift(d.name);
  const base = loc.mount.rootPath === '/' ? '' : loc.mount.rootPath;
  return names.length === 0 ? loc.mount.rootPath : `${base}/${names.join('/')}`;
}

export interface Location {
  readonly mount: Mount;
  readonly dentry: Dentry;
}

export function sameLocation(a: Location, b: Location): boolean {
  return a.mount === b.mount && a.dentry.inode.key === b.dentry.inode.key;
}
