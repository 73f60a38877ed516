import { describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { err, isErr, type Result } from '../../sentry/abi/result.js';
import { Credentials } from '../../sentry/kernel/credentials.js';
import { OverlayFs } from '../../sentry/fs/overlay/overlay.js';
import { TmpFs, type TmpFile } from '../../sentry/fs/tmpfs/tmpfs.js';
import { O } from '../../sentry/vfs/constants.js';
import { DirectoryFile } from '../../sentry/vfs/directory.js';
import { FsContext } from '../../sentry/vfs/fs_context.js';
import type { Filesystem, Inode } from '../../sentry/vfs/inode.js';
import type { Statfs } from '../../sentry/vfs/stat.js';
import { Vfs, type PathCtx } from '../../sentry/vfs/vfs.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const root = new Credentials();

function ok<T>(r: Result<T>): T {
  if (isErr(r)) throw new Error(`errno ${r.errno}`);
  return r;
}

/** A read-only lower layer: a tmpfs filled here, then frozen. */
class FrozenFs implements Filesystem {
  readonly name = 'frozen';
  readonly readOnly = true;
  constructor(private readonly inner: TmpFs) {}
  root(): Inode {
    return this.inner.root();
  }
  statfs(): Result<Statfs> {
    return this.inner.statfs();
  }
}

function lower(): { fs: FrozenFs; tmp: TmpFs } {
  const tmp = new TmpFs();
  const r = tmp.rootDir;
  const mk = (dir: typeof r, name: string, text: string): void => {
    const f = ok(dir.create(name, 0o644, root)) as TmpFile;
    f.data.write(enc.encode(text), 0);
  };
  mk(r, 'keep', 'original');
  mk(r, 'gone', 'delete me');
  const d = ok(r.mkdirNode('dir', 0o755, root));
  mk(d, 'a', 'A');
  const sub = ok(d.mkdirNode('sub', 0o755, root));
  mk(sub, 'b', 'B');
  return { fs: new FrozenFs(tmp), tmp };
}

function setup(): { vfs: Vfs; ctx: PathCtx; tmp: TmpFs } {
  const { fs, tmp } = lower();
  const vfs = new Vfs(new OverlayFs(fs));
  const rl = vfs.rootLocation();
  return { vfs, ctx: { fs: new FsContext(rl, rl), creds: new Credentials() }, tmp };
}

async function read(vfs: Vfs, ctx: PathCtx, p: string): Promise<string | number> {
  const f = await vfs.open(ctx, ctx.fs.cwd, p, O.RDONLY, 0);
  if (isErr(f)) return -f.errno;
  const buf = new Uint8Array(100);
  const n = ok(await f.pread(buf, 0, {}));
  f.decRef();
  return dec.decode(buf.subarray(0, n));
}

async function list(vfs: Vfs, ctx: PathCtx, p: string): Promise<string[]> {
  const f = ok(await vfs.open(ctx, ctx.fs.cwd, p, O.RDONLY | O.DIRECTORY, 0)) as DirectoryFile;
  const buf = new Uint8Array(4096);
  const n = ok(await f.getdents(buf));
  const names: string[] = [];
  for (let off = 0; off < n;) {
    const len = new DataView(buf.buffer, off + 16, 2).getUint16(0, true);
    const end = buf.indexOf(0, off + 19);
    const name = dec.decode(buf.subarray(off + 19, end));
    if (name !== '.' && name !== '..') names.push(name);
    off += len;
  }
  f.decRef();
  return names.sort();
}

function lowerText(tmp: TmpFs, ...path: string[]): string {
  let n: Inode = tmp.rootDir;
  for (const c of path) n = ok(n.lookup!(c) as Result<Inode>);
  const f = n as TmpFile;
  const buf = new Uint8Array(f.data.size);
  f.data.read(buf, 0);
  return dec.decode(buf);
}

describe('overlay', () => {
  it('keeps hard links of lower files together through copy-up', async () => {
    const { vfs, ctx, tmp } = setup();
    const keep = ok(tmp.rootDir.lookup('keep') as Result<Inode>);
    ok((ok(tmp.rootDir.lookup('dir') as Result<Inode>) as typeof tmp.rootDir).link('twin', keep));
    const f = ok(await vfs.open(ctx, ctx.fs.cwd, '/keep', O.WRONLY | O.APPEND, 0));
    expect(await f.write(enc.encode('+both'), {})).toBe(5);
    f.decRef();
    expect(await read(vfs, ctx, '/dir/twin')).toBe('original+both');
    const a = ok(await vfs.stat(ctx, ctx.fs.cwd, '/keep', true));
    const b = ok(await vfs.stat(ctx, ctx.fs.cwd, '/dir/twin', true));
    expect(b.ino).toBe(a.ino);
    expect(b.nlink).toBe(2);
    // Still one file: a write through the other name shows through the first.
    const g = ok(await vfs.open(ctx, ctx.fs.cwd, '/dir/twin', O.WRONLY | O.TRUNC, 0));
    expect(await g.write(enc.encode('again'), {})).toBe(5);
    g.decRef();
    expect(await read(vfs, ctx, '/keep')).toBe('again');
    ok(await vfs.unlink(ctx, ctx.fs.cwd, '/keep'));
    expect(ok(await vfs.stat(ctx, ctx.fs.cwd, '/dir/twin', true)).nlink).toBe(1);
    expect(await read(vfs, ctx, '/dir/twin')).toBe('again');
    expect(lowerText(tmp, 'keep')).toBe('original');
  });

  it('copies a lower file up on write, leaving the lower untouched', async () => {
    const { vfs, ctx, tmp } = setup();
    const f = ok(await vfs.open(ctx, ctx.fs.cwd, '/keep', O.WRONLY | O.APPEND, 0));
    expect(await f.write(enc.encode('+more'), {})).toBe(5);
    f.decRef();
    expect(await read(vfs, ctx, '/keep')).toBe('original+more');
    expect(lowerText(tmp, 'keep')).toBe('original');
  });

  it('keeps the inode number across copy-up', async () => {
    const { vfs, ctx } = setup();
    const before = ok(await vfs.stat(ctx, ctx.fs.cwd, '/dir/a', true));
    ok(await vfs.setattr(ctx, ok(await vfs.walk(ctx, ctx.fs.cwd, '/dir/a', true)), { mode: 0o600 }));
    const after = ok(await vfs.stat(ctx, ctx.fs.cwd, '/dir/a', true));
    expect(after.ino).toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o600);
  });

  it('hides deleted lower files with whiteouts and lets the name be reused', async () => {
    const { vfs, ctx, tmp } = setup();
    ok(await vfs.unlink(ctx, ctx.fs.cwd, '/gone'));
    expect(await read(vfs, ctx, '/gone')).toBe(-E.ENOENT);
    expect(await list(vfs, ctx, '/')).toEqual(['dir', 'keep']);
    const f = ok(await vfs.open(ctx, ctx.fs.cwd, '/gone', O.WRONLY | O.CREAT, 0o644));
    await f.write(enc.encode('new'), {});
    f.decRef();
    expect(await read(vfs, ctx, '/gone')).toBe('new');
    expect(lowerText(tmp, 'gone')).toBe('delete me');
  });

  it('a directory made where a lower one was removed is opaque', async () => {
    const { vfs, ctx } = setup();
    expect(await vfs.rmdir(ctx, ctx.fs.cwd, '/dir')).toEqual(err(E.ENOTEMPTY));
    ok(await vfs.unlink(ctx, ctx.fs.cwd, '/dir/a'));
    ok(await vfs.unlink(ctx, ctx.fs.cwd, '/dir/sub/b'));
    ok(await vfs.rmdir(ctx, ctx.fs.cwd, '/dir/sub'));
    ok(await vfs.rmdir(ctx, ctx.fs.cwd, '/dir'));
    ok(await vfs.mkdir(ctx, ctx.fs.cwd, '/dir', 0o755));
    expect(await list(vfs, ctx, '/dir')).toEqual([]);
  });

  it('renames a lower directory with its whole tree', async () => {
    const { vfs, ctx } = setup();
    ok(await vfs.rename(ctx, ctx.fs.cwd, '/dir', ctx.fs.cwd, '/moved', 0));
    expect(await list(vfs, ctx, '/')).toEqual(['gone', 'keep', 'moved']);
    expect(await read(vfs, ctx, '/moved/sub/b')).toBe('B');
    expect(await read(vfs, ctx, '/dir/a')).toBe(-E.ENOENT);
    // Making the old name again gives an empty directory, not the lower one.
    ok(await vfs.mkdir(ctx, ctx.fs.cwd, '/dir', 0o755));
    expect(await list(vfs, ctx, '/dir')).toEqual([]);
  });

  it('merges upper and lower entries in readdir', async () => {
    const { vfs, ctx } = setup();
    (ok(await vfs.open(ctx, ctx.fs.cwd, '/dir/new', O.WRONLY | O.CREAT, 0o644))).decRef();
    expect(await list(vfs, ctx, '/dir')).toEqual(['a', 'new', 'sub']);
  });

  it('truncating open skips copying the data', async () => {
    const { vfs, ctx } = setup();
    const f = ok(await vfs.open(ctx, ctx.fs.cwd, '/keep', O.WRONLY | O.TRUNC, 0));
    f.decRef();
    expect(await read(vfs, ctx, '/keep')).toBe('');
  });
});
