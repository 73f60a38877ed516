// The mount tree and positions in it. A Location is (mount, dentry); dentries are made as
// a walk goes, each remembering its parent so that ".." and getcwd follow the path that
// was walked, the way Linux's dcache does.

import { allocNsIno } from '../kernel/namespaces.js';
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
  /** The mount namespace whose tree this mount is in (a parentless mount starts its own). */
  ns: MountNamespace;
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
    this.ns = parent?.ns ?? new MountNamespace(allocNsIno(), this);
  }
}

/** Key of the mount attached at (parent mount, mountpoint inode) in a namespace's table. */
export function mountKey(m: Mount, inode: Inode): string {
  return `${m.id}\0${inode.key}`;
}

/** Linux's usual inode number of the initial mount namespace. */
export const INIT_MNT_NS_INO = 4026531841;

/**
 * A mount namespace: its own tree of mounts. Walks stay in the namespace of the mount they
 * are on, so a task sees the tree its root and cwd belong to. Propagation is always private.
 */
export class MountNamespace {
  readonly kind = 'mnt' as const;
  /** Mounts keyed by mountKey(parent mount, mountpoint inode). */
  readonly mounts = new Map<string, Mount>();
  /** A mount stacked on another at the same place: the one it hides. */
  readonly hidden = new Map<Mount, Mount>();

  constructor(readonly ino: number, public root: Mount) {
    root.ns = this;
  }

  /** CLONE_NEWNS: a copy of the whole tree (new mount objects); map takes old mounts to copies. */
  copy(ino: number): { ns: MountNamespace; map: Map<Mount, Mount> } {
    const map = new Map<Mount, Mount>();
    const dup = (m: Mount): Mount => {
      const have = map.get(m);
      if (have !== undefined) return have;
      const c = new Mount(m.fs, m.parent === null ? null : dup(m.parent), m.mountpoint, m.readOnly, m.root.inode);
      c.flags = m.flags;
      c.rootPath = m.rootPath;
      map.set(m, c);
      return c;
    };
    const ns = new MountNamespace(ino, dup(this.root));
    for (const [key, m] of this.mounts) {
      const c = dup(m);
      c.ns = ns;
      ns.mounts.set(c.parent !== null && c.mountpoint !== null ? mountKey(c.parent, c.mountpoint.inode) : key, c);
    }
    for (const [m, under] of this.hidden) {
      const c = dup(m);
      const u = dup(under);
      c.ns = ns;
      u.ns = ns;
      ns.hidden.set(c, u);
    }
    for (const c of map.values()) c.ns = ns;
    return { ns, map };
  }

  /** A location in this namespace's copy of the tree (same place, copied mount). */
  static remap(loc: Location, map: Map<Mount, Mount>): Location {
    const m = map.get(loc.mount);
    return m === undefined ? loc : { mount: m, dentry: loc.dentry };
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
