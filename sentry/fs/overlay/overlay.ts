// An overlay: a writable in-memory upper layer (a TmpFs) over any read-only lower
// Filesystem (the Gofer's root). Reads come from the upper copy when there is one, else
// from the lower file. The first change to a lower file copies it up (data, mode, owner,
// times, xattrs); deleting a lower name leaves a whiteout in the upper directory; a
// directory made where a lower one was deleted is opaque (hides the lower contents).
// Renaming a lower directory copies its whole tree up first and marks it opaque.
// Nothing is ever written to the lower layer.

import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import { Credentials } from '../../kernel/credentials.js';
import { dtFromMode, isDir, isLnk, isReg, O } from '../../vfs/constants.js';
import type { FileDescription } from '../../vfs/file.js';
import type { DirEntry, ExecSource, Filesystem, Inode, SetAttr } from '../../vfs/inode.js';
import { Dentry, Mount, type Location } from '../../vfs/mount.js';
import { nowNs, type Stat, type Statfs } from '../../vfs/stat.js';
import { allocAnonDev } from '../../vfs/synthetic.js';
import { TmpDir, TmpFile, TmpFs, TmpInode, TmpSpecial, TmpSymlink } from '../tmpfs/tmpfs.js';

export const OVERLAYFS_SUPER_MAGIC = 0x794c7630n;
const RENAME_EXCHANGE = 2;
/** Upper inode numbers start here so they never collide with the lower layer's. */
const UPPER_INO_BASE = 1n << 48n;
const COPY_CHUNK = 1 << 20;

function then<T, U>(v: MaybePromise<T>, f: (x: T) => MaybePromise<U>): MaybePromise<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}

export interface OverlayOptions {
  /** Size limit of the upper layer in bytes. */
  upperSizeBytes?: number;
}

export class OverlayFs implements Filesystem {
  readonly name = 'overlay';
  readonly readOnly = false;
  readonly dev = allocAnonDev();
  /** Start of every node key, made once: lookups build keys often (a bigint in a template is slow). */
  readonly keyPrefix = `overlay:${this.dev}:`;
  readonly upper: TmpFs;
  /**
   * One node per file in use, keyed by the file's identity, so copy-up is seen by every
   * path to it. Weak: a node's state can be derived again from the layers, and holding
   * lower inodes forever would pin the Gofer's fids.
   */
  private readonly nodes = new Map<string, WeakRef<OverlayNode>>();
  private readonly reaper = new FinalizationRegistry<string>((key) => {
    if (this.nodes.get(key)?.deref() === undefined) this.nodes.delete(key);
  });
  private readonly rootNode: OverlayNode;
  /**
   * Copied-up lower files that had several links, by lower key: the lower file's other
   * names join the same upper file instead of getting copies, so hard links survive copy-up.
   */
  readonly copiedLinks = new Map<string, TmpInode>();
  /** Lets copy-up open lower files (open() needs a Location; this one is never walked). */
  private readonly lowerMount: Mount;

  constructor(readonly lower: Filesystem, opts: OverlayOptions = {}) {
    this.upper = new TmpFs({ sizeBytes: opts.upperSizeBytes, inoBase: UPPER_INO_BASE, rootMode: 0o755 });
    const lroot = lower.root();
    this.lowerMount = new Mount(lower, null, null, true);
    this.rootNode = new OverlayNode(this, lroot, this.upper.rootDir, null, '/');
    // The root is always copied up: it has no parent to copy it into later.
    const ur = this.upper.rootDir;
    ur.mode = lroot.mode;
    ur.uid = lroot.uid;
    ur.gid = lroot.gid;
    ur.origin = lroot.key;
    ur.originIno = lroot.ino;
    this.remember(this.rootNode);
  }

  root(): Inode {
    return this.rootNode;
  }

  statfs(): MaybePromise<Result<Statfs>> {
    return then(this.lower.statfs(), (s) => {
      if (isErr(s)) return s;
      const up = this.upper.statfs();
      if (isErr(up)) return up;
      // Space is what the upper layer has left: that is where writes go.
      return { ...up, type: OVERLAYFS_SUPER_MAGIC, namelen: s.namelen };
    });
  }

  /** The node for a file found as (upper, lower) under parent; reused if already known. */
  node(parent: OverlayNode, name: string, upper: TmpInode | undefined, lower: Inode | undefined): OverlayNode {
    const key = this.keyPrefix + (lower?.key ?? upper?.origin ?? upper?.key ?? '');
    let n = this.nodes.get(key)?.deref();
    if (n === undefined) {
      n = new OverlayNode(this, lower, upper, parent, name);
      this.remember(n);
    } else {
      n.upper = upper ?? n.upper;
      n.lower = lower;
      n.parent = parent;
      n.name = name;
    }
    return n;
  }

  private remember(n: OverlayNode): void {
    this.nodes.set(n.key, new WeakRef(n));
    this.reaper.register(n, n.key);
  }

  forget(n: OverlayNode): void {
    if (this.nodes.get(n.key)?.deref() === n) this.nodes.delete(n.key);
  }

  lowerLocation(inode: Inode): Location {
    return { mount: this.lowerMount, dentry: new Dentry('', null, inode) };
  }
}

export class OverlayNode implements Inode {
  readonly key: string;
  ino: bigint;

  constructor(
    readonly fs: OverlayFs,
    public lower: Inode | undefined,
    public upper: TmpInode | undefined,
    public parent: OverlayNode | null,
    public name: string,
  ) {
    this.key = fs.keyPrefix + (lower?.key ?? upper?.origin ?? upper?.key ?? '');
    this.ino = lower?.ino ?? upper?.originIno ?? upper?.ino ?? 0n;
  }

  private get top(): Inode {
    return (this.upper ?? this.lower) as Inode;
  }
  get mode(): number {
    return this.top.mode;
  }
  get uid(): number {
    return this.top.uid;
  }
  get gid(): number {
    return this.top.gid;
  }

  private get upperDir(): TmpDir | undefined {
    return this.upper instanceof TmpDir ? this.upper : undefined;
  }

  /** Whether the lower directory's entries show through. */
  private get lowerVisible(): boolean {
    return this.lower !== undefined && isDir(this.lower.mode) && !(this.upperDir?.opaque ?? false);
  }

  stat(): MaybePromise<Result<Stat>> {
    return then(this.top.stat(), (s) => (isErr(s) ? s : { ...s, dev: this.fs.dev, ino: this.ino }));
  }

  lookup(name: string): MaybePromise<Result<Inode>> {
    const ud = this.upperDir;
    const u = ud?.children.get(name);
    const whiteout = ud?.whiteouts.has(name) ?? false;
    if (u !== undefined && !isDir(u.mode)) return this.fs.node(this, name, u, undefined);
    if (!this.lowerVisible || whiteout || this.lower?.lookup === undefined) {
      return u !== undefined ? this.fs.node(this, name, u, undefined) : err(E.ENOENT);
    }
    return then(this.lower.lookup(name), (l) => {
      if (isErr(l)) return u !== undefined ? this.fs.node(this, name, u, undefined) : l;
      // An upper directory merges with a lower directory only; over anything else it hides it.
      if (u !== undefined) return this.fs.node(this, name, u, isDir(l.mode) && !(u as TmpDir).opaque ? l : (u.origin === l.key ? l : undefined));
      const copied = isReg(l.mode) ? this.fs.copiedLinks.get(l.key) : undefined;
      if (copied !== undefined && copied.nlink > 0) return this.linkCopied(name, copied);
      return this.fs.node(this, name, undefined, l);
    });
  }

  /** Another name of a hard-linked lower file already copied up: it becomes a link to the copy. */
  private async linkCopied(name: string, copied: TmpInode): Promise<Result<Inode>> {
    const r = await this.copyUp();
    if (isErr(r)) return r;
    const ud = this.upper as TmpDir;
    const have = ud.children.get(name);
    if (have !== undefined) return this.fs.node(this, name, have, undefined);
    const l = ud.link(name, copied);
    if (isErr(l)) return l;
    return this.fs.node(this, name, copied, undefined);
  }

  readdir(): MaybePromise<Result<DirEntry[]>> {
    const ud = this.upperDir;
    // A copied-up entry keeps the lower file's inode number, as stat reports it.
    const upperList: DirEntry[] = ud === undefined ? [] :
      [...ud.children].map(([name, c]) => ({ name, ino: c.originIno ?? c.ino, type: dtFromMode(c.mode) }));
    if (!this.lowerVisible || this.lower?.readdir === undefined) return upperList;
    return then(this.lower.readdir(), (ll) => {
      if (isErr(ll)) return ll;
      // Nothing above the lower directory (the common case on a read-only root): its list as is.
      if (upperList.length === 0 && (ud?.whiteouts.size ?? 0) === 0) return ll;
      const seen = new Set(upperList.map((e) => e.name));
      const out = upperList.slice();
      for (const e of ll) {
        if (seen.has(e.name) || (ud?.whiteouts.has(e.name) ?? false)) continue;
        out.push(e);
      }
      return out;
    });
  }

  readlink(): MaybePromise<Result<string>> {
    const t = this.top;
    return t.readlink === undefined ? err(E.EINVAL) : t.readlink();
  }

  open(loc: Location, flags: number): MaybePromise<Result<FileDescription>> {
    const write = (flags & O.ACCMODE) !== O.RDONLY || (flags & O.TRUNC) !== 0;
    if (write && isReg(this.mode)) {
      return then(this.copyUp((flags & O.TRUNC) !== 0), (r) => {
        if (isErr(r)) return r;
        return (this.upper as TmpFile).open(loc, flags);
      });
    }
    const t = this.top;
    if (t.open === undefined) return err(E.ENXIO);
    return then(t.open(loc, flags), (f) => {
      if (isErr(f) || t === this.upper) return f;
      // fstat of a lower file must show the overlay's identity (dev, ino), as stat does:
      // programs compare the two (cp, tar) to detect files replaced under them.
      f.stat = () => this.stat();
      return f;
    });
  }

  openExec(): MaybePromise<Result<ExecSource>> {
    const t = this.top;
    return t.openExec === undefined ? err(E.EACCES) : t.openExec();
  }

  // ---- copy-up ----

  /**
   * Gives this file an upper copy (parents first). skipData: the caller is about to
   * truncate it to zero, so the bytes need not be copied.
   */
  copyUp(skipData = false): MaybePromise<Result<void>> {
    if (this.upper !== undefined) return undefined;
    const parent = this.parent;
    if (parent === null) return err(E.EIO);
    return then(parent.copyUp(), (pr) => {
      if (isErr(pr)) return pr;
      if (this.upper !== undefined) return undefined;
      return this.copyUpSelf(parent.upper as TmpDir, skipData);
    });
  }

  private async copyUpSelf(dir: TmpDir, skipData: boolean): Promise<Result<void>> {
    const lower = this.lower as Inode;
    const st = await lower.stat();
    if (isErr(st)) return st;
    const copied = isReg(st.mode) ? this.fs.copiedLinks.get(lower.key) : undefined;
    if (copied !== undefined && copied.nlink > 0) {
      const l = dir.link(this.name, copied);
      if (isErr(l)) return l;
      this.upper = copied;
      this.lower = undefined;
      return undefined;
    }
    const owner = new Credentials(st.uid, st.gid, st.uid, st.gid, st.uid, st.gid, st.uid, st.gid);
    const perm = st.mode & 0o7777;
    let made: Result<TmpInode>;
    if (isDir(st.mode)) {
      made = dir.mkdirNode(this.name, perm, owner);
    } else if (isLnk(st.mode)) {
      const target = await this.readlink();
      if (isErr(target)) return target;
      const r = dir.symlink(this.name, target, owner);
      made = isErr(r) ? r : (dir.children.get(this.name) as TmpSymlink);
    } else if (isReg(st.mode)) {
      const r = dir.create(this.name, perm, owner);
      if (isErr(r)) return r;
      const file = r as TmpFile;
      made = file;
      if (!skipData) {
        const c = await this.copyData(file, Number(st.size));
        if (isErr(c)) {
          dir.unlink(this.name);
          return c;
        }
      }
    } else {
      const r = dir.mknod(this.name, st.mode, st.rdev, owner);
      made = isErr(r) ? r : (dir.children.get(this.name) as TmpSpecial);
    }
    if (isErr(made)) return made;
    // The creator's setgid inheritance must not change what the lower file had.
    made.mode = st.mode;
    made.uid = st.uid;
    made.gid = st.gid;
    made.atimeNs = st.atimeNs;
    made.mtimeNs = st.mtimeNs;
    made.ctimeNs = st.ctimeNs;
    made.origin = lower.key;
    made.originIno = lower.ino;
    if (lower.listxattr !== undefined && lower.getxattr !== undefined) {
      const names = await lower.listxattr();
      if (!isErr(names)) {
        for (const n of names) {
          const v = await lower.getxattr(n);
          if (!isErr(v)) made.xattrs.set(n, v);
        }
      }
    }
    if (made instanceof TmpDir && dir.whiteouts.has(this.name)) dir.whiteouts.delete(this.name);
    if (isReg(st.mode) && st.nlink > 1) this.fs.copiedLinks.set(lower.key, made);
    this.upper = made;
    // A copied-up file no longer reads its lower one (directories still merge with theirs).
    if (!isDir(st.mode)) this.lower = undefined;
    return undefined;
  }

  private async copyData(dst: TmpFile, size: number): Promise<Result<void>> {
    const lower = this.lower as Inode;
    if (lower.open === undefined) return err(E.EIO);
    const f = await lower.open(this.fs.lowerLocation(lower), O.RDONLY);
    if (isErr(f)) return f;
    try {
      let off = 0;
      const buf = new Uint8Array(COPY_CHUNK);
      for (;;) {
        const n = await f.pread(buf, off, {});
        if (isErr(n)) return n;
        if (n === 0) break;
        const w = dst.data.write(buf.subarray(0, n), off);
        if (isErr(w)) return w;
        if (w < n) return err(E.ENOSPC);
        off += n;
        if (off >= size && n < buf.length) break;
      }
      return undefined;
    } finally {
      f.decRef();
    }
  }

  /** Copies this directory and everything below it up, and hides the lower tree. */
  private async copyUpTree(): Promise<Result<void>> {
    const r = await this.copyUp();
    if (isErr(r)) return r;
    if (!isDir(this.mode)) return undefined;
    if (this.lowerVisible) {
      const list = await this.readdir();
      if (isErr(list)) return list;
      for (const e of list) {
        const c = await this.lookup(e.name);
        if (isErr(c)) return c;
        const cr = await (c as OverlayNode).copyUpTree();
        if (isErr(cr)) return cr;
      }
    }
    (this.upper as TmpDir).opaque = true;
    this.lower = undefined;
    return undefined;
  }

  // ---- directory changes (the VFS has checked permissions and read-only mounts) ----

  /** Prepares this directory's upper copy for adding name; true if name was whited out. */
  private async prepareAdd(name: string): Promise<Result<{ dir: TmpDir; wasWhiteout: boolean }>> {
    const r = await this.copyUp();
    if (isErr(r)) return r;
    const dir = this.upper as TmpDir;
    const wasWhiteout = dir.whiteouts.delete(name);
    return { dir, wasWhiteout };
  }

  async create(name: string, mode: number, creds: Credentials): Promise<Result<Inode>> {
    const p = await this.prepareAdd(name);
    if (isErr(p)) return p;
    const f = p.dir.create(name, mode, creds);
    if (isErr(f)) {
      if (p.wasWhiteout) p.dir.whiteouts.add(name);
      return f;
    }
    return this.fs.node(this, name, f as TmpFile, undefined);
  }

  async createTmpfile(mode: number, creds: Credentials, linkable: boolean): Promise<Result<Inode>> {
    const r = await this.copyUp();
    if (isErr(r)) return r;
    const f = (this.upper as TmpDir).createTmpfile(mode, creds, linkable);
    if (isErr(f)) return f;
    return new OverlayNode(this.fs, undefined, f, this, '');
  }

  async mkdir(name: string, mode: number, creds: Credentials): Promise<Result<void>> {
    const p = await this.prepareAdd(name);
    if (isErr(p)) return p;
    const d = p.dir.mkdirNode(name, mode, creds);
    if (isErr(d)) {
      if (p.wasWhiteout) p.dir.whiteouts.add(name);
      return d;
    }
    // A directory where a lower one was deleted must not show the old contents.
    if (p.wasWhiteout) d.opaque = true;
    return undefined;
  }

  async mknod(name: string, mode: number, rdev: bigint, creds: Credentials): Promise<Result<void>> {
    const p = await this.prepareAdd(name);
    if (isErr(p)) return p;
    const r = p.dir.mknod(name, mode, rdev, creds);
    if (isErr(r) && p.wasWhiteout) p.dir.whiteouts.add(name);
    return r;
  }

  async symlink(name: string, target: string, creds: Credentials): Promise<Result<void>> {
    const p = await this.prepareAdd(name);
    if (isErr(p)) return p;
    const r = p.dir.symlink(name, target, creds);
    if (isErr(r) && p.wasWhiteout) p.dir.whiteouts.add(name);
    return r;
  }

  async link(name: string, target: Inode): Promise<Result<void>> {
    if (!(target instanceof OverlayNode) || target.fs !== this.fs) return err(E.EXDEV);
    const c = await target.copyUp();
    if (isErr(c)) return c;
    const p = await this.prepareAdd(name);
    if (isErr(p)) return p;
    const r = p.dir.link(name, target.upper as TmpInode);
    if (isErr(r) && p.wasWhiteout) p.dir.whiteouts.add(name);
    return r;
  }

  /** Removes name: its upper entry goes, and a lower one is hidden by a whiteout. */
  private async remove(name: string, dir: boolean): Promise<Result<void>> {
    const child = await this.lookup(name);
    if (isErr(child)) return child;
    const c = child as OverlayNode;
    if (dir) {
      const list = await c.readdir();
      if (isErr(list)) return list;
      if (list.length > 0) return err(E.ENOTEMPTY);
    }
    const r = await this.copyUp();
    if (isErr(r)) return r;
    const ud = this.upper as TmpDir;
    if (c.upper !== undefined && ud.children.get(name) === c.upper) {
      if (dir) {
        // Whiteouts inside do not count as entries: drop them so rmdir succeeds.
        const cu = c.upper as TmpDir;
        cu.whiteouts.clear();
        const rr = ud.rmdir(name);
        if (isErr(rr)) return rr;
      } else {
        const rr = ud.unlink(name);
        if (isErr(rr)) return rr;
      }
    }
    // Conservative: a whiteout for a name the lower layer lacks hides nothing.
    if (this.lowerVisible) ud.whiteouts.add(name);
    ud.mtimeNs = ud.ctimeNs = nowNs();
    if (c.upper === undefined || c.upper.nlink <= 0) this.fs.forget(c);
    return undefined;
  }

  unlink(name: string): Promise<Result<void>> {
    return this.remove(name, false);
  }

  rmdir(name: string): Promise<Result<void>> {
    return this.remove(name, true);
  }

  async rename(oldName: string, newDir: Inode, newName: string, flags: number): Promise<Result<void>> {
    if (!(newDir instanceof OverlayNode) || newDir.fs !== this.fs) return err(E.EXDEV);
    const src = await this.lookup(oldName);
    if (isErr(src)) return src;
    const s = src as OverlayNode;
    const dstR = await newDir.lookup(newName);
    const d = isErr(dstR) ? undefined : (dstR as OverlayNode);
    if (isErr(dstR) && dstR.errno !== E.ENOENT) return dstR;
    if (d === s) return undefined;
    if ((flags & RENAME_EXCHANGE) !== 0 && d === undefined) return err(E.ENOENT);
    // Type checks first, so a failed rename changes nothing.
    if (d !== undefined && (flags & RENAME_EXCHANGE) === 0) {
      if ((flags & 1) !== 0) return err(E.EEXIST);
      if (isDir(s.mode) && !isDir(d.mode)) return err(E.ENOTDIR);
      if (!isDir(s.mode) && isDir(d.mode)) return err(E.EISDIR);
      if (isDir(d.mode)) {
        const l = await d.readdir();
        if (isErr(l)) return l;
        if (l.length > 0) return err(E.ENOTEMPTY);
      }
    }
    for (let p: OverlayNode | null = newDir; p !== null; p = p.parent) if (p === s) return err(E.EINVAL);
    const sr = isDir(s.mode) ? await s.copyUpTree() : await s.copyUp();
    if (isErr(sr)) return sr;
    const srcHadLower = this.lowerVisible;
    const nd = await newDir.prepareAdd(newName);
    if (isErr(nd)) return nd;
    if (d !== undefined) {
      const exchange = (flags & RENAME_EXCHANGE) !== 0;
      // A replaced file's bytes are never read again: copy only its name up.
      const dr = exchange && isDir(d.mode) ? await d.copyUpTree() : await d.copyUp(!exchange);
      if (isErr(dr)) return dr;
      if (isDir(d.mode)) (d.upper as TmpDir).whiteouts.clear();
    }
    const od = this.upper as TmpDir;
    const r = od.rename(oldName, nd.dir, newName, flags);
    if (isErr(r)) {
      if (nd.wasWhiteout) nd.dir.whiteouts.add(newName);
      return r;
    }
    if ((flags & RENAME_EXCHANGE) === 0) {
      // The old name must not show the lower file again.
      if (srcHadLower) od.whiteouts.add(oldName);
      if (nd.wasWhiteout && s.upper instanceof TmpDir) s.upper.opaque = true;
      if (d !== undefined) this.fs.forget(d);
      s.parent = newDir;
      s.name = newName;
    } else if (d !== undefined) {
      d.parent = this;
      d.name = oldName;
      s.parent = newDir;
      s.name = newName;
    }
    return undefined;
  }

  /** The lower key this node was copied from or still reads (undefined: upper-only). */
  origin(): string | undefined {
    return this.lower?.key ?? this.upper?.origin;
  }

  async setattr(attr: SetAttr): Promise<Result<void>> {
    const r = await this.copyUp(attr.size === 0n);
    if (isErr(r)) return r;
    return (this.upper as TmpInode).setattr(attr);
  }

  getxattr(name: string): MaybePromise<Result<Uint8Array>> {
    if (this.upper !== undefined) return this.upper.getxattr(name);
    const l = this.lower as Inode;
    return l.getxattr === undefined ? err(E.ENODATA) : l.getxattr(name);
  }

  listxattr(): MaybePromise<Result<string[]>> {
    if (this.upper !== undefined) return this.upper.listxattr();
    const l = this.lower as Inode;
    return l.listxattr === undefined ? [] : l.listxattr();
  }

  async setxattr(name: string, value: Uint8Array, flags: number): Promise<Result<void>> {
    const r = await this.copyUp();
    if (isErr(r)) return r;
    return (this.upper as TmpInode).setxattr(name, value, flags);
  }

  async removexattr(name: string): Promise<Result<void>> {
    const r = await this.copyUp();
    if (isErr(r)) return r;
    return (this.upper as TmpInode).removexattr(name);
  }
}
