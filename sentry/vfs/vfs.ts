// The virtual filesystem: the mount tree, path resolution done here component by component
// (symlinks resolved by us, relative to the task's root, so nothing escapes it), and the
// path-level operations the syscalls use. Filesystems only answer per-directory lookups.

import { E } from '../abi/errno.js';
import { err, isErr, type Result } from '../abi/result.js';
import { Credentials } from '../kernel/credentials.js';
import type { ExecFile } from '../loader/types.js';
import {
  isDir, isLnk, isReg, MAX_SYMLINKS, NAME_MAX, O, PATH_MAX, R_OK, S, W_OK, X_OK,
} from './constants.js';
import { DirectoryFile, PathFile } from './directory.js';
import { fsnotify, fsnotifyChild, fsnotifySelf, IN, moveCookie } from './fsnotify.js';
import type { FileDescription } from './file.js';
import { FsContext } from './fs_context.js';
import type { Filesystem, Inode, SetAttr } from './inode.js';
import { Dentry, INIT_MNT_NS_INO, MNT, Mount, MountNamespace, mountKey, sameLocation, type Location } from './mount.js';
import { CAP, capable, permits, type FsCreds } from './permissions.js';
import { ST, type Stat, type Statfs } from './stat.js';

/** What path resolution needs from the calling task (a Task has these fields). */
export interface PathCtx {
  readonly fs: FsContext;
  readonly creds: Credentials;
}

/** The parent directory of a path's last component, for create/remove/rename. */
export interface ParentPath {
  dir: Location;
  /** The last component; '' when the path is "/" (all slashes). */
  name: string;
  trailingSlash: boolean;
}

const utf8 = new TextEncoder();

/** openat2's resolve flags. */
export const RESOLVE = { NO_XDEV: 0x01, NO_MAGICLINKS: 0x02, NO_SYMLINKS: 0x04, BENEATH: 0x08, IN_ROOT: 0x10, CACHED: 0x20 } as const;

function byteLength(s: string): number {
  // Fast path: ASCII strings are one byte per char.
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return utf8.encode(s).length;
  return s.length;
}

function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c.length > 0);
}

/** Flags Linux drops from f_flags after open (F_GETFL does not show them). */
const OPEN_ONLY_FLAGS = O.CREAT | O.EXCL | O.NOCTTY | O.TRUNC | O.CLOEXEC;

export class Vfs {
  readonly rootMount: Mount;
  /** The initial mount namespace (boot's and init's); others are copies made by unshare/clone. */
  readonly initMountNs: MountNamespace;

  /** rootFs becomes "/"; readOnly makes the whole root mount read-only. */
  constructor(rootFs: Filesystem, opts: { readOnly?: boolean } = {}) {
    this.rootMount = new Mount(rootFs, null, null, opts.readOnly ?? rootFs.readOnly);
    this.initMountNs = new MountNamespace(INIT_MNT_NS_INO, this.rootMount);
  }

  /** "/" of the mount tree: init's root and cwd. */
  rootLocation(): Location {
    return { mount: this.rootMount, dentry: this.rootMount.root };
  }

  /**
   * Mounts fs on the directory at path (absolute, resolved from the mount tree's root,
   * following symlinks). A later mount at the same place hides the earlier one.
   */
  async mount(fs: Filesystem, path: string, opts: { readOnly?: boolean; flags?: number } = {}): Promise<Result<Mount>> {
    const root = this.rootLocation();
    const ctx: PathCtx = { fs: new FsContext(root, root), creds: new Credentials() };
    const at = await this.walk(ctx, root, path, true);
    if (isErr(at)) return at;
    if (!isDir(at.dentry.inode.mode)) return err(E.ENOTDIR);
    return this.mountAt(at, fs, { readOnly: opts.readOnly ?? fs.readOnly, flags: opts.flags });
  }

  /**
   * Attaches a new mount of fs (or, with rootInode, a bind of a file or directory of fs)
   * on at. A later mount at the same place hides the earlier one; unmounting it
   * shows the earlier one again.
   */
  mountAt(at: Location, fs: Filesystem, opts: { readOnly: boolean; flags?: number; rootInode?: Inode; rootPath?: string }): Result<Mount> {
    // A directory goes on a directory; a bind of a non-directory on a non-directory (as Linux allows).
    if (isDir(at.dentry.inode.mode) !== isDir((opts.rootInode ?? fs.root()).mode)) return err(E.ENOTDIR);
    const m = new Mount(fs, at.mount, at.dentry, opts.readOnly, opts.rootInode);
    m.flags = opts.flags ?? 0;
    m.rootPath = opts.rootPath ?? '/';
    const ns = at.mount.ns;
    m.ns = ns;
    const key = mountKey(at.mount, at.dentry.inode);
    const under = ns.mounts.get(key);
    if (under !== undefined) ns.hidden.set(m, under);
    ns.mounts.set(key, m);
    return m;
  }

  /** Whether loc is the root of its mount (a mount point as umount2 and pivot_root need). */
  static isMountRoot(loc: Location): boolean {
    return loc.dentry === loc.mount.root || (loc.dentry.parent === null && loc.dentry.inode.key === loc.mount.root.inode.key);
  }

  /** umount2: detaches m; EBUSY if other mounts sit on it (unless detach, which takes them too). */
  umount(m: Mount, detach: boolean): Result<void> {
    const ns = m.ns;
    if (m === ns.root || m.mountpoint === null || m.parent === null) return err(E.EINVAL);
    const children = [...ns.mounts.values()].filter((c) => c.parent === m);
    if (children.length > 0 && !detach) return err(E.EBUSY);
    for (const c of children) this.umount(c, true);
    const key = mountKey(m.parent, m.mountpoint.inode);
    if (ns.mounts.get(key) !== m) return err(E.EINVAL);
    const under = ns.hidden.get(m);
    if (under !== undefined) ns.mounts.set(key, under);
    else ns.mounts.delete(key);
    ns.hidden.delete(m);
    return undefined;
  }

  /** Follows mounts stacked on loc down to the topmost one's root. */
  private crossMounts(loc: Location): Location {
    // The table of the namespace the walk is in: another namespace's mounts stay invisible.
    const table = loc.mount.ns.mounts;
    let m = table.get(mountKey(loc.mount, loc.dentry.inode));
    while (m !== undefined) {
      loc = { mount: m, dentry: m.root };
      m = table.get(mountKey(loc.mount, loc.dentry.inode));
    }
    return loc;
  }

  /** ".." of loc, never above root, crossing from a mount's root to its mountpoint's parent. */
  parentOf(loc: Location, root: Location): Location {
    let cur = loc;
    for (;;) {
      if (sameLocation(cur, root)) return cur;
      if (cur.dentry.parent !== null) return { mount: cur.mount, dentry: cur.dentry.parent };
      const m = cur.mount;
      if (m.parent === null || m.mountpoint === null) return cur;
      cur = { mount: m.parent, dentry: m.mountpoint };
    }
  }

  private async lookupChild(dir: Location, name: string): Promise<Result<Location>> {
    const inode = dir.dentry.inode;
    if (inode.lookup === undefined) return err(E.ENOTDIR);
    const child = await inode.lookup(name);
    if (isErr(child)) return child;
    return this.crossMounts({ mount: dir.mount, dentry: new Dentry(name, dir.dentry, child) });
  }

  /**
   * Resolves path from start (relative paths) or the task's root (absolute paths).
   * follow: whether a symlink as the last component is followed (a trailing slash always
   * follows and requires a directory).
   */
  async walk(ctx: PathCtx, start: Location, path: string, follow: boolean, resolve = 0): Promise<Result<Location>> {
    if (path.length === 0) return err(E.ENOENT);
    if (byteLength(path) >= PATH_MAX) return err(E.ENAMETOOLONG);
    // RESOLVE_IN_ROOT: start acts as the root for "/" and "..".
    const root = (resolve & RESOLVE.IN_ROOT) !== 0 ? start : ctx.fs.root;
    const beneath = (resolve & RESOLVE.BENEATH) !== 0;
    if (beneath && path.charCodeAt(0) === 0x2f) return err(E.EXDEV);
    let cur = path.charCodeAt(0) === 0x2f ? root : start;
    // A stack of components still to walk, the next one last.
    const comps = splitPath(path).reverse();
    let mustBeDir = path.endsWith('/');
    let links = 0;
    /** RESOLVE_BENEATH: how deep below start the walk is. */
    let depth = 0;
    while (comps.length > 0) {
      const name = comps.pop() as string;
      const last = comps.length === 0;
      const dir = cur.dentry.inode;
      if (!isDir(dir.mode)) return err(E.ENOTDIR);
      if (!permits(ctx.creds, dir, X_OK)) return err(E.EACCES);
      if (name === '.') continue;
      if (name === '..') {
        if (beneath && --depth < 0) return err(E.EXDEV);
        const up = this.parentOf(cur, root);
        if ((resolve & RESOLVE.NO_XDEV) !== 0 && up.mount !== cur.mount) return err(E.EXDEV);
        cur = up;
        continue;
      }
      if (name.length > NAME_MAX && byteLength(name) > NAME_MAX) return err(E.ENAMETOOLONG);
      const child = await this.lookupChild(cur, name);
      if (isErr(child)) return child;
      if ((resolve & RESOLVE.NO_XDEV) !== 0 && child.mount !== cur.mount) return err(E.EXDEV);
      const ci = child.dentry.inode;
      if (isLnk(ci.mode) && (!last || follow || mustBeDir)) {
        if ((resolve & RESOLVE.NO_SYMLINKS) !== 0) return err(E.ELOOP);
        if (++links > MAX_SYMLINKS) return err(E.ELOOP);
        if (ci.readlink === undefined) return err(E.EINVAL);
        const target = await ci.readlink(ctx);
        if (isErr(target)) return target;
        if (target.length === 0) return err(E.ENOENT);
        if (last && target.endsWith('/')) mustBeDir = true;
        const tc = splitPath(target);
        for (let i = tc.length - 1; i >= 0; i--) comps.push(tc[i]);
        // Absolute targets restart at the task's root: they never reach the host's "/".
        if (target.charCodeAt(0) === 0x2f) {
          if (beneath) return err(E.EXDEV);
          cur = root;
        }
        continue;
      }
      cur = child;
      depth++;
    }
    if (mustBeDir && !isDir(cur.dentry.inode.mode)) return err(E.ENOTDIR);
    return cur;
  }

  /** Resolves everything but the last component, which must be looked up by the caller. */
  async walkParent(ctx: PathCtx, start: Location, path: string, resolve = 0): Promise<Result<ParentPath>> {
    if (path.length === 0) return err(E.ENOENT);
    if (byteLength(path) >= PATH_MAX) return err(E.ENAMETOOLONG);
    const body = path.replace(/\/+$/, '');
    const trailingSlash = body.length !== path.length;
    if (body.length === 0) return { dir: ctx.fs.root, name: '', trailingSlash };
    const idx = body.lastIndexOf('/');
    const dirPath = idx < 0 ? '.' : idx === 0 ? '/' : body.slice(0, idx);
    const name = body.slice(idx + 1);
    if (byteLength(name) > NAME_MAX) return err(E.ENAMETOOLONG);
    const dir = await this.walk(ctx, start, dirPath, true, resolve);
    if (isErr(dir)) return dir;
    if (!isDir(dir.dentry.inode.mode)) return err(E.ENOTDIR);
    if (!permits(ctx.creds, dir.dentry.inode, X_OK)) return err(E.EACCES);
    return { dir, name, trailingSlash };
  }

  /** The path of loc as seen from root (getcwd); reachable=false if loc is outside root. */
  pathOf(loc: Location, root: Location): { path: string; reachable: boolean } {
    const parts: string[] = [];
    let cur = loc;
    for (;;) {
      if (sameLocation(cur, root)) break;
      if (cur.dentry.parent !== null) {
        parts.push(cur.dentry.name);
        cur = { mount: cur.mount, dentry: cur.dentry.parent };
        continue;
      }
      const m = cur.mount;
      if (m.parent === null || m.mountpoint === null) {
        return { path: '/' + parts.reverse().join('/'), reachable: false };
      }
      cur = { mount: m.parent, dentry: m.mountpoint };
    }
    return { path: '/' + parts.reverse().join('/'), reachable: true };
  }

  /** Whether writes to loc's file are refused because its mount is read-only. */
  static readOnlyAt(loc: Location): boolean {
    return loc.mount.readOnly || loc.dentry.inode.fs.readOnly;
  }

  /** open(2)/openat(2) on a path. mode is the creation mode (before umask). */
  async open(ctx: PathCtx, start: Location, path: string, flags: number, mode: number, resolve = 0): Promise<Result<FileDescription>> {
    if ((flags & O.TMPFILE) === O.TMPFILE) {
      if ((flags & O.ACCMODE) === O.RDONLY) return err(E.EINVAL);
      const d = await this.walk(ctx, start, path, true);
      if (isErr(d)) return d;
      const dir = d.dentry.inode;
      if (!isDir(dir.mode)) return err(E.ENOTDIR);
      if (Vfs.readOnlyAt(d)) return err(E.EROFS);
      if (!permits(ctx.creds, dir, W_OK | X_OK)) return err(E.EACCES);
      if (dir.createTmpfile === undefined) return err(E.EOPNOTSUPP);
      const made = await dir.createTmpfile((mode & 0o7777 & ~ctx.fs.umask) | S.IFREG, ctx.creds, (flags & O.EXCL) === 0);
      if (isErr(made)) return made;
      const loc: Location = { mount: d.mount, dentry: new Dentry('#tmpfile', d.dentry, made) };
      return this.openLocation(ctx, loc, flags & ~O.TMPFILE, true);
    }
    const follow = (flags & O.NOFOLLOW) === 0;
    if ((flags & O.CREAT) === 0 || (flags & O.PATH) !== 0) {
      const loc = await this.walk(ctx, start, path, follow, resolve);
      if (isErr(loc)) return loc;
      return this.openLocation(ctx, loc, flags);
    }
    // O_CREAT: an existing file is opened (EEXIST with O_EXCL), else created in its parent.
    const existing = await this.walk(ctx, start, path, follow && (flags & O.EXCL) === 0, resolve);
    if (!isErr(existing)) {
      if ((flags & O.EXCL) !== 0) return err(E.EEXIST);
      if (isDir(existing.dentry.inode.mode)) return err(E.EISDIR);
      return this.openLocation(ctx, existing, flags);
    }
    if (existing.errno !== E.ENOENT) return existing;
    const p = await this.walkParent(ctx, start, path, resolve);
    if (isErr(p)) return p;
    if (p.trailingSlash || p.name === '' || p.name === '.' || p.name === '..') return err(E.EISDIR);
    // A dangling symlink in the way: O_EXCL refuses it; otherwise we would create its target.
    const dangling = await this.lookupChild(p.dir, p.name);
    if (!isErr(dangling) && (flags & O.EXCL) !== 0) return err(E.EEXIST);
    if (Vfs.readOnlyAt(p.dir)) return err(E.EROFS);
    if (!isErr(dangling)) return err(E.EPERM);
    const dir = p.dir.dentry.inode;
    if (!permits(ctx.creds, dir, W_OK | X_OK)) return err(E.EACCES);
    if (dir.create === undefined) return err(E.EPERM);
    const made = await dir.create(p.name, (mode & 0o7777 & ~ctx.fs.umask) | S.IFREG, ctx.creds);
    if (isErr(made)) return made;
    fsnotifyChild(dir.key, p.name, IN.CREATE, false);
    const loc: Location = { mount: p.dir.mount, dentry: new Dentry(p.name, p.dir.dentry, made) };
    // The creator may write the new file whatever mode it was given.
    return this.openLocation(ctx, loc, flags & ~O.TRUNC, true);
  }

  /** Opens an already resolved location with open(2) flags (permission and type checks). */
  async openLocation(ctx: PathCtx, loc: Location, flags: number, created = false): Promise<Result<FileDescription>> {
    const inode = loc.dentry.inode;
    const mode = inode.mode;
    if ((flags & O.PATH) !== 0) {
      if ((flags & O.DIRECTORY) !== 0 && !isDir(mode)) return err(E.ENOTDIR);
      return new PathFile(flags & (O.PATH | O.DIRECTORY | O.NOFOLLOW), loc);
    }
    if (isLnk(mode)) return err(E.ELOOP);
    if ((flags & O.DIRECTORY) !== 0 && !isDir(mode)) return err(E.ENOTDIR);
    const acc = flags & O.ACCMODE;
    const writeAccess = acc !== O.RDONLY || (flags & O.TRUNC) !== 0;
    if (isDir(mode) && writeAccess) return err(E.EISDIR);
    if (writeAccess && (isReg(mode) || isDir(mode)) && Vfs.readOnlyAt(loc)) return err(E.EROFS);
    let mask = 0;
    if (acc === O.RDONLY || acc === O.RDWR || acc === O.ACCMODE) mask |= R_OK;
    if (writeAccess) mask |= W_OK;
    if (!created && !permits(ctx.creds, inode, mask)) return err(E.EACCES);
    const fflags = flags & ~OPEN_ONLY_FLAGS;
    if (isDir(mode)) return new DirectoryFile(fflags, loc);
    if (inode.open === undefined) return err(E.ENXIO);
    const f = await inode.open(loc, fflags, { ctx, noctty: (flags & O.NOCTTY) !== 0 });
    if (isErr(f)) return f;
    if ((flags & O.TRUNC) !== 0 && isReg(mode)) {
      const r = inode.setattr === undefined ? err(E.EPERM) : await inode.setattr({ size: 0n });
      if (isErr(r)) {
        f.decRef();
        return r;
      }
    }
    return f;
  }

  async stat(ctx: PathCtx, start: Location, path: string, follow: boolean): Promise<Result<Stat>> {
    const loc = await this.walk(ctx, start, path, follow);
    if (isErr(loc)) return loc;
    return loc.dentry.inode.stat();
  }

  /** stat(2) of path from fsctx's cwd, following symlinks (boot's PATH search uses it). */
  statPath(fsctx: FsContext, path: string, creds: Credentials = new Credentials()): Promise<Result<Stat>> {
    return this.stat({ fs: fsctx, creds }, fsctx.cwd, path, true);
  }

  async statfs(loc: Location): Promise<Result<Statfs>> {
    const s = await loc.dentry.inode.fs.statfs();
    if (isErr(s)) return s;
    return Vfs.readOnlyAt(loc) ? { ...s, flags: s.flags | ST.RDONLY } : s;
  }

  async readlink(ctx: PathCtx, start: Location, path: string): Promise<Result<string>> {
    const loc = await this.walk(ctx, start, path, false);
    if (isErr(loc)) return loc;
    return Vfs.readlinkAt(loc, ctx);
  }

  static async readlinkAt(loc: Location, ctx?: PathCtx): Promise<Result<string>> {
    const inode = loc.dentry.inode;
    if (!isLnk(inode.mode) || inode.readlink === undefined) return err(E.EINVAL);
    return inode.readlink(ctx);
  }

  /** Every mount, parents before children (for /proc/[pid]/mounts and mountinfo). */
  mountList(ns: MountNamespace = this.initMountNs): Mount[] {
    const all = [ns.root, ...ns.mounts.values(), ...ns.hidden.values()];
    const depth = (m: Mount): number => (m.parent === null ? 0 : 1 + depth(m.parent));
    return all.sort((a, b) => depth(a) - depth(b) || a.id - b.id);
  }

  /** Where m is mounted, as a path from root. */
  mountPath(m: Mount, root: Location): string {
    if (m.parent === null || m.mountpoint === null) return '/';
    return this.pathOf({ mount: m.parent, dentry: m.mountpoint }, root).path;
  }

  /**
   * access(2)/faccessat(2): mode is F_OK or a mask of R_OK/W_OK/X_OK; realIds checks with
   * the real uid/gid (access's rule) instead of the filesystem ids.
   */
  async access(ctx: PathCtx, start: Location, path: string, mode: number, follow: boolean, realIds: boolean): Promise<Result<void>> {
    const loc = await this.walk(ctx, start, path, follow);
    if (isErr(loc)) return loc;
    return Vfs.accessLocation(ctx.creds, loc, mode, realIds);
  }

  /** The access(2) check on a resolved location. */
  static accessLocation(c: Credentials, loc: Location, mode: number, realIds: boolean): Result<void> {
    if (mode === 0) return undefined;
    const inode = loc.dentry.inode;
    if ((mode & W_OK) !== 0 && (isReg(inode.mode) || isDir(inode.mode) || isLnk(inode.mode)) && Vfs.readOnlyAt(loc)) {
      return err(E.EROFS);
    }
    const who: FsCreds = realIds ? { fsuid: c.uid, fsgid: c.gid, groups: c.groups } : c;
    return permits(who, inode, mode) ? undefined : err(E.EACCES);
  }

  /** execve: the regular file at path, readable synchronously and mappable. */
  async openExecutable(t: PathCtx, path: string): Promise<Result<ExecFile>> {
    const loc = await this.walk(t, t.fs.cwd, path, true);
    if (isErr(loc)) return loc;
    const inode = loc.dentry.inode;
    if (!isReg(inode.mode) || inode.openExec === undefined) return err(E.EACCES);
    if (!permits(t.creds, inode, R_OK)) return err(E.EACCES);
    if ((loc.mount.flags & MNT.NOEXEC) !== 0) return err(E.EACCES);
    const src = await inode.openExec();
    if (isErr(src)) return src;
    return {
      path,
      size: src.size,
      readAt: (offset, len) => src.readAt(offset, len),
      mappable: src.mappable,
      executable: permits(t.creds, inode, X_OK),
    };
  }

  // Write-side path operations. They follow Linux's order of checks, so a read-only root
  // answers EEXIST/ENOENT/ENOTDIR where Linux would, and EROFS otherwise.

  private async lookupMaybe(dir: Location, name: string): Promise<Result<Location | null>> {
    const c = await this.lookupChild(dir, name);
    if (isErr(c)) return c.errno === E.ENOENT ? null : c;
    return c;
  }

  /** The common start of mkdir/mknod/symlink/link: the parent, with EEXIST checked. */
  private async createTarget(ctx: PathCtx, start: Location, path: string, allowSlash: boolean): Promise<Result<ParentPath>> {
    const p = await this.walkParent(ctx, start, path);
    if (isErr(p)) return p;
    if (p.name === '' || p.name === '.' || p.name === '..') return err(E.EEXIST);
    const existing = await this.lookupMaybe(p.dir, p.name);
    if (isErr(existing)) return existing;
    if (existing !== null) return err(E.EEXIST);
    if (p.trailingSlash && !allowSlash) return err(E.ENOENT);
    if (Vfs.readOnlyAt(p.dir)) return err(E.EROFS);
    if (!permits(ctx.creds, p.dir.dentry.inode, W_OK | X_OK)) return err(E.EACCES);
    return p;
  }

  async mkdir(ctx: PathCtx, start: Location, path: string, mode: number): Promise<Result<void>> {
    const p = await this.createTarget(ctx, start, path, true);
    if (isErr(p)) return p;
    const dir = p.dir.dentry.inode;
    if (dir.mkdir === undefined) return err(E.EPERM);
    return Vfs.created(dir, p.name, true, await dir.mkdir(p.name, mode & 0o7777 & ~ctx.fs.umask, ctx.creds));
  }

  async mknod(ctx: PathCtx, start: Location, path: string, mode: number, rdev: bigint): Promise<Result<void>> {
    let type = mode & S.IFMT;
    if (type === 0) type = S.IFREG;
    if (type === S.IFDIR) return err(E.EPERM);
    if (type !== S.IFREG && type !== S.IFCHR && type !== S.IFBLK && type !== S.IFIFO && type !== S.IFSOCK) {
      return err(E.EINVAL);
    }
    // Device nodes need CAP_MKNOD; fifos, sockets and regular files do not.
    if ((type === S.IFCHR || type === S.IFBLK) && !capable(ctx.creds, CAP.MKNOD)) return err(E.EPERM);
    const p = await this.createTarget(ctx, start, path, false);
    if (isErr(p)) return p;
    const dir = p.dir.dentry.inode;
    if (dir.mknod === undefined) return err(E.EPERM);
    return Vfs.created(dir, p.name, false, await dir.mknod(p.name, type | (mode & 0o7777 & ~ctx.fs.umask), rdev, ctx.creds));
  }

  async symlink(ctx: PathCtx, target: string, start: Location, path: string): Promise<Result<void>> {
    if (target.length === 0) return err(E.ENOENT);
    const p = await this.createTarget(ctx, start, path, false);
    if (isErr(p)) return p;
    const dir = p.dir.dentry.inode;
    if (dir.symlink === undefined) return err(E.EPERM);
    return Vfs.created(dir, p.name, false, await dir.symlink(p.name, target, ctx.creds));
  }

  async link(ctx: PathCtx, oldStart: Location, oldPath: string, follow: boolean, newStart: Location, newPath: string): Promise<Result<void>> {
    const old = await this.walk(ctx, oldStart, oldPath, follow);
    if (isErr(old)) return old;
    return this.linkLocation(ctx, old, newStart, newPath);
  }

  async linkLocation(ctx: PathCtx, old: Location, newStart: Location, newPath: string): Promise<Result<void>> {
    if (isDir(old.dentry.inode.mode)) return err(E.EPERM);
    const p = await this.createTarget(ctx, newStart, newPath, false);
    if (isErr(p)) return p;
    if (p.dir.mount !== old.mount) return err(E.EXDEV);
    const dir = p.dir.dentry.inode;
    if (dir.link === undefined) return err(E.EPERM);
    const r = Vfs.created(dir, p.name, false, await dir.link(p.name, old.dentry.inode));
    if (!isErr(r)) fsnotifySelf(old.dentry.inode.key, IN.ATTRIB);
    return r;
  }

  async unlink(ctx: PathCtx, start: Location, path: string): Promise<Result<void>> {
    const p = await this.walkParent(ctx, start, path);
    if (isErr(p)) return p;
    if (p.name === '' || p.name === '.' || p.name === '..') return err(E.EISDIR);
    if (Vfs.readOnlyAt(p.dir)) return err(E.EROFS);
    const child = await this.lookupChild(p.dir, p.name);
    if (isErr(child)) return child;
    if (isDir(child.dentry.inode.mode)) return err(E.EISDIR);
    if (p.trailingSlash) return err(E.ENOTDIR);
    const dir = p.dir.dentry.inode;
    if (!permits(ctx.creds, dir, W_OK | X_OK)) return err(E.EACCES);
    if (!Vfs.stickyAllows(ctx.creds, dir, child.dentry.inode)) return err(E.EPERM);
    if (dir.unlink === undefined) return err(E.EPERM);
    const r = await dir.unlink(p.name);
    if (!isErr(r)) {
      fsnotifySelf(child.dentry.inode.key, IN.ATTRIB);
      fsnotifyChild(dir.key, p.name, IN.DELETE, false);
    }
    return r;
  }

  async rmdir(ctx: PathCtx, start: Location, path: string): Promise<Result<void>> {
    const p = await this.walkParent(ctx, start, path);
    if (isErr(p)) return p;
    if (p.name === '') return err(E.EBUSY);
    if (p.name === '.') return err(E.EINVAL);
    if (p.name === '..') return err(E.ENOTEMPTY);
    if (Vfs.readOnlyAt(p.dir)) return err(E.EROFS);
    const child = await this.lookupChild(p.dir, p.name);
    if (isErr(child)) return child;
    if (!isDir(child.dentry.inode.mode)) return err(E.ENOTDIR);
    if (child.dentry.parent === null) return err(E.EBUSY);
    const dir = p.dir.dentry.inode;
    if (!permits(ctx.creds, dir, W_OK | X_OK)) return err(E.EACCES);
    if (!Vfs.stickyAllows(ctx.creds, dir, child.dentry.inode)) return err(E.EPERM);
    if (dir.rmdir === undefined) return err(E.EPERM);
    const r = await dir.rmdir(p.name);
    if (!isErr(r)) {
      fsnotifySelf(child.dentry.inode.key, IN.DELETE_SELF);
      fsnotifyChild(dir.key, p.name, IN.DELETE, true);
    }
    return r;
  }

  async rename(ctx: PathCtx, oldStart: Location, oldPath: string, newStart: Location, newPath: string, flags: number): Promise<Result<void>> {
    const RENAME_NOREPLACE = 1;
    const RENAME_EXCHANGE = 2;
    const RENAME_WHITEOUT = 4;
    if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) !== 0) return err(E.EINVAL);
    if ((flags & RENAME_NOREPLACE) !== 0 && (flags & RENAME_EXCHANGE) !== 0) return err(E.EINVAL);
    const op = await this.walkParent(ctx, oldStart, oldPath);
    if (isErr(op)) return op;
    const np = await this.walkParent(ctx, newStart, newPath);
    if (isErr(np)) return np;
    if (op.dir.mount !== np.dir.mount) return err(E.EXDEV);
    const special = (n: string): boolean => n === '' || n === '.' || n === '..';
    if (special(op.name) || special(np.name)) return err(E.EBUSY);
    if (Vfs.readOnlyAt(op.dir) || Vfs.readOnlyAt(np.dir)) return err(E.EROFS);
    const src = await this.lookupChild(op.dir, op.name);
    if (isErr(src)) return src;
    const od = op.dir.dentry.inode;
    const nd = np.dir.dentry.inode;
    if (!permits(ctx.creds, od, W_OK | X_OK) || !permits(ctx.creds, nd, W_OK | X_OK)) return err(E.EACCES);
    if (!Vfs.stickyAllows(ctx.creds, od, src.dentry.inode)) return err(E.EPERM);
    const dst = await this.lookupMaybe(np.dir, np.name);
    if (isErr(dst)) return dst;
    if (dst !== null && !Vfs.stickyAllows(ctx.creds, nd, dst.dentry.inode)) return err(E.EPERM);
    if (dst === null && (flags & RENAME_EXCHANGE) !== 0) return err(E.ENOENT);
    if ((op.trailingSlash && !isDir(src.dentry.inode.mode)) || (np.trailingSlash && !isDir(src.dentry.inode.mode))) return err(E.ENOTDIR);
    if (dst !== null && dst.mount !== np.dir.mount) return err(E.EBUSY);
    if (src.mount !== op.dir.mount) return err(E.EBUSY);
    if (od.rename === undefined) return err(E.EPERM);
    const r = await od.rename(op.name, nd, np.name, flags);
    if (!isErr(r)) {
      const cookie = moveCookie();
      const d = isDir(src.dentry.inode.mode);
      fsnotifyChild(od.key, op.name, IN.MOVED_FROM, d, cookie);
      fsnotifyChild(nd.key, np.name, IN.MOVED_TO, d, cookie);
      fsnotifySelf(src.dentry.inode.key, IN.MOVE_SELF);
    }
    return r;
  }

  /** chmod/chown/utimensat/truncate on a resolved location. */
  async setattr(ctx: PathCtx, loc: Location, attr: SetAttr): Promise<Result<void>> {
    if (Vfs.readOnlyAt(loc)) return err(E.EROFS);
    const inode = loc.dentry.inode;
    const checked = Vfs.setattrAllowed(ctx.creds, inode, attr);
    if (isErr(checked)) return checked;
    if (inode.setattr === undefined) return err(E.EPERM);
    const r = await inode.setattr(checked);
    if (!isErr(r)) fsnotify(loc.dentry, attr.size !== undefined ? IN.MODIFY : IN.ATTRIB);
    return r;
  }

  /** Reports a successful creation of name in dir to inotify; passes r through. */
  private static created(dir: Inode, name: string, isDirectory: boolean, r: Result<void>): Result<void> {
    if (!isErr(r)) fsnotifyChild(dir.key, name, IN.CREATE, isDirectory);
    return r;
  }

  /**
   * Linux's rules for who may change what (root in the sandbox holds CAP_CHOWN, CAP_FOWNER
   * and CAP_FSETID): chmod and explicit times need ownership; setting times to now needs
   * ownership or write access; chown needs CAP_CHOWN except an owner changing the group
   * to one of its own. Returns the attributes to apply (chmod may drop setgid).
   */
  static setattrAllowed(c: Credentials, inode: Inode, attr: SetAttr): Result<SetAttr> {
    const owner = c.fsuid === inode.uid || capable(c, CAP.FOWNER);
    const canChown = capable(c, CAP.CHOWN);
    const out: SetAttr = { ...attr };
    if (attr.mode !== undefined) {
      if (!owner) return err(E.EPERM);
      const inGroup = c.fsgid === inode.gid || c.groups.includes(inode.gid);
      if (!capable(c, CAP.FSETID) && !inGroup && !isDir(inode.mode)) out.mode = attr.mode & ~S.ISGID;
    }
    if (attr.uid !== undefined && attr.uid !== inode.uid && !canChown) return err(E.EPERM);
    if (attr.gid !== undefined && attr.gid !== inode.gid && !canChown) {
      if (c.fsuid !== inode.uid || (c.fsgid !== attr.gid && !c.groups.includes(attr.gid))) return err(E.EPERM);
    }
    const explicit = (t: SetAttr['atimeNs']): boolean => t !== undefined && t !== 'now';
    if (explicit(attr.atimeNs) || explicit(attr.mtimeNs)) {
      if (!owner) return err(E.EPERM);
    } else if (attr.atimeNs === 'now' || attr.mtimeNs === 'now') {
      if (!owner && !permits(c, inode, W_OK)) return err(E.EACCES);
    }
    return out;
  }

  /** The sticky-directory rule: only the file's owner, the directory's owner or root may remove it. */
  private static stickyAllows(c: Credentials, dir: Inode, child: Inode): boolean {
    if ((dir.mode & S.ISVTX) === 0 || capable(c, CAP.FOWNER)) return true;
    return c.fsuid === dir.uid || c.fsuid === child.uid;
  }

  /** truncate(2) on a path. */
  async truncate(ctx: PathCtx, start: Location, path: string, size: number): Promise<Result<void>> {
    if (size < 0) return err(E.EINVAL);
    const loc = await this.walk(ctx, start, path, true);
    if (isErr(loc)) return loc;
    const mode = loc.dentry.inode.mode;
    if (isDir(mode)) return err(E.EISDIR);
    if (!isReg(mode)) return err(E.EINVAL);
    if (Vfs.readOnlyAt(loc)) return err(E.EROFS);
    if (!permits(ctx.creds, loc.dentry.inode, W_OK)) return err(E.EACCES);
    return this.setattr(ctx, loc, { size: BigInt(size) });
  }
}
