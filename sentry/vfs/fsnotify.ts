// The registry behind inotify: watches on inodes (by key, so every path to a file reaches
// the same watches). The VFS and the file syscalls report what happened through
// fsnotify*(); with no watches anywhere that costs one Map size check.

import { isDir } from './constants.js';
import type { Dentry } from './mount.js';

export const IN = {
  ACCESS: 0x1, MODIFY: 0x2, ATTRIB: 0x4, CLOSE_WRITE: 0x8, CLOSE_NOWRITE: 0x10, OPEN: 0x20,
  MOVED_FROM: 0x40, MOVED_TO: 0x80, CREATE: 0x100, DELETE: 0x200, DELETE_SELF: 0x400, MOVE_SELF: 0x800,
  ALL_EVENTS: 0xfff, UNMOUNT: 0x2000, Q_OVERFLOW: 0x4000, IGNORED: 0x8000,
  ONLYDIR: 0x01000000, DONT_FOLLOW: 0x02000000, EXCL_UNLINK: 0x04000000, MASK_CREATE: 0x10000000,
  MASK_ADD: 0x20000000, ISDIR: 0x40000000, ONESHOT: 0x80000000,
} as const;

/** What a watch delivers to: an inotify instance. */
export interface WatchOwner {
  push(e: InotifyEvent): void;
  removeWatch(w: Watch, announce: boolean): void;
}

export interface Watch {
  wd: number;
  mask: number;
  owner: WatchOwner;
  key: string;
}

export interface InotifyEvent {
  wd: number;
  mask: number;
  cookie: number;
  name: string;
}

/** inode key -> watches on it. */
export const watches = new Map<string, Set<Watch>>();
let nextCookie = 1;

/** A fresh cookie tying IN_MOVED_FROM to its IN_MOVED_TO. */
export function moveCookie(): number {
  return nextCookie++;
}

function deliver(key: string, mask: number, name: string, cookie: number): void {
  const set = watches.get(key);
  if (set === undefined) return;
  for (const w of [...set]) {
    if ((w.mask & mask & IN.ALL_EVENTS) === 0) continue;
    w.owner.push({ wd: w.wd, mask, cookie, name });
    if ((w.mask & IN.ONESHOT) !== 0) w.owner.removeWatch(w, true);
  }
}

/**
 * Reports mask on the file d names: to watches on the file itself, and to watches on its
 * parent directory with the name. isDirectory adds IN_ISDIR.
 */
export function fsnotify(d: Dentry | null | undefined, mask: number, cookie = 0): void {
  if (watches.size === 0 || d === null || d === undefined) return;
  const flag = isDir(d.inode.mode) ? IN.ISDIR : 0;
  if (d.parent !== null) deliver(d.parent.inode.key, mask | flag, d.name, cookie);
  if ((mask & (IN.CREATE | IN.MOVED_FROM | IN.MOVED_TO | IN.DELETE)) === 0) deliver(d.inode.key, mask | flag, '', cookie);
}

/** An event on a directory about one of its entries (create, delete, moves). */
export function fsnotifyChild(dirKey: string, name: string, mask: number, isDirectory: boolean, cookie = 0): void {
  if (watches.size === 0) return;
  deliver(dirKey, mask | (isDirectory ? IN.ISDIR : 0), name, cookie);
}

/** A file's own event (IN_DELETE_SELF when its last link goes, IN_ATTRIB...). */
export function fsnotifySelf(key: string, mask: number): void {
  if (watches.size === 0) return;
  deliver(key, mask, '', 0);
}

export function anyWatches(): boolean {
  return watches.size > 0;
}
