// Boots a sandbox: platform, memory, filesystems, init. Returns init's wait status.

import { E } from './abi/errno.js';
import { isErr, type Result } from './abi/result.js';
import { createDevFs, createEmptyFs } from './fs/dev/devfs.js';
import { createHostStdio } from './fs/host/stdio.js';
import { HostDirFs } from './fs/hostdir/hostdir.js';
import { Kernel } from './kernel/kernel.js';
import { PtracePlatform } from './platform/ptrace/ptrace_platform.js';
import { Strace } from './strace/strace.js';
import { buildSyscallTable } from './syscalls/table.js';
import { FdTable } from './vfs/fd_table.js';
import { FsContext } from './vfs/fs_context.js';
import { Vfs, type PathCtx } from './vfs/vfs.js';
import { setVfsHooks } from './vfs/hooks.js';
import { SIG } from './kernel/signals.js';
import { Credentials } from './kernel/credentials.js';

export interface SandboxConfig {
  rootfs: string;
  argv: string[];
  env: string[];
  cwd: string;
  strace: boolean;
  hostname?: string;
  /** Debug log sink (unimplemented syscalls, faults); undefined discards. */
  log?: (line: string) => void;
  /** Where --strace lines go (default stderr). */
  straceOut?: (line: string) => void;
}

export type BootError = { kind: 'boot'; message: string; errno?: number };

/** Runs argv in a new sandbox; resolves with init's wait status. */
export async function runSandbox(cfg: SandboxConfig): Promise<number | BootError> {
  const log = cfg.log ?? (() => {});
  const rootFs = HostDirFs.create(cfg.rootfs);
  if (isErr(rootFs)) return { kind: 'boot', message: `cannot use ${cfg.rootfs} as the root filesystem`, errno: rootFs.errno };
  const vfs = new Vfs(rootFs, { readOnly: true });
  for (const [fs, at] of [[createDevFs(), '/dev'], [createEmptyFs('proc'), '/proc'], [createEmptyFs('sysfs'), '/sys']] as const) {
    const m = await vfs.mount(fs, at);
    if (isErr(m) && m.errno !== E.ENOENT) return { kind: 'boot', message: `cannot mount ${at}`, errno: m.errno };
  }
  let platform: PtracePlatform;
  try {
    platform = new PtracePlatform(log);
  } catch (e) {
    return { kind: 'boot', message: e instanceof Error ? e.message : String(e) };
  }
  const strace = cfg.strace ? new Strace(cfg.straceOut ?? ((l) => process.stderr.write(l + '\n'))) : undefined;
  const kernel = new Kernel({
    platform,
    vfs,
    table: buildSyscallTable(),
    strace,
    log,
    hostname: cfg.hostname ?? 'tsvisor',
    hwcap: platform.n.hwcap(),
  });
  // A write to a pipe without readers raises SIGPIPE (default action: terminate).
  setVfsHooks({ onEpipe: (t) => void kernel.sendSignal(t.tg, SIG.SIGPIPE) });
  const fds = new FdTable();
  for (const [fd, file] of createHostStdio().entries()) {
    fds.installAt(fd, file);
    file.decRef();
  }
  const creds = new Credentials();
  const fs = new FsContext(vfs.rootLocation(), vfs.rootLocation(), 0o022);
  const cwd = await vfs.walk({ fs, creds }, vfs.rootLocation(), cfg.cwd, true);
  if (isErr(cwd)) {
    platform.shutdown();
    return { kind: 'boot', message: `cannot use ${cfg.cwd} as the working directory: ${kernel.errnoName(cwd.errno)}`, errno: cwd.errno };
  }
  fs.cwd = cwd;
  const path = await resolveCommand(vfs, { fs, creds }, cfg.argv[0], cfg.env);
  if (typeof path !== 'string') {
    platform.shutdown();
    return { kind: 'boot', message: `${cfg.argv[0]}: ${path.errno === E.ENOENT ? 'command not found' : kernel.errnoName(path.errno)}`, errno: path.errno };
  }
  // argv[0] stays as the user typed it, as execvp leaves it.
  const started = await kernel.startInit(path, cfg.argv, cfg.env, fds, fs);
  if (isErr(started)) {
    platform.shutdown();
    return { kind: 'boot', message: `cannot execute ${cfg.argv[0]}: ${kernel.errnoName(started.errno)}`, errno: started.errno };
  }
  return kernel.done;
}

/** PATH lookup inside the sandbox's root, like execvp. */
async function resolveCommand(vfs: Vfs, ctx: PathCtx, cmd: string, env: string[]): Promise<string | { errno: number }> {
  if (cmd.includes('/')) return cmd;
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  let lastErr: number = E.ENOENT;
  for (const dir of pathVar.split(':')) {
    if (dir === '') continue;
    const candidate = `${dir.replace(/\/$/, '')}/${cmd}`;
    const r: Result<unknown> = await vfs.statPath(ctx.fs, candidate, ctx.creds);
    if (!isErr(r)) return candidate;
    if (r.errno !== E.ENOENT && r.errno !== E.ENOTDIR) lastErr = r.errno;
  }
  return { errno: lastErr };
}
