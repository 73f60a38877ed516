// `exec`: a new process in a running container. Its stdio are this command's fds (or a
// new pty with --tty), passed to the Sentry over the control socket. This command lives
// as long as the process and exits with its status; --detach leaves a copy of itself
// doing that, whose pid goes to --pid-file (what conmon and containerd's shim wait on).

import { spawn } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import * as tty from 'node:tty';
import { execRequest, request } from '../../sentry/control/client.js';
import { ociNative } from '../../sentry/control/native_oci.js';
import { capBit, capSets } from '../oci/capabilities.js';
import { capsToWire } from '../../sentry/control/protocol.js';
import type { ExecSpec } from '../../sentry/control/protocol.js';
import { ConfigError, loadConfig, validateProcess } from '../oci/config.js';
import { parseFlags, UsageError } from '../oci/flags.js';
import { parseSignal } from '../oci/signals.js';
import { liveStatus, validId } from '../oci/state.js';
import { CommandError, selfCommand, type Ctx } from './context.js';
import { readyPipe } from './ready_fd.js';
import { load } from './lifecycle.js';

const READY_FD = 3;
const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

const FLAGS = {
  process: 'string', tty: 'bool', 'console-socket': 'string', detach: 'bool', 'pid-file': 'string', cwd: 'string',
  env: 'multi', user: 'string', 'additional-gids': 'multi', cap: 'multi', 'no-new-privs': 'bool', 'preserve-fds': 'string',
  'process-label': 'string', apparmor: 'string', 'ignore-paused': 'bool', 'ready-fd': 'bool', cgroup: 'string',
} as const;
const ALIASES = { p: 'process', t: 'tty', d: 'detach', e: 'env', u: 'user', g: 'additional-gids', c: 'cap' };

function buildSpec(f: ReturnType<typeof parseFlags>, bundle: string): { spec: Omit<ExecSpec, 'fds'>; terminal: boolean } {
  let proc;
  try {
    const file = f.strings.get('process');
    if (file !== undefined) {
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new CommandError(`--process ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
      proc = validateProcess(json, 'process');
    } else {
      if (f.rest.length === 0) throw new UsageError('exec args cannot be empty');
      // Like runc: the container's process supplies env, cwd and user; the command line overrides.
      const base = loadConfig(bundle).process;
      proc = { ...base, args: f.rest, terminal: f.bools.has('tty') };
    }
  } catch (e) {
    if (e instanceof ConfigError) throw new CommandError(e.message);
    throw e;
  }
  const env = [...proc.env, ...(f.multi.get('env') ?? [])];
  for (const e of env) if (!e.includes('=')) throw new CommandError(`invalid --env "${e}": want NAME=VALUE`);
  let uid = proc.user.uid;
  let gid = proc.user.gid;
  const user = f.strings.get('user');
  if (user !== undefined) {
    const m = /^(\d+)(?::(\d+))?$/.exec(user);
    if (m === null) throw new CommandError(`invalid --user "${user}": want UID[:GID]`);
    uid = Number(m[1]);
    gid = m[2] !== undefined ? Number(m[2]) : gid;
  }
  const gids = (f.multi.get('additional-gids') ?? []).map((g) => {
    if (!/^\d+$/.test(g)) throw new CommandError(`invalid --additional-gids "${g}"`);
    return Number(g);
  });
  const cwd = f.strings.get('cwd') ?? proc.cwd;
  if (!cwd.startsWith('/')) throw new CommandError(`--cwd "${cwd}" is not an absolute path`);
  // runc's --cap: added to bounding, effective and permitted (ambient only with an inheritable set).
  const extra = f.multi.get('cap') ?? [];
  for (const c of extra) if (capBit(c) === undefined) throw new CommandError(`invalid --cap "${c}": not a capability Linux defines`);
  const pc = proc.capabilities;
  const caps = pc === undefined && extra.length === 0 ? undefined : capSets({
    bounding: [...(pc?.bounding ?? []), ...extra], effective: [...(pc?.effective ?? []), ...extra], permitted: [...(pc?.permitted ?? []), ...extra],
    inheritable: pc?.inheritable, ambient: pc?.inheritable !== undefined ? [...(pc.ambient ?? []), ...extra] : pc?.ambient,
  });
  return {
    spec: { args: proc.args, env, cwd, uid, gid, additionalGids: [...(proc.user.additionalGids ?? []), ...gids], umask: proc.user.umask,
      caps: caps === undefined ? undefined : capsToWire(caps) },
    terminal: f.bools.has('tty') || proc.terminal,
  };
}

export async function execCommand(ctx: Ctx, args: string[]): Promise<number> {
  const f = parseFlags(args, { ...FLAGS }, ALIASES, 1);
  const id = f.positionals[0];
  if (id === undefined) throw new UsageError('"exec" requires a container id');
  if (!validId(id)) throw new CommandError(`invalid container id: ${JSON.stringify(id)}`);
  if ((f.strings.get('preserve-fds') ?? '0') !== '0') throw new CommandError('exec --preserve-fds is not supported');
  const rec = load(ctx, id);
  const st = liveStatus(rec);
  if (st !== 'running') throw new CommandError(`cannot exec in a ${st} container`);
  const { spec, terminal } = buildSpec(f, rec.bundle);
  const consoleSocket = f.strings.get('console-socket');
  if (terminal && f.bools.has('detach') && consoleSocket === undefined) {
    throw new CommandError('cannot allocate tty if tsvisor will detach without setting console socket');
  }
  if (!terminal && consoleSocket !== undefined) throw new CommandError('cannot use console socket if tsvisor will not detach or allocate tty');
  if (f.bools.has('detach')) return detachExec(ctx, args, id, f.strings.get('pid-file'));

  const { report } = readyPipe(ctx, READY_FD, f.bools.has('ready-fd'));
  const n = ociNative();
  let fds = [0, 1, 2];
  let master = -1;
  if (terminal) {
    const pair = new Int32Array(2);
    const out = process.stdout.isTTY ? process.stdout : undefined;
    // The slave is raw: the sandbox's own pty, relayed to it, does the line discipline.
    const r = n.ociOpenPty(pair, out?.rows ?? 0, out?.columns ?? 0, 1);
    if (r < 0) throw new CommandError(`cannot allocate a pty: errno ${-r}`);
    if (consoleSocket !== undefined) {
      const sock = n.ociUnixConnect(resolve(consoleSocket));
      const sent = sock < 0 ? sock : n.ociSendFds(sock, pair.subarray(0, 1), 1);
      if (sock >= 0) n.closeFd(sock);
      n.closeFd(pair[0]);
      if (sent < 0) {
        n.closeFd(pair[1]);
        throw new CommandError(`cannot send the pty to the console socket ${consoleSocket}: errno ${-sent}`);
      }
    } else {
      master = pair[0];
    }
    fds = [pair[1]];
  }
  const relay = master >= 0 ? relayPty(master) : undefined;
  // Signals to this process go to the exec'd one (containerd's shim signals the pid-file pid).
  let sandboxPid = 0;
  const forward = (s: NodeJS.Signals): void => {
    const signo = parseSignal(s);
    if (sandboxPid > 0 && signo !== undefined) {
      void request(ctx.store.socketOf(rec), { op: 'kill', signal: signo, all: false, pid: sandboxPid }).catch(() => undefined);
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  let status: number;
  try {
    status = await execRequest(ctx.store.socketOf(rec), { ...spec, fds: fds.length, container: rec.pod !== undefined ? id : undefined }, fds, (pid) => {
      sandboxPid = pid;
      if (terminal) n.closeFd(fds[0]);
      report('ok');
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    report(`error ${msg}`);
    throw new CommandError(msg);
  } finally {
    relay?.stop();
  }
  const sig = status & 0x7f;
  return sig !== 0 ? 128 + sig : (status >> 8) & 0xff;
}

/** Leaves a copy of this exec running (without --detach) and writes its pid to the pid file. */
async function detachExec(ctx: Ctx, args: string[], id: string, pidFile: string | undefined): Promise<number> {
  const self = selfCommand();
  const childArgs = stripFlags(args, ['detach', 'd', 'pid-file']);
  const child = spawn(self.file, [...self.args, ...ctx.g.argv, 'exec', '--ready-fd', ...childArgs], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    detached: true,
  });
  const pipe = child.stdio[3] as Readable;
  const line = await new Promise<string>((res) => {
    let buf = '';
    pipe.setEncoding('utf8');
    pipe.on('data', (c: string) => (buf += c));
    pipe.on('end', () => res(buf.trim()));
    pipe.on('error', () => res(buf.trim()));
  });
  if (line !== 'ok') {
    throw new CommandError(line.startsWith('error ') ? line.slice(6) : 'exec failed');
  }
  const pid = child.pid ?? 0;
  if (pidFile !== undefined) {
    const abs = resolve(pidFile);
    const tmp = join(dirname(abs), `.${process.pid}.pid.tmp`);
    writeFileSync(tmp, String(pid));
    renameSync(tmp, abs);
  }
  const unlock = ctx.store.lock(id);
  try {
    const rec = ctx.store.read(id);
    if (rec !== undefined) {
      rec.execPids = [...rec.execPids.filter((p) => p !== pid), pid];
      ctx.store.write(rec);
    }
  } finally {
    unlock();
  }
  child.unref();
  return 0;
}

/** Drops the named flags (and their values) from exec's own flags; the command after the id is untouched. */
function stripFlags(args: string[], names: string[]): string[] {
  const out: string[] = [];
  let positional = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (positional > 0 || a === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (!a.startsWith('-')) {
      positional++;
      out.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const full = (ALIASES as Record<string, string>)[name] ?? name;
    const valued = (FLAGS as Record<string, string>)[full] !== 'bool';
    if (names.includes(name) || names.includes(full)) {
      if (valued && eq < 0) i++;
      continue;
    }
    out.push(a);
    if (valued && eq < 0 && i + 1 < args.length) out.push(args[++i]);
  }
  return out;
}

/** Copies between our stdio and a pty master (exec --tty without a console socket). */
function relayPty(master: number): { stop: () => void } {
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  const from = new tty.ReadStream(master);
  from.on('data', (d: Buffer) => process.stdout.write(d));
  from.on('error', () => undefined);
  const onIn = (d: Buffer): void => {
    try {
      writeSync(master, d);
    } catch {
      // The pty is gone: the process ended.
    }
  };
  stdin.on('data', onIn);
  return {
    stop: () => {
      stdin.off('data', onIn);
      stdin.pause();
      if (stdin.isTTY) stdin.setRawMode(wasRaw);
      from.destroy();
    },
  };
}
