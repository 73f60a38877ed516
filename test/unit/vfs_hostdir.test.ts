import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr, type Result } from '../../sentry/abi/result.js';
import { HostDirFs } from '../../sentry/fs/hostdir/hostdir.js';
import { Credentials } from '../../sentry/kernel/credentials.js';
import { O } from '../../sentry/vfs/constants.js';
import type { FileDescription } from '../../sentry/vfs/file.js';
import { FsContext } from '../../sentry/vfs/fs_context.js';
import { Vfs, type PathCtx } from '../../sentry/vfs/vfs.js';
import { bootVfs, makeTempRoot } from './vfs_fake_task.js';

let dir: string;
let vfs: Vfs;
let ctx: PathCtx;

beforeAll(async () => {
  dir = makeTempRoot();
  execFileSync('mkfifo', [`${dir}/fifo`]);
  vfs = await bootVfs(dir);
  const root = vfs.rootLocation();
  ctx = { fs: new FsContext(root, root), creds: new Credentials() };
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function ok<T>(r: Result<T>): T {
  if (isErr(r)) throw new Error(`errno ${r.errno}`);
  return r;
}

const open = (p: string, flags: number = O.RDONLY, mode = 0): Promise<Result<FileDescription>> =>
  vfs.open(ctx, ctx.fs.cwd, p, flags, mode);

function parseDirents(buf: Uint8Array, n: number): { name: string; type: number; ino: bigint }[] {
  const out = [];
  const v = new DataView(buf.buffer, buf.byteOffset);
  for (let off = 0; off < n;) {
    const reclen = v.getUint16(off + 16, true);
    const nameBytes = buf.subarray(off + 19, off + reclen);
    const name = Buffer.from(nameBytes.subarray(0, nameBytes.indexOf(0))).toString();
    out.push({ name, type: v.getUint8(off + 18), ino: v.getBigUint64(off, true) });
    off += reclen;
  }
  return out;
}

describe('hostdir', () => {
  it('reads a regular file, with offsets, pread and lseek', async () => {
    const f = ok(await open('/dir/a.txt'));
    const buf = new Uint8Array(5);
    expect(f.read(buf, {})).toBe(5);
    expect(Buffer.from(buf).toString()).toBe('hello');
    expect(f.read(buf, {})).toBe(5);
    expect(Buffer.from(buf).toString()).toBe(' worl');
    expect(f.pread(buf, 0, {})).toBe(5);
    expect(f.offset).toBe(10);
    expect(await f.seek(-3, 2)).toBe(9);
    expect(f.read(new Uint8Array(100), {})).toBe(3);
    expect(f.read(new Uint8Array(100), {})).toBe(0);
    expect(await f.seek(-100, 1)).toEqual(expect.objectContaining({ errno: E.EINVAL }));
    f.decRef();
  });

  it('stats with the host attributes', async () => {
    const st = ok(await vfs.stat(ctx, ctx.fs.cwd, '/dir/a.txt', true));
    const host = fs.statSync(`${dir}/dir/a.txt`, { bigint: true });
    expect(st.ino).toBe(host.ino);
    expect(st.size).toBe(12n);
    expect(st.mode).toBe(Number(host.mode));
    expect(st.mtimeNs).toBe(host.mtimeNs);
    const lst = ok(await vfs.stat(ctx, ctx.fs.cwd, '/rel_link', false));
    expect(lst.mode & 0o170000).toBe(0o120000);
    expect(ok(await vfs.readlink(ctx, ctx.fs.cwd, '/abs_link'))).toBe('/etc/passwd');
    expect(await vfs.readlink(ctx, ctx.fs.cwd, '/dir')).toEqual(expect.objectContaining({ errno: E.EINVAL }));
  });

  it('lists a directory with getdents64 records, "." and ".." first, in small buffers too', async () => {
    const d = ok(await open('/dir', O.RDONLY | O.DIRECTORY));
    const buf = new Uint8Array(4096);
    const n = ok(await d.getdents(buf));
    const ents = parseDirents(buf, n);
    expect(ents.map((e) => e.name).sort()).toEqual(['.', '..', 'a.txt', 'escape', 'sub']);
    const byName = new Map(ents.map((e) => [e.name, e]));
    expect(byName.get('sub')?.type).toBe(4);
    expect(byName.get('a.txt')?.type).toBe(8);
    expect(byName.get('escape')?.type).toBe(10);
    expect(byName.get('a.txt')?.ino).toBe(fs.statSync(`${dir}/dir/a.txt`, { bigint: true }).ino);
    expect(await d.getdents(buf)).toBe(0);
    // Rewind and read one record at a time.
    expect(await d.seek(0, 0)).toBe(0);
    const small = new Uint8Array(32);
    const names: string[] = [];
    for (;;) {
      const k = ok(await d.getdents(small));
      if (k === 0) break;
      names.push(...parseDirents(small, k).map((e) => e.name));
    }
    expect(names.sort()).toEqual(['.', '..', 'a.txt', 'escape', 'sub']);
    // At the end there is nothing to return, whatever the size; before it, too small is EINVAL.
    expect(await d.getdents(new Uint8Array(8))).toBe(0);
    await d.seek(0, 0);
    expect(await d.getdents(new Uint8Array(8))).toEqual(expect.objectContaining({ errno: E.EINVAL }));
    expect(d.read(new Uint8Array(1), {})).toEqual(expect.objectContaining({ errno: E.EISDIR }));
    d.decRef();
  });

  it('refuses every write with EROFS, after the checks Linux makes first', async () => {
    expect(await open('/dir/a.txt', O.WRONLY)).toEqual(expect.objectContaining({ errno: E.EROFS }));
    expect(await open('/dir/a.txt', O.RDONLY | O.TRUNC)).toEqual(expect.objectContaining({ errno: E.EROFS }));
    expect(await open('/dir/new', O.WRONLY | O.CREAT, 0o644)).toEqual(expect.objectContaining({ errno: E.EROFS }));
    expect(await open('/dir/a.txt', O.WRONLY | O.CREAT | O.EXCL, 0o644)).toEqual(expect.objectContaining({ errno: E.EEXIST }));
    expect(await open('/nodir/new', O.WRONLY | O.CREAT, 0o644)).toEqual(expect.objectContaining({ errno: E.ENOENT }));
    expect(await open('/dir', O.RDWR)).toEqual(expect.objectContaining({ errno: E.EISDIR }));
    const cwd = ctx.fs.cwd;
    expect(await vfs.mkdir(ctx, cwd, '/dir/x', 0o755)).toEqual(expect.objectContaining({ errno: E.EROFS }));
    expect(await vfs.mkdir(ctx, cwd, '/dir', 0o755)).toEqual(expect.objectContaining({ errno: E.EEXIST }));
    expect(await vfs.mkdir(ctx, cwd, '/nodir/x', 0o755)).toEqual(expect.objectContaining({ errno: E.ENOENT }));
    expect(await vfs.unlink(ctx, cwd, '/dir/a.txt')).toEqual(expect.objectContaining({ errno: E.EROFS }));
    expect(await vfs.rmdir(ctx, cwd, '/dir/sub')).toEqual(expect.objectContaining({ errno: E.EROFS }));
    expect(await vfs.rename(ctx, cwd, '/dir/a.txt', cwd, '/dir/b.txt', 0)).toEqual(expect.objectContaining({ errno: E.EROFS }));
    expect(await vfs.symlink(ctx, 'x', cwd, '/dir/l')).toEqual(expect.objectContaining({ errno: E.EROFS }));
    expect(await vfs.truncate(ctx, cwd, '/dir/a.txt', 0)).toEqual(expect.objectContaining({ errno: E.EROFS }));
    expect(await vfs.access(ctx, cwd, '/dir/a.txt', 2, true, true)).toEqual(expect.objectContaining({ errno: E.EROFS }));
    expect(await vfs.access(ctx, cwd, '/dir/a.txt', 4, true, true)).toBe(undefined);
    // Nothing changed on the host.
    expect(fs.readFileSync(`${dir}/dir/a.txt`, 'utf8')).toBe('hello world\n');
    expect(fs.existsSync(`${dir}/dir/new`)).toBe(false);
  });

  it('never opens host fifos or device nodes', async () => {
    expect(await open('/fifo')).toEqual(expect.objectContaining({ errno: E.EACCES }));
    // A hostdir on the host's "/" without our devfs: /dev/null is the host's device.
    const hostRoot = ok(HostDirFs.create('/'));
    const bare = new Vfs(hostRoot, { readOnly: true });
    const r = bare.rootLocation();
    const bctx: PathCtx = { fs: new FsContext(r, r), creds: new Credentials() };
    expect(await bare.open(bctx, r, '/dev/null', O.RDONLY, 0)).toEqual(expect.objectContaining({ errno: E.EACCES }));
  });

  it('serves devfs devices instead', async () => {
    const z = ok(await open('/dev/zero', O.RDWR));
    const b = new Uint8Array(4).fill(7);
    expect(await z.read(b, {})).toBe(4);
    expect([...b]).toEqual([0, 0, 0, 0]);
    z.decRef();
    const n = ok(await open('/dev/null', O.WRONLY));
    expect(await n.write(new Uint8Array(10), {})).toBe(10);
    n.decRef();
    const full = ok(await open('/dev/full', O.WRONLY));
    expect(await full.write(new Uint8Array(1), {})).toEqual(expect.objectContaining({ errno: E.ENOSPC }));
    full.decRef();
    const u = ok(await open('/dev/urandom'));
    const r1 = new Uint8Array(32);
    expect(await u.read(r1, {})).toBe(32);
    expect(r1.some((x) => x !== 0)).toBe(true);
    u.decRef();
    expect(await open('/dev/tty', O.RDWR)).toEqual(expect.objectContaining({ errno: E.ENXIO }));
    expect(await open('/dev/newfile', O.WRONLY | O.CREAT, 0o644)).toEqual(expect.objectContaining({ errno: E.EROFS }));
    // /proc is ours (empty), not the host's.
    const p = ok(await open('/proc', O.RDONLY | O.DIRECTORY));
    const buf = new Uint8Array(1024);
    expect(parseDirents(buf, ok(await p.getdents(buf))).map((e) => e.name)).toEqual(['.', '..']);
  });

  it('opens executables with synchronous reads and a shared Mappable', async () => {
    const ex = ok(await vfs.openExecutable(ctx, '/bin/prog'));
    expect(ex.executable).toBe(true);
    expect(ex.size).toBe(15);
    expect(Buffer.from(ok(ex.readAt(1, 3))).toString()).toBe('ELF');
    expect(ok(ex.readAt(10, 100)).length).toBe(5);
    const page = new Uint8Array(4096).fill(0xaa);
    expect(ex.mappable.readSync(0, page)).toBe(15);
    expect(page[0]).toBe(0x7f);
    expect(page[15]).toBe(0xaa);
    const again = ok(await vfs.openExecutable(ctx, '/bin/prog'));
    expect(again.mappable.id).toBe(ex.mappable.id);
    expect(ok(await vfs.openExecutable(ctx, '/bin/data')).executable).toBe(false);
    expect(await vfs.openExecutable(ctx, '/bin')).toEqual(expect.objectContaining({ errno: E.EACCES }));
    expect(await vfs.openExecutable(ctx, '/dev/null')).toEqual(expect.objectContaining({ errno: E.EACCES }));
    const f = ok(await open('/bin/prog'));
    expect(ok(await f.mappable()).id).toBe(ex.mappable.id);
    f.decRef();
  });

  it('O_PATH and O_NOFOLLOW', async () => {
    expect(await open('/rel_link', O.RDONLY | O.NOFOLLOW)).toEqual(expect.objectContaining({ errno: E.ELOOP }));
    const p = ok(await open('/rel_link', O.PATH | O.NOFOLLOW));
    expect(p.flags).toBe(O.PATH | O.NOFOLLOW);
    expect(p.read(new Uint8Array(1), {})).toEqual(expect.objectContaining({ errno: E.EBADF }));
    expect((ok(await p.stat()).mode & 0o170000)).toBe(0o120000);
    expect(await open('/dir/a.txt', O.RDONLY | O.DIRECTORY)).toEqual(expect.objectContaining({ errno: E.ENOTDIR }));
  });
});
