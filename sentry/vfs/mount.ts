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

export class Mount {
  readonly id = nextMountId++;
  readonly root: Dentry;
  constructor(
    readonly fs: Filesystem,
    /** The mount this one is mounted on (null for the root mount). */
    readonly parent: Mount | null,
    /** Where in parent it is mounted. */
    readonly mountpoint: Dentry | null,
    readonly readOnly: boolean,
  ) {
    this.root = new Dentry('/', null, fs.root());
  }
}

export interface Location {
  readonly mount: Mount;
  readonly dentry: Dentry;
}

export function sameLocation(a: Location, b: Location): boolean {
  return a.mount === b.mount && a.dentry.inode.key === b.dentry.inode.key;
}
