// `tsvisor sandbox` (internal, started by create/run): the sandbox process. It joins the
// container's cgroups, boots the Sentry on the bundle's root, serves the control socket,
// reports "ok" (or "error MSG") on fd 3 once init is ready, runs init when `start` comes,
// and exits with init's status: it is the process whose pid the pid file holds. Except for
// a pod's sandbox, the Sentry is a confined child of it (`--sentry-child`, invariant 6).

import { appendFileSync, closeSync, openSync, readFileSync, readlinkSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import type { Server } from 'node:net';
import { dirname, join } from 'node:path';
import { brokeredGofers, serveGofers } from '../../sentry/control/gofer_broker.js';
import { confineSentry } from '../../sentry/confine/confine.js';
import { sentryConfineNative } from '../../sentry/confine/native_sentry.js';
import { waitForChild } from '../../sentry/confine/sentry_process.js';
import { PassThrough } from 'node:stream';
import * as tty from 'node:tty';
import { runSandbox } from '../../sentry/boot.js';
import { ControlServer } from '../../sentry/control/server.js';
import { SandboxControl } from '../../sentry/control/sandbox_control.js';
import { ociNative } from '../../sentry/control/native_oci.js';
import { PassedFdFile } from '../../sentry/control/passed_fd.js';
import { createHostStdio } from '../../sentry/fs/host/stdio.js';
import { buildRoot } from '../../sentry/control/oci_root.js';
import { restrictPaths } from '../../sentry/control/oci_paths.js';
import { planMounts } from '../oci/mounts.js';
import { O } from '../../sentry/vfs/constants.js';
import type { HostStreams } from '../../sentry/fs/devpts/host_terminal.js';
import { joinCgroups } from '../oci/cgroups.js';
import { loadConfig, RLIMITS } from '../oci/config.js';
import { capSets } from '../oci/capabilities.js';
import { sysctlPath } from '../oci/sysctl.js';
import { IdMaps } from '../../sentry/kernel/id_map.js';
import { parseFlags } from '../oci/flags.js';
import type { OciConfig } from '../oci/spec.js';
import type { Ctx } from './context.js';
import { readyPipe } from './ready_fd.js';

/** Host signals the sandbox process passes on to init (an engine may signal the pid directly). */
const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
const SIGNO: Record<(typeof FORWARDED)[number], number> = { SIGTERM: 15, SIGINT: 2, SIGHUP: 1, SIGQUIT: 3, SIGUSR1: 10, SIGUSR2: 12 };

export async function sandboxCommand(ctx: Ctx, args: string[]): Promise<number> {
  const f = parseFlags(args, { bundle: 'string', id: 'string', 'console-socket': 'string', cgroup: 'multi', 'ready-fd': 'bool', 'preserve-fds': 'string', 'sentry-child': 'bool', 'console-pty': 'string', 'gofer-broker': 'string' });
  const preserved = Number(f.strings.get('preserve-fds') ?? '0');
  // The creator's extra fds (--preserve-fds) sit at 3.., the ready pipe right after them.
  const READY_FD = 3 + preserved;
  const id = f.strings.get('id') ?? '';
  const bundle = f.strings.get('bundle') ?? '';
  const hasReadyFd = f.bools.has('ready-fd');
  // Invariant 6: this process stays on the host (its pid is the pid file's); a child of it in
  // new namespaces is the Sentry, confined once booted.
  const sentryChild = f.bools.has('sentry-child');
  const { report, fail } = readyPipe(ctx, READY_FD, hasReadyFd);
  let cfg: OciConfig;
  try {
    // Lets delete --force find us even if create dies before recording the container.
    if (!sentryChild) writeFileSync(ctx.store.sandboxPidFile(id), String(process.pid));
    cfg = loadConfig(bundle);
    // The Sentry child inherits both.
    if (!sentryChild) joinCgroups(f.multi.get('cgroup') ?? [], process.pid);
    if (!sentryChild && cfg.process.oomScoreAdj !== undefined) writeFileSync('/proc/self/oom_score_adj', String(cfg.process.oomScoreAdj));
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  const netnsPath = cfg.linux.namespaces.find((n) => n.type === 'network')?.path;
  const hostNet = ctx.g.network === 'host';
  if (!sentryChild) {
    const keep = hasReadyFd ? READY_FD + 1 : 3 + preserved;
    // The console is set up here: this process leads the session, so the engine's resizes
    // reach it (and go on to the Sentry); the Sentry opens the slave by its name.
    const slave = sendConsole(cfg, f.strings.get('console-socket'));
    if (typeof slave === 'string') return fail(slave);
    const extra = slave !== undefined ? ['--console-pty', readlinkSync(`/proc/self/fd/${slave}`)] : [];
    // A pod's sandbox needs Gofers for the containers that join it later: we start them.
    let broker: { path: string; server: Server } | undefined;
    if (isPodSandbox(cfg)) {
      const path = join(dirname(ctx.store.exitFile(id)), GOFER_BROKER);
      try {
        broker = { path, server: await serveGofers(path, (line) => ctx.log.error(line)) };
      } catch (e) {
        return fail(`cannot listen on ${path}: ${e instanceof Error ? e.message : String(e)}`);
      }
      extra.push('--gofer-broker', path);
    }
    const code = await superviseSentry(ctx, id, keep, extra, (msg) => fail(msg));
    if (broker !== undefined) {
      broker.server.close();
      rmSync(broker.path, { force: true });
    }
    return code;
  }
  // Opened before confinement: the confined Sentry opens no host path.
  const statusFd = sentryChild ? openSync(join(dirname(ctx.store.exitFile(id)), SENTRY_STATUS), 'w') : undefined;
  const plan = planMounts(cfg, (line) => ctx.log.debug(line));
  if (typeof plan === 'string') return fail(plan);
  const ptyPath = f.strings.get('console-pty');
  const term = ptyPath !== undefined ? consoleStreams(openSync(ptyPath, 'r+')) : openConsole(cfg, f.strings.get('console-socket'));
  if (typeof term === 'string') return fail(term);
  const stdio = preserved > 0
    ? [...createHostStdio(), ...Array.from({ length: preserved }, (_, i) => new PassedFdFile(3 + i, O.RDWR))]
    : undefined;

  let finished!: (status: number) => void;
  const done = new Promise<number>((resolve) => (finished = resolve));
  // Connected before confinement: the confined Sentry cannot connect by path.
  const brokerPath = f.strings.get('gofer-broker');
  const brokerFd = brokerPath !== undefined ? ociNative().ociUnixConnect(brokerPath) : undefined;
  if (brokerFd !== undefined && brokerFd < 0) return fail(`cannot connect to the Gofer broker ${brokerPath ?? ''}: errno ${-brokerFd}`);
  const control = new SandboxControl(() => report('ok'), brokerFd !== undefined ? brokeredGofers(brokerFd) : undefined);
  const server = new ControlServer(ctx.store.controlSocket(id), control, done);
  try {
    await server.listen();
  } catch (e) {
    return fail(`cannot listen on the control socket: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const s of FORWARDED) process.on(s, () => void control.kill(SIGNO[s], false));

  const debugLog = ctx.g.debugLog;
  const debugFd = debugLog !== undefined ? openSync(debugLog, 'a') : undefined;
  const log = debugFd !== undefined
    ? (line: string) => appendFileSync(debugFd, `${new Date().toISOString()} ${id}: ${line}\n`)
    : ctx.g.debug ? (line: string) => ctx.log.debug(line) : undefined;
  const r = await runSandbox({
    rootfs: cfg.root.path,
    argv: cfg.process.args,
    env: cfg.process.env,
    cwd: cfg.process.cwd,
    strace: ctx.g.strace,
    log,
    hostname: cfg.hostname,
    // kernel.domainname is the UTS namespace's domain name, as setdomainname(2) sets it.
    domainname: cfg.domainname ?? sysctlValue(cfg, 'kernel/domainname'),
    idMaps: cfg.linux.uidMappings.length === 0 ? undefined : new IdMaps(
      cfg.linux.uidMappings.map((m) => ({ inside: m.containerID, outside: m.hostID, size: m.size })),
      cfg.linux.gidMappings.map((m) => ({ inside: m.containerID, outside: m.hostID, size: m.size }))),
    sysctl: new Map(Object.entries(cfg.linux.sysctl).map(([k, v]) => [sysctlPath(k), v] as const).filter(([k]) => k !== 'kernel/domainname')),
    stdio,
    tty: term !== undefined,
    ttyStreams: term,
    user: { uid: cfg.process.user.uid, gid: cfg.process.user.gid, groups: cfg.process.user.additionalGids ?? [] },
    umask: cfg.process.user.umask,
    caps: cfg.process.capabilities === undefined ? undefined : capSets(cfg.process.capabilities),
    rlimits: cfg.process.rlimits.map((l) => ({ resource: RLIMITS[l.type], cur: BigInt(l.soft), max: BigInt(l.hard) })),
    prepareRoot: async (vfs) => {
      const e = await buildRoot(vfs, plan, log ?? (() => {})) ?? await restrictPaths(vfs, cfg.linux.readonlyPaths, cfg.linux.maskedPaths);
      // Like runc's final remount: the root turns read-only once its mount points exist.
      if (e === undefined && cfg.root.readonly) vfs.rootLocation().mount.readOnly = true;
      return e;
    },
    startGate: control.startGate,
    // A namespace path (CNI's pod network): its interfaces become the sandbox's; else loopback
    // only. --network=host: the config's namespace is ignored, sockets are the host's (hostinet).
    network: netnsPath !== undefined && !hostNet ? { mode: 'sandbox', nsPath: netnsPath } : undefined,
    hostNetwork: hostNet,
    confine: sentryChild ? () => confineSentry({ pivot: true, hostNetwork: hostNet }) : undefined,
  });
  if (typeof r !== 'number') {
    server.close();
    return fail(r.message);
  }
  if (statusFd !== undefined) {
    // The parent records it as the exit file and dies the same way.
    writeSync(statusFd, String(r));
    closeSync(statusFd);
  } else {
    try {
      writeFileSync(ctx.store.exitFile(id), String(r));
    } catch {
      // delete --force may have removed the folder already.
    }
  }
  finished(r);
  // Let `wait` callers read the status before the socket goes.
  await new Promise((res) => setTimeout(res, 20));
  server.close();
  if (sentryChild) return 0;
  return dieLike(r);
}

/** Where the confined Sentry child leaves init's wait status for its parent. */
const SENTRY_STATUS = 'sentry_status';
/** The socket on which a pod sandbox's Sentry asks its parent for Gofers. */
const GOFER_BROKER = 'gofer.sock';

/** CRI/CRI-O's pod sandbox (the pause container): other containers join it later. */
function isPodSandbox(cfg: OciConfig): boolean {
  const a = cfg.annotations ?? {};
  return a['io.kubernetes.cri.container-type'] === 'sandbox' || a['io.kubernetes.cri-o.ContainerType'] === 'sandbox';
}

/**
 * The host side of a confined sandbox: starts this command again as the Sentry in new
 * namespaces, passes on signals, and when it ends records init's status and exits the
 * same way, so the pid file's pid lives exactly as long as init.
 */
async function superviseSentry(ctx: Ctx, id: string, keepFds: number, extraArgs: string[], fail: (msg: string) => number): Promise<number> {
  const n = sentryConfineNative();
  const argv = [process.execPath, ...process.execArgv, process.argv[1], ...process.argv.slice(2), '--sentry-child', ...extraArgs];
  // A new network namespace: the config's (CNI's) one is entered by the booting Sentry only
  // while it opens its packet sockets there (outside_link.ts). --network=host keeps the host's.
  const pid = n.sentrySpawn(process.execPath, argv, keepFds, '', ctx.g.network === 'host' ? 0 : 1);
  if (pid < 0) return fail(`cannot start the Sentry in new namespaces: errno ${-pid}`);
  // The child holds the ready pipe and the preserved fds now: the creator must see its EOF only.
  for (let fd = 3; fd < keepFds; fd++) {
    try {
      closeSync(fd);
    } catch {
      // Not ours to begin with.
    }
  }
  for (const s of [...FORWARDED, 'SIGWINCH'] as const) process.on(s, () => {
    try {
      process.kill(pid, s);
    } catch {
      // Already gone: its status follows.
    }
  });
  const status = await waitForChild(pid);
  const statusPath = join(dirname(ctx.store.exitFile(id)), SENTRY_STATUS);
  let r = status < 0 ? 0x7f00 : status;
  try {
    const text = readFileSync(statusPath, 'utf8').trim();
    if (text !== '' && Number.isInteger(Number(text))) r = Number(text);
    else ctx.log.error(`the Sentry ended before init did (wait status ${status})`);
    rmSync(statusPath, { force: true });
    writeFileSync(ctx.store.exitFile(id), String(r));
  } catch {
    // delete --force may have removed the folder already.
  }
  try {
    rmSync(ctx.store.controlSocket(id), { force: true });
  } catch {
    // Already gone.
  }
  return dieLike(r);
}

/** Exit as init did: its exit code, or death by its signal so whoever waits on us sees it. */
async function dieLike(r: number): Promise<number> {
  const sig = r & 0x7f;
  if (sig !== 0) {
    // Die the way init died, so whoever waits on this pid sees the same signal.
    for (const s of FORWARDED) process.removeAllListeners(s);
    try {
      process.kill(process.pid, sig);
    } catch {
      // Fall through to the shell convention.
    }
    await new Promise((res) => setTimeout(res, 100));
    return 128 + sig;
  }
  return (r >> 8) & 0xff;
}

/**
 * process.terminal with --console-socket: a host pty whose master goes to the engine (as
 * runc sends it). The Sentry relays its slave to a pty of its own devpts, so the line
 * discipline, job control and ttyname are the sandbox's. The slave becomes this process's
 * controlling terminal, so the engine's resizes arrive as SIGWINCH.
 */
function openConsole(cfg: OciConfig, consoleSocket: string | undefined): HostStreams | string | undefined {
  const slave = sendConsole(cfg, consoleSocket);
  return typeof slave === 'number' ? consoleStreams(slave) : slave;
}

/** The host pty's slave fd once its master went to the engine (and became our ctty if it could). */
function sendConsole(cfg: OciConfig, consoleSocket: string | undefined): number | string | undefined {
  if (!cfg.process.terminal || consoleSocket === undefined) return undefined;
  const n = ociNative();
  const pair = new Int32Array(2);
  const size = cfg.process.consoleSize;
  const r = n.ociOpenPty(pair, size?.height ?? 0, size?.width ?? 0, 1);
  if (r < 0) return `cannot allocate a pty: errno ${-r}`;
  const sock = n.ociUnixConnect(consoleSocket);
  if (sock < 0) {
    n.closeFd(pair[0]);
    n.closeFd(pair[1]);
    return `cannot connect to the console socket ${consoleSocket}: errno ${-sock}`;
  }
  const sent = n.ociSendFds(sock, pair.subarray(0, 1), 1);
  n.closeFd(sock);
  n.closeFd(pair[0]);
  if (sent < 0) {
    n.closeFd(pair[1]);
    return `cannot send the pty to ${consoleSocket}: errno ${-sent}`;
  }
  // Not fatal: without it only resizes are lost (the creator may not have made us a session leader).
  n.ociSetCtty(pair[1]);
  return pair[1];
}

function consoleStreams(slave: number): HostStreams {
  // The relay sees a plain stream: it must not put the slave in libuv's raw mode, which
  // keeps ONLCR (output would get \r\r\n); the slave is fully raw already.
  const input = new PassThrough();
  new tty.ReadStream(slave).pipe(input);
  const output = new tty.WriteStream(slave);
  process.on('SIGWINCH', () => {
    const [cols, rows] = output.getWindowSize();
    output.columns = cols;
    output.rows = rows;
    output.emit('resize');
  });
  return { input, output };
}

function sysctlValue(cfg: OciConfig, path: string): string | undefined {
  return Object.entries(cfg.linux.sysctl).find(([k]) => sysctlPath(k) === path)?.[1];
}
