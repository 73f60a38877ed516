// The Sentry's 9P filesystem (sentry/fs/gofer) over an in-process Gofer server: lookups
// cached and revalidated, read-ahead for 9P reads that never serves stale data after a
// write, donated fds used without a round trip, and a dead server seen as EIO.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr } from '../../sentry/abi/result.js';
import { O } from '../../sentry/vfs/constants.js';
import type { FileDescription } from '../../sentry/vfs/file.js';
import type { Inode } from '../../sentry/vfs/inode.js';
import { Dentry, Mount } from '../../sentry/vfs/mount.js';
import { GoferFs, type GoferInode } from '../../sentry/fs/gofer/gofer_fs.js';
import { GoferPageCache, writeBacksSettled } from '../../sentry/fs/gofer/page_cache.js';
import { MemoryFile } from '../../sentry/mm/memory_file.js';
import { ok, serve, type Served } from './gofer_harness.js';

const BIG = Buffer.alloc(300_000);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 7 + (i >> 9)) & 0xff;

describe('GoferFs over the Gofer server', () => {
  let dir: string;
  let s: Served;
  let gfs: GoferFs;
  let mount: Mount;

  const make = async (donate: boolean, maxCachedNames?: number): Promise<void> => {
    s = await serve(dir);
    gfs = ok(await GoferFs.create(s.client, s.root, {
      readOnly: false, donations: donate ? s.donations : null, inOrder: donate, dentryTtlMs: 100, attrTtlMs: 100, maxCachedNames,
    }));
    mount = new Mount(gfs, null, null, false);
  };
  const lookup = async (name: string): Promise<Inode> => ok(await gfs.root().lookup!(name));
  const open = async (name: string, flags: number): Promise<FileDescription> => {
    const inode = await lookup(name);
    return ok(await inode.open!({ mount, dentry: new Dentry(name, mount.root, inode) }, flags));
  };
  const readAll = async (f: FileDescription, chunk: number): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for (;;) {
      const b = new Uint8Array(chunk);
      const n = ok(await f.read(b, {}));
      if (n === 0) return Buffer.concat(parts);
      parts.push(Buffer.from(b.subarray(0, n)));
    }
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-fs-'));
    fs.writeFileSync(path.join(dir, 'big.bin'), BIG);
    fs.writeFileSync(path.join(dir, 'small.txt'), 'abcdefghijklmnopqrstuvwxyz');
  });
  afterEach(() => {
    s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads a file in small chunks with few 9P reads (read-ahead)', async () => {
    await make(false);
    const reads = vi.spyOn(s.client, 'read');
    const f = await open('big.bin', O.RDONLY);
    const got = await readAll(f, 4096);
    expect(got.equals(BIG)).toBe(true);
    // 300 000 bytes in 4 KiB reads: 74 read(2)s, but 9P reads of a whole msize (64 KiB here).
    expect(reads.mock.calls.length).toBeLessThanOrEqual(Math.ceil(BIG.length / (64 * 1024)) + 1);
    f.decRef();
  });

  it('never serves read-ahead data older than a write through another file', async () => {
    await make(false);
    const r = await open('small.txt', O.RDONLY);
    const b = new Uint8Array(5);
    expect(ok(await r.pread(b, 0, {}))).toBe(5);
    const w = await open('small.txt', O.WRONLY);
    expect(ok(await w.pwrite(Buffer.from('XYZ'), 10, {}))).toBe(3);
    const c = new Uint8Array(5);
    expect(ok(await r.pread(c, 9, {}))).toBe(5);
    expect(Buffer.from(c).toString()).toBe('jXYZn');
    r.decRef();
    w.decRef();
  });

  it('uses the donated fd: no 9P read at all', async () => {
    await make(true);
    const reads = vi.spyOn(s.client, 'read');
    const f = await open('big.bin', O.RDONLY);
    expect((await readAll(f, 65536)).equals(BIG)).toBe(true);
    expect(reads).not.toHaveBeenCalled();
    f.decRef();
    const src = ok(await (await lookup('big.bin')).openExec!());
    expect(src.size).toBe(BIG.length);
    expect(Buffer.from(ok(src.readAt(1000, 16))).equals(BIG.subarray(1000, 1016))).toBe(true);
  });

  it('caches lookups and revalidates them after their time', async () => {
    await make(true);
    const requests = vi.spyOn(s.client, 'request');
    const a = (await lookup('small.txt')) as GoferInode;
    expect(await lookup('small.txt')).toBe(a);
    // One Twalk and one Tgetattr, pipelined; none for the second lookup.
    expect(requests.mock.calls.map((c) => c[0].kind)).toEqual(['Twalk', 'Tgetattr']);
    // Replaced on the host: after the revalidation period the new file shows.
    fs.writeFileSync(path.join(dir, 'other.txt'), 'new');
    fs.renameSync(path.join(dir, 'other.txt'), path.join(dir, 'small.txt'));
    await new Promise((r) => setTimeout(r, 150));
    const b = (await lookup('small.txt')) as GoferInode;
    expect(b).not.toBe(a);
    expect(ok(await b.stat()).size).toBe(3n);
    fs.unlinkSync(path.join(dir, 'small.txt'));
    await new Promise((r) => setTimeout(r, 150));
    const gone = await gfs.root().lookup!('small.txt');
    expect(isErr(gone) && gone.errno).toBe(E.ENOENT);
  });

  it('keeps a bounded lookup cache, least recently used names going first', async () => {
    for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(dir, `n${i}`), '');
    await make(true, 4);
    const requests = vi.spyOn(s.client, 'request');
    const walks = (): number => requests.mock.calls.filter((c) => c[0].kind === 'Twalk').length;
    for (let i = 0; i < 10; i++) await lookup(`n${i}`);
    expect(walks()).toBe(10);
    await lookup('n9');
    expect(walks()).toBe(10);
    await lookup('n0');
    expect(walks()).toBe(11);
  });

  it('one page cache per file: mapped stores, read() and write() agree; flush writes back; idle pages go', async () => {
    await make(true);
    const mf = new MemoryFile({ fd: -1, chunks: [new ArrayBuffer(1 << 20)], punch: () => {} });
    const f = await open('small.txt', O.RDWR);
    const cache = ok(await f.mappable()) as GoferPageCache;
    expect(cache).toBeInstanceOf(GoferPageCache);
    const ppn = ok(cache.sharedPage!(mf, 0));
    // A second mapping of the file gets the same page.
    expect(ok(cache.sharedPage!(mf, 0))).toBe(ppn);
    mf.incRef(ppn);
    const page = mf.page(ppn);
    expect(Buffer.from(page.subarray(0, 26)).toString()).toBe('abcdefghijklmnopqrstuvwxyz');
    // A store through the mapping: read() sees it before any write-back, the host not yet.
    page.set(Buffer.from('XY'), 2);
    const b = new Uint8Array(26);
    expect(ok(await f.pread(b, 0, {}))).toBe(26);
    expect(Buffer.from(b).toString()).toBe('abXYefghijklmnopqrstuvwxyz');
    expect(fs.readFileSync(path.join(dir, 'small.txt'), 'utf8')).toBe('abcdefghijklmnopqrstuvwxyz');
    // write() reaches the host and the mapping.
    expect(ok(await f.pwrite(Buffer.from('W'), 10, {}))).toBe(1);
    expect(String.fromCharCode(page[10]!)).toBe('W');
    // msync: only the file's bytes go back (the page's tail past EOF does not grow the file).
    ok(await cache.flush());
    expect(fs.readFileSync(path.join(dir, 'small.txt'), 'utf8')).toBe('abXYefghijWlmnopqrstuvwxyz');
    // Truncation zeroes the cached bytes past the new end, as the host file reads.
    const inode = await lookup('small.txt');
    ok(await inode.setattr!({ size: 4n }));
    expect(page[5]).toBe(0);
    expect(Buffer.from(page.subarray(0, 4)).toString()).toBe('abXY');
    // The mapping goes: the clean page is freed.
    mf.release(ppn);
    expect(cache.cachedPages).toBe(1);
    cache.unmapped();
    await writeBacksSettled();
    expect(cache.cachedPages).toBe(0);
    f.decRef();
  });

  it('reports a server that went away as EIO', async () => {
    await make(true);
    const f = await lookup('small.txt');
    s.conn.close();
    await s.client.whenClosed;
    const r = await gfs.root().lookup!('big.bin');
    expect(isErr(r) && r.errno).toBe(E.EIO);
    const o = await f.open!({ mount, dentry: new Dentry('small.txt', mount.root, f) }, O.RDONLY);
    expect(isErr(o) && o.errno).toBe(E.EIO);
  });
});
