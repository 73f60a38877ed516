// Backing for execve and mmap of 9P files: a donated host fd (page faults pread it), or,
// when the server donates nothing, a private copy of the file read once over 9P.

import * as fs from 'node:fs';
import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import type { Mappable } from '../../mm/mappable.js';

/** Reads until dst is full or EOF; returns the bytes read. Throws what fs.readSync throws. */
export function preadFull(fd: number, dst: Uint8Array, offset: number): number {
  let done = 0;
  while (done < dst.length) {
    const n = fs.readSync(fd, dst, done, dst.length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

export interface SizedMappable extends Mappable {
  size(): Result<number>;
}

/** A donated read-only fd, closed once no mapping or exec source holds this object. */
export class FdMappable implements SizedMappable {
  private static readonly closer = new FinalizationRegistry<number>((fd) => {
    try {
      fs.closeSync(fd);
    } catch {
      // Already closed.
    }
  });

  constructor(readonly id: string, readonly fd: number) {
    FdMappable.closer.register(this, fd);
  }

  size(): Result<number> {
    try {
      return Number(fs.fstatSync(this.fd, { bigint: true }).size);
    } catch {
      return err(E.EIO);
    }
  }

  readSync(offset: number, dst: Uint8Array): number {
    try {
      return preadFull(this.fd, dst, offset);
    } catch {
      // A page fault cannot fail softly here; what was not read stays as the caller left it.
      return 0;
    }
  }
}

/** The file's bytes as they were when copied. */
export class BufferMappable implements SizedMappable {
  constructor(readonly id: string, private readonly data: Uint8Array) {}

  size(): Result<number> {
    return this.data.length;
  }

  /** Mappable: the copy's size (the file as it was when copied). */
  fileSize(): Result<number> {
    return this.data.length;
  }

  readSync(offset: number, dst: Uint8Array): number {
    if (offset < 0 || offset >= this.data.length) return 0;
    const n = Math.min(dst.length, this.data.length - offset);
    dst.set(this.data.subarray(offset, offset + n));
    return n;
  }
}
