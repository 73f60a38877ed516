// Extended attributes of host files through the Gofer: Txattrwalk/Txattrcreate on the
// server, GoferInode getxattr/listxattr/setxattr/removexattr on the client.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr } from '../../sentry/abi/result.js';
import { GoferFs } from '../../sentry/fs/gofer/gofer_fs.js';
import type { Inode } from '../../sentry/vfs/inode.js';
import { ok, serve, type Served } from './gofer_harness.js';

/** xattrs as the host sees them, through python3's os module (no Node API for them). */
function hostPy(code: string, ...args: string[]): string {
  return execFileSync('python3', ['-c', code, ...args], { encoding: 'utf8' });
}
const hostSet = (file: string, name: string, value: string): void => {
  hostPy('import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())', file, name, value);
};
const hostGet = (file: string, name: string): string =>
  hostPy('import os,sys\ntry: print(os.getxattr(sys.argv[1], sys.argv[2]).decode(), end="")\nexcept OSError as e: print("errno", e.errno, end="")', file, name);

describe('xattrs through the Gofer', () => {
  let dir: string;
  let s: Served;
  let gfs: GoferFs;

  const make = async (readOnly: boolean): Promise<void> => {
    s = await serve(dir, readOnly);
    gfs = ok(await GoferFs.create(s.client, s.root, { readOnly, donations: null, inOrder: false, dentryTtlMs: 100, attrTtlMs: 100 }));
  };
  const lookup = async (name: string): Promise<Inode> => ok(await gfs.root().lookup!(name));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-xattr-'));
    fs.writeFileSync(path.join(dir, 'f.txt'), 'data');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.symlinkSync('f.txt', path.join(dir, 'link'));
  });
  afterEach(() => {
    s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads and lists user.* xattrs set on the host, on files and directories', async () => {
    hostSet(path.join(dir, 'f.txt'), 'user.colour', 'blue');
    hostSet(path.join(dir, 'f.txt'), 'user.big', 'x'.repeat(3000));
    hostSet(path.join(dir, 'sub'), 'user.d', 'dirval');
    await make(true);
    const f = await lookup('f.txt');
    expect(Buffer.from(ok(await f.getxattr!('user.colour'))).toString()).toBe('blue');
    expect(Buffer.from(ok(await f.getxattr!('user.big'))).toString()).toBe('x'.repeat(3000));
    expect(ok(await f.listxattr!()).sort()).toEqual(['user.big', 'user.colour']);
    const missing = await f.getxattr!('user.none');
    expect(isErr(missing) && missing.errno).toBe(E.ENODATA);
    const d = await lookup('sub');
    expect(Buffer.from(ok(await d.getxattr!('user.d'))).toString()).toBe('dirval');
    expect(ok(await d.listxattr!())).toEqual(['user.d']);
    // A symlink has no user.* attributes (and its target's are not followed).
    const l = await lookup('link');
    expect(ok(await l.listxattr!())).toEqual([]);
    const lg = await l.getxattr!('user.colour');
    expect(isErr(lg) && lg.errno).toBe(E.ENODATA);
  });

  it('sets and removes user.* xattrs on the host file of a writable export', async () => {
    await make(false);
    const f = await lookup('f.txt');
    ok(await f.setxattr!('user.k', new TextEncoder().encode('v1'), 0));
    expect(hostGet(path.join(dir, 'f.txt'), 'user.k')).toBe('v1');
    const big = 'y'.repeat(3000);
    ok(await f.setxattr!('user.k', new TextEncoder().encode(big), 2 /* XATTR_REPLACE */));
    expect(hostGet(path.join(dir, 'f.txt'), 'user.k')).toBe(big);
    const exists = await f.setxattr!('user.k', new TextEncoder().encode('z'), 1 /* XATTR_CREATE */);
    expect(isErr(exists) && exists.errno).toBe(E.EEXIST);
    ok(await f.removexattr!('user.k'));
    expect(hostGet(path.join(dir, 'f.txt'), 'user.k')).toBe(`errno ${E.ENODATA}`);
    const gone = await f.removexattr!('user.k');
    expect(isErr(gone) && gone.errno).toBe(E.ENODATA);
    // Privileged namespaces are refused; symlinks take no user.* attributes.
    const tr = await f.setxattr!('trusted.x', new Uint8Array([1]), 0);
    expect(isErr(tr) && tr.errno).toBe(E.EPERM);
    const sec = await f.setxattr!('security.x', new Uint8Array([1]), 0);
    expect(isErr(sec) && sec.errno).toBe(E.EPERM);
    const l = await lookup('link');
    const ls = await l.setxattr!('user.k', new Uint8Array([1]), 0);
    expect(isErr(ls) && ls.errno).toBe(E.EPERM);
  });

  it('refuses changes on a read-only export with EROFS', async () => {
    await make(true);
    const f = await lookup('f.txt');
    const r = await f.setxattr!('user.k', new Uint8Array([1]), 0);
    expect(isErr(r) && r.errno).toBe(E.EROFS);
    expect(hostGet(path.join(dir, 'f.txt'), 'user.k')).toBe(`errno ${E.ENODATA}`);
  });
});
