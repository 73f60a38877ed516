// GoferFs's round-trip savings over an in-process Gofer: read-only opens share one donated
// fd (none of them after the first asks the server), directory listings are reused until a
// change through the client, a lookup after a listing fetches the next listed names too,
// listings of any size come back whole, clunks that nobody waits for travel with the next
// request, and a dead server still fails opens with EIO.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr } from '../../sentry/abi/result.js';
import { Credentials } from '../../sentry/kernel/credentials.js';
import { O } from '../../sentry/vfs/constants.js';
import type { FileDescription } from '../../sentry/vfs/file.js';
import type { Inode } from '../../sentry/vfs/inode.js';
import { Dentry, Mount } from '../../sentry/vfs/mount.js';
import { GoferFs } from '../../sentry/fs/gofer/gofer_fs.js';
import { ok, serve, type Served } from './gofer_harness.js';

describe('GoferFs round-trip savings', () => {
  let dir: string;
  let s: Served;
  let gfs: GoferFs;
  let mount: Mount;
  let kinds: string[];

  const make = async (): Promise<void> => {
    s = await serve(dir);
    gfs = ok(await GoferFs.create(s.client, s.root, {
      readOnly: false, donations: s.donations, inOrder: true, readdirFills: true, dentryTtlMs: 60_000, attrTtlMs: 60_000,
    }));
    mount = new Mount(gfs, null, null, false);
    kinds = [];
    const request = s.client.request.bind(s.client);
    vi.spyOn(s.client, 'request').mockImplementation((msg, signal) => {
      kinds.push(msg.kind);
      return request(msg, signal);
    });
  };
  const lookup = async (name: string): Promise<Inode> => ok(await gfs.root().lookup!(name));
  const open = async (name: string, flags: number): Promise<FileDescription> => {
    const inode = await lookup(name);
    return ok(await inode.open!({ mount, dentry: new Dentry(name, mount.root, inode) }, flags));
  };
  const text = async (f: FileDescription): Promise<string> => {
    const b = new Uint8Array(100);
    const n = ok(await f.pread(b, 0, {}));
    return Buffer.from(b.subarray(0, n)).toString();
  };
  const names = async (): Promise<string[]> => ok(await gfs.root().readdir!()).map((e) => e.name).sort();

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-fast-'));
    fs.writeFileSync(path.join(dir, 'small.txt'), 'abcdefghijklmnopqrstuvwxyz');
  });
  afterEach(() => {
    s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('read-only opens after the first share its donated fd and ask the server nothing', async () => {
    await make();
    const first = await open('small.txt', O.RDONLY);
    expect(await text(first)).toBe('abcdefghijklmnopqrstuvwxyz');
    kinds = [];
    const more: FileDescription[] = [];
    for (let i = 0; i < 5; i++) more.push(await open('small.txt', O.RDONLY));
    for (const f of more) expect(await text(f)).toBe('abcdefghijklmnopqrstuvwxyz');
    expect(kinds).toEqual([]);
    // Offsets stay per open file.
    const b = new Uint8Array(3);
    expect(ok(await more[0]!.read(b, {}))).toBe(3);
    expect(ok(await more[0]!.read(b, {}))).toBe(3);
    expect(Buffer.from(b).toString()).toBe('def');
    expect(ok(await more[1]!.read(b, {}))).toBe(3);
    expect(Buffer.from(b).toString()).toBe('abc');
    // A write through 9P is what the shared fd reads next.
    const w = await open('small.txt', O.WRONLY);
    expect(ok(await w.pwrite(Buffer.from('XYZ'), 0, {}))).toBe(3);
    w.decRef();
    expect(await text(more[2]!)).toBe('XYZdefghijklmnopqrstuvwxyz');
    // Closing every file but one leaves the fd usable by the rest.
    first.decRef();
    for (const f of more.slice(0, 4)) f.decRef();
    expect(await text(more[4]!)).toBe('XYZdefghijklmnopqrstuvwxyz');
    more[4]!.decRef();
  });

  it('a read-only open fails with EIO once the server is gone, shared fd or not', async () => {
    await make();
    (await open('small.txt', O.RDONLY)).decRef();
    const inode = await lookup('small.txt');
    s.client.close();
    const r = await inode.open!({ mount, dentry: new Dentry('small.txt', mount.root, inode) }, O.RDONLY);
    expect(isErr(r) && r.errno).toBe(E.EIO);
  });

  it('reuses a listing until a change through the client, and asks once per small directory', async () => {
    await make();
    expect(await names()).toEqual(['small.txt']);
    // Clone, open and one Treaddir that had room to spare: no trailing empty Treaddir.
    expect(kinds.filter((k) => k === 'Treaddir')).toEqual(['Treaddir']);
    kinds = [];
    expect(await names()).toEqual(['small.txt']);
    expect(kinds).toEqual([]);
    ok(await gfs.root().create!('new.txt', 0o644, new Credentials()));
    expect(await names()).toEqual(['new.txt', 'small.txt']);
    ok(await gfs.root().unlink!('new.txt'));
    expect(await names()).toEqual(['small.txt']);
  });

  it('a lookup after a listing also looks up the names listed after it, in the same batch', async () => {
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(dir, `f${i}`), String(i));
    await make();
    const listed = ok(await gfs.root().readdir!()).map((e) => e.name);
    kinds = [];
    await lookup(listed[0]!);
    // Its own Twalk+Tgetattr and 16 more pairs.
    expect(kinds.filter((k) => k === 'Twalk').length).toBe(17);
    // Those lookups are answered (or still pending and then shared): none goes out again.
    kinds = [];
    for (const n of listed.slice(1, 17)) {
      const st = ok(await (await lookup(n)).stat());
      expect(st.size).toBe(BigInt(fs.statSync(path.join(dir, n)).size));
    }
    expect(kinds).toEqual([]);
  });

  it('sends a clunkSoon with the next request, or on its own a moment later', async () => {
    await make();
    const a = ok(await s.client.walk(s.root, ['small.txt']));
    const b = ok(await s.client.walk(s.root, ['small.txt']));
    kinds = [];
    s.client.clunkSoon(a.fid);
    expect(kinds).toEqual([]);
    ok(await s.client.getattr(s.root));
    expect([...kinds].sort()).toEqual(['Tclunk', 'Tgetattr']);
    // The fid was really given up: the server no longer knows it.
    const gone = await s.client.getattr(a.fid);
    expect(isErr(gone) && gone.errno).toBe(E.EBADF);
    kinds = [];
    s.client.clunkSoon(b.fid);
    await vi.waitFor(() => expect(kinds).toEqual(['Tclunk']), { timeout: 5000 });
  });

  it('lists a directory bigger than one Rreaddir completely', async () => {
    const want: string[] = ['small.txt'];
    for (let i = 0; i < 3000; i++) {
      const n = `entry-with-a-rather-long-name-${String(i).padStart(5, '0')}`;
      fs.writeFileSync(path.join(dir, n), '');
      want.push(n);
    }
    await make();
    expect(await names()).toEqual(want.sort());
    // serve() negotiates a 64 KiB msize: several Treaddirs were needed.
    expect(kinds.filter((k) => k === 'Treaddir').length).toBeGreaterThan(2);
  });
});
