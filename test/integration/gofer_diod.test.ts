// Interop with diod, a 9P2000.L implementation none of us wrote, both ways:
// - the Sentry's 9P filesystem (sentry/fs/gofer) reads, writes, lists, renames and deletes
//   files on a diod server exporting a temporary directory (checked on the host);
// - diod's own clients, diodls and diodcat, list and read files from our Gofer process.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr, type Result } from '../../sentry/abi/result.js';
import { Credentials } from '../../sentry/kernel/credentials.js';
import { O, S } from '../../sentry/vfs/constants.js';
import type { FileDescription } from '../../sentry/vfs/file.js';
import type { Inode } from '../../sentry/vfs/inode.js';
import { Dentry, Mount } from '../../sentry/vfs/mount.js';
import { P9Client } from '../../gofer/p9/client.js';
import { GoferFs } from '../../sentry/fs/gofer/gofer_fs.js';
import { spawnGofer } from '../../sentry/fs/gofer/gofer_process.js';
import { waitFor } from './wait_until.js';

const sbin = (name: string): string | null => {
  for (const d of ['/usr/sbin', '/sbin', '/usr/bin', '/usr/local/sbin']) {
    const p = path.join(d, name);
    if (fs.existsSync(p)) return p;
  }
  return null;
};
const DIOD = sbin('diod');
const DIODLS = sbin('diodls');
const DIODCAT = sbin('diodcat');

function ok<T>(r: Result<T>): T {
  if (isErr(r)) throw new Error(`failed with errno ${r.errno}`);
  return r;
}

function run(cmd: string, args: string[]): Promise<{ out: string; err: string; status: number | null }> {
  return new Promise((res) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('close', (status) => res({ out, err, status }));
  });
}

describe.skipIf(DIOD === null)('the Sentry 9P filesystem on a diod server', () => {
  let tmp: string;
  let exp: string;
  let diod: ChildProcess;
  let gfs: GoferFs;
  let client: P9Client;
  let mount: Mount;
  const creds = new Credentials();

  const at = async (names: string[]): Promise<Inode> => {
    let cur = gfs.root();
    for (const n of names) cur = ok(await cur.lookup!(n));
    return cur;
  };
  const open = async (inode: Inode, name: string, flags: number): Promise<FileDescription> =>
    ok(await inode.open!({ mount, dentry: new Dentry(name, mount.root, inode) }, flags));

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-diod-'));
    exp = path.join(tmp, 'export');
    const sock = path.join(tmp, 'sock');
    fs.mkdirSync(path.join(exp, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(exp, 'hello.txt'), 'hello world');
    fs.writeFileSync(path.join(exp, 'sub', 'prog'), Buffer.alloc(10_000, 0x41));
    diod = spawn(DIOD!, ['-f', '-n', '-c', '/dev/null', '-t', '4', '-e', exp, '-l', sock, '-L', 'stderr'], { stdio: 'ignore' });
    if (!(await waitFor(() => fs.existsSync(sock) || diod.exitCode !== null, 10_000))) throw new Error('diod did not start');
    const s = net.createConnection(sock);
    await new Promise<void>((res, rej) => {
      s.once('connect', () => res());
      s.once('error', rej);
    });
    client = ok(await P9Client.connect(s, { msize: 65536 }));
    const a = ok(await client.attach(os.userInfo().username, exp, process.getuid?.() ?? 0));
    gfs = ok(await GoferFs.create(client, a.fid, { readOnly: false, donations: null }));
    mount = new Mount(gfs, null, null, false);
  });

  afterAll(() => {
    client?.close();
    diod?.kill('SIGKILL');
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('reads and stats a file', async () => {
    const f = await at(['hello.txt']);
    const st = ok(await f.stat());
    expect(st.size).toBe(11n);
    expect(st.mode).toBe(fs.statSync(path.join(exp, 'hello.txt')).mode);
    const fd = await open(f, 'hello.txt', O.RDONLY);
    const buf = new Uint8Array(64);
    expect(ok(await fd.read(buf, {}))).toBe(11);
    expect(Buffer.from(buf.subarray(0, 11)).toString()).toBe('hello world');
    expect(ok(await fd.pread(buf.subarray(0, 5), 6, {}))).toBe(5);
    expect(Buffer.from(buf.subarray(0, 5)).toString()).toBe('world');
    fd.decRef();
  });

  it('lists a directory', async () => {
    const names = ok(await gfs.root().readdir!()).map((e) => e.name).sort();
    expect(names).toEqual(fs.readdirSync(exp).sort());
  });

  it('serves execve and mmap from a copy when no fd is donated', async () => {
    const src = ok(await (await at(['sub', 'prog'])).openExec!());
    expect(src.size).toBe(10_000);
    const page = new Uint8Array(4096);
    expect(src.mappable.readSync(8192, page)).toBe(10_000 - 8192);
    expect(page[0]).toBe(0x41);
  });

  it('creates and writes a file', async () => {
    const made = ok(await gfs.root().create!('new.txt', S.IFREG | 0o644, creds));
    const fd = await open(made, 'new.txt', O.WRONLY);
    expect(ok(await fd.write(Buffer.from('written over 9P'), {}))).toBe(15);
    fd.decRef();
    expect(fs.readFileSync(path.join(exp, 'new.txt'), 'utf8')).toBe('written over 9P');
    ok(await made.setattr!({ size: 7n }));
    expect(fs.readFileSync(path.join(exp, 'new.txt'), 'utf8')).toBe('written');
  });

  it('renames across directories (diod has no Trenameat: walk + Trename)', async () => {
    fs.writeFileSync(path.join(exp, 'move-me.txt'), 'moving');
    const sub = await at(['sub']);
    ok(await gfs.root().rename!('move-me.txt', sub, 'moved.txt', 0));
    expect(fs.existsSync(path.join(exp, 'move-me.txt'))).toBe(false);
    expect(fs.readFileSync(path.join(exp, 'sub', 'moved.txt'), 'utf8')).toBe('moving');
    const gone = await gfs.root().lookup!('move-me.txt');
    expect(isErr(gone) && gone.errno).toBe(E.ENOENT);
  });

  it('makes and deletes files and directories', async () => {
    ok(await gfs.root().mkdir!('dir', 0o755, creds));
    expect(fs.statSync(path.join(exp, 'dir')).isDirectory()).toBe(true);
    fs.writeFileSync(path.join(exp, 'dir', 'f'), 'x');
    const dir = await at(['dir']);
    ok(await dir.unlink!('f'));
    expect(fs.existsSync(path.join(exp, 'dir', 'f'))).toBe(false);
    ok(await gfs.root().rmdir!('dir'));
    expect(fs.existsSync(path.join(exp, 'dir'))).toBe(false);
    ok(await gfs.root().unlink!('new.txt'));
    expect(fs.existsSync(path.join(exp, 'new.txt'))).toBe(false);
  });
});

describe.skipIf(DIODLS === null || DIODCAT === null)("diod's clients against our Gofer", () => {
  let tmp: string;
  let server: net.Server;
  let port: number;
  const gofers: number[] = [];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-diodcli-'));
    fs.mkdirSync(path.join(tmp, 'sub'));
    fs.writeFileSync(path.join(tmp, 'hello.txt'), 'hello from the gofer\n');
    fs.writeFileSync(path.join(tmp, 'sub', 'nested.txt'), 'nested\n');
    // diod's clients speak TCP: each connection is relayed byte for byte to a fresh Gofer.
    server = net.createServer((c) => {
      const g = spawnGofer({ root: tmp, readOnly: true });
      if (isErr(g)) {
        c.destroy();
        return;
      }
      gofers.push(g.pid);
      c.pipe(g.sock);
      g.sock.pipe(c);
      c.on('close', () => g.sock.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(() => {
    server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('diodls lists the export', async () => {
    const r = await run(DIODLS!, ['-s', `127.0.0.1:${port}`, '-a', '/', '/']);
    expect(r.err).toBe('');
    expect(r.out.trim().split('\n').sort()).toEqual(['hello.txt', 'sub']);
    const l = await run(DIODLS!, ['-s', `127.0.0.1:${port}`, '-a', '/', '-l', '/sub']);
    expect(l.out).toMatch(/-rw-r--r--.*\s7 .*nested\.txt/);
  });

  it('diodcat reads files', async () => {
    const r = await run(DIODCAT!, ['-s', `127.0.0.1:${port}`, '-a', '/', 'hello.txt', 'sub/nested.txt']);
    expect(r.err).toBe('');
    expect(r.out).toBe('hello from the gofer\nnested\n');
    expect(r.status).toBe(0);
  });
});
