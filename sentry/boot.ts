// Boots a sandbox: platform, memory, filesystems, init. Returns init's wait status.

import { E } from './abi/errno.js';
import { isErr, type Result } from './abi/result.js';
import { createDevFs } from './fs/dev/devfs.js';
import { ProcFs } from './fs/proc/procfs.js';
import { SysFs } from './fs/sys/sysfs.js';
import { createHostStdio } from './fs/host/stdio.js';
import { DevptsFs } from './fs/devpts/devpts.js';
import { openHostTerminal, type HostStreams } from './fs/devpts/host_terminal.js';
import { goferFilesystem } from './fs/gofer/mount_gofer.js';
import { OverlayFs } from './fs/overlay/overlay.js';
import { mkdirAll } from './control/oci_root.js';
import { writeBacksSettled } from './fs/gofer/page_cache.js';
import { TmpFs } from './fs/tmpfs/tmpfs.js';
import { Kernel } from './kernel/kernel.js';
import { PtracePlatform } from './platform/ptrace/ptrace_platform.js';
import { packageRoot } from './platform/ptrace/native.js';
import { hostHasInvariantTsc, Vdso } from './loader/vdso.js';
import { VdsoClock } from './kernel/vdso_clock.js';
import { Strace } from './strace/strace.js';
import { SyscallProfile } from './profile/syscall_profile.js';
import { SYSCALL_NAMES } from './abi/sysno.js';
import { buildSyscallTable } from './syscalls/table.js';
import { FdTable } from './vfs/fd_table.js';
import { FsContext } from './vfs/fs_context.js';
import { MNT } from './vfs/mount.js';
import { Vfs, type PathCtx } from './vfs/vfs.js';
import { setVfsHooks } from './vfs/hooks.js';
import { SIG } from './kernel/signals.js';
import { CAP_FULL, Credentials, type CapSets } from './kernel/credentials.js';
import type { IdMaps } from './kernel/id_map.js';
import type { FileDescription } from './vfs/file.js';
import { configureNetwork, type NetworkConfig } from './socket/inet/outside_link.js';
import { enableHostinet } from './socket/hostinet/hostinet.js';

export interface SandboxConfig {
  rootfs: string;
  argv: string[];
  env: string[];
  cwd: string;
  strace: boolean;
  hostname?: string;
  /** Debug log sink (unimplemented syscalls, faults); undefined discards. */
  log?: (line: string) => void;
  /** --profile: print per-syscall times when the sandbox ends (to profileOut, default stderr). */
  profile?: boolean;
  profileOut?: (line: string) => void;
  /** Where --strace lines go (default stderr). */
  straceOut?: (line: string) => void;
  /** OCI containers: init's stdio (each holding one reference; default: the host's 0, 1, 2). */
  stdio?: FileDescription[];
  /** `do -t`: init gets a pty (its controlling terminal) relayed to the host's stdin/stdout. */
  tty?: boolean;
  /** With tty: the host terminal to relay (default the Sentry's stdin/stdout; OCI: a console-socket pty). */
  ttyStreams?: HostStreams;
  /** init's identity and umask (default root, 022). */
  user?: { uid: number; gid: number; groups: number[] };
  /** init's capability sets (OCI process.capabilities); default: all for root, none otherwise. */
  caps?: CapSets;
  umask?: number;
  domainname?: string;
  /** init's rlimits (resource number, soft, hard), replacing Linux's defaults. */
  rlimits?: { resource: number; cur: bigint; max: bigint }[];
  /** Paths that get a fresh tmpfs each, "PATH" or "PATH,size=BYTES" (OCI containers: /tmp; `do --tmpfs DIR`). */
  tmpfs?: string[];
  /** false: the root stays read-only instead of under a writable in-memory overlay. */
  overlay?: boolean;
  /** Host directories bind-mounted into the sandbox, each served by a Gofer; writable unless readOnly. */
  binds?: { source: string; destination: string; readOnly?: boolean }[];
  /** OCI containers: builds the config's mounts once the standard ones exist; returns an error message. */
  prepareRoot?: (vfs: Vfs) => Promise<string | undefined>;
  /**
   * Called once init is ready to run (OCI create); init runs when it resolves with
   * undefined. A wait status instead ends the sandbox with it before init ever runs.
   */
  startGate?: (kernel: Kernel) => Promise<number | undefined>;
  /** The user namespace's id mappings (OCI linux.uidMappings/gidMappings); default: every id. */
  idMaps?: IdMaps;
  /** Values shown under /proc/sys (OCI linux.sysctl), by path there ("net/ipv4/ip_forward"). */
  sysctl?: Map<string, string>;
  /** The sandbox's network (default: loopback only, made at the first socket). */
  network?: NetworkConfig;
  /** --network=host: AF_INET/AF_INET6 sockets are host sockets the Sentry drives (socket/hostinet). */
  hostNetwork?: boolean;
  /** Confines the Sentry once booted (before init runs); returns an error message. */
  confine?: () => string | undefined;
}

export type BootError = { kind: 'boot'; message: string; errno?: number };

/** Runs argv in a new sandbox; resolves with init's wait status. */
export async function runSandbox(cfg: SandboxConfig): Promise<number | BootError> {
  const log = cfg.log ?? (() => {});
  // The root and each bind mount are served by a Gofer of their own (the Sentry opens no host path).
  const rootFs = await goferFilesystem(cfg.rootfs, { readOnly: true, log });
  if (isErr(rootFs)) return { kind: 'boot', message: `cannot use ${cfg.rootfs} as the root filesystem`, errno: rootFs.errno };
  // gVisor's default: the read-only root under a writable overlay held in memory.
  const vfs = cfg.overlay === false ? new Vfs(rootFs, { readOnly: true }) : new Vfs(new OverlayFs(rootFs));
  const procfs = new ProcFs();
  for (const [k, v] of cfg.sysctl ?? []) procfs.sysctl.set(k, v);
  const devpts = new DevptsFs();
  // /dev/shm is a tmpfs of its own (POSIX shared memory, shm_open), as in containers.
  // The kernel filesystems show as rw with Docker's flags (their files still refuse what Linux refuses).
  const kernelMount = { readOnly: false, flags: MNT.NOSUID | MNT.NODEV | MNT.NOEXEC };
  for (const [fs, at, opts] of [[createDevFs(devpts), '/dev', { readOnly: false, flags: MNT.NOSUID }],
    [devpts, '/dev/pts', { readOnly: false, flags: MNT.NOSUID | MNT.NOEXEC }], [new TmpFs({ source: 'shm' }), '/dev/shm', kernelMount],
    [procfs, '/proc', kernelMount], [new SysFs(procfs.host.cpus.length), '/sys', kernelMount],
    ...(cfg.tmpfs ?? []).map((spec) => [...tmpfsMount(spec), {}] as const)] as const) {
    const m = await vfs.mount(fs, at, opts);
    if (isErr(m) && m.errno !== E.ENOENT) return { kind: 'boot', message: `cannot mount ${at}`, errno: m.errno };
  }
  for (const b of cfg.binds ?? []) {
    const bfs = await goferFilesystem(b.source, { readOnly: b.readOnly === true, log });
    const made = isErr(bfs) ? bfs : await mkdirAll(vfs, { fs: new FsContext(vfs.rootLocation(), vfs.rootLocation(), 0o022), creds: new Credentials() }, b.destination);
    const m = isErr(bfs) ? bfs : isErr(made) ? made : await vfs.mount(bfs, b.destination);
    if (isErr(m)) return { kind: 'boot', message: `cannot bind-mount ${b.source} on ${b.destination}`, errno: m.errno };
  }
  const prepared = await cfg.prepareRoot?.(vfs);
  if (prepared !== undefined) return { kind: 'boot', message: prepared };
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
  procfs.kernel = kernel;
  kernel.clock = VdsoClock.create(platform.n, platform.memoryFile, hostHasInvariantTsc());
  if (kernel.clock !== undefined) kernel.vdso = Vdso.load(packageRoot(), kernel.clock.ppn);
  if (cfg.idMaps !== undefined) kernel.idMaps = cfg.idMaps;
  if (cfg.hostNetwork === true) enableHostinet(kernel);
  if (cfg.network !== undefined) {
    const net = configureNetwork(kernel, cfg.network);
    if (isErr(net)) {
      platform.shutdown();
      return { kind: 'boot', message: 'cannot set up the sandbox network', errno: net.errno };
    }
  }
  // A write to a pipe without readers raises SIGPIPE (default action: terminate).
  setVfsHooks({ onEpipe: (t) => void kernel.sendSignal(t.tg, SIG.SIGPIPE) });
  const profile = cfg.profile === true ? (kernel.profile = SyscallProfile.start()) : undefined;
  const fds = new FdTable();
  const terminal = cfg.tty === true && cfg.stdio === undefined ? await openHostTerminal(devpts, async (n) => {
    const l = await vfs.walk({ fs: new FsContext(vfs.rootLocation(), vfs.rootLocation(), 0o022), creds: new Credentials() }, vfs.rootLocation(), `/dev/pts/${n}`, true);
    return isErr(l) ? null : l;
  }, cfg.ttyStreams) : undefined;
  if (isErr(terminal)) return { kind: 'boot', message: 'cannot create a pty for the terminal', errno: terminal.errno };
  for (const [fd, file] of (cfg.stdio ?? terminal?.stdio ?? createHostStdio()).entries()) {
    fds.installAt(fd, file);
    file.decRef();
  }
  const u = cfg.user;
  // A non-root init has no capabilities (as after execve by a non-root user).
  const caps = u === undefined || u.uid === 0 ? CAP_FULL : 0n;
  const creds = cfg.caps !== undefined ? Credentials.withCaps(u?.uid ?? 0, u?.gid ?? 0, u?.groups ?? [], cfg.caps)
    : u === undefined ? new Credentials() : new Credentials(u.uid, u.gid, u.uid, u.gid, u.uid, u.gid, u.uid, u.gid, [...u.groups], caps, caps);
  const fs = new FsContext(vfs.rootLocation(), vfs.rootLocation(), cfg.umask ?? 0o022);
  if (cfg.domainname !== undefined) kernel.uts.domainname = cfg.domainname;
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
  const confined = cfg.confine?.();
  if (confined !== undefined) {
    platform.shutdown();
    return { kind: 'boot', message: confined };
  }
  if (cfg.startGate !== undefined) {
    const end = await cfg.startGate(kernel);
    if (end !== undefined) {
      fds.closeAll();
      platform.shutdown();
      return end;
    }
  }
  // argv[0] stays as the user typed it, as execvp leaves it.
  const starting = kernel.startInit(path, cfg.argv, cfg.env, fds, fs, creds, cfg.rlimits);
  // startInit has created init's session synchronously: the pty controls it before init runs.
  terminal?.attachInit(kernel);
  const started = await starting;
  if (isErr(started)) {
    await terminal?.close();
    platform.shutdown();
    return { kind: 'boot', message: `cannot execute ${cfg.argv[0]}: ${kernel.errnoName(started.errno)}`, errno: started.errno };
  }
  const status = await kernel.done;
  // Shared mappings of bind-mounted files unmapped at exit are still being written back.
  await writeBacksSettled();
  await terminal?.close();
  if (profile !== undefined) for (const line of profile.report(SYSCALL_NAMES)) (cfg.profileOut ?? ((l) => process.stderr.write(l + '\n')))(line);
  return status;
}

/** A tmpfs mount spec: "PATH" or "PATH,size=BYTES". */
function tmpfsMount(spec: string): readonly [TmpFs, string] {
  const m = /^(.*),size=(\d+)$/.exec(spec);
  return m === null ? [new TmpFs(), spec] : [new TmpFs({ sizeBytes: Number(m[2]) }), m[1]];
}

/** PATH lookup inside the sandbox's root, like execvp. */
export async function resolveCommand(vfs: Vfs, ctx: PathCtx, cmd: string, env: string[]): Promise<string | { errno: number }> {
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
