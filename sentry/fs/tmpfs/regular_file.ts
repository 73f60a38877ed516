// An open tmpfs regular file: reads and writes go straight to the file's pages.

import { E } from '../../abi/errno.js';
import { err, isErr, type Result } from '../../abi/result.js';
import type { Mappable } from '../../mm/mappable.js';
import { O, SEEK } from '../../vfs/constants.js';
import { FileDescription, type GetBytes, type PutBytes } from '../../vfs/file.js';
import type { Location } from '../../vfs/mount.js';
import { nowNs } from '../../vfs/stat.js';
import type { TmpFile } from './tmpfs.js';

export const FALLOC = { KEEP_SIZE: 1, PUNCH_HOLE: 2, ZERO_RANGE: 0x10 } as const;

export class TmpRegularFile extends FileDescription {
  constructor(flags: number, loc: Location, readonly inode: TmpFile) {
    super(flags, loc);
    inode.data.hold();
  }

  protected override release(): void {
    this.inode.data.releaseHold();
  }

  override read(dst: Uint8Array): Result<number> {
    const n = this.pread(dst, this.offset);
    if (!isErr(n)) this.offset += n;
    return n;
  }

  override pread(dst: Uint8Array, offset: number): Result<number> {
    if (offset < 0) return err(E.EINVAL);
    return this.inode.data.read(dst, offset);
  }

  override readDirect(len: number, offset: number, put: PutBytes): Result<number> {
    const n = this.inode.data.readTo(len, offset < 0 ? this.offset : offset, put);
    if (offset < 0 && !isErr(n)) this.offset += n;
    return n;
  }

  override writeDirect(len: number, offset: number, get: GetBytes): Result<number> {
    if (len === 0) return 0;
    const append = (this.flags & O.APPEND) !== 0;
    if (offset < 0 && append) this.offset = this.inode.data.size;
    const at = append ? this.inode.data.size : offset < 0 ? this.offset : offset;
    const n = this.inode.data.writeFrom(len, at, get);
    if (!isErr(n)) {
      this.inode.mtimeNs = this.inode.ctimeNs = nowNs();
      if (offset < 0) this.offset += n;
    }
    return n;
  }

  override write(src: Uint8Array): Result<number> {
    if ((this.flags & O.APPEND) !== 0) this.offset = this.inode.data.size;
    const n = this.pwriteAt(src, this.offset);
    if (!isErr(n)) this.offset += n;
    return n;
  }

  /** pwrite(2): with O_APPEND Linux appends regardless of the offset. */
  override pwrite(src: Uint8Array, offset: number): Result<number> {
    if (offset < 0) return err(E.EINVAL);
    return this.pwriteAt(src, (this.flags & O.APPEND) !== 0 ? this.inode.data.size : offset);
  }

  private pwriteAt(src: Uint8Array, offset: number): Result<number> {
    if (src.length === 0) return 0;
    const n = this.inode.data.write(src, offset);
    if (!isErr(n)) {
      this.inode.mtimeNs = this.inode.ctimeNs = nowNs();
      // A write by anyone but root clears setuid and (group-executable) setgid.
    }
    return n;
  }

  override seek(offset: number, whence: number): Result<number> {
    let n: Result<number>;
    const d = this.inode.data;
    switch (whence) {
      case SEEK.SET: n = offset; break;
      case SEEK.CUR: n = this.offset + offset; break;
      case SEEK.END: n = d.size + offset; break;
      case SEEK.DATA: n = d.seekData(offset, false); break;
      case SEEK.HOLE: n = d.seekData(offset, true); break;
      default: return err(E.EINVAL);
    }
    if (isErr(n)) return n;
    if (n < 0 || !Number.isSafeInteger(n)) return err(E.EINVAL);
    this.offset = n;
    return n;
  }

  override mappable(): Result<Mappable> {
    return this.inode.data;
  }

  override fallocate(mode: number, offset: number, len: number): Result<void> {
    const d = this.inode.data;
    let r: Result<void>;
    if ((mode & FALLOC.PUNCH_HOLE) !== 0) {
      if ((mode & FALLOC.KEEP_SIZE) === 0) return err(E.EOPNOTSUPP);
      d.punchHole(offset, len);
      r = undefined;
    } else if ((mode & FALLOC.ZERO_RANGE) !== 0) {
      d.punchHole(offset, len);
      r = d.allocate(offset, len, (mode & FALLOC.KEEP_SIZE) !== 0);
    } else if ((mode & ~FALLOC.KEEP_SIZE) !== 0) {
      return err(E.EOPNOTSUPP);
    } else {
      r = d.allocate(offset, len, (mode & FALLOC.KEEP_SIZE) !== 0);
    }
    if (!isErr(r)) this.inode.mtimeNs = this.inode.ctimeNs = nowNs();
    return r;
  }
}
