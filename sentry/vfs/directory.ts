// An open directory: getdents64 over a snapshot of the entries taken when reading starts
// (and again after a rewind to offset 0), with "." and ".." first. The offset is the index
// of the next entry, and d_off of each record is the index after it.

import { E } from '../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../abi/result.js';
import { DT, SEEK } from './constants.js';
import { FileDescription } from './file.js';
import type { DirEntry } from './inode.js';
import type { Location } from './mount.js';

const enc = new TextEncoder();

/** Size of a linux_dirent64 record for a name of nameLen bytes (header 19, NUL, align 8). */
export function direntSize(nameLen: number): number {
  return (19 + nameLen + 1 + 7) & ~7;
}

/** Writes one linux_dirent64 at off; returns its length, or 0 if it does not fit. */
export function putDirent64(
  buf: Uint8Array, off: number, ino: bigint, nextOff: number, type: number, name: Uint8Array,
): number {
  const len = direntSize(name.length);
  if (off + len > buf.length) return 0;
  const v = new DataView(buf.buffer, buf.byteOffset + off, len);
  v.setBigUint64(0, ino, true);
  v.setBigInt64(8, BigInt(nextOff), true);
  v.setUint16(16, len, true);
  v.setUint8(18, type);
  buf.set(name, off + 19);
  buf.fill(0, off + 19 + name.length, off + len);
  return len;
}

/**
 * putDirent64 for a string name through `view` (over all of buf): ASCII names, the common
 * case, are written without an encoded copy, which matters for large directories.
 */
function putDirentNamed(
  buf: Uint8Array, view: DataView, off: number, ino: bigint, nextOff: number, type: number, name: string,
): number {
  const nlen = name.length;
  for (let k = 0; k < nlen; k++) {
    if (name.charCodeAt(k) >= 0x80) return putDirent64(buf, off, ino, nextOff, type, enc.encode(name));
  }
  const len = direntSize(nlen);
  if (off + len > buf.length) return 0;
  view.setBigUint64(off, ino, true);
  view.setUint32(off + 8, nextOff >>> 0, true);
  view.setUint32(off + 12, Math.floor(nextOff / 0x100000000), true);
  view.setUint16(off + 16, len, true);
  buf[off + 18] = type;
  const at = off + 19;
  for (let k = 0; k < nlen; k++) buf[at + k] = name.charCodeAt(k);
  buf.fill(0, at + nlen, off + len);
  return len;
}

export class DirectoryFile extends FileDescription {
  private entries: DirEntry[] | null = null;

  constructor(flags: number, readonly loc: Location) {
    super(flags, loc);
  }

  override read(): Result<number> {
    return err(E.EISDIR);
  }
  override pread(): Result<number> {
    return err(E.EISDIR);
  }

  private load(): MaybePromise<Result<DirEntry[]>> {
    const inode = this.loc.dentry.inode;
    if (inode.readdir === undefined) return err(E.ENOTDIR);
    const parent = this.loc.dentry.parent?.inode ?? inode;
    const dots: DirEntry[] = [
      { name: '.', ino: inode.ino, type: DT.DIR },
      { name: '..', ino: parent.ino, type: DT.DIR },
    ];
    const r = inode.readdir();
    const finish = (list: Result<DirEntry[]>): Result<DirEntry[]> => {
      if (isErr(list)) return list;
      this.entries = dots.concat(list);
      return this.entries;
    };
    return r instanceof Promise ? r.then(finish) : finish(r);
  }

  override getdents(buf: Uint8Array): MaybePromise<Result<number>> {
    if (this.entries === null || this.offset === 0) {
      const r = this.load();
      if (r instanceof Promise) return r.then((l) => (isErr(l) ? l : this.fill(buf, l)));
      if (isErr(r)) return r;
      return this.fill(buf, r);
    }
    return this.fill(buf, this.entries);
  }

  private fill(buf: Uint8Array, list: DirEntry[]): Result<number> {
    let used = 0;
    let i = this.offset;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (; i < list.length; i++) {
      const e = list[i];
      const n = putDirentNamed(buf, view, used, e.ino, i + 1, e.type, e.name);
      if (n === 0) {
        // Not even one record fits: the caller's buffer is too small.
        if (used === 0) return err(E.EINVAL);
        break;
      }
      used += n;
    }
    this.offset = i;
    return used;
  }

  override seek(offset: number, whence: number): Result<number> {
    let n: number;
    if (whence === SEEK.SET) n = offset;
    else if (whence === SEEK.CUR) n = this.offset + offset;
    else return err(E.EINVAL);
    if (n < 0) return err(E.EINVAL);
    this.offset = n;
    return n;
  }
}

/** An O_PATH file: names a location for *at() calls, fstat and fchdir; no I/O. */
export class PathFile extends FileDescription {
  constructor(flags: number, loc: Location) {
    super(flags, loc);
    // F_GETFL on an O_PATH fd shows only what open kept (no O_LARGEFILE).
    this.flags = flags;
  }
  override read(): Result<number> {
    return err(E.EBADF);
  }
  override write(): Result<number> {
    return err(E.EBADF);
  }
  override getdents(): Result<number> {
    return err(E.EBADF);
  }
  override ioctl(): Result<number> {
    return err(E.EBADF);
  }
  override seek(): Result<number> {
    return err(E.EBADF);
  }
}
