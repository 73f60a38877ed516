// A Task stand-in for VFS and file-syscall tests: flat memory at [BASE, BASE+size), an fd
// table, an FsContext on a Vfs, root credentials. Also builds SyscallArgs from numbers.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { E } from '../../sentry/abi/errno.js';
import { ARG_REGS, Regs, SyscallArgs } from '../../sentry/abi/regs.js';
import { err, isErr, type Result } from '../../sentry/abi/result.js';
import { Credentials } from '../../sentry/kernel/credentials.js';
import type { Task } from '../../sentry/kernel/task.js';
import type { AppMemory } from '../../sentry/mm/app_memory.js';
import { createDevFs, createEmptyFs } from '../../sentry/fs/dev/devfs.js';
import { GoferFs } from '../../sentry/fs/gofer/gofer_fs.js';
import { serve } from './gofer_harness.js';
import { FdTable } from '../../sentry/vfs/fd_table.js';
import { FsContext } from '../../sentry/vfs/fs_context.js';
import { Vfs } from '../../sentry/vfs/vfs.js';

export const BASE = 0x10000;

export class FakeMem implements AppMemory {
  readonly bytes: Uint8Array;
  constructor(size = 1 << 20) {
    this.bytes = new Uint8Array(size);
  }
  private range(addr: number, len: number): Result<number> {
    const off = addr - BASE;
    if (off < 0 || len < 0 || off + len > this.bytes.length) return err(E.EFAULT);
    return off;
  }
  copyIn(addr: number, len: number): Result<Uint8Array> {
    const o = this.range(addr, len);
    return isErr(o) ? o : this.bytes.slice(o, o + len);
  }
  readInto(addr: number, dst: Uint8Array): Result<void> {
    const o = this.range(addr, dst.length);
    if (isErr(o)) return o;
    dst.set(this.bytes.subarray(o, o + dst.length));
    return undefined;
  }
  copyOut(addr: number, src: Uint8Array): Result<void> {
    const o = this.range(addr, src.length);
    if (isErr(o)) return o;
    this.bytes.set(src, o);
    return undefined;
  }
  readCString(addr: number, maxLen: number): Result<string> {
    const o = this.range(addr, 1);
    if (isErr(o)) return o;
    const end = this.bytes.indexOf(0, o);
    if (end < 0) return err(E.EFAULT);
    if (end - o > maxLen) return err(E.ENAMETOOLONG);
    return Buffer.from(this.bytes.subarray(o, end)).toString('utf8');
  }
  readU32(addr: number): Result<number> {
    const b = this.copyIn(addr, 4);
    return isErr(b) ? b : new DataView(b.buffer).getUint32(0, true);
  }
  readU64(addr: number): Result<number> {
    const b = this.copyIn(addr, 8);
    return isErr(b) ? b : Number(new DataView(b.buffer).getBigUint64(0, true));
  }
  writeU32(addr: number, v: number): Result<void> {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    return this.copyOut(addr, b);
  }
  writeU64(addr: number, v: number): Result<void> {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    return this.copyOut(addr, b);
  }
  zero(addr: number, len: number): Result<void> {
    const o = this.range(addr, len);
    if (isErr(o)) return o;
    this.bytes.fill(0, o, o + len);
    return undefined;
  }

  // Test conveniences: a bump allocator and typed accessors.
  private next = BASE;
  alloc(len: number): number {
    const a = this.next;
    this.next += (len + 15) & ~15;
    return a;
  }
  cstr(s: string): number {
    const b = Buffer.from(s + '\0', 'utf8');
    const a = this.alloc(b.length);
    this.bytes.set(b, a - BASE);
    return a;
  }
  view(addr: number, len: number): DataView {
    return new DataView(this.bytes.buffer, addr - BASE, len);
  }
  text(addr: number, len: number): string {
    return Buffer.from(this.bytes.subarray(addr - BASE, addr - BASE + len)).toString('utf8');
  }
}

export interface FakeTask {
  tid: number;
  pid: number;
  mem: FakeMem;
  fds: FdTable;
  fs: FsContext;
  creds: Credentials;
  kernel: { vfs: Vfs; log: (m: string) => void };
}

export function fakeTask(vfs: Vfs, creds = new Credentials()): { t: Task; f: FakeTask } {
  const root = vfs.rootLocation();
  const f: FakeTask = {
    tid: 1, pid: 1, mem: new FakeMem(), fds: new FdTable(), fs: new FsContext(root, root),
    creds, kernel: { vfs, log: () => {} },
  };
  return { t: f as unknown as Task, f };
}

/** SyscallArgs with the given argument values (negative numbers in two's complement). */
export function args(...vals: (number | bigint)[]): SyscallArgs {
  const r = new Regs();
  vals.forEach((v, i) => {
    if (typeof v === 'bigint') r.setBig(ARG_REGS[i], v);
    else r.set(ARG_REGS[i], v);
  });
  return new SyscallArgs(r);
}

/** A fresh temp directory tree for a root filesystem; returns its path. */
export function makeTempRoot(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-vfs-'));
  fs.mkdirSync(path.join(dir, 'etc'));
  fs.writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(dir, 'etc/hostname'), 'sandbox\n');
  fs.mkdirSync(path.join(dir, 'dir/sub'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'dir/a.txt'), 'hello world\n');
  fs.writeFileSync(path.join(dir, 'dir/sub/b.txt'), 'bee\n');
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin/prog'), Buffer.from('\x7fELF-not-really'), { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'bin/data'), 'no x bit', { mode: 0o644 });
  fs.mkdirSync(path.join(dir, 'dev'));
  fs.mkdirSync(path.join(dir, 'proc'));
  fs.mkdirSync(path.join(dir, 'sys'));
  fs.symlinkSync('/etc/passwd', path.join(dir, 'abs_link'));
  fs.symlinkSync('dir/a.txt', path.join(dir, 'rel_link'));
  fs.symlinkSync('dir', path.join(dir, 'dirlink'));
  fs.symlinkSync('chain2', path.join(dir, 'chain1'));
  fs.symlinkSync('chain3', path.join(dir, 'chain2'));
  fs.symlinkSync('/abs_link', path.join(dir, 'chain3'));
  fs.symlinkSync('loop2', path.join(dir, 'loop1'));
  fs.symlinkSync('loop1', path.join(dir, 'loop2'));
  fs.symlinkSync('../../../../../../etc/hostname', path.join(dir, 'dir/escape'));
  fs.symlinkSync('/nonexistent', path.join(dir, 'dangling'));
  fs.symlinkSync('dir/', path.join(dir, 'slashlink'));
  return dir;
}

/**
 * A Vfs over dir as the sandbox sees its root: served read-only by a Gofer connection (in
 * process, on a socketpair) to a GoferFs with no caching, so changes the test makes on the
 * host show at once; devfs at /dev and empty /proc and /sys.
 */
export async function bootVfs(dir: string): Promise<Vfs> {
  const s = await serve(dir, true);
  const rootFs = await GoferFs.create(s.client, s.root, { readOnly: true, donations: s.donations, inOrder: true, dentryTtlMs: 0, attrTtlMs: 0 });
  if (isErr(rootFs)) throw new Error(`GoferFs.create: errno ${rootFs.errno}`);
  const vfs = new Vfs(rootFs, { readOnly: true });
  for (const [mfs, at] of [[createDevFs(), '/dev'], [createEmptyFs('proc'), '/proc'], [createEmptyFs('sysfs'), '/sys']] as const) {
    const m = await vfs.mount(mfs, at);
    if (isErr(m)) throw new Error(`mount ${at}: errno ${m.errno}`);
  }
  return vfs;
}
