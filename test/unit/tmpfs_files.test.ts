import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { err, isErr, type Result } from '../../sentry/abi/result.js';
import { Credentials } from '../../sentry/kernel/credentials.js';
import { TmpFs } from '../../sentry/fs/tmpfs/tmpfs.js';
import { O, SEEK } from '../../sentry/vfs/constants.js';
import type { FileDescription } from '../../sentry/vfs/file.js';
import { FsContext } from '../../sentry/vfs/fs_context.js';
import { Vfs, type PathCtx } from '../../sentry/vfs/vfs.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function setup(size?: number): { vfs: Vfs; ctx: PathCtx; fs: TmpFs } {
  const fs = new TmpFs({ sizeBytes: size });
  const vfs = new Vfs(fs);
  const root = vfs.rootLocation();
  return { vfs, ctx: { fs: new FsContext(root, root), creds: new Credentials() }, fs };
}

function ok<T>(r: Result<T>): T {
  if (isErr(r)) throw new Error(`errno ${r.errno}`);
  return r;
}

async function open(vfs: Vfs, ctx: PathCtx, p: string, flags: number): Promise<FileDescription> {
  return ok(await vfs.open(ctx, ctx.fs.cwd, p, flags, 0o644));
}

describe('tmpfs', () => {
  it('creates, writes, reads back and stats files', async () => {
    const { vfs, ctx } = setup();
    const f = await open(vfs, ctx, '/a', O.RDWR | O.CREAT);
    expect(await f.write(enc.encode('hello'), {})).toBe(5);
    const buf = new Uint8Array(10);
    expect(await f.pread(buf, 0, {})).toBe(5);
    expect(dec.decode(buf.subarray(0, 5))).toBe('hello');
    const st = ok(await vfs.stat(ctx, ctx.fs.cwd, '/a', true));
    expect(st.size).toBe(5n);
    expect(st.mode & 0o777).toBe(0o644);
    f.decRef();
  });

  it('keeps holes sparse and finds them with SEEK_DATA/SEEK_HOLE', async () => {
    const { vfs, ctx, fs } = setup();
    const f = await open(vfs, ctx, '/s', O.RDWR | O.CREAT);
    await f.pwrite(enc.encode('x'), 0, {});
    await f.pwrite(enc.encode('y'), 1 << 20, {});
    expect(fs.usedPages).toBe(2);
    expect(await f.seek(0, SEEK.HOLE)).toBe(4096);
    expect(await f.seek(4096, SEEK.DATA)).toBe(1 << 20);
    expect(await f.seek((1 << 20) + 1, SEEK.DATA)).toEqual(err(E.ENXIO));
    f.decRef();
  });

  it('stops at the size limit: a short write, then ENOSPC, earlier data intact', async () => {
    const { vfs, ctx, fs } = setup(3 * 4096);
    const keep = await open(vfs, ctx, '/keep', O.RDWR | O.CREAT);
    await keep.write(enc.encode('precious'), {});
    const big = await open(vfs, ctx, '/big', O.RDWR | O.CREAT);
    expect(await big.write(new Uint8Array(5 * 4096), {})).toBe(2 * 4096);
    expect(await big.write(new Uint8Array(10), {})).toEqual(err(E.ENOSPC));
    const buf = new Uint8Array(8);
    expect(await keep.pread(buf, 0, {})).toBe(8);
    expect(dec.decode(buf)).toBe('precious');
    // Freeing space makes room again.
    ok(await vfs.truncate(ctx, ctx.fs.cwd, '/big', 0));
    expect(fs.usedPages).toBe(1);
    expect(await big.pwrite(new Uint8Array(4096), 0, {})).toBe(4096);
    keep.decRef();
    big.decRef();
  });

  it('frees an unlinked file only after its last close', async () => {
    const { vfs, ctx, fs } = setup();
    const f = await open(vfs, ctx, '/u', O.RDWR | O.CREAT);
    await f.write(new Uint8Array(8192), {});
    ok(await vfs.unlink(ctx, ctx.fs.cwd, '/u'));
    expect(fs.usedPages).toBe(2);
    expect(await f.pread(new Uint8Array(4), 0, {})).toBe(4);
    f.decRef();
    expect(fs.usedPages).toBe(0);
  });

  it('renames, links and removes with Linux errnos', async () => {
    const { vfs, ctx } = setup();
    const c = ctx.fs.cwd;
    ok(await vfs.mkdir(ctx, c, '/d', 0o755));
    ok(await vfs.mkdir(ctx, c, '/d/e', 0o755));
    (await open(vfs, ctx, '/d/f', O.WRONLY | O.CREAT)).decRef();
    expect(await vfs.rmdir(ctx, c, '/d')).toEqual(err(E.ENOTEMPTY));
    expect(await vfs.rename(ctx, c, '/d', c, '/d/e/x', 0)).toEqual(err(E.EINVAL));
    expect(await vfs.rename(ctx, c, '/d/f', c, '/d/e', 0)).toEqual(err(E.EISDIR));
    ok(await vfs.link(ctx, c, '/d/f', true, c, '/g'));
    expect(ok(await vfs.stat(ctx, c, '/g', true)).nlink).toBe(2);
    ok(await vfs.rename(ctx, c, '/g', c, '/d/e', 2 /* RENAME_EXCHANGE */));
    expect(ok(await vfs.stat(ctx, c, '/g', true)).mode & 0o170000).toBe(0o040000);
    expect(await vfs.unlink(ctx, c, '/g')).toEqual(err(E.EISDIR));
  });

  it('stores extended attributes', () => {
    const fs = new TmpFs();
    const d = fs.rootDir;
    const f = ok(d.create('x', 0o644, new Credentials())) as unknown as import('../../sentry/fs/tmpfs/tmpfs.js').TmpFile;
    expect(f.setxattr('user.a', enc.encode('1'), 0)).toBeUndefined();
    expect(f.setxattr('user.a', enc.encode('2'), 1 /* CREATE */)).toEqual(err(E.EEXIST));
    expect(dec.decode(ok(f.getxattr('user.a')))).toBe('1');
    expect(f.listxattr()).toEqual(['user.a']);
    expect(f.removexattr('user.b')).toEqual(err(E.ENODATA));
  });
});
