// The character devices every program expects: /dev/null, zero, full, random, urandom.
// They never block, and Linux lets lseek on them succeed with position 0.

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import { FileDescription } from '../../vfs/file.js';
import type { Location } from '../../vfs/mount.js';

abstract class CharDeviceFile extends FileDescription {
  constructor(flags: number, loc: Location) {
    super(flags, loc);
  }
  override pread(dst: Uint8Array): Result<number> {
    return this.read(dst);
  }
  override pwrite(src: Uint8Array): Result<number> {
    return this.write(src);
  }
  override seek(): Result<number> {
    this.offset = 0;
    return 0;
  }
  abstract override read(dst: Uint8Array): Result<number>;
  abstract override write(src: Uint8Array): Result<number>;
}

/** Reads EOF, swallows writes. */
export class NullFile extends CharDeviceFile {
  override read(): Result<number> {
    return 0;
  }
  override write(src: Uint8Array): Result<number> {
    return src.length;
  }
}

/** Reads zeros, swallows writes. */
export class ZeroFile extends CharDeviceFile {
  override read(dst: Uint8Array): Result<number> {
    dst.fill(0);
    return dst.length;
  }
  override write(src: Uint8Array): Result<number> {
    return src.length;
  }
}

/** Reads zeros, every write fails with ENOSPC. */
export class FullFile extends CharDeviceFile {
  override read(dst: Uint8Array): Result<number> {
    dst.fill(0);
    return dst.length;
  }
  override write(src: Uint8Array): Result<number> {
    return src.length === 0 ? 0 : err(E.ENOSPC);
  }
}

/** /dev/random and /dev/urandom: the Sentry's CSPRNG; writes are accepted and ignored. */
export class RandomFile extends CharDeviceFile {
  override read(dst: Uint8Array): Result<number> {
    // getRandomValues fills at most 64 KiB per call.
    for (let off = 0; off < dst.length; off += 65536) {
      crypto.getRandomValues(dst.subarray(off, Math.min(dst.length, off + 65536)));
    }
    return dst.length;
  }
  override write(src: Uint8Array): Result<number> {
    return src.length;
  }
}
