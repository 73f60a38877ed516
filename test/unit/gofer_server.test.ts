// The Gofer's 9P server, in process on a socketpair, exporting a temporary directory:
// every operation checked on the host side, read-only exports, fd donation, and escape
// attempts by a hostile client ('..' walks, symlinks out, '/' and NUL in names, a symlink
// swapped in while walking).

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { err, isErr } from '../../sentry/abi/result.js';
import { AT_REMOVEDIR, GETATTR, L_O, QT, SETATTR } from '../../gofer/p9/constants.js';
import { ok, serve, type Served } from './gofer_harness.js';

const HOST_HOSTNAME = fs.readFileSync('/etc/hostname', 'utf8');

function tree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-srv-'));
  fs.mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello world');
  fs.writeFileSync(path.join(dir, 'sub', 'deeper', 'nested.txt'), 'nested');
  fs.symlinkSync('/etc/hostname', path.join(dir, 'abs-link'));
  fs.symlinkSync('../../../../../../etc/hostname', path.join(dir, 'rel-link'));
  fs.symlinkSync('/etc', path.join(dir, 'etc-link'));
  return dir;
}

async function readAll(s: Served, names: string[]): Promise<string> {
  const w = ok(await s.client.walk(s.root, names));
  ok(await s.client.lopen(w.fid, L_O.RDONLY));
  const d = ok(await s.client.readFull(w.fid, 0, 1 << 16));
  await s.client.clunk(w.fid);
  return Buffer.from(d).toString();
}

describe('gofer server: operations', () => {
  let dir: string;
  let s: Served;
  beforeAll(async () => {
    dir = tree();
    s = await serve(dir);
  });
  afterAll(() => {
    s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('walks, reads, lists and stats', async () => {
    expect(await readAll(s, ['sub', 'deeper', 'nested.txt'])).toBe('nested');
    const w = ok(await s.client.walk(s.root, ['hello.txt']));
    const a = ok(await s.client.getattr(w.fid, GETATTR.BASIC));
    expect(a.size).toBe(11);
    expect(a.mode & 0o170000).toBe(0o100000);
    await s.client.clunk(w.fid);
    const d = ok(await s.client.walk(s.root, []));
    ok(await s.client.lopen(d.fid, L_O.RDONLY));
    const names = ok(await s.client.readdirAll(d.fid)).map((e) => e.name).sort();
    expect(names).toEqual(['.', '..', 'abs-link', 'etc-link', 'hello.txt', 'rel-link', 'sub']);
    await s.client.clunk(d.fid);
    const st = ok(await s.client.statfs(s.root));
    expect(st.bsize).toBeGreaterThan(0);
  });

  it('lists a big directory across several small readdirs', async () => {
    const big = path.join(dir, 'big');
    fs.mkdirSync(big);
    for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(big, `file-${i}`), '');
    const d = ok(await s.client.walk(s.root, ['big']));
    ok(await s.client.lopen(d.fid, L_O.RDONLY));
    const seen: string[] = [];
    let off = 0n;
    for (;;) {
      const r = ok(await s.client.readdir(d.fid, off, 512));
      if (r.length === 0) break;
      seen.push(...r.map((e) => e.name));
      off = r[r.length - 1]!.offset;
    }
    await s.client.clunk(d.fid);
    expect(seen.filter((n) => n.startsWith('file-')).length).toBe(300);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('creates, writes, renames, links and removes, as the host sees', async () => {
    const d = ok(await s.client.walk(s.root, []));
    ok(await s.client.lcreate(d.fid, 'new.txt', L_O.RDWR, 0o640, 0));
    expect(ok(await s.client.writeAll(d.fid, 0, Buffer.from('abc')))).toBe(3);
    await s.client.clunk(d.fid);
    expect(fs.readFileSync(path.join(dir, 'new.txt'), 'utf8')).toBe('abc');
    expect(fs.statSync(path.join(dir, 'new.txt')).mode & 0o777).toBe(0o640);

    ok(await s.client.mkdir(s.root, 'made', 0o755, 0));
    expect(fs.statSync(path.join(dir, 'made')).isDirectory()).toBe(true);
    const m = ok(await s.client.walk(s.root, ['made']));
    ok(await s.client.renameat(s.root, 'new.txt', m.fid, 'moved.txt'));
    expect(fs.readFileSync(path.join(dir, 'made', 'moved.txt'), 'utf8')).toBe('abc');
    ok(await s.client.symlink(m.fid, 'sl', 'moved.txt', 0));
    const sl = ok(await s.client.walk(m.fid, ['sl']));
    expect(sl.qids[0]!.type & QT.SYMLINK).toBe(QT.SYMLINK);
    expect(ok(await s.client.readlink(sl.fid))).toBe('moved.txt');
    await s.client.clunk(sl.fid);
    const f = ok(await s.client.walk(m.fid, ['moved.txt']));
    ok(await s.client.link(m.fid, f.fid, 'hard.txt'));
    expect(fs.statSync(path.join(dir, 'made', 'hard.txt')).nlink).toBe(2);
    ok(await s.client.setattr(f.fid, { valid: SETATTR.SIZE | SETATTR.MODE, size: 1, mode: 0o600 }));
    expect(fs.readFileSync(path.join(dir, 'made', 'moved.txt'), 'utf8')).toBe('a');
    expect(fs.statSync(path.join(dir, 'made', 'moved.txt')).mode & 0o777).toBe(0o600);
    ok(await s.client.rename(f.fid, s.root, 'back.txt'));
    expect(fs.existsSync(path.join(dir, 'back.txt'))).toBe(true);
    ok(await s.client.remove(f.fid));
    expect(fs.existsSync(path.join(dir, 'back.txt'))).toBe(false);
    for (const n of ['sl', 'hard.txt']) ok(await s.client.unlinkat(m.fid, n, 0));
    await s.client.clunk(m.fid);
    const notDir = await s.client.unlinkat(s.root, 'made', 0);
    expect(isErr(notDir) && notDir.errno).toBe(E.EISDIR);
    ok(await s.client.unlinkat(s.root, 'made', AT_REMOVEDIR));
    expect(fs.existsSync(path.join(dir, 'made'))).toBe(false);
  });

  it('never sets setuid/setgid on host files (directories keep setgid)', async () => {
    const d = ok(await s.client.walk(s.root, []));
    ok(await s.client.lcreate(d.fid, 'suid-new', L_O.RDWR, 0o6755, 0));
    await s.client.clunk(d.fid);
    expect(fs.statSync(path.join(dir, 'suid-new')).mode & 0o7777).toBe(0o755);
    const f = ok(await s.client.walk(s.root, ['suid-new']));
    ok(await s.client.setattr(f.fid, { valid: SETATTR.MODE, mode: 0o4711 }));
    expect(fs.statSync(path.join(dir, 'suid-new')).mode & 0o7777).toBe(0o711);
    ok(await s.client.setattr(f.fid, { valid: SETATTR.MODE, mode: 0o2644 }));
    expect(fs.statSync(path.join(dir, 'suid-new')).mode & 0o7777).toBe(0o644);
    await s.client.clunk(f.fid);
    ok(await s.client.mknod(s.root, 'suid-node', 0o100000 | 0o6600, 0, 0, 0));
    expect(fs.statSync(path.join(dir, 'suid-node')).mode & 0o7777).toBe(0o600);
    ok(await s.client.mkdir(s.root, 'sgid-dir', 0o6755, 0));
    // mkdir(2) itself drops setuid/setgid; chmod of a directory may set setgid.
    expect(fs.statSync(path.join(dir, 'sgid-dir')).mode & 0o6000).toBe(0);
    const sd = ok(await s.client.walk(s.root, ['sgid-dir']));
    ok(await s.client.setattr(sd.fid, { valid: SETATTR.MODE, mode: 0o6755 }));
    expect(fs.statSync(path.join(dir, 'sgid-dir')).mode & 0o7777).toBe(0o2755);
    await s.client.clunk(sd.fid);
    for (const n of ['suid-new', 'suid-node']) ok(await s.client.unlinkat(s.root, n, 0));
    ok(await s.client.unlinkat(s.root, 'sgid-dir', AT_REMOVEDIR));
  });

  it('donates a host fd for read-only opens of regular files', async () => {
    const w = ok(await s.client.walk(s.root, ['hello.txt']));
    ok(await s.client.lopen(w.fid, L_O.RDONLY));
    const fd = s.donations.take(w.fid);
    expect(fd).not.toBeNull();
    const b = Buffer.alloc(5);
    expect(fs.readSync(fd!, b, 0, 5, 6)).toBe(5);
    expect(b.toString()).toBe('world');
    fs.closeSync(fd!);
    await s.client.clunk(w.fid);
  });

  it('answers other tags while a read is stuck', async () => {
    // Occupy every libuv pool thread (4) with opens of fifos nobody writes: the server's
    // Tread, which runs on the pool, then cannot finish until they are released.
    const fifos = [0, 1, 2, 3].map((i) => path.join(dir, `stall-${i}`));
    for (const f of fifos) spawnSyncOk('mkfifo', [f]);
    const stuck = fifos.map((f) => fs.promises.open(f, 'r'));
    const w = ok(await s.client.walk(s.root, ['hello.txt']));
    ok(await s.client.lopen(w.fid, L_O.RDONLY));
    let readDone = false;
    const read = s.client.read(w.fid, 0, 5).then((r) => {
      readDone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(readDone).toBe(false);
    // Meanwhile other requests are answered.
    expect(ok(await s.client.getattr(w.fid, GETATTR.BASIC)).size).toBe(11);
    const other = ok(await s.client.walk(s.root, ['sub', 'deeper']));
    await s.client.clunk(other.fid);
    expect(readDone).toBe(false);
    // Release the pool: the read completes with the right data.
    const writers = fifos.map((f) => fs.openSync(f, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    expect(Buffer.from(ok(await read)).toString()).toBe('hello');
    for (const h of await Promise.all(stuck)) await h.close();
    for (const fd of writers) fs.closeSync(fd);
    for (const f of fifos) fs.unlinkSync(f);
    await s.client.clunk(w.fid);
  });

  it('refuses host devices and fifos', async () => {
    fs.mkdirSync(path.join(dir, 'fifo-dir'));
    spawnSyncOk('mkfifo', [path.join(dir, 'fifo-dir', 'f')]);
    const w = ok(await s.client.walk(s.root, ['fifo-dir', 'f']));
    const o = await s.client.lopen(w.fid, L_O.RDONLY);
    expect(isErr(o) && o.errno).toBe(E.EACCES);
    await s.client.clunk(w.fid);
    const mk = await s.client.mknod(s.root, 'null', 0o20666, 1, 3, 0);
    expect(isErr(mk) && mk.errno).toBe(E.EPERM);
  });
});

function spawnSyncOk(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} failed`);
}

describe('gofer server: read-only export', () => {
  it('refuses every change with EROFS and still reads', async () => {
    const dir = tree();
    const s = await serve(dir, true);
    try {
      expect(await readAll(s, ['hello.txt'])).toBe('hello world');
      const errs: number[] = [];
      const push = (r: unknown): void => void errs.push(isErr(r) ? r.errno : 0);
      const w = ok(await s.client.walk(s.root, ['hello.txt']));
      push(await s.client.lopen(w.fid, L_O.WRONLY));
      push(await s.client.lopen(w.fid, L_O.RDONLY | L_O.TRUNC));
      push(await s.client.setattr(w.fid, { valid: SETATTR.SIZE, size: 0 }));
      await s.client.clunk(w.fid);
      push(await s.client.mkdir(s.root, 'x', 0o755, 0));
      push(await s.client.unlinkat(s.root, 'hello.txt', 0));
      push(await s.client.renameat(s.root, 'hello.txt', s.root, 'y'));
      push(await s.client.symlink(s.root, 'l', 'hello.txt', 0));
      const d = ok(await s.client.walk(s.root, []));
      push(await s.client.lcreate(d.fid, 'c', L_O.RDWR, 0o644, 0));
      expect(errs).toEqual(Array(errs.length).fill(E.EROFS));
      expect(fs.readdirSync(dir).sort()).toEqual(['abs-link', 'etc-link', 'hello.txt', 'rel-link', 'sub']);
    } finally {
      s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gofer server: escape attempts stay inside the export', () => {
  let dir: string;
  let s: Served;
  beforeAll(async () => {
    dir = tree();
    s = await serve(dir);
  });
  afterAll(() => {
    s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('`..` in walk names never goes above the root', async () => {
    const rootQid = ok(await s.client.getattr(s.root)).qid;
    const w = ok(await s.client.walk(s.root, ['..', '..', '..', '..']));
    for (const q of w.qids) expect(q.path).toBe(rootQid.path);
    await s.client.clunk(w.fid);
    const out = await s.client.walk(s.root, ['..', '..', 'etc', 'hostname']);
    expect(isErr(out) && out.errno).toBe(E.ENOENT);
    const back = ok(await s.client.walk(s.root, ['sub', 'deeper', '..', '..', '..', 'hello.txt']));
    await s.client.clunk(back.fid);
    expect(await readAll(s, ['sub', '..', '..', 'hello.txt'])).toBe('hello world');
  });

  it('symlinks are never followed, absolute or relative', async () => {
    for (const name of ['abs-link', 'rel-link']) {
      const w = ok(await s.client.walk(s.root, [name]));
      expect(w.qids[0]!.type & QT.SYMLINK).toBe(QT.SYMLINK);
      const o = await s.client.lopen(w.fid, L_O.RDONLY);
      expect(isErr(o)).toBe(true);
      await s.client.clunk(w.fid);
    }
    // Walking through a symlink stops at it: the walk as a whole fails.
    const through = await s.client.walk(s.root, ['etc-link', 'hostname']);
    expect(isErr(through)).toBe(true);
  });

  it('names with "/" or NUL, "." and "" are refused (walking "." stays put)', async () => {
    const self = ok(await s.client.walk(s.root, ['.', 'sub', '.', '.']));
    expect(self.qids[1]!.path).toBe(self.qids[3]!.path);
    await s.client.clunk(self.fid);
    for (const name of ['sub/deeper', '../etc', '/etc', 'hello.txt\0x', '.', '']) {
      const w = name === '.' ? err(E.ENOENT) : await s.client.walk(s.root, [name]);
      expect(isErr(w), `walk ${JSON.stringify(name)}`).toBe(true);
      const m = await s.client.mkdir(s.root, name, 0o755, 0);
      expect(isErr(m), `mkdir ${JSON.stringify(name)}`).toBe(true);
    }
    const r = await s.client.renameat(s.root, 'hello.txt', s.root, '../escaped');
    expect(isErr(r)).toBe(true);
    expect(fs.existsSync(path.join(dir, '..', 'escaped'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'hello.txt'))).toBe(true);
  });

  it('changes aimed at a symlink never reach its target (a writable export)', async () => {
    const before = fs.statSync('/etc/hostname');
    const w = ok(await s.client.walk(s.root, ['abs-link']));
    expect(isErr(await s.client.setattr(w.fid, { valid: SETATTR.MODE, mode: 0o777 }))).toBe(true);
    expect(isErr(await s.client.setattr(w.fid, { valid: SETATTR.SIZE, size: 0 }))).toBe(true);
    ok(await s.client.setattr(w.fid, { valid: SETATTR.MTIME | SETATTR.MTIME_SET, mtimeSec: 1000, mtimeNsec: 0 }));
    expect(isErr(await s.client.lcreate(w.fid, 'x', L_O.RDWR, 0o644, 0))).toBe(true);
    expect(isErr(await s.client.mkdir(w.fid, 'x', 0o755, 0))).toBe(true);
    await s.client.clunk(w.fid);
    const e = ok(await s.client.walk(s.root, ['etc-link']));
    expect(isErr(await s.client.unlinkat(e.fid, 'hostname', 0))).toBe(true);
    expect(isErr(await s.client.symlink(e.fid, 'planted', '/x', 0))).toBe(true);
    await s.client.clunk(e.fid);
    const after = fs.statSync('/etc/hostname');
    expect([after.mode, after.size, after.mtimeMs]).toEqual([before.mode, before.size, before.mtimeMs]);
    expect(fs.readFileSync('/etc/hostname', 'utf8')).toBe(HOST_HOSTNAME);
    expect(fs.existsSync('/etc/planted')).toBe(false);
    // The link itself took the new time (utimensat with AT_SYMLINK_NOFOLLOW semantics).
    expect(fs.lstatSync(path.join(dir, 'abs-link')).mtimeMs).toBe(1_000_000);
  });

  it('a directory swapped for a symlink during walks never leads out', async () => {
    const race = path.join(dir, 'race');
    fs.mkdirSync(path.join(race, 'real'), { recursive: true });
    fs.writeFileSync(path.join(race, 'real', 'hostname'), 'inside');
    fs.symlinkSync('/etc', path.join(race, 'evil'));
    fs.mkdirSync(path.join(race, 'd'));
    fs.writeFileSync(path.join(race, 'd', 'hostname'), 'inside');
    // Another process keeps swapping d between a real directory and a symlink to /etc.
    const swapper = spawn('/bin/sh', ['-c', `cd ${race} && while :; do mv -T d real2 && mv -T evil d && mv -T d evil && mv -T real2 d; done`], { stdio: 'ignore' });
    try {
      let inside = 0;
      let refused = 0;
      const until = Date.now() + 1500;
      // Until both outcomes were seen (the swapper is running), for at most 1.5 s.
      while (Date.now() < until && (inside < 20 || refused < 20)) {
        const w = await s.client.walk(s.root, ['race', 'd', 'hostname']);
        if (isErr(w)) {
          refused++;
          continue;
        }
        const o = await s.client.lopen(w.fid, L_O.RDONLY);
        if (!isErr(o)) {
          const d = await s.client.readFull(w.fid, 0, 4096);
          if (!isErr(d)) {
            const text = Buffer.from(d).toString();
            expect(text).not.toBe(HOST_HOSTNAME);
            expect(text).toBe('inside');
            inside++;
          }
        }
        await s.client.clunk(w.fid);
      }
      expect(inside).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    } finally {
      swapper.kill('SIGKILL');
    }
  });
});

describe('gofer server: fds stay bounded', () => {
  it('keeps at most maxPathFds path fds open however many fids, reopening on use', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gofer-fds-'));
    for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(dir, `f${i}`), `file ${i}`);
    const s = await serve(dir, false, 8);
    try {
      const before = fs.readdirSync('/proc/self/fd').length;
      const fids: number[] = [];
      for (let i = 0; i < 200; i++) fids.push(ok(await s.client.walk(s.root, [`f${i}`])).fid);
      // One more request trims to the cap.
      ok(await s.client.getattr(s.root));
      expect(fs.readdirSync('/proc/self/fd').length - before).toBeLessThanOrEqual(8 + 2);
      // Every fid still works: its fd comes back from the parent directory.
      for (let i = 0; i < 200; i += 37) expect((ok(await s.client.getattr(fids[i]!))).size).toBe(`file ${i}`.length);
      // Replaced behind a dropped fd: the fid no longer names it (ESTALE), never the new file.
      fs.renameSync(path.join(dir, 'f3'), path.join(dir, 'f2'));
      const stale = await s.client.getattr(fids[2]!);
      expect(isErr(stale) && stale.errno).toBe(E.ESTALE);
      for (const f of fids) await s.client.clunk(f);
    } finally {
      s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
