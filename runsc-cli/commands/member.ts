// `tsvisor member` (internal, started by create): a pod's next container, run inside the
// pod's existing sandbox. This process hands its stdio (or a new pty's slave, with
// --console-socket) to the sandbox, reports "ok" on fd 3 once the container is ready, then
// lives exactly as long as the container's init and exits with its status: it is the
// process whose pid the pid file holds.

import { capSets } from '../oci/capabilities.js';
import { capsToWire } from '../../sentry/control/protocol.js';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { processRequest, request } from '../../sentry/control/client.js';
import { ociNative } from '../../sentry/control/native_oci.js';
import type { WireMount } from '../../sentry/control/protocol.js';
import { loadConfig } from '../oci/config.js';
import { parseFlags } from '../oci/flags.js';
import { planMounts } from '../oci/mounts.js';
import { parseSignal } from '../oci/signals.js';
import type { Ctx } from './context.js';
import { readyPipe } from './ready_fd.js';

const READY_FD = 3;
const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/** Which pod a container joins, from containerd's CRI or CRI-O's annotations (undefined: its own sandbox). */
export function podOf(annotations: Record<string, string>): string | undefined {
  if (annotations['io.kubernetes.cri.container-type'] === 'container') return annotations['io.kubernetes.cri.sandbox-id'];
  if (annotations['io.kubernetes.cri-o.ContainerType'] === 'container') return annotations['io.kubernetes.cri-o.SandboxID'];
  return undefined;
}

export async function memberCommand(ctx: Ctx, args: string[]): Promise<number> {
  const f = parseFlags(args, { bundle: 'string', id: 'string', pod: 'string', 'console-socket': 'string', 'ready-fd': 'bool' });
  const id = f.strings.get('id') ?? '';
  const pod = f.strings.get('pod') ?? '';
  const { report, fail } = readyPipe(ctx, READY_FD, f.bools.has('ready-fd'));
  let cfg;
  try {
    cfg = loadConfig(f.strings.get('bundle') ?? '');
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  const plan = planMounts(cfg, (line) => ctx.log.debug(line));
  if (typeof plan === 'string') return fail(plan);
  const mounts: WireMount[] = plan.map((m) => (m.kind === 'file' ? { ...m, data: Buffer.from(m.data).toString('base64') } : m));
  const n = ociNative();
  let fds = [0, 1, 2];
  const consoleSocket = f.strings.get('console-socket');
  if (cfg.process.terminal && consoleSocket !== undefined) {
    const pair = new Int32Array(2);
    // The slave is raw: the sandbox's own pty, relayed to it, does the line discipline.
    const r = n.ociOpenPty(pair, cfg.process.consoleSize?.height ?? 0, cfg.process.consoleSize?.width ?? 0, 1);
    if (r < 0) return fail(`cannot allocate a pty: errno ${-r}`);
    const sock = n.ociUnixConnect(resolve(consoleSocket));
    const sent = sock < 0 ? sock : n.ociSendFds(sock, pair.subarray(0, 1), 1);
    if (sock >= 0) n.closeFd(sock);
    n.closeFd(pair[0]);
    if (sent < 0) return fail(`cannot send the pty to ${consoleSocket}: errno ${-sent}`);
    fds = [pair[1]];
  }
  const p = cfg.process;
  const spec = {
    args: p.args, env: p.env, cwd: p.cwd, uid: p.user.uid, gid: p.user.gid,
    additionalGids: p.user.additionalGids ?? [], umask: p.user.umask, fds: fds.length,
    caps: p.capabilities === undefined ? undefined : capsToWire(capSets(p.capabilities)),
  };
  const socket = ctx.store.controlSocket(pod);
  // Signals to this process (the pid an engine knows) go to the container's init.
  for (const s of FORWARDED) {
    process.on(s, () => {
      const signo = parseSignal(s);
      if (signo !== undefined) void request(socket, { op: 'kill', signal: signo, all: false, container: id }).catch(() => undefined);
    });
  }
  let status: number;
  try {
    status = await processRequest(socket, { op: 'container', id, rootfs: cfg.root.path, readonly: cfg.root.readonly, mounts, spec }, fds, () => undefined, () => {
      if (fds.length === 1) n.closeFd(fds[0]);
      report('ok');
    });
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  try {
    writeFileSync(ctx.store.exitFile(id), String(status));
  } catch {
    // delete --force may have removed the folder already.
  }
  const sig = status & 0x7f;
  return sig !== 0 ? 128 + sig : (status >> 8) & 0xff;
}
