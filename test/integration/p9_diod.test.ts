// Interop: our 9P2000.L client against Debian's diod, a server none of us wrote, exporting
// a temporary directory. Everything done over 9P is checked on the host directory.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { isErr, SysError, type Result } from '../../sentry/abi/result.js';
import { P9Client } from '../../gofer/p9/client.js';
import { AT_REMOVEDIR, GETATTR, L_O, QT, SETATTR } from '../../gofer/p9/constants.js';
import { waitFor } from './wait_until.js';

function findDiod(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    const p = path.join(d, 'diod');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

const DIOD = findDiod();

function ok<T>(r: Result<T>): T {
  if (isErr(r)) throw new Error(`9P call failed with errno ${r.errno}`);
  return r;
}

describe.skipIf(DIOD === null)('9P client against diod', () => {
  let tmp: string;
  let exp: string;
  let sock: string;
  let diod: ChildProcess;
  let diodLog = '';
  let client: P9Client;
  let root: number;
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'p9diod-'));
    exp = path.join(tmp, 'export');
    sock = path.join(tmp, 'sock');
    fs.mkdirSync(path.join(exp, 'sub', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(exp, 'hello.txt'), 'hello world');
    fs.writeFileSync(path.join(exp, 'sub', 'deeper', 'nested.txt'), 'nested');
    // -f foreground, -n no auth, -c /dev/null ignore the system config, -t few worker threads.
    diod = spawn(DIOD!, ['-f', '-n', '-c', '/dev/null', '-t', '4', '-e', exp, '-l', sock, '-L', 'stderr'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    diod.stderr!.on('data', (b: Buffer) => {
      diodLog += b.toString();
    });
    const up = await waitFor(() => fs.existsSync(sock) || diod.exitCode !== null, 10_000);
    if (!up || diod.exitCode !== null) throw new Error(`diod did not start: ${diodLog}`);
    const s = net.createConnection(sock);
    await new Promise<void>((res, rej) => {
      s.once('connect', () => res());
      s.once('error', rej);
    });
    client = ok(await P9Client.connect(s, { msize: 65536 }));
    const a = ok(await client.attach(os.userInfo().username, exp, uid));
    root = a.fid;
    expect(a.qid.type & QT.DIR).toBe(QT.DIR);
  });

  afterAll(async () => {
    client?.close();
    if (diod && diod.exitCode === null && diod.signalCode === null) {
      diod.kill('SIGTERM');
      const gone = await waitFor(() => diod.exitCode !== null || diod.signalCode !== null, 5000);
      if (!gone) diod.kill('SIGKILL');
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('negotiates 9P2000.L and an msize no larger than proposed', () => {
    expect(client.version).toBe('9P2000.L');
    expect(client.msize).toBeGreaterThan(1024);
    expect(client.msize).toBeLessThanOrEqual(65536);
  });

  it('lists the exported directory like the host does', async () => {
    const d = ok(await client.walk(root, []));
    ok(await client.lopen(d.fid, L_O.RDONLY | L_O.DIRECTORY));
    const entries = ok(await client.readdirAll(d.fid));
    ok(await client.clunk(d.fid));
    const names = entries.map((e) => e.name).filter((n) => n !== '.' && n !== '..').sort();
    expect(names).toEqual(fs.readdirSync(exp).sort());
    const sub = entries.find((e) => e.name === 'sub')!;
    expect(sub.qid.type & QT.DIR).toBe(QT.DIR);
    expect(sub.qid.path).toBe(BigInt(fs.statSync(path.join(exp, 'sub')).ino));
  });

  it('walks several components, stats and reads a file', async () => {
    const f = ok(await client.walk(root, ['sub', 'deeper', 'nested.txt']));
    expect(f.qids).toHaveLength(3);
    const attr = ok(await client.getattr(f.fid, GETATTR.BASIC));
    const st = fs.statSync(path.join(exp, 'sub', 'deeper', 'nested.txt'));
    expect(attr.size).toBe(6);
    expect(attr.mode).toBe(st.mode);
    expect(attr.qid.path).toBe(BigInt(st.ino));
    expect(attr.mtimeSec).toBe(Math.floor(st.mtimeMs / 1000));
    ok(await client.lopen(f.fid, L_O.RDONLY));
    expect(Buffer.from(ok(await client.readFull(f.fid, 0, 100))).toString()).toBe('nested');
    ok(await client.clunk(f.fid));
  });

  it('reports a missing name as ENOENT', async () => {
    const r = await client.walk(root, ['no-such-file']);
    expect(r).toBeInstanceOf(SysError);
    expect((r as SysError).errno).toBe(E.ENOENT);
  });

  it('creates and writes a file larger than msize, visible on the host', async () => {
    const data = Buffer.alloc(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    const d = ok(await client.walk(root, []));
    ok(await client.lcreate(d.fid, 'created.bin', L_O.RDWR | L_O.CREAT | L_O.EXCL, 0o640, gid));
    expect(ok(await client.writeAll(d.fid, 0, data))).toBe(data.length);
    ok(await client.fsync(d.fid));
    // Read it back over 9P with many requests in flight at once.
    const chunk = 16_384;
    const parts = await Promise.all(
      Array.from({ length: Math.ceil(data.length / chunk) }, (_, i) => client.read(d.fid, i * chunk, chunk)),
    );
    expect(Buffer.concat(parts.map(ok)).equals(data)).toBe(true);
    ok(await client.clunk(d.fid));
    const host = fs.readFileSync(path.join(exp, 'created.bin'));
    expect(host.equals(data)).toBe(true);
    expect(fs.statSync(path.join(exp, 'created.bin')).mode & 0o777).toBe(0o640 & ~process.umask());
  });

  it('truncates with setattr and changes mode', async () => {
    fs.writeFileSync(path.join(exp, 'trunc.txt'), 'abcdefghij');
    const f = ok(await client.walk(root, ['trunc.txt']));
    ok(await client.setattr(f.fid, { valid: SETATTR.SIZE | SETATTR.MODE, size: 4, mode: 0o600 }));
    ok(await client.clunk(f.fid));
    expect(fs.readFileSync(path.join(exp, 'trunc.txt'), 'utf8')).toBe('abcd');
    expect(fs.statSync(path.join(exp, 'trunc.txt')).mode & 0o777).toBe(0o600);
  });

  it('makes a directory, renames a file into it, and deletes both', async () => {
    fs.writeFileSync(path.join(exp, 'moveme.txt'), 'move');
    ok(await client.mkdir(root, 'made', 0o755, gid));
    expect(fs.statSync(path.join(exp, 'made')).isDirectory()).toBe(true);
    const made = ok(await client.walk(root, ['made']));
    ok(await client.renameat(root, 'moveme.txt', made.fid, 'moved.txt'));
    expect(fs.existsSync(path.join(exp, 'moveme.txt'))).toBe(false);
    expect(fs.readFileSync(path.join(exp, 'made', 'moved.txt'), 'utf8')).toBe('move');

    const notEmpty = await client.unlinkat(root, 'made', AT_REMOVEDIR);
    expect((notEmpty as SysError).errno).toBe(E.ENOTEMPTY);

    // The older fid-based rename too.
    const moved = ok(await client.walk(made.fid, ['moved.txt']));
    ok(await client.rename(moved.fid, made.fid, 'renamed.txt'));
    ok(await client.clunk(moved.fid));
    expect(fs.readdirSync(path.join(exp, 'made'))).toEqual(['renamed.txt']);

    ok(await client.unlinkat(made.fid, 'renamed.txt', 0));
    ok(await client.clunk(made.fid));
    ok(await client.unlinkat(root, 'made', AT_REMOVEDIR));
    expect(fs.existsSync(path.join(exp, 'made'))).toBe(false);
  });

  it('removes a file through its fid', async () => {
    fs.writeFileSync(path.join(exp, 'gone.txt'), 'x');
    const f = ok(await client.walk(root, ['gone.txt']));
    ok(await client.remove(f.fid));
    expect(fs.existsSync(path.join(exp, 'gone.txt'))).toBe(false);
  });

  it('creates and reads symlinks and hard links', async () => {
    ok(await client.symlink(root, 'link', 'hello.txt', gid));
    expect(fs.readlinkSync(path.join(exp, 'link'))).toBe('hello.txt');
    const l = ok(await client.walk(root, ['link']));
    expect(l.qids[0]!.type & QT.SYMLINK).toBe(QT.SYMLINK);
    expect(ok(await client.readlink(l.fid))).toBe('hello.txt');
    ok(await client.clunk(l.fid));

    const h = ok(await client.walk(root, ['hello.txt']));
    ok(await client.link(root, h.fid, 'hard.txt'));
    expect(fs.statSync(path.join(exp, 'hard.txt')).ino).toBe(fs.statSync(path.join(exp, 'hello.txt')).ino);
    const attr = ok(await client.getattr(h.fid));
    expect(attr.nlink).toBe(2);
    ok(await client.clunk(h.fid));
    fs.unlinkSync(path.join(exp, 'hard.txt'));
    fs.unlinkSync(path.join(exp, 'link'));
  });

  it('answers statfs with the host file system numbers', async () => {
    const s = ok(await client.statfs(root));
    const host = fs.statfsSync(exp);
    expect(s.bsize).toBe(host.bsize);
    expect(s.blocks).toBe(host.blocks);
    expect(s.namelen).toBeGreaterThanOrEqual(255);
  });

  it('fails pending and later requests with EIO when the server dies', async () => {
    const f = ok(await client.walk(root, ['hello.txt']));
    ok(await client.lopen(f.fid, L_O.RDONLY));
    diod.kill('SIGKILL');
    await waitFor(() => diod.exitCode !== null || diod.signalCode !== null, 5000);
    await client.whenClosed;
    const r = await client.read(f.fid, 0, 10);
    expect((r as SysError).errno).toBe(E.EIO);
    expect(client.closed).toBe(true);
  });
});
