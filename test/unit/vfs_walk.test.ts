import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { err, isErr } from '../../sentry/abi/result.js';
import { Credentials } from '../../sentry/kernel/credentials.js';
import { FsContext } from '../../sentry/vfs/fs_context.js';
import type { Location } from '../../sentry/vfs/mount.js';
import { Vfs, type PathCtx } from '../../sentry/vfs/vfs.js';
import { bootVfs, makeTempRoot } from './vfs_fake_task.js';

let dir: string;
let vfs: Vfs;
let ctx: PathCtx;

beforeAll(async () => {
  dir = makeTempRoot();
  vfs = await bootVfs(dir);
  const root = vfs.rootLocation();
  ctx = { fs: new FsContext(root, root), creds: new Credentials() };
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function pathOf(p: string, follow = true, start?: Location): Promise<string | number> {
  const loc = await vfs.walk(ctx, start ?? ctx.fs.cwd, p, follow);
  if (isErr(loc)) return -loc.errno;
  return vfs.pathOf(loc, ctx.fs.root).path;
}

describe('path walk', () => {
  it('resolves plain paths, "." and ".."', async () => {
    expect(await pathOf('/dir/sub/b.txt')).toBe('/dir/sub/b.txt');
    expect(await pathOf('dir/./sub/../a.txt')).toBe('/dir/a.txt');
    expect(await pathOf('/')).toBe('/');
    expect(await pathOf('//dir//sub/')).toBe('/dir/sub');
  });

  it('never climbs above the root with ".."', async () => {
    expect(await pathOf('/../../..')).toBe('/');
    expect(await pathOf('../../etc/passwd')).toBe('/etc/passwd');
  });

  it('resolves relative and absolute symlinks inside the sandbox root', async () => {
    expect(await pathOf('/rel_link')).toBe('/dir/a.txt');
    // The link says /etc/passwd: that is <root>/etc/passwd, not the host's.
    expect(await pathOf('/abs_link')).toBe('/etc/passwd');
    const st = await vfs.stat(ctx, ctx.fs.cwd, '/abs_link', true);
    expect(isErr(st)).toBe(false);
    if (!isErr(st)) expect(Number(st.size)).toBe(fs.statSync(`${dir}/etc/passwd`).size);
    // ".." chains in a link stop at the sandbox root.
    expect(await pathOf('/dir/escape')).toBe('/etc/hostname');
  });

  it('follows symlink chains and directory symlinks in the middle of a path', async () => {
    expect(await pathOf('/chain1')).toBe('/etc/passwd');
    expect(await pathOf('/dirlink/sub/b.txt')).toBe('/dir/sub/b.txt');
    // ".." after a followed directory link goes to the target's parent, as in Linux.
    expect(await pathOf('/dirlink/sub/../..')).toBe('/');
  });

  it('does not follow a final symlink when asked not to, unless there is a trailing slash', async () => {
    expect(await pathOf('/rel_link', false)).toBe('/rel_link');
    expect(await pathOf('/dirlink/', false)).toBe('/dir');
    expect(await pathOf('/slashlink', true)).toBe('/dir');
  });

  it('gives ELOOP on symlink loops and after 40 links', async () => {
    expect(await pathOf('/loop1')).toBe(-E.ELOOP);
    expect(await pathOf('/loop1', false)).toBe('/loop1');
    // 41 hops: a fresh chain in the temp root.
    fs.mkdirSync(`${dir}/many`);
    for (let i = 0; i < 41; i++) fs.symlinkSync(`l${i + 1}`, `${dir}/many/l${i}`);
    fs.writeFileSync(`${dir}/many/l41`, 'end');
    expect(await pathOf('/many/l0')).toBe(-E.ELOOP);
    expect(await pathOf('/many/l1')).toBe('/many/l41');
  });

  it('ENOENT, ENOTDIR and trailing-slash rules', async () => {
    expect(await pathOf('/nope')).toBe(-E.ENOENT);
    expect(await pathOf('')).toBe(-E.ENOENT);
    expect(await pathOf('/dangling')).toBe(-E.ENOENT);
    expect(await pathOf('/dir/a.txt/x')).toBe(-E.ENOTDIR);
    expect(await pathOf('/dir/a.txt/')).toBe(-E.ENOTDIR);
    expect(await pathOf('/dir/a.txt/.')).toBe(-E.ENOTDIR);
    expect(await pathOf('/rel_link/')).toBe(-E.ENOTDIR);
  });

  it('ENAMETOOLONG for a component over 255 bytes or a path of PATH_MAX', async () => {
    expect(await pathOf('/' + 'a'.repeat(256))).toBe(-E.ENAMETOOLONG);
    expect(await pathOf('/' + 'a'.repeat(255))).toBe(-E.ENOENT);
    expect(await pathOf('/' + 'd/'.repeat(2048))).toBe(-E.ENAMETOOLONG);
    // Multi-byte names count bytes: 128 two-byte chars = 256 bytes.
    expect(await pathOf('/' + 'é'.repeat(128))).toBe(-E.ENAMETOOLONG);
  });

  it('crosses mounts both ways', async () => {
    expect(await pathOf('/dev/null')).toBe('/dev/null');
    expect(await pathOf('/dev/../etc')).toBe('/etc');
    expect(await pathOf('/proc/self')).toBe(-E.ENOENT);
    const st = await vfs.stat(ctx, ctx.fs.cwd, '/dev/null', true);
    expect(isErr(st) ? st : (st.mode & 0o170000)).toBe(0o020000);
    // /dev/stdin points into /proc, which is empty until procfs exists.
    expect(await pathOf('/dev/stdin')).toBe(-E.ENOENT);
  });

  it('resolves absolute symlinks against a chroot-style task root', async () => {
    const sub = await vfs.walk(ctx, ctx.fs.root, '/dir', true);
    if (isErr(sub)) throw new Error('walk /dir');
    const jailed: PathCtx = { fs: new FsContext(sub, sub), creds: ctx.creds };
    fs.symlinkSync('/sub/b.txt', `${dir}/dir/jail_link`);
    const loc = await vfs.walk(jailed, sub, '/jail_link', true);
    expect(isErr(loc) ? loc : vfs.pathOf(loc, sub).path).toBe('/sub/b.txt');
    const up = await vfs.walk(jailed, sub, '../../..', true);
    expect(isErr(up) ? up : vfs.pathOf(up, sub).path).toBe('/');
  });

  it('checks search permission for unprivileged credentials', async () => {
    fs.mkdirSync(`${dir}/locked`, { mode: 0o700 });
    fs.writeFileSync(`${dir}/locked/f`, 'x');
    const nobody: PathCtx = { fs: ctx.fs, creds: new Credentials(65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, [], 0n, 0n) };
    const owner = fs.statSync(`${dir}/locked`).uid;
    const r = await vfs.walk(nobody, ctx.fs.root, '/locked/f', true);
    expect(r).toBe(owner === 65534 ? r : err(E.EACCES));
  });
});
