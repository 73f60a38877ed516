import { afterEach, describe, expect, it, vi } from 'vitest';
import { E } from '../../sentry/abi/errno.js';
import { err, type Result } from '../../sentry/abi/result.js';
import { SYS } from '../../sentry/abi/sysno.js';
import type { AppMemory } from '../../sentry/mm/app_memory.js';
import { Strace, type StraceOptions, type StraceTask } from '../../sentry/strace/strace.js';

const BASE = 0x10000;

/** App memory: one mapping of `size` bytes at BASE; anything else is EFAULT. */
class FakeMemory implements AppMemory {
  bytes: Uint8Array;
  private next = BASE;
  constructor(size = 0x10000) {
    this.bytes = new Uint8Array(size);
  }
  private off(addr: number, len: number): number | undefined {
    const o = addr - BASE;
    return o >= 0 && len >= 0 && o + len <= this.bytes.length ? o : undefined;
  }
  copyIn(addr: number, len: number): Result<Uint8Array> {
    const o = this.off(addr, len);
    return o === undefined ? err(E.EFAULT) : this.bytes.slice(o, o + len);
  }
  readInto(addr: number, dst: Uint8Array): Result<void> {
    const o = this.off(addr, dst.length);
    if (o === undefined) return err(E.EFAULT);
    dst.set(this.bytes.subarray(o, o + dst.length));
  }
  copyOut(addr: number, src: Uint8Array): Result<void> {
    const o = this.off(addr, src.length);
    if (o === undefined) return err(E.EFAULT);
    this.bytes.set(src, o);
  }
  readCString(addr: number, maxLen: number): Result<string> {
    for (let i = 0; i <= maxLen; i++) {
      const o = this.off(addr + i, 1);
      if (o === undefined) return err(E.EFAULT);
      if (this.bytes[o] === 0) return Buffer.from(this.bytes.subarray(o - i, o)).toString('utf8');
    }
    return err(E.ENAMETOOLONG);
  }
  readU32(addr: number): Result<number> {
    const b = this.copyIn(addr, 4);
    return b instanceof Uint8Array ? Buffer.from(b).readUInt32LE(0) : b;
  }
  readU64(addr: number): Result<number> {
    const b = this.copyIn(addr, 8);
    return b instanceof Uint8Array ? Number(Buffer.from(b).readBigUInt64LE(0)) : b;
  }
  writeU32(addr: number, v: number): Result<void> {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.copyOut(addr, b);
  }
  writeU64(addr: number, v: number): Result<void> {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return this.copyOut(addr, b);
  }
  zero(addr: number, len: number): Result<void> {
    return this.copyOut(addr, new Uint8Array(len));
  }
  /** Places bytes in memory (8-byte aligned) and returns their address. */
  put(data: Uint8Array | string): bigint {
    const b = typeof data === 'string' ? Buffer.from(data + '\0', 'utf8') : data;
    const a = this.next;
    this.copyOut(a, b);
    this.next += (b.length + 7) & ~7;
    return BigInt(a);
  }
  /** Room for the call to fill. */
  alloc(len: number): bigint {
    return this.put(new Uint8Array(len));
  }
  u64s(vals: bigint[]): bigint {
    const b = Buffer.alloc(8 * vals.length);
    vals.forEach((v, i) => b.writeBigUInt64LE(BigInt.asUintN(64, v), i * 8));
    return this.put(b);
  }
}

function setup(opts: StraceOptions = {}): { lines: string[]; s: Strace; t: StraceTask; mem: FakeMemory } {
  const lines: string[] = [];
  const mem = new FakeMemory();
  const s = new Strace((l) => lines.push(l), opts);
  return { lines, s, mem, t: { tid: 1, pid: 1, comm: 'ls', mem } };
}

function a6(...v: (bigint | number)[]): bigint[] {
  const out = v.map((x) => BigInt.asUintN(64, BigInt(x)));
  while (out.length < 6) out.push(0n);
  return out;
}

/** enter then exit with no other event in between: a call that did not block. */
function call(x: ReturnType<typeof setup>, sysno: number, args: bigint[], ret: number, ns = 1500): string {
  x.s.enter(x.t, sysno, args);
  x.s.exit(x.t, sysno, args, ret, ns);
  return x.lines[x.lines.length - 1];
}

afterEach(() => {
  vi.useRealTimers();
});

describe('strace lines', () => {
  it('prints openat with its path, flags and mode, and the fd it returned', () => {
    const x = setup();
    const p = x.mem.put('/etc/ld.so.cache');
    const line = call(x, SYS.openat, a6(-100, p, 0o2000000, 0), 3, 12_300);
    expect(line).toBe('[   1:   1] ls X openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC, 0o0) = 3 (12.3µs)');
    expect(x.lines).toHaveLength(1);
  });

  it('prints an error as -1, the errno name and its description', () => {
    const x = setup();
    const p = x.mem.put('/nope');
    const line = call(x, SYS.openat, a6(-100, p, 0o1 | 0o100 | 0o1000, 0o644), -E.ENOENT);
    expect(line).toBe('[   1:   1] ls X openat(AT_FDCWD, "/nope", O_WRONLY|O_CREAT|O_TRUNC, 0o644) = -1 ENOENT (No such file or directory) (1.5µs)');
  });

  it('names unnamed errnos and kernel restart codes', () => {
    const x = setup();
    expect(call(x, SYS.read, a6(0, x.mem.alloc(8), 8), -512)).toContain('= -1 ERESTARTSYS (To be restarted if SA_RESTART is set)');
    expect(call(x, SYS.read, a6(0, x.mem.alloc(8), 8), -600)).toContain('= -1 errno 600');
  });

  it('shows a read buffer only when the read succeeded, and only the bytes read', () => {
    const x = setup();
    const buf = x.mem.put(new TextEncoder().encode('hello\nworld-not-read'));
    const ok = call(x, SYS.read, a6(3, buf, 4096), 6);
    expect(ok).toBe('[   1:   1] ls X read(3, "hello\\n", 4096) = 6 (1.5µs)');
    const bad = call(x, SYS.read, a6(9, buf, 4096), -E.EBADF);
    expect(bad).toBe(`[   1:   1] ls X read(9, 0x${buf.toString(16)}, 4096) = -1 EBADF (Bad file descriptor) (1.5µs)`);
  });

  it('shows the first 32 bytes of a written buffer, escaped, with ... when longer', () => {
    const x = setup();
    const data = new Uint8Array(40);
    data.set(new TextEncoder().encode('a"b\\c\t'));
    data[6] = 0x1b;
    data[7] = 0xff;
    data.fill(0x41, 8);
    const buf = x.mem.put(data);
    const line = call(x, SYS.write, a6(1, buf, 40), 40);
    expect(line).toBe(`[   1:   1] ls X write(1, "a\\"b\\\\c\\t\\x1b\\xff${'A'.repeat(24)}"..., 40) = 40 (1.5µs)`);
  });

  it('cuts a long path at 64 characters with ...', () => {
    const x = setup();
    const long = '/' + 'x'.repeat(100);
    const line = call(x, SYS.stat, a6(x.mem.put(long), x.mem.alloc(144)), -E.ENOENT);
    expect(line).toContain(`stat("${long.slice(0, 64)}"..., `);
  });

  it('prints a bad path pointer as its address and never throws', () => {
    const x = setup();
    const line = call(x, SYS.openat, a6(-100, 0xdead0000, 0, 0), -E.EFAULT);
    expect(line).toBe('[   1:   1] ls X openat(AT_FDCWD, 0xdead0000, O_RDONLY, 0o0) = -1 EFAULT (Bad address) (1.5µs)');
    expect(call(x, SYS.open, a6(0, 0, 0), -E.EFAULT)).toContain('open(NULL, O_RDONLY, 0o0)');
    // An address above the user range is also just printed.
    expect(call(x, SYS.write, a6(1, -1n, 5), -E.EFAULT)).toContain('write(1, 0xffffffffffffffff, 5)');
  });

  it('survives an AppMemory that throws', () => {
    const x = setup();
    const throwing = new Proxy(x.mem, {
      get: () => () => {
        throw new Error('boom');
      },
    });
    const t = { ...x.t, mem: throwing };
    expect(() => {
      x.s.enter(t, SYS.openat, a6(-100, BASE, 0, 0));
      x.s.exit(t, SYS.fstat, a6(3, BASE), 0, 10);
    }).not.toThrow();
    expect(x.lines.at(-1)).toContain(`fstat(3, 0x${BASE.toString(16)}) = 0`);
    expect(x.s.decoderErrors).toBeGreaterThan(0);
  });

  it('prints an unknown syscall number as syscall_N with six hex arguments', () => {
    const x = setup();
    const line = call(x, 999, a6(1, 0x20, -1), -E.ENOSYS);
    expect(line).toBe('[   1:   1] ls X syscall_999(0x1, 0x20, 0xffffffffffffffff, 0x0, 0x0, 0x0) = -1 ENOSYS (Function not implemented) (1.5µs)');
  });

  it('prints a named syscall without a decoder by name with hex arguments', () => {
    const x = setup();
    expect(call(x, SYS.io_uring_setup, a6(8, 0x1000), -E.ENOSYS)).toContain('io_uring_setup(0x8, 0x1000, 0x0, 0x0, 0x0, 0x0) = -1 ENOSYS');
  });

  it('prints execve argv and an envp count, and keeps them on the X line after memory is replaced', () => {
    const x = setup();
    const path = x.mem.put('/bin/ls');
    const argv = x.mem.u64s([x.mem.put('ls'), x.mem.put('-l'), x.mem.put('a b\n'), 0n]);
    const envp = x.mem.u64s([x.mem.put('PATH=/bin'), x.mem.put('HOME=/'), 0n]);
    const args = a6(path, argv, envp);
    x.s.enter(x.t, SYS.execve, args);
    x.mem.bytes.fill(0); // the new image replaced the old address space
    x.s.exit({ ...x.t, comm: 'ls' }, SYS.execve, args, 0, 2e6);
    expect(x.lines).toEqual([
      `[   1:   1] ls X execve("/bin/ls", ["ls", "-l", "a b\\n"], 0x${envp.toString(16)} /* 2 vars */) = 0 (2.0ms)`,
    ]);
  });

  it('prints a bad argv element as its address', () => {
    const x = setup();
    const argv = x.mem.u64s([x.mem.put('sh'), 0xbad000n, 0n]);
    expect(call(x, SYS.execve, a6(x.mem.put('/bin/sh'), argv, 0), -E.EFAULT)).toContain('["sh", 0xbad000], NULL)');
  });

  it('keeps the X line of a non-leader execve that returns under the leader tid', () => {
    const x = setup();
    const argv = x.mem.u64s([x.mem.put('true'), 0n]);
    const args = a6(x.mem.put('/bin/true'), argv, 0);
    x.s.enter({ ...x.t, tid: 7 }, SYS.execve, args);
    x.mem.bytes.fill(0);
    x.s.exit(x.t, SYS.execve, args, 0, 10);
    expect(x.lines).toEqual(['[   1:   1] ls X execve("/bin/true", ["true"], NULL) = 0 (10ns)']);
  });
});

describe('entry lines', () => {
  it('prints E and X for every call with entryLines: always', () => {
    const x = setup({ entryLines: 'always' });
    call(x, SYS.getpid, a6(), 1, 500);
    expect(x.lines).toEqual(['[   1:   1] ls E getpid()', '[   1:   1] ls X getpid() = 1 (500ns)']);
  });

  it('prints the E line of a call still running when another task makes a call', () => {
    const x = setup();
    const buf = x.mem.alloc(16);
    const other: StraceTask = { ...x.t, tid: 2, comm: 'worker' };
    x.s.enter(x.t, SYS.read, a6(0, buf, 16));
    call({ ...x, t: other }, SYS.getpid, a6(), 1, 100);
    x.mem.copyOut(Number(buf), new TextEncoder().encode('hi'));
    x.s.exit(x.t, SYS.read, a6(0, buf, 16), 2, 5e9);
    expect(x.lines).toEqual([
      `[   1:   1] ls E read(0, 0x${buf.toString(16)}, 16)`,
      '[   1:   2] worker X getpid() = 1 (100ns)',
      '[   1:   1] ls X read(0, "hi", 16) = 2 (5.00s)',
    ]);
  });

  it('prints the E line of a call that blocks longer than blockingMs', () => {
    vi.useFakeTimers();
    const x = setup({ blockingMs: 10 });
    x.s.enter(x.t, SYS.pause, a6());
    expect(x.lines).toEqual([]);
    vi.advanceTimersByTime(11);
    expect(x.lines).toEqual(['[   1:   1] ls E pause()']);
    x.s.exit(x.t, SYS.pause, a6(), -E.EINTR, 20e6);
    expect(x.lines[1]).toBe('[   1:   1] ls X pause() = -1 EINTR (Interrupted system call) (20.0ms)');
  });

  it('prints exit_group at entry since it never returns', () => {
    const x = setup();
    x.s.enter(x.t, SYS.exit_group, a6(3));
    expect(x.lines).toEqual(['[   1:   1] ls E exit_group(3)']);
    x.s.enter(x.t, SYS.getuid, a6());
    x.s.flush();
    expect(x.lines[1]).toBe('[   1:   1] ls E getuid()');
  });

  it('measures the duration itself when the dispatcher gives none', () => {
    const x = setup();
    x.s.enter(x.t, SYS.getpid, a6());
    x.s.exit(x.t, SYS.getpid, a6(), 1);
    expect(x.lines[0]).toMatch(/^\[ {3}1: {3}1\] ls X getpid\(\) = 1 \(\d+(\.\d)?(ns|µs|ms)\)$/);
  });

  it('traces only the syscalls asked for', () => {
    const x = setup({ syscalls: ['openat', SYS.close] });
    call(x, SYS.getpid, a6(), 1);
    call(x, SYS.close, a6(3), 0);
    call(x, SYS.openat, a6(-100, x.mem.put('/'), 0o200000, 0), 4);
    expect(x.lines).toHaveLength(2);
    expect(x.lines[0]).toContain('close(3) = 0');
    expect(x.lines[1]).toContain('openat(AT_FDCWD, "/", O_RDONLY|O_DIRECTORY, 0o0) = 4');
  });

  it('pads pid and tid and shows the task name', () => {
    const x = setup();
    const line = call({ ...x, t: { ...x.t, pid: 12, tid: 34567, comm: 'node' } }, SYS.gettid, a6(), 34567);
    expect(line.startsWith('[  12:34567] node X gettid() = 34567')).toBe(true);
  });
});

/** Little-endian struct builder for the decoder tests. */
function struct(size: number, fill: (d: DataView) => void): Uint8Array {
  const b = new Uint8Array(size);
  fill(new DataView(b.buffer));
  return b;
}

describe('argument decoding', () => {
  it('summarizes struct stat at exit of a successful fstat', () => {
    const x = setup();
    const st = x.mem.put(struct(144, (d) => {
      d.setBigUint64(0, 0x801n, true);
      d.setBigUint64(8, 1234n, true);
      d.setBigUint64(16, 1n, true);
      d.setUint32(24, 0o100644, true);
      d.setUint32(28, 1000, true);
      d.setUint32(32, 100, true);
      d.setBigInt64(48, 5678n, true);
      d.setBigInt64(56, 4096n, true);
      d.setBigInt64(64, 16n, true);
    }));
    expect(call(x, SYS.fstat, a6(3, st), 0)).toContain(
      'fstat(3, {dev=0x801, ino=1234, mode=S_IFREG|0644, nlink=1, uid=1000, gid=100, size=5678, blksize=4096, blocks=16}) = 0',
    );
    expect(call(x, SYS.fstat, a6(3, st), -E.EBADF)).toContain(`fstat(3, 0x${st.toString(16)}) = -1 EBADF`);
  });

  it('decodes newfstatat and statx flags', () => {
    const x = setup();
    const p = x.mem.put('');
    expect(call(x, SYS.newfstatat, a6(5, p, x.mem.alloc(144), 0x1000 | 0x100), -E.ENOENT))
      .toContain('newfstatat(5, "", 0x');
    expect(x.lines.at(-1)).toContain(', AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH) = -1 ENOENT');
    expect(call(x, SYS.statx, a6(-100, x.mem.put('/a'), 0, 0xfff, x.mem.alloc(256)), -E.ENOENT))
      .toContain('statx(AT_FDCWD, "/a", 0, STATX_BASIC_STATS|STATX_BTIME, 0x');
  });

  it('prints pipe fds as an array', () => {
    const x = setup();
    const fds = x.mem.alloc(8);
    x.s.enter(x.t, SYS.pipe2, a6(fds, 0o2000000 | 0o4000));
    x.mem.copyOut(Number(fds), new Uint8Array([3, 0, 0, 0, 4, 0, 0, 0]));
    x.s.exit(x.t, SYS.pipe2, a6(fds, 0o2000000 | 0o4000), 0, 100);
    expect(x.lines[0]).toBe('[   1:   1] ls X pipe2([3, 4], O_CLOEXEC|O_NONBLOCK) = 0 (100ns)');
  });

  it('decodes mmap protections and flags and prints the address in hex', () => {
    const x = setup();
    expect(call(x, SYS.mmap, a6(0, 8192, 3, 0x22, -1, 0), 0x7f0000001000)).toContain(
      'mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0x0) = 0x7f0000001000',
    );
    expect(call(x, SYS.mprotect, a6(0x7f0000001000, 4096, 0), 0)).toContain('mprotect(0x7f0000001000, 4096, PROT_NONE) = 0');
    expect(call(x, SYS.mmap, a6(0x1000, 4096, 5, 0x812, 3, 0x2000), -E.ENOMEM))
      .toContain('mmap(0x1000, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x2000) = -1 ENOMEM');
    expect(call(x, SYS.brk, a6(0), 0x555555559000)).toContain('brk(NULL) = 0x555555559000');
    expect(call(x, SYS.madvise, a6(0x1000, 4096, 4), 0)).toContain('madvise(0x1000, 4096, MADV_DONTNEED)');
  });

  it('decodes clone flags with the exit signal, and clone3 args', () => {
    const x = setup();
    const flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x80000 | 0x100000 | 0x200000;
    expect(call(x, SYS.clone, a6(flags, 0x7000, 0x8000, 0x9000, 0xa000), 42)).toContain(
      'clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, 0x7000, 0x8000, 0x9000, 0xa000) = 42',
    );
    expect(call(x, SYS.clone, a6(0x1200000 | 17, 0, 0, 0, 0), 43)).toContain('clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, NULL,');
    const ca = x.mem.u64s([0x10000n | 0x100n, 0n, 0n, 0n, 0n, 0x7000n, 0x1000n, 0n]);
    expect(call(x, SYS.clone3, a6(ca, 88), 44)).toContain('clone3({flags=CLONE_VM|CLONE_THREAD, pidfd=NULL, child_tid=NULL, parent_tid=NULL, exit_signal=0, stack=0x7000, stack_size=0x1000, tls=NULL}, 88) = 44');
  });

  it('decodes signals, sigaction and sigprocmask', () => {
    const x = setup();
    expect(call(x, SYS.kill, a6(12, 15), 0)).toContain('kill(12, SIGTERM) = 0');
    expect(call(x, SYS.tgkill, a6(1, 2, 34), 0)).toContain('tgkill(1, 2, SIGRTMIN+2) = 0');
    const act = x.mem.u64s([0x401000n, 0x04000000n | 0x10000000n, 0x402000n, (1n << 1n) | (1n << 14n)]);
    const old = x.mem.alloc(32);
    expect(call(x, SYS.rt_sigaction, a6(2, act, old, 8), 0)).toContain(
      `rt_sigaction(SIGINT, {sa_handler=0x401000, sa_mask=[INT TERM], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x402000}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0`,
    );
    const set = x.mem.u64s([~0n]);
    const oldset = x.mem.u64s([1n << 16n]);
    expect(call(x, SYS.rt_sigprocmask, a6(0, set, oldset, 8), 0)).toContain('rt_sigprocmask(SIG_BLOCK, ~[], [CHLD], 8) = 0');
    expect(call(x, SYS.rt_sigprocmask, a6(2, 0, oldset, 8), -E.EINVAL)).toContain(`rt_sigprocmask(SIG_SETMASK, NULL, 0x${oldset.toString(16)}, 8) = -1 EINVAL`);
  });

  it('decodes fcntl commands, their argument and their result', () => {
    const x = setup();
    expect(call(x, SYS.fcntl, a6(3, 3), 0o2 | 0o4000)).toContain('fcntl(3, F_GETFL) = 2050 (flags O_RDWR|O_NONBLOCK)');
    expect(call(x, SYS.fcntl, a6(3, 2, 1), 0)).toContain('fcntl(3, F_SETFD, FD_CLOEXEC) = 0');
    expect(call(x, SYS.fcntl, a6(3, 1030, 10), 11)).toContain('fcntl(3, F_DUPFD_CLOEXEC, 10) = 11');
    expect(call(x, SYS.fcntl, a6(3, 1), 1)).toContain('fcntl(3, F_GETFD) = FD_CLOEXEC');
  });

  it('names ioctl requests and decodes a window size', () => {
    const x = setup();
    const ws = x.mem.put(new Uint8Array([24, 0, 80, 0, 0, 0, 0, 0]));
    expect(call(x, SYS.ioctl, a6(1, 0x5413, ws), 0)).toContain('ioctl(1, TIOCGWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}) = 0');
    expect(call(x, SYS.ioctl, a6(1, 0x5401, ws), -E.ENOTTY)).toContain(`ioctl(1, TCGETS, 0x${ws.toString(16)}) = -1 ENOTTY (Inappropriate ioctl for device)`);
    expect(call(x, SYS.ioctl, a6(1, 0xc0de, 0), -E.EINVAL)).toContain('ioctl(1, 0xc0de, NULL)');
  });

  it('decodes futex ops and shows only the arguments the op uses', () => {
    const x = setup();
    const ts = x.mem.u64s([1n, 500n]);
    expect(call(x, SYS.futex, a6(0x5000, 128, 2, ts, 0, 0), -E.ETIMEDOUT))
      .toContain('futex(0x5000, FUTEX_WAIT_PRIVATE, 2, {tv_sec=1, tv_nsec=500}) = -1 ETIMEDOUT');
    expect(call(x, SYS.futex, a6(0x5000, 129, 1, 0, 0, 0), 1)).toContain('futex(0x5000, FUTEX_WAKE_PRIVATE, 1) = 1');
    expect(call(x, SYS.futex, a6(0x5000, 9 | 128 | 256, 0, 0, 0, 0xffffffff), 0))
      .toContain('futex(0x5000, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, FUTEX_BITSET_MATCH_ANY) = 0');
  });

  it('decodes sockets, addresses and socket options', () => {
    const x = setup();
    expect(call(x, SYS.socket, a6(2, 1 | 0o2000000, 6), 3)).toContain('socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3');
    expect(call(x, SYS.socket, a6(1, 2, 0), 4)).toContain('socket(AF_UNIX, SOCK_DGRAM, 0) = 4');
    const sin = x.mem.put(new Uint8Array([2, 0, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(call(x, SYS.connect, a6(3, sin, 16), -E.ECONNREFUSED))
      .toContain('connect(3, {AF_INET, 127.0.0.1:80}, 16) = -1 ECONNREFUSED (Connection refused)');
    const sin6 = new Uint8Array(28);
    sin6.set([10, 0, 0x01, 0xbb]);
    sin6[23] = 1;
    expect(call(x, SYS.bind, a6(3, x.mem.put(sin6), 28), 0)).toContain('bind(3, {AF_INET6, [::1]:443}, 28) = 0');
    const sun = x.mem.put(new Uint8Array([1, 0, ...new TextEncoder().encode('/run/x.sock'), 0]));
    expect(call(x, SYS.connect, a6(3, sun, 14), 0)).toContain('connect(3, {AF_UNIX, "/run/x.sock"}, 14) = 0');
    const one = x.mem.put(new Uint8Array([1, 0, 0, 0]));
    expect(call(x, SYS.setsockopt, a6(3, 1, 2, one, 4), 0)).toContain('setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0');
    expect(call(x, SYS.sendto, a6(3, x.mem.put('ping'), 4, 0x4000, 0, 0), 4)).toContain('sendto(3, "ping", 4, MSG_NOSIGNAL, NULL, 0) = 4');
  });

  it('decodes the peer address accept writes', () => {
    const x = setup();
    const addr = x.mem.alloc(16);
    const len = x.mem.put(new Uint8Array([16, 0, 0, 0]));
    const args = a6(3, addr, len, 0o2000000);
    x.s.enter(x.t, SYS.accept4, args);
    x.mem.copyOut(Number(addr), new Uint8Array([2, 0, 0x1f, 0x90, 10, 0, 0, 2]));
    x.s.exit(x.t, SYS.accept4, args, 5, 100);
    expect(x.lines[0]).toContain('accept4(3, {AF_INET, 10.0.0.2:8080}, [16], SOCK_CLOEXEC) = 5');
  });

  it('decodes wait4 status and options', () => {
    const x = setup();
    const st = x.mem.put(new Uint8Array([0, 3, 0, 0]));
    expect(call(x, SYS.wait4, a6(-1, st, 0x40000000, 0), 9)).toContain('wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], __WALL, NULL) = 9');
    const sig = x.mem.put(new Uint8Array([9, 0, 0, 0]));
    expect(call(x, SYS.wait4, a6(-1, sig, 1, 0), 10)).toContain('[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], WNOHANG');
    expect(call(x, SYS.wait4, a6(-1, sig, 1, 0), 0)).toContain(`wait4(-1, 0x${sig.toString(16)}, WNOHANG, NULL) = 0`);
  });

  it('shows poll revents at exit', () => {
    const x = setup();
    const fds = x.mem.put(new Uint8Array([3, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0]));
    const args = a6(fds, 2, -1);
    x.s.enter(x.t, SYS.poll, args);
    x.mem.copyOut(Number(fds) + 6, new Uint8Array([0x11, 0]));
    x.s.exit(x.t, SYS.poll, args, 1, 100);
    expect(x.lines[0]).toContain('poll([{fd=3, events=POLLIN, revents=POLLIN|POLLHUP}, {fd=4, events=POLLOUT}], 2, -1) = 1');
  });

  it('lists getdents64 entries', () => {
    const x = setup();
    const ent = (ino: number, type: number, name: string): Uint8Array => {
      const reclen = (19 + name.length + 1 + 7) & ~7;
      return struct(reclen, (d) => {
        d.setBigUint64(0, BigInt(ino), true);
        d.setUint16(16, reclen, true);
        d.setUint8(18, type);
        new Uint8Array(d.buffer).set(new TextEncoder().encode(name), 19);
      });
    };
    const a = ent(2, 4, '.');
    const b = ent(7, 8, 'file.txt');
    const buf = x.mem.put(new Uint8Array([...a, ...b]));
    expect(call(x, SYS.getdents64, a6(3, buf, 4096), a.length + b.length)).toContain(
      'getdents64(3, [{d_ino=2, d_type=DT_DIR, d_name="."}, {d_ino=7, d_type=DT_REG, d_name="file.txt"}] /* 2 entries */, 4096)',
    );
  });

  it('decodes process and time calls', () => {
    const x = setup();
    expect(call(x, SYS.arch_prctl, a6(0x1002, 0x7f00aa), 0)).toContain('arch_prctl(ARCH_SET_FS, 0x7f00aa) = 0');
    expect(call(x, SYS.prctl, a6(15, x.mem.put('worker-thread-name-too-long'), 0, 0, 0), 0))
      .toContain('prctl(PR_SET_NAME, "worker-thread-na"..., 0x0, 0x0, 0x0) = 0');
    expect(call(x, SYS.umask, a6(0o22), 0o77)).toContain('umask(0o22) = 0o77');
    const ts = x.mem.u64s([100n, 5n]);
    expect(call(x, SYS.clock_gettime, a6(1, ts), 0)).toContain('clock_gettime(CLOCK_MONOTONIC, {tv_sec=100, tv_nsec=5}) = 0');
    expect(call(x, SYS.nanosleep, a6(ts, 0), 0)).toContain('nanosleep({tv_sec=100, tv_nsec=5}, NULL) = 0');
    expect(call(x, SYS.faccessat, a6(-100, x.mem.put('/x'), 4 | 1), 0)).toContain('faccessat(AT_FDCWD, "/x", R_OK|X_OK) = 0');
    expect(call(x, SYS.access, a6(x.mem.put('/x'), 0), 0)).toContain('access("/x", F_OK) = 0');
    expect(call(x, SYS.lseek, a6(3, -10, 2), 90)).toContain('lseek(3, -10, SEEK_END) = 90');
    const rl = x.mem.u64s([1024n, -1n]);
    expect(call(x, SYS.prlimit64, a6(0, 7, 0, rl), 0)).toContain('prlimit64(0, RLIMIT_NOFILE, NULL, {rlim_cur=1024, rlim_max=RLIM_INFINITY}) = 0');
    expect(call(x, SYS.unlinkat, a6(3, x.mem.put('d'), 0x200), 0)).toContain('unlinkat(3, "d", AT_REMOVEDIR) = 0');
    expect(call(x, SYS.mknodat, a6(-100, x.mem.put('/dev/null'), 0o20666, 0x103), 0)).toContain('mknodat(AT_FDCWD, "/dev/null", S_IFCHR|0o666, 0x103)');
  });

  it('shows writev iovecs with their bytes and readv iovecs with the bytes read', () => {
    const x = setup();
    const h = x.mem.put('hello ');
    const w = x.mem.put('world');
    const iov = x.mem.u64s([h, 6n, w, 5n]);
    expect(call(x, SYS.writev, a6(1, iov, 2), 11)).toContain('writev(1, [{iov_base="hello ", iov_len=6}, {iov_base="world", iov_len=5}], 2) = 11');
    expect(call(x, SYS.readv, a6(0, iov, 2), 8)).toContain('readv(0, [{iov_base="hello ", iov_len=6}, {iov_base="wo", iov_len=5}], 2) = 8');
  });

  it('escapes control characters but keeps UTF-8 file names readable', () => {
    const x = setup();
    expect(call(x, SYS.mkdir, a6(x.mem.put('/tmp/dïr\x01'), 0o755), 0)).toContain('mkdir("/tmp/dïr\\x01", 0o755) = 0');
  });
});

describe('every syscall', () => {
  it('prints each x86-64 syscall by name for garbage arguments without a decoder error', () => {
    const x = setup({ entryLines: 'always' });
    // Deterministic xorshift so a failure reproduces.
    let seed = 0x9e3779b9;
    const rnd = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    for (let i = 0; i < x.mem.bytes.length; i++) x.mem.bytes[i] = rnd() & 0xff;
    // Plant a few valid pointers so pointer-chasing decoders follow them into more garbage.
    const dv = new DataView(x.mem.bytes.buffer);
    for (let i = 0; i < 256; i++) dv.setBigUint64((rnd() % 8000) * 8, BigInt(BASE + (rnd() % 0xff00)), true);
    const pick = (): bigint => {
      switch (rnd() % 6) {
        case 0: return BigInt(rnd() % 8);
        case 1: return BigInt(BASE + (rnd() % 0x10000));
        case 2: return 0n;
        case 3: return BigInt.asUintN(64, -100n);
        case 4: return (BigInt(rnd()) << 32n) | BigInt(rnd());
        default: return BigInt(rnd());
      }
    };
    for (const [name, nr] of Object.entries(SYS)) {
      for (let trial = 0; trial < 20; trial++) {
        const args = [pick(), pick(), pick(), pick(), pick(), pick()];
        const ret = trial % 2 === 0 ? -(1 + (rnd() % 133)) : rnd() % 64;
        x.lines.length = 0;
        x.s.enter(x.t, nr, args);
        x.s.exit(x.t, nr, args, ret, 1000);
        expect(x.lines.length).toBeGreaterThan(0);
        for (const l of x.lines) {
          expect(l).toContain(` ${name}(`);
          expect(l).not.toMatch(/undefined|NaN/);
        }
      }
    }
    expect(x.s.decoderErrors).toBe(0);
  });
});
