import * as fs from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { SYS } from '../../sentry/abi/sysno.js';
import type { Task } from '../../sentry/kernel/task.js';
import { fileSyscalls } from '../../sentry/syscalls/sys_file.js';
import { fsSyscalls } from '../../sentry/syscalls/sys_fs.js';
import { pipeSyscalls } from '../../sentry/syscalls/sys_pipe.js';
import { pollSyscalls } from '../../sentry/syscalls/sys_poll.js';
import type { SyscallTable } from '../../sentry/syscalls/types.js';
import { AT, O, POLL } from '../../sentry/vfs/constants.js';
import { setVfsHooks } from '../../sentry/vfs/hooks.js';
import type { Vfs } from '../../sentry/vfs/vfs.js';
import { args, BASE, bootVfs, fakeTask, makeTempRoot, type FakeTask } from './vfs_fake_task.js';

const table: SyscallTable = { ...fileSyscalls, ...fsSyscalls, ...pipeSyscalls, ...pollSyscalls };

let dir: string;
let vfs: Vfs;
let t: Task;
let f: FakeTask;

beforeAll(async () => {
  dir = makeTempRoot();
  vfs = await bootVfs(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  ({ t, f } = fakeTask(vfs));
});

function call(nr: number, ...a: (number | bigint)[]): number | Promise<number> {
  return table[nr](t, args(...a));
}
async function sys(nr: number, ...a: (number | bigint)[]): Promise<number> {
  return call(nr, ...a);
}
const open = (p: string, flags: number = O.RDONLY): Promise<number> => sys(SYS.openat, AT.FDCWD, f.mem.cstr(p), flags, 0);

describe('file syscalls', () => {
  it('openat/read/lseek/close on the lowest fds', async () => {
    expect(await open('/dir/a.txt')).toBe(0);
    expect(await open('/etc/passwd', O.RDONLY | O.CLOEXEC)).toBe(1);
    expect(t.fds.entry(1)?.cloexec).toBe(true);
    const buf = f.mem.alloc(64);
    expect(await sys(SYS.read, 0, buf, 5)).toBe(5);
    expect(f.mem.text(buf, 5)).toBe('hello');
    expect(await sys(SYS.lseek, 0, 6, 0)).toBe(6);
    expect(await sys(SYS.read, 0, buf, 64)).toBe(6);
    expect(f.mem.text(buf, 6)).toBe('world\n');
    expect(await sys(SYS.pread64, 0, buf, 4, 2)).toBe(4);
    expect(f.mem.text(buf, 4)).toBe('llo ');
    expect(await sys(SYS.lseek, 0, 0, 9)).toBe(-E.EINVAL);
    expect(await sys(SYS.close, 0)).toBe(0);
    expect(await sys(SYS.close, 0)).toBe(-E.EBADF);
    expect(await sys(SYS.read, 0, buf, 1)).toBe(-E.EBADF);
    expect(await open('/nope')).toBe(-E.ENOENT);
  });

  it('EFAULT for bad pointers, and write to a read-only fd is EBADF', async () => {
    const fd = await open('/dir/a.txt');
    expect(await sys(SYS.read, fd, 0x10, 4)).toBe(-E.EFAULT);
    expect(await sys(SYS.openat, AT.FDCWD, 0x10, 0, 0)).toBe(-E.EFAULT);
    expect(await sys(SYS.write, fd, f.mem.cstr('x'), 1)).toBe(-E.EBADF);
    expect(await sys(SYS.fstat, fd, BASE + (1 << 20) - 8)).toBe(-E.EFAULT);
  });

  it('readv/writev through /dev/null and /dev/zero', async () => {
    const z = await open('/dev/zero');
    const iov = f.mem.alloc(32);
    const b1 = f.mem.alloc(3);
    const b2 = f.mem.alloc(5);
    f.mem.bytes.fill(1, b1 - BASE, b2 - BASE + 5);
    const v = f.mem.view(iov, 32);
    v.setBigUint64(0, BigInt(b1), true);
    v.setBigUint64(8, 3n, true);
    v.setBigUint64(16, BigInt(b2), true);
    v.setBigUint64(24, 5n, true);
    expect(await sys(SYS.readv, z, iov, 2)).toBe(8);
    expect(f.mem.bytes[b2 - BASE + 4]).toBe(0);
    const n = await open('/dev/null', O.WRONLY);
    expect(await sys(SYS.writev, n, iov, 2)).toBe(8);
    expect(await sys(SYS.writev, n, iov, 1025)).toBe(-E.EINVAL);
    expect(await sys(SYS.read, n, iov, 1)).toBe(-E.EBADF);
  });

  it('fstat, newfstatat (with AT_EMPTY_PATH and NOFOLLOW), statx', async () => {
    const st = f.mem.alloc(256);
    const fd = await open('/dir/a.txt');
    expect(await sys(SYS.fstat, fd, st)).toBe(0);
    // st_ino is the Gofer's stable number for the host file, the same through every path.
    const ino = f.mem.view(st, 144).getBigUint64(8, true);
    expect(ino).toBeGreaterThan(0n);
    expect(await sys(SYS.newfstatat, AT.FDCWD, f.mem.cstr('/rel_link'), st, 0)).toBe(0);
    expect(f.mem.view(st, 144).getBigUint64(8, true)).toBe(ino);
    expect(f.mem.view(st, 144).getBigInt64(48, true)).toBe(12n);
    expect(await sys(SYS.newfstatat, fd, f.mem.cstr(''), st, AT.EMPTY_PATH)).toBe(0);
    expect(f.mem.view(st, 144).getBigInt64(48, true)).toBe(12n);
    expect(await sys(SYS.newfstatat, fd, f.mem.cstr(''), st, 0)).toBe(-E.ENOENT);
    expect(await sys(SYS.newfstatat, AT.FDCWD, f.mem.cstr('/rel_link'), st, AT.SYMLINK_NOFOLLOW)).toBe(0);
    expect(f.mem.view(st, 144).getUint32(24, true) & 0o170000).toBe(0o120000);
    expect(await sys(SYS.newfstatat, AT.FDCWD, f.mem.cstr('/rel_link'), st, 0x8000)).toBe(-E.EINVAL);
    // Relative to a directory fd; a file fd as dirfd is ENOTDIR.
    const d = await open('/dir', O.RDONLY | O.DIRECTORY);
    expect(await sys(SYS.newfstatat, d, f.mem.cstr('sub/b.txt'), st, 0)).toBe(0);
    expect(f.mem.view(st, 144).getBigInt64(48, true)).toBe(4n);
    expect(await sys(SYS.newfstatat, fd, f.mem.cstr('x'), st, 0)).toBe(-E.ENOTDIR);
    expect(await sys(SYS.newfstatat, 99, f.mem.cstr('x'), st, 0)).toBe(-E.EBADF);
    // Absolute paths ignore dirfd.
    expect(await sys(SYS.newfstatat, 99, f.mem.cstr('/dir'), st, 0)).toBe(0);
    expect(await sys(SYS.statx, AT.FDCWD, f.mem.cstr('/dir/a.txt'), 0, 0x7ff, st)).toBe(0);
    const sx = f.mem.view(st, 256);
    expect(sx.getUint32(0, true) & 0x7ff).toBe(0x7ff);
    expect(sx.getBigUint64(40, true)).toBe(12n);
    expect(sx.getBigUint64(32, true)).toBe(ino);
    expect(await sys(SYS.statx, AT.FDCWD, f.mem.cstr('/dir/a.txt'), 0, 0x80000000, st)).toBe(-E.EINVAL);
  });

  it('getdents64 lists a directory into app memory', async () => {
    const d = await open('/dir/sub', O.RDONLY | O.DIRECTORY);
    const buf = f.mem.alloc(1024);
    const n = await sys(SYS.getdents64, d, buf, 1024);
    expect(n).toBeGreaterThan(0);
    const names: string[] = [];
    for (let off = 0; off < n;) {
      const len = f.mem.view(buf + off, 24).getUint16(16, true);
      names.push(f.mem.text(buf + off + 19, len - 19).replace(/\0+$/, ''));
      off += len;
    }
    expect(names.sort()).toEqual(['.', '..', 'b.txt']);
    expect(await sys(SYS.getdents64, d, buf, 1024)).toBe(0);
    const file = await open('/dir/a.txt');
    expect(await sys(SYS.getdents64, file, buf, 1024)).toBe(-E.ENOTDIR);
  });

  it('dup, dup2, dup3 and fcntl', async () => {
    const fd = await open('/dir/a.txt');
    expect(await sys(SYS.dup, fd)).toBe(1);
    expect(await sys(SYS.dup2, fd, 7)).toBe(7);
    expect(await sys(SYS.dup2, fd, fd)).toBe(fd);
    expect(await sys(SYS.dup2, 40, 41)).toBe(-E.EBADF);
    expect(await sys(SYS.dup3, fd, fd, 0)).toBe(-E.EINVAL);
    expect(await sys(SYS.dup3, fd, 8, O.NONBLOCK)).toBe(-E.EINVAL);
    expect(await sys(SYS.dup3, fd, 8, O.CLOEXEC)).toBe(8);
    expect(await sys(SYS.fcntl, 8, 1)).toBe(1);
    expect(await sys(SYS.fcntl, 8, 2, 0)).toBe(0);
    expect(await sys(SYS.fcntl, 8, 1)).toBe(0);
    expect(await sys(SYS.fcntl, fd, 0, 5)).toBe(5);
    expect(await sys(SYS.fcntl, fd, 1030, 5)).toBe(6);
    expect(await sys(SYS.fcntl, 6, 1)).toBe(1);
    expect(await sys(SYS.fcntl, fd, 0, 5000)).toBe(-E.EINVAL);
    // Shared offset between dups.
    const buf = f.mem.alloc(8);
    expect(await sys(SYS.read, fd, buf, 6)).toBe(6);
    expect(await sys(SYS.read, 7, buf, 5)).toBe(5);
    expect(f.mem.text(buf, 5)).toBe('world');
    // Status flags: O_LARGEFILE shows, O_NONBLOCK can be toggled, access mode cannot.
    expect(await sys(SYS.fcntl, fd, 3)).toBe(O.RDONLY | O.LARGEFILE);
    expect(await sys(SYS.fcntl, fd, 4, O.NONBLOCK | O.RDWR)).toBe(0);
    expect(await sys(SYS.fcntl, 7, 3)).toBe(O.RDONLY | O.LARGEFILE | O.NONBLOCK);
    expect(await sys(SYS.fcntl, fd, 999)).toBe(-E.EINVAL);
  });

  it('close_range closes or marks a range', async () => {
    for (let i = 0; i < 5; i++) expect(await open('/dir/a.txt')).toBe(i);
    expect(await sys(SYS.close_range, 3, 2, 0)).toBe(-E.EINVAL);
    expect(await sys(SYS.close_range, 1, 2, 4)).toBe(0);
    expect(t.fds.entry(1)?.cloexec).toBe(true);
    expect(await sys(SYS.close_range, 3, 0xffffffff, 0)).toBe(0);
    expect([...t.fds.fds()]).toEqual([0, 1, 2]);
  });

  it('ioctl: ENOTTY on files, FIOCLEX/FIONBIO generic', async () => {
    const fd = await open('/dir/a.txt');
    expect(await sys(SYS.ioctl, fd, 0x5401, f.mem.alloc(64))).toBe(-E.ENOTTY);
    expect(await sys(SYS.ioctl, fd, 0x5451, 0)).toBe(0);
    expect(t.fds.entry(fd)?.cloexec).toBe(true);
    const one = f.mem.alloc(4);
    f.mem.writeU32(one, 1);
    expect(await sys(SYS.ioctl, fd, 0x5421, one)).toBe(0);
    expect(t.fds.get(fd)?.nonblocking).toBe(true);
  });

  it('readlink, access, getcwd, chdir, fchdir', async () => {
    const buf = f.mem.alloc(64);
    expect(await sys(SYS.readlink, f.mem.cstr('/abs_link'), buf, 64)).toBe(11);
    expect(f.mem.text(buf, 11)).toBe('/etc/passwd');
    expect(await sys(SYS.readlink, f.mem.cstr('/abs_link'), buf, 4)).toBe(4);
    expect(await sys(SYS.readlink, f.mem.cstr('/dir'), buf, 64)).toBe(-E.EINVAL);
    expect(await sys(SYS.access, f.mem.cstr('/bin/prog'), 1)).toBe(0);
    expect(await sys(SYS.access, f.mem.cstr('/bin/data'), 1)).toBe(-E.EACCES);
    expect(await sys(SYS.access, f.mem.cstr('/bin/data'), 8)).toBe(-E.EINVAL);
    expect(await sys(SYS.faccessat2, AT.FDCWD, f.mem.cstr('/etc'), 2, 0)).toBe(-E.EROFS);
    expect(await sys(SYS.getcwd, buf, 64)).toBe(2);
    expect(f.mem.text(buf, 2)).toBe('/\0');
    expect(await sys(SYS.chdir, f.mem.cstr('/dirlink/sub'))).toBe(0);
    expect(await sys(SYS.getcwd, buf, 64)).toBe(9);
    expect(f.mem.text(buf, 8)).toBe('/dir/sub');
    expect(await sys(SYS.getcwd, buf, 5)).toBe(-E.ERANGE);
    expect(await open('b.txt')).toBeGreaterThanOrEqual(0);
    expect(await sys(SYS.chdir, f.mem.cstr('/dir/a.txt'))).toBe(-E.ENOTDIR);
    const d = await open('/dev', O.RDONLY | O.DIRECTORY);
    expect(await sys(SYS.fchdir, d)).toBe(0);
    expect(await sys(SYS.getcwd, buf, 64)).toBe(5);
    expect(f.mem.text(buf, 4)).toBe('/dev');
    expect(await sys(SYS.umask, 0o77)).toBe(0o22);
    expect(await sys(SYS.umask, 0o22)).toBe(0o77);
  });

  it('write-side path syscalls answer EROFS or the earlier Linux error', async () => {
    expect(await sys(SYS.mkdir, f.mem.cstr('/newdir'), 0o755)).toBe(-E.EROFS);
    expect(await sys(SYS.mkdir, f.mem.cstr('/dir'), 0o755)).toBe(-E.EEXIST);
    expect(await sys(SYS.unlink, f.mem.cstr('/dir/a.txt'))).toBe(-E.EROFS);
    expect(await sys(SYS.unlinkat, AT.FDCWD, f.mem.cstr('/dir'), 0x1)).toBe(-E.EINVAL);
    expect(await sys(SYS.rmdir, f.mem.cstr('/nodir/x'))).toBe(-E.ENOENT);
    expect(await sys(SYS.rename, f.mem.cstr('/dir/a.txt'), f.mem.cstr('/dir/c'))).toBe(-E.EROFS);
    expect(await sys(SYS.symlink, f.mem.cstr('x'), f.mem.cstr('/dir/a.txt'))).toBe(-E.EEXIST);
    expect(await sys(SYS.chmod, f.mem.cstr('/dir/a.txt'), 0o600)).toBe(-E.EROFS);
    expect(await sys(SYS.chmod, f.mem.cstr('/dir/none'), 0o600)).toBe(-E.ENOENT);
    expect(await sys(SYS.creat, f.mem.cstr('/dir/new'), 0o644)).toBe(-E.EROFS);
    expect(await sys(SYS.truncate, f.mem.cstr('/dir/a.txt'), 0)).toBe(-E.EROFS);
    const fd = await open('/dir/a.txt');
    expect(await sys(SYS.ftruncate, fd, 0)).toBe(-E.EINVAL);
    const name = f.mem.cstr('user.x');
    const xbuf = f.mem.alloc(64);
    expect(await sys(SYS.getxattr, f.mem.cstr('/dir/a.txt'), name, xbuf, 64)).toBe(-E.ENODATA);
    expect(await sys(SYS.lgetxattr, f.mem.cstr('/nope'), name, xbuf, 64)).toBe(-E.ENOENT);
    expect(await sys(SYS.listxattr, f.mem.cstr('/dir/a.txt'), xbuf, 64)).toBe(0);
    expect(await sys(SYS.setxattr, f.mem.cstr('/dir/a.txt'), name, xbuf, 1, 0)).toBe(-E.EROFS);
    expect(await sys(SYS.fgetxattr, fd, f.mem.cstr(''), xbuf, 64)).toBe(-E.ERANGE);
    const st = f.mem.alloc(120);
    expect(await sys(SYS.statfs, f.mem.cstr('/'), st)).toBe(0);
    expect(f.mem.view(st, 120).getBigInt64(80, true) & 1n).toBe(1n);
  });

  it('pipe2 round trip, flags, and EPIPE raising the SIGPIPE hook', async () => {
    const fds = f.mem.alloc(8);
    expect(await sys(SYS.pipe2, fds, O.DIRECT)).toBe(-E.EINVAL);
    expect(await sys(SYS.pipe2, fds, O.CLOEXEC | O.NONBLOCK)).toBe(0);
    const rfd = f.mem.view(fds, 8).getInt32(0, true);
    const wfd = f.mem.view(fds, 8).getInt32(4, true);
    expect([rfd, wfd]).toEqual([0, 1]);
    expect(t.fds.entry(rfd)?.cloexec).toBe(true);
    const buf = f.mem.alloc(16);
    expect(await sys(SYS.read, rfd, buf, 16)).toBe(-E.EAGAIN);
    expect(await sys(SYS.write, wfd, f.mem.cstr('ping'), 4)).toBe(4);
    expect(await sys(SYS.read, rfd, buf, 16)).toBe(4);
    expect(f.mem.text(buf, 4)).toBe('ping');
    expect(await sys(SYS.lseek, rfd, 0, 0)).toBe(-E.ESPIPE);
    expect(await sys(SYS.pread64, rfd, buf, 1, 0)).toBe(-E.ESPIPE);
    const sigpiped: Task[] = [];
    setVfsHooks({ onEpipe: (task) => void sigpiped.push(task) });
    try {
      expect(await sys(SYS.close, rfd)).toBe(0);
      expect(await sys(SYS.write, wfd, f.mem.cstr('x'), 1)).toBe(-E.EPIPE);
      expect(sigpiped).toEqual([t]);
    } finally {
      setVfsHooks({ onEpipe: () => {} });
    }
    expect(await sys(SYS.pipe, 0x10)).toBe(-E.EFAULT);
    // The failed pipe left no fds behind.
    expect(t.fds.get(0)).toBe(undefined);
  });

  it('a blocking pipe read syscall resolves after a later write from another task', async () => {
    const fds = f.mem.alloc(8);
    expect(await sys(SYS.pipe, fds)).toBe(0);
    const buf = f.mem.alloc(16);
    const pending = call(SYS.read, 0, buf, 16);
    expect(pending).toBeInstanceOf(Promise);
    await new Promise((r) => setTimeout(r, 10));
    const { t: t2 } = fakeTask(vfs);
    t2.fds.installAt(1, t.fds.get(1)!);
    expect(await fileSyscalls[SYS.write](t2, args(1, (t2 as unknown as FakeTask).mem.cstr('hi!'), 3))).toBe(3);
    expect(await pending).toBe(3);
    expect(f.mem.text(buf, 3)).toBe('hi!');
  });

  it('sendfile copies from a file into a pipe', async () => {
    const fd = await open('/etc/passwd');
    const fds = f.mem.alloc(8);
    expect(await sys(SYS.pipe, fds)).toBe(0);
    const wfd = f.mem.view(fds, 8).getInt32(4, true);
    const rfd = f.mem.view(fds, 8).getInt32(0, true);
    const off = f.mem.alloc(8);
    f.mem.writeU64(off, 5);
    expect(await sys(SYS.sendfile, wfd, fd, off, 4)).toBe(4);
    expect(f.mem.readU64(off)).toBe(9);
    const buf = f.mem.alloc(8);
    expect(await sys(SYS.read, rfd, buf, 8)).toBe(4);
    expect(f.mem.text(buf, 4)).toBe('x:0:');
  });
});

describe('poll and select', () => {
  function pollfds(entries: [number, number][]): number {
    const a = f.mem.alloc(entries.length * 8);
    const v = f.mem.view(a, entries.length * 8);
    entries.forEach(([fd, ev], i) => {
      v.setInt32(i * 8, fd, true);
      v.setInt16(i * 8 + 4, ev, true);
    });
    return a;
  }
  const revents = (a: number, i: number): number => f.mem.view(a, (i + 1) * 8).getInt16(i * 8 + 6, true);

  async function mkpipe(): Promise<[number, number]> {
    const fds = f.mem.alloc(8);
    expect(await sys(SYS.pipe, fds)).toBe(0);
    return [f.mem.view(fds, 8).getInt32(0, true), f.mem.view(fds, 8).getInt32(4, true)];
  }

  it('reports readiness at once: files ready, empty pipe not readable, bad fd NVAL', async () => {
    const file = await open('/dir/a.txt');
    const [r, w] = await mkpipe();
    const a = pollfds([[file, POLL.IN], [r, POLL.IN], [w, POLL.OUT], [55, POLL.IN], [-1, POLL.IN]]);
    expect(call(SYS.poll, a, 5, 0)).toBe(3);
    expect(revents(a, 0)).toBe(POLL.IN);
    expect(revents(a, 1)).toBe(0);
    expect(revents(a, 2)).toBe(POLL.OUT);
    expect(revents(a, 3)).toBe(POLL.NVAL);
    expect(revents(a, 4)).toBe(0);
  });

  it('times out, and wakes when a pipe gets data or loses its writer', async () => {
    const [r, w] = await mkpipe();
    const a = pollfds([[r, POLL.IN]]);
    const t0 = performance.now();
    expect(await sys(SYS.poll, a, 1, 30)).toBe(0);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    const waiting = call(SYS.poll, a, 1, -1);
    expect(waiting).toBeInstanceOf(Promise);
    setTimeout(() => void call(SYS.write, w, f.mem.cstr('z'), 1), 10);
    expect(await waiting).toBe(1);
    expect(revents(a, 0)).toBe(POLL.IN);
    const buf = f.mem.alloc(4);
    expect(await sys(SYS.read, r, buf, 4)).toBe(1);
    const hup = call(SYS.poll, a, 1, 1000);
    setTimeout(() => void call(SYS.close, w), 10);
    expect(await hup).toBe(1);
    expect(revents(a, 0)).toBe(POLL.HUP);
  });

  it('ppoll and select validate their timeouts', async () => {
    const [r] = await mkpipe();
    const a = pollfds([[r, POLL.IN]]);
    const ts = f.mem.alloc(16);
    f.mem.view(ts, 16).setBigInt64(8, 1_000_000_000n, true);
    expect(await sys(SYS.ppoll, a, 1, ts, 0, 8)).toBe(-E.EINVAL);
    f.mem.view(ts, 16).setBigInt64(8, 5_000_000n, true);
    expect(await sys(SYS.ppoll, a, 1, ts, 0, 8)).toBe(0);
    const tv = f.mem.alloc(16);
    // select carries whole seconds out of tv_usec (Linux does); only negative fields are EINVAL.
    f.mem.view(tv, 16).setBigInt64(8, 1_000_000n, true);
    const slow = call(SYS.select, 1, 0, 0, 0, tv);
    expect(await Promise.race([slow, new Promise((r) => setTimeout(() => r('waiting'), 50))])).toBe('waiting');
    expect(await slow).toBe(0);
    f.mem.view(tv, 16).setBigInt64(8, -1n, true);
    expect(await sys(SYS.select, 1, 0, 0, 0, tv)).toBe(-E.EINVAL);
    expect(await sys(SYS.select, -1, 0, 0, 0, 0)).toBe(-E.EINVAL);
  });

  it('select reports read and write sets, waits, and rejects closed fds', async () => {
    const [r, w] = await mkpipe();
    const rset = f.mem.alloc(8);
    const wset = f.mem.alloc(8);
    f.mem.bytes[rset - BASE] = 1 << r;
    f.mem.bytes[wset - BASE] = 1 << w;
    expect(await sys(SYS.select, w + 1, rset, wset, 0, 0)).toBe(1);
    expect(f.mem.bytes[rset - BASE]).toBe(0);
    expect(f.mem.bytes[wset - BASE]).toBe(1 << w);
    f.mem.bytes[rset - BASE] = 1 << r;
    const tv = f.mem.alloc(16);
    f.mem.view(tv, 16).setBigInt64(0, 5n, true);
    const pending = call(SYS.pselect6, r + 1, rset, 0, 0, tv, 0);
    setTimeout(() => void call(SYS.write, w, f.mem.cstr('q'), 1), 10);
    expect(await pending).toBe(1);
    expect(f.mem.bytes[rset - BASE]).toBe(1 << r);
    // The remaining time was written back.
    expect(f.mem.view(tv, 16).getBigInt64(0, true)).toBeLessThan(5n);
    f.mem.bytes[rset - BASE] = 0;
    f.mem.bytes[rset - BASE + 1] = 1 << 1; // fd 9
    expect(await sys(SYS.select, 10, rset, 0, 0, 0)).toBe(-E.EBADF);
  });

  it('an interrupting signal ends a blocked poll with EINTR', async () => {
    const [r] = await mkpipe();
    const a = pollfds([[r, POLL.IN]]);
    const ac = new AbortController();
    setVfsHooks({ interruptSignal: () => ac.signal });
    try {
      const p = call(SYS.poll, a, 1, -1);
      setTimeout(() => ac.abort(), 10);
      expect(await p).toBe(-E.EINTR);
    } finally {
      setVfsHooks({ interruptSignal: () => undefined });
    }
  });
});
