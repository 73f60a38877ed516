// tmpfs's copy-free read and write paths (readDirect/writeDirect, used by read(2)/write(2)):
// bytes land where they should across pages (pages written together go in one piece), a
// failing source or destination stops the copy at the page that failed (leaving no stray
// bytes past EOF), the size limit still holds, and pages are freed like any others.

import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { err, isErr, type Result } from '../../sentry/abi/result.js';
import { Credentials } from '../../sentry/kernel/credentials.js';
import { TmpFs, type TmpFile } from '../../sentry/fs/tmpfs/tmpfs.js';
import { O } from '../../sentry/vfs/constants.js';
import type { FileDescription } from '../../sentry/vfs/file.js';
import type { Location } from '../../sentry/vfs/mount.js';

const PAGE = 4096;

function ok<T>(r: Result<T> | null): T {
  if (r === null) throw new Error('no fast path');
  if (isErr(r)) throw new Error(`failed: errno ${r.errno}`);
  return r;
}

function file(sizeBytes?: number): { fs: TmpFs; f: FileDescription; inode: TmpFile } {
  const fs = new TmpFs({ sizeBytes });
  const inode = ok(fs.rootDir.create('f', 0o644, new Credentials())) as TmpFile;
  const f = ok(inode.open({} as Location, O.RDWR));
  return { fs, f, inode };
}

const src = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) * 13 & 0xff);

/** A source that fails with EFAULT from byte `failAt` of the request on. */
const getFrom = (data: Uint8Array, failAt = Infinity) => (at: number, dst: Uint8Array): Result<void> => {
  if (at + dst.length > failAt) {
    dst.set(data.subarray(at, failAt));
    return err(E.EFAULT);
  }
  dst.set(data.subarray(at, at + dst.length));
  return undefined;
};

describe('tmpfs direct I/O', () => {
  it('writes and reads across pages at any offset, holes as zeros', () => {
    const { f } = file();
    const data = src(3 * PAGE + 123);
    expect(ok(f.writeDirect!(data.length, 1000, getFrom(data)))).toBe(data.length);
    const out = new Uint8Array(data.length + 1000);
    const pieces: number[] = [];
    expect(ok(f.readDirect!(out.length + 50, 0, (at, b) => { pieces.push(b.length); out.set(b, at); return undefined; }))).toBe(out.length);
    expect(out.subarray(0, 1000).every((b) => b === 0)).toBe(true);
    expect(Buffer.from(out.subarray(1000)).equals(Buffer.from(data))).toBe(true);
    // Pages written together go out together: the written part in one piece after the hole.
    expect(pieces.length).toBeLessThanOrEqual(3);
  });

  it('uses and advances the file offset when asked to (offset < 0), appends with O_APPEND', () => {
    const { f, inode } = file();
    expect(ok(f.writeDirect!(10, -1, getFrom(src(10))))).toBe(10);
    expect(ok(f.writeDirect!(10, -1, getFrom(src(10, 10))))).toBe(10);
    expect(f.offset).toBe(20);
    f.offset = 0;
    const got: number[] = [];
    expect(ok(f.readDirect!(15, -1, (_at, b) => { got.push(...b); return undefined; }))).toBe(15);
    expect(f.offset).toBe(15);
    expect(got).toEqual([...src(15)]);
    const a = ok(inode.open({} as Location, O.WRONLY | O.APPEND));
    expect(ok(a.writeDirect!(5, 0, getFrom(src(5))))).toBe(5);
    expect(inode.data.size).toBe(25);
  });

  it('stops at a failing source with the count so far, and nothing past the new end', () => {
    const { f, inode } = file();
    const data = src(2 * PAGE);
    // Fails halfway through the second page: that page's first half was copied, then dropped.
    expect(ok(f.writeDirect!(data.length, 0, getFrom(data, PAGE + 100)))).toBe(PAGE);
    expect(inode.data.size).toBe(PAGE);
    expect(ok(inode.data.truncate(2 * PAGE) ?? 0)).toBe(0);
    const out = new Uint8Array(2 * PAGE);
    inode.data.read(out, 0);
    expect(out.subarray(PAGE).every((b) => b === 0)).toBe(true);
    // Nothing at all copied: the source's error.
    const r = f.writeDirect!(10, 3 * PAGE, getFrom(data, 0));
    expect(r !== null && isErr(r) && r.errno).toBe(E.EFAULT);
    expect(inode.data.size).toBe(2 * PAGE);
  });

  it('stops at a failing destination with the count so far', () => {
    const { f } = file();
    ok(f.writeDirect!(3 * PAGE, 0, getFrom(src(3 * PAGE))));
    // Like copying into app memory whose third page is unmapped.
    const n = f.readDirect!(3 * PAGE, 0, (at, b) => (at + b.length > 2 * PAGE ? err(E.EFAULT) : undefined));
    expect(n).toBe(2 * PAGE);
    const r = f.readDirect!(10, 0, () => err(E.EFAULT));
    expect(r !== null && isErr(r) && r.errno).toBe(E.EFAULT);
  });

  it('keeps to the size limit: a short count, then ENOSPC; pages freed on truncate and unlink', () => {
    const { fs, f, inode } = file(8 * PAGE);
    const data = src(10 * PAGE);
    expect(ok(f.writeDirect!(data.length, 0, getFrom(data)))).toBe(8 * PAGE);
    expect(fs.usedPages).toBe(8);
    const r = f.writeDirect!(10, 8 * PAGE, getFrom(data));
    expect(r !== null && isErr(r) && r.errno).toBe(E.ENOSPC);
    ok(inode.data.truncate(3 * PAGE) ?? 0);
    expect(fs.usedPages).toBe(3);
    expect(ok(f.writeDirect!(2 * PAGE, 5 * PAGE, getFrom(data)))).toBe(2 * PAGE);
    expect(fs.usedPages).toBe(5);
    f.decRef();
    ok(fs.rootDir.unlink('f') ?? 0);
    expect(fs.usedPages).toBe(0);
  });
});
