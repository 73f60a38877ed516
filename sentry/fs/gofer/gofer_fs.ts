// The Sentry's filesystem over 9P2000.L: the container's root and bind mounts (read-only or
// writable) as served by the Gofer, or by any 9P2000.L server (diod). Each inode holds a
// walked fid; lookups and attributes are cached and revalidated after a short time, changes
// made through this client drop what they touch (write-through: the server is always current).
// Regular files opened read-only may come with a host fd the Gofer donated: reads use it
// directly, later read-only opens of the file share it (no round trip, as gVisor shares a
// dentry's read handle), and execve/mmap fault from it through the file's page cache
// (page_cache.ts), whose shared pages read() and write() see and msync/munmap write back.
// Without donations (diod) reads go over 9P and mmap/exec use a private copy. Directory
// listings are reused as long as looked-up names are. With our Gofer (in order), requests
// that follow each other (walk+getattr, walk+open, walk+open+readdir) share one round trip.
// Named pipes are the sandbox's own pipes.

import * as fs from 'node:fs';
import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import type { Credentials } from '../../kernel/credentials.js';
import type { Mappable } from '../../mm/mappable.js';
import { isDir, isLnk, isReg, O, S } from '../../vfs/constants.js';
import { FileDescription, seekWith, type IoCtx, type PutBytes } from '../../vfs/file.js';
import type { DirEntry, ExecSource, Filesystem, Inode, SetAttr } from '../../vfs/inode.js';
import type { Location } from '../../vfs/mount.js';
import { makedev, type Stat, type Statfs } from '../../vfs/stat.js';
import type { P9Client } from '../../../gofer/p9/client.js';
import { AT_REMOVEDIR, GETATTR, L_O, SETATTR } from '../../../gofer/p9/constants.js';
import type { Attr, Dirent, Qid } from '../../../gofer/p9/messages.js';
import type { Donations } from './donations.js';
import { BufferMappable, preadFull, type SizedMappable } from './mappables.js';
import { GoferPageCache } from './page_cache.js';
import { FifoNode } from '../tmpfs/fifo.js';

/** How long a looked-up name or fetched attributes are trusted without asking again. */
const DENTRY_TTL_MS = 2000;
const ATTR_TTL_MS = 1000;
/** Reads over 9P fetch at least this much, so small sequential reads cost one round trip. */
const READ_AHEAD = 128 * 1024;
/** Longest name a lookup may ask for (the Gofer's host filesystems have the same limit). */
const NAME_MAX = 255;
/** Most files per mount keeping a shared read-only host fd for their read-only opens. */
const MAX_SHARED_READ_FDS = 256;
/** Listed names looked up ahead after a lookup miss (see prefetchAfter), and how far to scan for them. */
const PREFETCH_NAMES = 16;
const PREFETCH_SCAN = 64;
/** Largest Rreaddir entry (qid 13, offset 8, type 1, name 2 + NAME_MAX). */
const MAX_DIRENT_9P = 24 + NAME_MAX;

/**
 * A donated read-only host fd shared by a file's read-only opens, as gVisor shares a
 * dentry's read handle: a second open needs no round trip. Closed with its last reference.
 */
export class SharedFd {
  private refs = 1;
  constructor(readonly fd: number) {}

  ref(): SharedFd {
    this.refs++;
    return this;
  }

  unref(): void {
    if (--this.refs > 0) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // Nothing useful to report at close.
    }
  }
}

let nextFsId = 1;

export interface GoferFsOptions {
  readOnly: boolean;
  /** Fds the server donates (our Gofer); null for servers that do not (diod). */
  donations: Donations | null;
  /**
   * The server handles each connection's requests in order (our Gofer does; diod, with its
   * worker threads, does not): a lookup then sends Twalk and Tgetattr of the new fid
   * together, one round trip instead of two.
   */
  inOrder?: boolean;
  /**
   * Each Rreaddir is as full as count allows until the directory ends (our Gofer's): a
   * reply with room left for another entry is then the last, with no empty one to wait for.
   */
  readdirFills?: boolean;
  /** Revalidation periods (tests shorten them). */
  dentryTtlMs?: number;
  /** Most names kept in the lookup cache (least recently used go first). */
  maxCachedNames?: number;
  attrTtlMs?: number;
}

/** Linux's XATTR_LIST_MAX (also bounds a value: XATTR_SIZE_MAX is the same). */
const XATTR_LIST_MAX = 65536;
const XATTR_REPLACE = 2;

export class GoferFs implements Filesystem {
  readonly name = 'gofer';
  readonly readOnly: boolean;
  /** st_dev of every file here: one anonymous device per mount, as Linux gives v9fs. */
  readonly dev: bigint;
  readonly dentryTtlMs: number;
  readonly attrTtlMs: number;
  readonly inOrder: boolean;
  readonly readdirFills: boolean;
  private readonly maxCachedNames: number;
  /** Files keeping a shared read-only host fd, least recently opened first (bounds our fds). */
  private readonly readFds = new Map<GoferInode, SharedFd>();
  /** Cached names, least recently used first: evicted ones let their inodes (and fids) go. */
  private readonly cachedNames = new Map<string, { dir: GoferInode; name: string }>();
  private readonly rootInode: GoferInode;
  private readonly clunker: FinalizationRegistry<number>;
  private readonly fifos = new Map<bigint, FifoNode>();
  /**
   * Each file's mappable (its page cache) by qid path while anything holds it: one per file
   * even when its inode was dropped from the lookup cache and looked up again.
   */
  readonly mappables = new Map<bigint, WeakRef<SizedMappable>>();
  private readonly mappableReaper = new FinalizationRegistry<bigint>((id) => {
    if (this.mappables.get(id)?.deref() === undefined) this.mappables.delete(id);
  });

  private constructor(readonly client: P9Client, rootFid: number, rootAttr: Attr, opts: GoferFsOptions, readonly donations: Donations | null) {
    this.readOnly = opts.readOnly;
    this.dentryTtlMs = opts.dentryTtlMs ?? DENTRY_TTL_MS;
    this.attrTtlMs = opts.attrTtlMs ?? ATTR_TTL_MS;
    this.inOrder = opts.inOrder ?? false;
    this.readdirFills = opts.readdirFills ?? false;
    this.maxCachedNames = opts.maxCachedNames ?? 16384;
    this.dev = makedev(0, 0x80 + nextFsId++);
    // An inode nobody references any more gives its fid back to the server.
    this.clunker = new FinalizationRegistry((fid) => {
      if (!client.closed) client.clunkSoon(fid);
    });
    this.rootInode = new GoferInode(this, rootFid, rootAttr);
    // A dead connection's files fail with EIO: their shared fds have no more use.
    void client.whenClosed.then(() => {
      for (const [inode, fd] of this.readFds) inode.dropReadFd(fd);
      this.readFds.clear();
    });
  }

  /** A filesystem over `client` rooted at the attached `rootFid` (owned from now on). */
  static async create(client: P9Client, rootFid: number, opts: GoferFsOptions): Promise<Result<GoferFs>> {
    const a = await client.getattr(rootFid, GETATTR.BASIC);
    if (isErr(a)) return a;
    if (!isDir(a.mode)) return err(E.ENOTDIR);
    return new GoferFs(client, rootFid, a, opts, opts.donations);
  }

  root(): Inode {
    return this.rootInode;
  }

  /** The sandbox-side pipe of the named pipe with qid path `id` (one per file, however it is reached). */
  fifo(id: bigint): FifoNode {
    let f = this.fifos.get(id);
    if (f === undefined) {
      f = new FifoNode();
      this.fifos.set(id, f);
    }
    return f;
  }

  keepMappable(id: bigint, m: SizedMappable): void {
    this.mappables.set(id, new WeakRef(m));
    this.mappableReaper.register(m, id);
  }

  track(inode: GoferInode, fid: number): void {
    this.clunker.register(inode, fid);
  }

  /** Keeps `fd` as inode's shared read fd (one reference), evicting the oldest beyond the limit. */
  keepReadFd(inode: GoferInode, fd: SharedFd): void {
    this.readFds.delete(inode);
    this.readFds.set(inode, fd);
    for (const [old, f] of this.readFds) {
      if (this.readFds.size <= MAX_SHARED_READ_FDS) break;
      this.readFds.delete(old);
      old.dropReadFd(f);
    }
  }

  /** Notes a use of `name` in `dir`'s lookup cache, evicting the oldest beyond the limit. */
  usedName(dir: GoferInode, name: string): void {
    const k = dir.key + '/' + name;
    this.cachedNames.delete(k);
    this.cachedNames.set(k, { dir, name });
    if (this.cachedNames.size <= this.maxCachedNames) return;
    for (const [old, e] of this.cachedNames) {
      if (this.cachedNames.size <= this.maxCachedNames) break;
      this.cachedNames.delete(old);
      e.dir.forget(e.name);
    }
  }

  async statfs(): Promise<Result<Statfs>> {
    const s = await this.client.statfs(this.rootInode.fid);
    if (isErr(s)) return s;
    return {
      type: BigInt(s.type), bsize: BigInt(s.bsize), blocks: BigInt(s.blocks), bfree: BigInt(s.bfree),
      bavail: BigInt(s.bavail), files: BigInt(s.files), ffree: BigInt(s.ffree), fsid: s.fsid,
      namelen: BigInt(s.namelen), frsize: BigInt(s.bsize), flags: this.readOnly ? 1n : 0n,
    };
  }
}

interface CachedChild {
  inode: GoferInode | null;
  at: number;
}

function statOf(fs: GoferFs, a: Attr): Stat {
  const ns = (s: number, n: number): bigint => BigInt(s) * 1_000_000_000n + BigInt(n);
  return {
    dev: fs.dev, ino: a.qid.path, mode: a.mode, nlink: a.nlink, uid: a.uid, gid: a.gid,
    rdev: BigInt(a.rdev), size: BigInt(a.size), blksize: a.blksize, blocks: BigInt(a.blocks),
    atimeNs: ns(a.atimeSec, a.atimeNsec), mtimeNs: ns(a.mtimeSec, a.mtimeNsec), ctimeNs: ns(a.ctimeSec, a.ctimeNsec),
    btimeNs: (a.valid & GETATTR.BTIME) !== 0 ? ns(a.btimeSec, a.btimeNsec) : undefined,
  };
}

export class GoferInode implements Inode {
  readonly key: string;
  readonly ino: bigint;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly qid: Qid;
  private attr: Attr;
  private attrAt: number;
  private readonly children = new Map<string, CachedChild>();
  private readonly pendingLookups = new Map<string, Promise<Result<Inode>>>();
  private linkTarget: string | null = null;
  /** The shared read-only host fd of this file, while the mount keeps it (see keepReadFd). */
  private readFd: SharedFd | null = null;
  /** The last listing, reused while names are trusted and nothing changed it through us. */
  private listing: { entries: DirEntry[]; at: number; version: number; index?: Map<string, number> } | null = null;
  /** Bumped by every change made through this client: read-ahead data older than it is stale. */
  dataVersion = 0;

  constructor(readonly fs: GoferFs, readonly fid: number, a: Attr) {
    this.qid = a.qid;
    this.ino = a.qid.path;
    this.key = `gofer:${fs.dev}:${a.qid.path}`;
    this.mode = a.mode;
    this.uid = a.uid;
    this.gid = a.gid;
    this.attr = a;
    this.attrAt = Date.now();
    fs.track(this, fid);
  }

  private get client(): P9Client {
    return this.fs.client;
  }

  /** Forget cached attributes (after a change through this client). */
  touched(): void {
    this.attrAt = 0;
    this.dataVersion++;
  }

  private remember(name: string, inode: GoferInode | null): void {
    this.children.set(name, { inode, at: Date.now() });
    this.fs.usedName(this, name);
  }

  /** Forget the cached lookup of `name`. */
  forget(name: string): void {
    this.children.delete(name);
  }

  async freshAttr(): Promise<Result<Attr>> {
    if (Date.now() - this.attrAt < this.fs.attrTtlMs) return this.attr;
    const a = await this.client.getattr(this.fid, GETATTR.BASIC);
    if (isErr(a)) return a;
    this.attr = a;
    this.attrAt = Date.now();
    return a;
  }

  stat(): MaybePromise<Result<Stat>> {
    if (Date.now() - this.attrAt < this.fs.attrTtlMs) return statOf(this.fs, this.attr);
    return this.freshAttr().then((a) => (isErr(a) ? a : statOf(this.fs, a)));
  }

  lookup(name: string): MaybePromise<Result<Inode>> {
    if (!isDir(this.mode)) return err(E.ENOTDIR);
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) return err(E.ENOENT);
    if (Buffer.byteLength(name) > NAME_MAX) return err(E.ENAMETOOLONG);
    const c = this.children.get(name);
    if (c !== undefined && Date.now() - c.at < this.fs.dentryTtlMs) {
      this.fs.usedName(this, name);
      return c.inode ?? err(E.ENOENT);
    }
    const pending = this.pendingLookups.get(name);
    if (pending !== undefined) return pending;
    const p = this.startLookup(name, c?.inode ?? null);
    this.prefetchAfter(name);
    return p;
  }

  private startLookup(name: string, old: GoferInode | null): Promise<Result<Inode>> {
    const p = this.walkChild(name, old).finally(() => this.pendingLookups.delete(name));
    this.pendingLookups.set(name, p);
    return p;
  }

  /**
   * Programs that list a directory and then stat or open its entries in listing order (tar,
   * find, du, cp -r) would wait one round trip per name: a lookup that misses on a listed
   * name also looks up the next few listed names, all sent together.
   */
  private prefetchAfter(name: string): void {
    const l = this.listing;
    if (!this.fs.inOrder || l === null || l.version !== this.dataVersion) return;
    const now = Date.now();
    if (now - l.at >= this.fs.dentryTtlMs) return;
    if (l.index === undefined) {
      l.index = new Map();
      for (let i = 0; i < l.entries.length; i++) l.index.set(l.entries[i]!.name, i);
    }
    const from = l.index.get(name);
    if (from === undefined) return;
    let sent = 0;
    for (let j = from + 1; j < l.entries.length && j <= from + PREFETCH_SCAN && sent < PREFETCH_NAMES; j++) {
      const n = l.entries[j]!.name;
      const c = this.children.get(n);
      if ((c !== undefined && now - c.at < this.fs.dentryTtlMs) || this.pendingLookups.has(n)) continue;
      void this.startLookup(n, c?.inode ?? null);
      sent++;
    }
  }

  /** Twalk to `name` and Tgetattr of the new fid, pipelined when the server keeps order. */
  private async walkAndStat(name: string): Promise<Result<{ fid: number; attr: Attr }>> {
    const c = this.client;
    if (!this.fs.inOrder) {
      const w = await c.walk(this.fid, [name]);
      if (isErr(w)) return w;
      const a = await c.getattr(w.fid, GETATTR.BASIC);
      if (isErr(a)) {
        c.clunkSoon(w.fid);
        return a;
      }
      return { fid: w.fid, attr: a };
    }
    const fid = c.allocFid();
    const [w, a] = await Promise.all([
      c.request({ kind: 'Twalk', fid: this.fid, newfid: fid, names: [name] }),
      c.request({ kind: 'Tgetattr', fid, requestMask: GETATTR.BASIC }),
    ]);
    if (isErr(w) || w.qids.length !== 1) {
      // The walk made no fid; the getattr then failed on it.
      c.releaseFid(fid);
      return isErr(w) ? w : err(E.ENOENT);
    }
    if (isErr(a)) {
      c.clunkSoon(fid);
      return a;
    }
    return { fid, attr: a.attr };
  }

  private async walkChild(name: string, old: GoferInode | null): Promise<Result<Inode>> {
    const w = await this.walkAndStat(name);
    if (isErr(w)) {
      if (w.errno === E.ENOENT) this.remember(name, null);
      return w;
    }
    // Still the same file: keep the inode (and its caches), give the new fid back.
    if (old !== null && old.qid.path === w.attr.qid.path) {
      this.client.clunkSoon(w.fid);
      this.remember(name, old);
      return old;
    }
    const inode = new GoferInode(this.fs, w.fid, w.attr);
    this.remember(name, inode);
    return inode;
  }

  readdir(): MaybePromise<Result<DirEntry[]>> {
    const l = this.listing;
    // Trusted as long as looked-up names are (DENTRY_TTL_MS); our own changes drop it.
    if (l !== null && l.version === this.dataVersion && Date.now() - l.at < this.fs.dentryTtlMs) return l.entries;
    return this.fetchListing();
  }

  private async fetchListing(): Promise<Result<DirEntry[]>> {
    const version = this.dataVersion;
    const at = Date.now();
    const c = this.client;
    let fid: number;
    let first: Result<Dirent[]> | null = null;
    if (this.fs.inOrder) {
      // Clone, open and the first Treaddir in one round trip.
      const opened = await this.cloneOpen(L_O.RDONLY | L_O.DIRECTORY, true);
      if (isErr(opened)) return opened;
      fid = opened.fid;
      first = opened.first;
    } else {
      const o = await this.openFid(L_O.RDONLY | L_O.DIRECTORY);
      if (isErr(o)) return o;
      fid = o;
    }
    const list = await this.readdirFrom(fid, first);
    c.clunkSoon(fid);
    if (isErr(list)) return list;
    const entries: DirEntry[] = [];
    for (const d of list) if (d.name !== '.' && d.name !== '..') entries.push({ name: d.name, ino: d.qid.path, type: d.type });
    if (version === this.dataVersion) this.listing = { entries, at, version };
    return entries;
  }

  /** Every entry of the open directory fid, starting with an already fetched first batch. */
  private async readdirFrom(fid: number, first: Result<Dirent[]> | null): Promise<Result<Dirent[]>> {
    const c = this.client;
    const count = c.maxIo;
    const all: Dirent[] = [];
    let offset = 0n;
    let batch = first ?? (await c.readdir(fid, offset, count));
    for (;;) {
      if (isErr(batch)) return batch;
      if (batch.length === 0) return all;
      for (const d of batch) all.push(d);
      offset = batch[batch.length - 1]!.offset;
      if (this.fs.readdirFills && direntBytes(batch) + MAX_DIRENT_9P <= count) return all;
      batch = await c.readdir(fid, offset, count);
    }
  }

  async readlink(): Promise<Result<string>> {
    if (!isLnk(this.mode)) return err(E.EINVAL);
    // A symlink's target never changes: a new one is a new inode.
    if (this.linkTarget !== null) return this.linkTarget;
    const t = await this.client.readlink(this.fid);
    if (isErr(t)) return t;
    this.linkTarget = t;
    return t;
  }

  /**
   * Twalk (clone), Tlopen and, for a directory listing, the first Treaddir sent together
   * (our Gofer serves them in order); the new fid, and the first batch when asked for.
   */
  private async cloneOpen(flags: number, readFirst: boolean): Promise<Result<{ fid: number; first: Result<Dirent[]> | null }>> {
    const c = this.client;
    const fid = c.allocFid();
    const [w, o, r] = await Promise.all([
      c.request({ kind: 'Twalk', fid: this.fid, newfid: fid, names: [] }),
      c.request({ kind: 'Tlopen', fid, flags }),
      readFirst ? c.request({ kind: 'Treaddir', fid, offset: 0n, count: c.maxIo }) : null,
    ]);
    if (isErr(w)) {
      c.releaseFid(fid);
      return w;
    }
    if (isErr(o)) {
      c.clunkSoon(fid);
      return o;
    }
    return { fid, first: r === null ? null : isErr(r) ? r : r.entries };
  }

  /** A new fid for this file, opened with 9P (Linux) flags. */
  private async openFid(flags: number): Promise<Result<number>> {
    if (this.fs.inOrder) {
      // Clone and open in one round trip: the server handles them in order.
      const opened = await this.cloneOpen(flags, false);
      return isErr(opened) ? opened : opened.fid;
    }
    const w = await this.client.walk(this.fid, []);
    if (isErr(w)) return w;
    const o = await this.client.lopen(w.fid, flags);
    if (isErr(o)) {
      this.client.clunkSoon(w.fid);
      return o;
    }
    return w.fid;
  }

  async open(loc: Location, flags: number): Promise<Result<FileDescription>> {
    // A named pipe joins the sandbox's own pipe for it (as gVisor does): the host's is never opened.
    if ((this.mode & S.IFMT) === S.IFIFO) return this.fs.fifo(this.qid.path).open(loc, flags);
    // Host devices and sockets are host objects: never reachable from the sandbox.
    if (!isReg(this.mode)) return err(E.EACCES);
    const p9flags = flags & (L_O.ACCMODE | L_O.APPEND | L_O.DSYNC | L_O.SYNC);
    const readOnly = (flags & L_O.ACCMODE) === L_O.RDONLY;
    // Not once the Gofer is gone: its files then fail with EIO, shared fd or not.
    if (readOnly && this.readFd !== null && !this.client.closed) {
      this.fs.keepReadFd(this, this.readFd);
      return new GoferFile(flags, loc, this, null, this.readFd.ref());
    }
    const fid = await this.openFid(p9flags);
    if (isErr(fid)) return fid;
    const donated = this.fs.donations?.take(fid) ?? null;
    if (donated === null || !readOnly) return new GoferFile(flags, loc, this, fid, donated === null ? null : new SharedFd(donated));
    // A read-only open with its fd needs the fid no more; the fd serves later opens too.
    this.client.clunkSoon(fid);
    const shared = new SharedFd(donated);
    if (this.readFd === null) {
      this.readFd = shared.ref();
      this.fs.keepReadFd(this, shared);
    }
    return new GoferFile(flags, loc, this, null, shared);
  }

  /** The mount stopped keeping fd for this file: open files may still hold it. */
  dropReadFd(fd: SharedFd): void {
    if (this.readFd === fd) this.readFd = null;
    fd.unref();
  }

  /** One read-only donated fd for this file, or null when the server does not donate. */
  private async donatedReadFd(): Promise<Result<number | null>> {
    if (this.fs.donations === null) return null;
    const fid = await this.openFid(L_O.RDONLY);
    if (isErr(fid)) return fid;
    const fd = this.fs.donations.take(fid);
    // The donated fd stands on its own: the fid is not needed any more.
    this.client.clunkSoon(fid);
    return fd;
  }

  async mappable(): Promise<Result<SizedMappable>> {
    const cached = this.fs.mappables.get(this.qid.path)?.deref();
    if (cached !== undefined) return cached;
    const fd = await this.donatedReadFd();
    if (isErr(fd)) return fd;
    let m: SizedMappable;
    if (fd !== null) {
      m = new GoferPageCache(this.key, fd, this.fs.readOnly ? null : (off, data) => this.writeBack(off, data));
    } else {
      // No fd to fault from: a private copy of the contents (diod and other plain servers).
      const fid = await this.openFid(L_O.RDONLY);
      if (isErr(fid)) return fid;
      const a = await this.client.getattr(fid, GETATTR.SIZE);
      const data = isErr(a) ? a : await this.client.readFull(fid, 0, a.size);
      this.client.clunkSoon(fid);
      if (isErr(data)) return data;
      m = new BufferMappable(this.key, data);
    }
    // Another caller made one while we waited: there must be only one (ours closes its fd when collected).
    const raced = this.fs.mappables.get(this.qid.path)?.deref();
    if (raced !== undefined) return raced;
    this.fs.keepMappable(this.qid.path, m);
    return m;
  }

  /** The file's page cache while some mapping or reader holds it (shared with read()/write()). */
  pageCache(): GoferPageCache | null {
    const m = this.fs.mappables.get(this.qid.path)?.deref();
    return m instanceof GoferPageCache ? m : null;
  }

  /** Writes dirty mapped bytes back to the host file through a fid of their own. */
  private async writeBack(offset: number, data: Uint8Array): Promise<Result<number>> {
    const fid = await this.openFid(L_O.WRONLY);
    if (isErr(fid)) return fid;
    const r = await this.client.writeAll(fid, offset, data);
    this.client.clunkSoon(fid);
    this.touched();
    return r;
  }

  async openExec(): Promise<Result<ExecSource>> {
    if (!isReg(this.mode)) return err(E.EACCES);
    const m = await this.mappable();
    if (isErr(m)) return m;
    const size = m.size();
    if (isErr(size)) return size;
    return {
      size,
      mappable: m,
      readAt: (offset: number, len: number): Result<Uint8Array> => {
        if (offset < 0 || len < 0) return err(E.EINVAL);
        const buf = new Uint8Array(Math.max(0, Math.min(len, size - offset)));
        return buf.subarray(0, m.readSync(offset, buf));
      },
    };
  }

  // ------------------------------------------------------------ changes (write-through)

  private changed(name: string): void {
    this.forget(name);
    this.touched();
  }

  async create(name: string, mode: number, creds: Credentials): Promise<Result<Inode>> {
    const w = await this.client.walk(this.fid, []);
    if (isErr(w)) return w;
    const c = await this.client.lcreate(w.fid, name, L_O.RDONLY | L_O.EXCL, mode & 0o7777, creds.fsgid);
    // Only the new name is wanted here; the VFS opens it next.
    this.fs.donations?.discard(w.fid);
    this.client.clunkSoon(w.fid);
    this.changed(name);
    if (isErr(c)) return c;
    return this.lookup(name);
  }

  async mkdir(name: string, mode: number, creds: Credentials): Promise<Result<void>> {
    const r = await this.client.mkdir(this.fid, name, mode & 0o7777, creds.fsgid);
    this.changed(name);
    return isErr(r) ? r : undefined;
  }

  async mknod(name: string, mode: number, rdev: bigint, creds: Credentials): Promise<Result<void>> {
    const major = Number((rdev >> 8n) & 0xfffn);
    const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & 0xfff00n));
    const r = await this.client.mknod(this.fid, name, mode, major, minor, creds.fsgid);
    this.changed(name);
    return isErr(r) ? r : undefined;
  }

  async symlink(name: string, target: string, creds: Credentials): Promise<Result<void>> {
    const r = await this.client.symlink(this.fid, name, target, creds.fsgid);
    this.changed(name);
    return isErr(r) ? r : undefined;
  }

  async link(name: string, target: Inode): Promise<Result<void>> {
    if (!(target instanceof GoferInode) || target.fs !== this.fs) return err(E.EXDEV);
    const r = await this.client.link(this.fid, target.fid, name);
    this.changed(name);
    target.touched();
    return r;
  }

  async unlink(name: string): Promise<Result<void>> {
    const r = await this.client.unlinkat(this.fid, name, 0);
    this.changed(name);
    return r;
  }

  async rmdir(name: string): Promise<Result<void>> {
    const r = await this.client.unlinkat(this.fid, name, AT_REMOVEDIR);
    this.changed(name);
    return r;
  }

  async rename(oldName: string, newDir: Inode, newName: string, flags: number): Promise<Result<void>> {
    if (!(newDir instanceof GoferInode) || newDir.fs !== this.fs) return err(E.EXDEV);
    // RENAME_NOREPLACE / EXCHANGE / WHITEOUT have no 9P2000.L form.
    if (flags !== 0) return err(E.EINVAL);
    const r = await this.client.renameat(this.fid, oldName, newDir.fid, newName);
    this.changed(oldName);
    newDir.changed(newName);
    return r;
  }

  async setattr(attr: SetAttr): Promise<Result<void>> {
    let valid = 0;
    const s = { mode: 0, uid: 0, gid: 0, size: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0 };
    if (attr.mode !== undefined) { valid |= SETATTR.MODE; s.mode = attr.mode & 0o7777; }
    if (attr.uid !== undefined) { valid |= SETATTR.UID; s.uid = attr.uid; }
    if (attr.gid !== undefined) { valid |= SETATTR.GID; s.gid = attr.gid; }
    if (attr.size !== undefined) {
      if (attr.size < 0n || attr.size > BigInt(Number.MAX_SAFE_INTEGER)) return err(E.EINVAL);
      valid |= SETATTR.SIZE;
      s.size = Number(attr.size);
    }
    const time = (t: bigint | 'now' | undefined, bit: number, setBit: number): [number, number] => {
      if (t === undefined) return [0, 0];
      valid |= bit;
      if (t === 'now') return [0, 0];
      valid |= setBit;
      return [Number(t / 1_000_000_000n), Number(t % 1_000_000_000n)];
    };
    [s.atimeSec, s.atimeNsec] = time(attr.atimeNs, SETATTR.ATIME, SETATTR.ATIME_SET);
    [s.mtimeSec, s.mtimeNsec] = time(attr.mtimeNs, SETATTR.MTIME, SETATTR.MTIME_SET);
    if (valid === 0) return undefined;
    const r = await this.client.setattr(this.fid, { valid, ...s });
    this.touched();
    if (!isErr(r) && (valid & SETATTR.SIZE) !== 0) this.pageCache()?.truncated(s.size);
    return r;
  }

  /** The host file's xattr `name` (or, with "", its NUL-separated names) via Txattrwalk + Tread. */
  private async xattrBytes(name: string): Promise<Result<Uint8Array>> {
    const w = await this.client.xattrwalk(this.fid, name);
    if (isErr(w)) return w;
    try {
      if (w.size > BigInt(XATTR_LIST_MAX)) return err(E.E2BIG);
      const data = await this.client.readFull(w.fid, 0, Number(w.size));
      if (isErr(data)) return data;
      // The value changed between the walk and the read: its size no longer holds.
      return data.length === Number(w.size) ? data : err(E.EIO);
    } finally {
      this.client.clunkSoon(w.fid);
    }
  }

  async getxattr(name: string): Promise<Result<Uint8Array>> {
    if (name === '') return err(E.ERANGE);
    return this.xattrBytes(name);
  }

  async listxattr(): Promise<Result<string[]>> {
    const b = await this.xattrBytes('');
    if (isErr(b)) return b;
    return Buffer.from(b).toString('utf8').split('\0').filter((n) => n !== '');
  }

  /** Txattrcreate on a fresh fid, the value in Twrites, set by the Tclunk (whose error is ours). */
  async setxattr(name: string, value: Uint8Array, flags: number): Promise<Result<void>> {
    // 9P removes an attribute when the announced size is 0: an empty value cannot be sent.
    if (value.length === 0) return err(E.EOPNOTSUPP);
    return this.xattrWrite(name, value, flags);
  }

  async removexattr(name: string): Promise<Result<void>> {
    return this.xattrWrite(name, new Uint8Array(0), XATTR_REPLACE);
  }

  private async xattrWrite(name: string, value: Uint8Array, flags: number): Promise<Result<void>> {
    const w = await this.client.walk(this.fid, []);
    if (isErr(w)) return w;
    const c = await this.client.xattrcreate(w.fid, name, BigInt(value.length), flags);
    if (isErr(c)) {
      this.client.clunkSoon(w.fid);
      return c;
    }
    const n = await this.client.writeAll(w.fid, 0, value);
    const r = await this.client.clunk(w.fid);
    this.touched();
    return isErr(n) ? n : r;
  }
}

/**
 * An open regular file: its own open fid, and the donated host fd when there is one. A
 * read-only open with a donated fd needs no fid: every operation it allows uses the fd.
 */
class GoferFile extends FileDescription {
  private released = false;
  private readonly hostFd: number | null;

  constructor(
    flags: number, loc: Location, private readonly inode: GoferInode, private readonly fidOrNull: number | null,
    private readonly shared: SharedFd | null,
  ) {
    super(flags, loc);
    this.hostFd = shared?.fd ?? null;
  }

  /** The open fid (files without one always have a host fd, so 9P I/O never asks for it). */
  private get fid(): number {
    return this.fidOrNull ?? -1;
  }

  protected override release(): void {
    if (this.released) return;
    this.released = true;
    this.shared?.unref();
    const c = this.inode.fs.client;
    if (this.fidOrNull !== null && !c.closed) c.clunkSoon(this.fidOrNull);
  }

  private get client(): P9Client {
    return this.inode.fs.client;
  }

  override read(dst: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    const r = this.pread(dst, this.offset, ctx);
    const advance = (n: Result<number>): Result<number> => {
      if (!isErr(n)) this.offset += n;
      return n;
    };
    return r instanceof Promise ? r.then(advance) : advance(r);
  }

  override pread(dst: Uint8Array, offset: number, ctx: IoCtx): MaybePromise<Result<number>> {
    if (offset < 0) return err(E.EINVAL);
    if (dst.length === 0) return 0;
    // Bytes stored through a shared mapping and not yet written back are the file's bytes.
    const withMapped = (n: Result<number>): Result<number> => {
      if (!isErr(n)) this.inode.pageCache()?.overlay(dst.subarray(0, n), offset);
      return n;
    };
    if (this.hostFd !== null) {
      try {
        return withMapped(preadFull(this.hostFd, dst, offset));
      } catch (e) {
        return err(errnoOf(e));
      }
    }
    return this.read9p(dst, offset, ctx).then(withMapped);
  }

  /** Reads through the donated fd go out through one reused buffer instead of a new one per call. */
  override readDirect(len: number, offset: number, put: PutBytes): Result<number> | null {
    if (this.hostFd === null) return null;
    const start = offset < 0 ? this.offset : offset;
    const cache = this.inode.pageCache();
    let done = 0;
    while (done < len) {
      const want = Math.min(len - done, directBuf.length);
      const buf = directBuf.subarray(0, want);
      let n: number;
      try {
        n = preadFull(this.hostFd, buf, start + done);
      } catch (e) {
        if (done > 0) break;
        return err(errnoOf(e));
      }
      cache?.overlay(buf.subarray(0, n), start + done);
      const r = n > 0 ? put(done, buf.subarray(0, n)) : undefined;
      if (isErr(r)) {
        if (done > 0) break;
        return r;
      }
      done += n;
      if (n < want) break;
    }
    if (offset < 0) this.offset += done;
    return done;
  }

  /**
   * The last 9P read, kept for the reads that follow it (see READ_AHEAD). Dropped by any
   * change through this client, and trusted only as long as attributes are.
   */
  private ahead: { offset: number; data: Uint8Array; version: number; at: number; eof: boolean } | null = null;

  private aheadFor(pos: number): Uint8Array | null {
    const a = this.ahead;
    if (a === null || a.version !== this.inode.dataVersion || Date.now() - a.at >= this.inode.fs.attrTtlMs) return null;
    const end = a.offset + a.data.length;
    // At the end of a short read: end of file, as of that read.
    if (pos < a.offset || pos > end || (pos === end && !a.eof)) return null;
    return a.data.subarray(pos - a.offset);
  }

  private async read9p(dst: Uint8Array, offset: number, ctx: IoCtx): Promise<Result<number>> {
    let done = 0;
    while (done < dst.length) {
      const pos = offset + done;
      const held = this.aheadFor(pos);
      if (held !== null) {
        if (held.length === 0) break;
        const n = Math.min(dst.length - done, held.length);
        dst.set(held.subarray(0, n), done);
        done += n;
        continue;
      }
      const version = this.inode.dataVersion;
      const asked = Math.min(Math.max(dst.length - done, READ_AHEAD), this.client.maxIo);
      const r = await this.client.read(this.fid, pos, asked, ctx.signal);
      if (isErr(r)) return done > 0 ? done : r;
      this.ahead = { offset: pos, data: r, version, at: Date.now(), eof: r.length < asked };
      if (r.length === 0) break;
      // Short: end of file for now.
      if (r.length < asked) {
        const n = Math.min(dst.length - done, r.length);
        dst.set(r.subarray(0, n), done);
        done += n;
        break;
      }
    }
    return done;
  }

  override write(src: Uint8Array, _ctx: IoCtx): MaybePromise<Result<number>> {
    if ((this.flags & O.APPEND) !== 0) {
      return this.inode.fs.client.getattr(this.fid, GETATTR.SIZE).then(async (a) => {
        if (isErr(a)) return a;
        this.offset = a.size;
        return this.advanceAfter(await this.write9p(src, a.size));
      });
    }
    return this.write9p(src, this.offset).then((n) => this.advanceAfter(n));
  }

  private advanceAfter(n: Result<number>): Result<number> {
    if (!isErr(n)) this.offset += n;
    return n;
  }

  override pwrite(src: Uint8Array, offset: number): MaybePromise<Result<number>> {
    if (offset < 0) return err(E.EINVAL);
    return this.write9p(src, offset);
  }

  private async write9p(src: Uint8Array, offset: number): Promise<Result<number>> {
    if (src.length === 0) return 0;
    const r = await this.client.writeAll(this.fid, offset, src);
    this.inode.touched();
    if (!isErr(r)) this.inode.pageCache()?.wrote(offset, src.subarray(0, r));
    return r;
  }

  override seek(offset: number, whence: number): MaybePromise<Result<number>> {
    return seekWith(this, offset, whence, () => {
      if (this.hostFd !== null) {
        try {
          return Number(fs.fstatSync(this.hostFd, { bigint: true }).size);
        } catch (e) {
          return err(errnoOf(e));
        }
      }
      return this.client.getattr(this.fid, GETATTR.SIZE).then((a) => (isErr(a) ? a : a.size));
    });
  }

  override stat(): MaybePromise<Result<Stat>> {
    return this.inode.stat();
  }

  override mappable(): MaybePromise<Result<Mappable>> {
    return this.inode.mappable();
  }
}

function errnoOf(e: unknown): number {
  const n = (e as { errno?: unknown }).errno;
  return typeof n === 'number' && n !== 0 ? Math.abs(n) : E.EIO;
}

/** The staging buffer of readDirect: used and emptied within one synchronous call. */
const directBuf = Buffer.allocUnsafeSlow(1 << 20);

/** Bytes a batch of entries took in its Rreaddir. */
function direntBytes(list: readonly Dirent[]): number {
  let n = 0;
  for (const d of list) n += 24 + Buffer.byteLength(d.name);
  return n;
}
