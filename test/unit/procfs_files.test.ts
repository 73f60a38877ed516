import { describe, expect, it } from 'vitest';
import { LockedRanges } from '../../sentry/mm/mlock.js';
import { E } from '../../sentry/abi/errno.js';
import { err, isErr, type Result } from '../../sentry/abi/result.js';
import { Credentials } from '../../sentry/kernel/credentials.js';
import type { Kernel } from '../../sentry/kernel/kernel.js';
import type { Task } from '../../sentry/kernel/task.js';
import { ProcFs } from '../../sentry/fs/proc/procfs.js';
import { TmpFs } from '../../sentry/fs/tmpfs/tmpfs.js';
import { O } from '../../sentry/vfs/constants.js';
import { FdTable } from '../../sentry/vfs/fd_table.js';
import { FsContext } from '../../sentry/vfs/fs_context.js';
import { Vfs, type PathCtx } from '../../sentry/vfs/vfs.js';

const dec = new TextDecoder();

function ok<T>(r: Result<T>): T {
  if (isErr(r)) throw new Error(`errno ${r.errno}`);
  return r;
}

/** A Vfs with procfs on /proc and one fake process (pid 7, parent pid 1). */
async function setup(): Promise<{ vfs: Vfs; task: Task; ctx: PathCtx }> {
  const tmp = new TmpFs();
  tmp.rootDir.mkdirNode('proc', 0o555, new Credentials());
  const vfs = new Vfs(tmp);
  const proc = new ProcFs();
  ok(await vfs.mount(proc, '/proc'));
  const rl = vfs.rootLocation();
  const mem = new Uint8Array(64);
  mem.set(new TextEncoder().encode('prog\0-x\0'), 0);
  const parent = { pid: 1 };
  const tg = {
    pid: 7, parent, pgid: 7, sid: 1, tasks: new Set<unknown>(), zombie: false, reaped: false, exitSignal: 17,
    startNs: 0n, sigactions: Array.from({ length: 65 }, () => ({ handler: 0n, flags: 0n, restorer: 0n, mask: 0n })),
    rlimits: Array.from({ length: 16 }, () => ({ cur: 1024n, max: 4096n })), leader: undefined as unknown,
    childrenCpuNs: 30_000_000n, cpuNsAtExit: 0n,
  };
  const task = {
    tid: 7, tg, comm: 'prog', state: 'syscall', sigmask: 0n, creds: new Credentials(), fds: new FdTable(),
    // The process has used 2.5 s of CPU, this thread 1.2 s of it.
    thread: { cpuTimeNs: () => 2_500_000_000n, threadCpuNs: () => 1_200_000_000n },
    fs: new FsContext(rl, rl, 0o022),
    mm: {
      vmas: { list: [{ start: 0x10000, end: 0x12000, prot: 5, shared: false, fileOffset: 0, growsDown: false }] },
      residentPages: 1, brkBase: 0, pt: new Map([[0x10, 1]]), locked: lockedOnePage(),
      procArgs: { argStart: 0x100, argEnd: 0x108, envStart: 0x108, envEnd: 0x108, execfn: '/bin/prog' },
      copyIn: (a: number, n: number) => mem.slice(a - 0x100, a - 0x100 + n),
    },
  };
  tg.tasks.add(task);
  tg.leader = task;
  proc.kernel = {
    groups: new Map([[7, tg]]), tasks: new Map([[7, task]]), bootNs: process.hrtime.bigint(), vfs,
    uts: { sysname: 'Linux', nodename: 'box', release: '4.4.0', version: '#1', machine: 'x86_64', domainname: '(none)' },
    platform: { memoryFile: { allocated: 10 } },
  } as unknown as Kernel;
  const t = task as unknown as Task;
  return { vfs, task: t, ctx: t as unknown as PathCtx };
}

function lockedOnePage(): LockedRanges {
  const l = new LockedRanges();
  l.add(0x10000, 0x11000);
  return l;
}

async function read(vfs: Vfs, ctx: PathCtx, p: string): Promise<string | number> {
  const f = await vfs.open(ctx, ctx.fs.cwd, p, O.RDONLY, 0);
  if (isErr(f)) return -f.errno;
  const buf = new Uint8Array(65536);
  const n = ok(await f.pread(buf, 0, {}));
  f.decRef();
  return dec.decode(buf.subarray(0, n));
}

describe('procfs', () => {
  it('resolves /proc/self to the caller', async () => {
    const { vfs, ctx } = await setup();
    expect(await vfs.readlink(ctx, ctx.fs.cwd, '/proc/self')).toBe('7');
    const anon: PathCtx = { fs: ctx.fs, creds: new Credentials() };
    expect(await vfs.readlink(anon, ctx.fs.cwd, '/proc/self')).toEqual(err(E.ENOENT));
  });

  it('formats stat, status, cmdline and maps', async () => {
    const { vfs, ctx } = await setup();
    const stat = await read(vfs, ctx, '/proc/self/stat');
    expect(stat).toMatch(/^7 \(prog\) S 1 7 1 /);
    expect(String(stat).trim().split(' ').length).toBe(52);
    // utime and cutime in ticks: the process's in /proc/[pid], the thread's in its task directory.
    expect(String(stat).split(' ').slice(13, 17)).toEqual(['250', '0', '3', '0']);
    const taskStat = await read(vfs, ctx, '/proc/7/task/7/stat');
    expect(String(taskStat).split(' ').slice(13, 17)).toEqual(['120', '0', '3', '0']);
    const status = String(await read(vfs, ctx, '/proc/7/status'));
    expect(status).toContain('Name:\tprog\n');
    expect(status).toContain('PPid:\t1\n');
    expect(status).toContain('VmRSS:\t       4 kB\n');
    expect(status).toContain('VmLck:\t       4 kB\n');
    expect(await read(vfs, ctx, '/proc/7/cmdline')).toBe('prog\0-x\0');
    expect(await read(vfs, ctx, '/proc/7/maps')).toBe('00010000-00012000 r-xp 00000000 00:00 0\n');
    expect(await vfs.readlink(ctx, ctx.fs.cwd, '/proc/7/exe')).toBe('/bin/prog');
  });

  it('lists only the sandbox processes and refuses writes', async () => {
    const { vfs, ctx } = await setup();
    expect(await read(vfs, ctx, '/proc/8/stat')).toBe(-E.ENOENT);
    expect(await vfs.open(ctx, ctx.fs.cwd, '/proc/meminfo', O.WRONLY, 0)).toEqual(err(E.EROFS));
    const limits = String(await read(vfs, ctx, '/proc/self/limits'));
    expect(limits).toContain('Max open files            1024                 4096                 files');
    expect(await read(vfs, ctx, '/proc/sys/kernel/hostname')).toBe('box\n');
    expect(String(await read(vfs, ctx, '/proc/meminfo'))).toMatch(/^MemTotal: +\d+ kB\n/);
    expect(String(await read(vfs, ctx, '/proc/self/mounts'))).toContain('proc /proc proc ro,relatime 0 0');
  });
});
