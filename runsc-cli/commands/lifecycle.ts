// create, start, run, kill, delete, state, list, wait: the container lifecycle, with runc's
// flags, messages and exit codes.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { ControlError, request } from '../../sentry/control/client.js';
import { applyResources, cgroupDirs, cgroupPath, createCgroups, removeCgroups, setFrozen } from '../oci/cgroups.js';
import { ConfigError, loadConfig } from '../oci/config.js';
import { parseFlags, UsageError } from '../oci/flags.js';
import { runHooks, runHooksInSandbox } from '../oci/hooks.js';
import { parseSignal } from '../oci/signals.js';
import { OCI_VERSION, type OciConfig } from '../oci/spec.js';
import { liveStatus, ociState, processStart, sandboxAlive, validId, type ContainerRecord } from '../oci/state.js';
import { CommandError, selfCommand, type Ctx } from './context.js';
import { podOf } from './member.js';

const READY_TIMEOUT_MS = 120_000;

function needId(positionals: string[], cmd: string): string {
  const id = positionals[0];
  if (id === undefined) throw new UsageError(`"${cmd}" requires a container id`);
  if (!validId(id)) throw new CommandError(`invalid container id: ${JSON.stringify(id)}`);
  return id;
}

/** Reads the container's record; a missing container is runc's "container does not exist". */
export function load(ctx: Ctx, id: string): ContainerRecord {
  const rec = ctx.store.read(id);
  if (rec === undefined) throw new CommandError(`container does not exist: ${id}`);
  return rec;
}

/** Writes a pid file atomically (engines poll for it). */
function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${process.pid}.pid.tmp`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, abs);
}

interface Created {
  rec: ContainerRecord;
  cfg: OciConfig;
  child: ChildProcess;
}

/**
 * The shared part of create and run: validate, claim the id, make cgroups, start the
 * sandbox process and wait until init is ready, run the creation hooks. On any failure
 * everything made so far is undone.
 */
async function createContainer(ctx: Ctx, id: string, bundleArg: string, consoleSocket: string | undefined, detached: boolean, preserveFds: number): Promise<Created> {
  const bundle = resolve(bundleArg);
  let cfg: OciConfig;
  try {
    cfg = loadConfig(bundle);
  } catch (e) {
    if (e instanceof ConfigError) throw new CommandError(e.message);
    throw e;
  }
  if (cfg.process.terminal && consoleSocket === undefined && detached) {
    throw new CommandError('cannot allocate tty if tsvisor will detach without setting console socket');
  }
  if (!cfg.process.terminal && consoleSocket !== undefined) {
    throw new CommandError('cannot use console socket if tsvisor will not detach or allocate tty');
  }
  // --network=host (hostinet) is handled by the sandbox process (sandbox.ts); a pod's later
  // containers share their sandbox's network whatever this command line says.
  // A pod's later container joins the sandbox of the pod's first one.
  const pod = podOf(cfg.annotations);
  if (pod !== undefined) {
    const host = pod === id ? undefined : ctx.store.read(pod);
    if (host === undefined || host.pod !== undefined) throw new CommandError(`pod sandbox ${pod} does not exist`);
    if (liveStatus(host) !== 'running') throw new CommandError(`pod sandbox ${pod} is not running`);
    if (preserveFds > 0) throw new CommandError('--preserve-fds is not supported for a pod\'s containers');
  }
  if (!ctx.store.claim(id)) throw new CommandError(`container with id exists: ${id}`);
  let dirs: string[] = [];
  let child: ChildProcess | undefined;
  try {
    const self = selfCommand();
    const consoleArgs = consoleSocket !== undefined ? ['--console-socket', resolve(consoleSocket)] : [];
    let args: string[];
    if (pod !== undefined) {
      // Its processes are the pod sandbox's: they live in that sandbox's cgroup.
      args = [...self.args, ...ctx.g.argv, 'member', '--bundle', bundle, '--id', id, '--pod', pod, '--ready-fd', ...consoleArgs];
    } else {
      dirs = cgroupDirs(cgroupPath(cfg.linux.cgroupsPath, id));
      createCgroups(dirs);
      applyResources(dirs, cfg.linux.resources);
      args = [...self.args, ...ctx.g.argv, 'sandbox', '--bundle', bundle, '--id', id, '--ready-fd',
        ...dirs.flatMap((d) => ['--cgroup', d]), ...consoleArgs];
    }
    // With a console socket init's stdio is the new pty: the sandbox must not hold create's
    // stdio, which an engine may wait on for EOF (containerd's shim does).
    const inherit = consoleSocket === undefined ? 'inherit' : 'ignore';
    // --preserve-fds: our fds 3..3+N-1 become init's, at the same numbers.
    const extra = Array.from({ length: preserveFds }, (_, i) => 3 + i);
    if (preserveFds > 0) args.push('--preserve-fds', String(preserveFds));
    child = spawn(self.file, args, { stdio: [inherit, inherit, inherit, ...extra, 'pipe'], detached });
    const ready = await readyLine(child);
    if (ready !== 'ok') throw new CommandError(ready.startsWith('error ') ? ready.slice(6) : `the sandbox failed to start${ready === '' ? '' : ': ' + ready}`);
    const pid = child.pid ?? 0;
    const rec: ContainerRecord = {
      ociVersion: OCI_VERSION,
      id,
      status: 'created',
      pid,
      pidStart: processStart(pid) ?? '',
      bundle,
      rootfs: cfg.root.path,
      created: new Date().toISOString(),
      owner: '',
      annotations: cfg.annotations,
      cgroups: dirs,
      execPids: [],
      ...(pod !== undefined ? { pod } : {}),
    };
    // The runtime spec's state during create-time hooks: still "creating".
    const state = { ...ociState(rec), status: 'creating' as const, pid };
    for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
      const e = runHooks(cfg.hooks, kind, state);
      if (e !== undefined) throw new CommandError(e);
    }
    ctx.store.write(rec);
    return { rec, cfg, child };
  } catch (e) {
    if (child?.pid !== undefined) await killAndWait(child.pid);
    removeCgroups(dirs);
    ctx.store.remove(id);
    throw e;
  }
}

/** The sandbox's first line on fd 3: "ok" or "error MSG"; "" if it died first. */
function readyLine(child: ChildProcess): Promise<string> {
  const pipe = child.stdio[child.stdio.length - 1] as Readable | null;
  return new Promise((resolve) => {
    if (pipe === null) return resolve('no ready pipe');
    let buf = '';
    const timer = setTimeout(() => finish('timed out waiting for the sandbox'), READY_TIMEOUT_MS);
    const finish = (s: string): void => {
      clearTimeout(timer);
      pipe.destroy();
      resolve(s);
    };
    pipe.setEncoding('utf8');
    pipe.on('data', (c: string) => {
      buf += c;
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(buf.slice(0, nl));
    });
    pipe.on('end', () => finish(buf.trim()));
    pipe.on('error', () => finish(buf.trim()));
  });
}

function preserveFds(v: string | undefined): number {
  if (v === undefined) return 0;
  if (!/^\d+$/.test(v) || Number(v) > 64) throw new CommandError(`invalid --preserve-fds value: ${v}`);
  return Number(v);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** SIGKILLs a host process and waits until it is gone (its stubs die with it: PTRACE_O_EXITKILL). */
async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 500 && processStart(pid) !== undefined; i++) await sleep(10);
}

export async function createCommand(ctx: Ctx, args: string[]): Promise<number> {
  const f = parseFlags(args, { bundle: 'string', 'pid-file': 'string', 'console-socket': 'string', 'preserve-fds': 'string', 'no-pivot': 'bool', 'no-new-keyring': 'bool' }, { b: 'bundle' });
  const id = needId(f.positionals, 'create');
  const { rec, child } = await createContainer(ctx, id, f.strings.get('bundle') ?? '.', f.strings.get('console-socket'), true, preserveFds(f.strings.get('preserve-fds')));
  const pidFile = f.strings.get('pid-file');
  if (pidFile !== undefined) {
    try {
      writePidFile(pidFile, rec.pid);
    } catch (e) {
      await killAndWait(rec.pid);
      removeCgroups(rec.cgroups);
      ctx.store.remove(id);
      throw new CommandError(`cannot write the pid file ${pidFile}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  child.unref();
  return 0;
}

async function startContainer(ctx: Ctx, id: string): Promise<ContainerRecord> {
  const unlock = ctx.store.lock(id);
  try {
    const rec = load(ctx, id);
    const st = liveStatus(rec);
    if (st === 'stopped') throw new CommandError('cannot start a container that has stopped');
    if (st !== 'created') throw new CommandError(`cannot start an already ${st} container`);
    const cfg = loadConfig(rec.bundle);
    const hookErr = await runHooksInSandbox(ctx.store.socketOf(rec), cfg.hooks, ociState(rec), rec.pod !== undefined ? id : undefined);
    if (hookErr !== undefined) throw new CommandError(hookErr);
    const r = await request(ctx.store.socketOf(rec), rec.pod !== undefined ? { op: 'startContainer', id } : { op: 'start' });
    if (!r.ok) throw new CommandError(r.error);
    rec.status = 'running';
    ctx.store.write(rec);
    const post = runHooks(cfg.hooks, 'poststart', ociState(rec));
    if (post !== undefined) ctx.log.warn(post);
    return rec;
  } finally {
    unlock();
  }
}

export async function startCommand(ctx: Ctx, args: string[]): Promise<number> {
  const f = parseFlags(args, {});
  await startContainer(ctx, needId(f.positionals, 'start'));
  return 0;
}

export async function runCommand(ctx: Ctx, args: string[]): Promise<number> {
  const f = parseFlags(args, { bundle: 'string', 'pid-file': 'string', 'console-socket': 'string', detach: 'bool', keep: 'bool', 'preserve-fds': 'string', 'no-pivot': 'bool', 'no-new-keyring': 'bool' }, { b: 'bundle', d: 'detach' });
  const id = needId(f.positionals, 'run');
  const detach = f.bools.has('detach');
  const { rec, child } = await createContainer(ctx, id, f.strings.get('bundle') ?? '.', f.strings.get('console-socket'), detach, preserveFds(f.strings.get('preserve-fds')));
  const pidFile = f.strings.get('pid-file');
  const exited = new Promise<number>((res) => child.once('exit', (code, sig) => res(sig !== null ? 128 + (signalNumber(sig) ?? 0) : code ?? 0)));
  try {
    if (pidFile !== undefined) writePidFile(pidFile, rec.pid);
    await startContainer(ctx, id);
  } catch (e) {
    await killAndWait(rec.pid);
    await destroy(ctx, rec);
    throw e;
  }
  if (detach) {
    child.unref();
    return 0;
  }
  // Foreground: signals to us go to init, as runc forwards them.
  const forward = (s: NodeJS.Signals): void => {
    const n = signalNumber(s);
    if (n !== undefined) void request(ctx.store.socketOf(rec), { op: 'kill', signal: n, all: false, container: rec.pod !== undefined ? id : undefined }).catch(() => undefined);
  };
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) process.on(s, forward);
  const code = await exited;
  if (!f.bools.has('keep')) await destroy(ctx, rec);
  return code;
}

function signalNumber(name: string): number | undefined {
  return parseSignal(name);
}

export async function killCommand(ctx: Ctx, args: string[]): Promise<number> {
  const f = parseFlags(args, { all: 'bool' }, { a: 'all' });
  const id = needId(f.positionals, 'kill');
  const sigArg = f.positionals[1] ?? 'SIGTERM';
  const signo = parseSignal(sigArg);
  if (signo === undefined) throw new CommandError(`invalid signal: ${sigArg}`);
  const unlock = ctx.store.lock(id);
  try {
    const rec = load(ctx, id);
    const st = liveStatus(rec);
    if (st === 'stopped') throw new CommandError('container not running');
    if (st === 'paused') {
      // A frozen Sentry cannot answer; SIGKILL is carried out on the host, anything else waits for resume.
      if (signo !== 9) throw new CommandError('container is paused: only SIGKILL can be delivered (resume it first)');
      await killAndWait(rec.pid);
      setFrozen(rec.cgroups, false);
      return 0;
    }
    if (rec.pod !== undefined && st === 'created') {
      // Not running yet: its stand-in process goes, and the sandbox drops the container.
      process.kill(rec.pid, 'SIGKILL');
      return 0;
    }
    const r = await request(ctx.store.socketOf(rec), { op: 'kill', signal: signo, all: f.bools.has('all'), container: rec.pod !== undefined ? id : undefined });
    if (!r.ok) throw new CommandError(r.error);
    return 0;
  } finally {
    unlock();
  }
}

/** Removes everything a container made: its processes, cgroups and state; runs poststop hooks. */
async function destroy(ctx: Ctx, rec: ContainerRecord): Promise<void> {
  for (const p of rec.execPids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  if (sandboxAlive(rec)) await killAndWait(rec.pid);
  let cfg: OciConfig | undefined;
  try {
    cfg = loadConfig(rec.bundle);
  } catch {
    cfg = undefined;
  }
  if (cfg !== undefined) {
    const e = runHooks(cfg.hooks, 'poststop', { ...ociState(rec), status: 'stopped', pid: 0 });
    if (e !== undefined) ctx.log.warn(e);
  }
  const left = removeCgroups(rec.cgroups);
  if (left.length > 0) ctx.log.warn(`cannot remove cgroups: ${left.join(', ')}`);
  ctx.store.remove(rec.id);
}

/**
 * delete --force of a container whose create never finished (its creator died): the
 * sandbox recorded its pid; its command line says which cgroups it joined.
 */
async function destroyHalfCreated(ctx: Ctx, id: string): Promise<void> {
  let pid = 0;
  try {
    pid = Number(readFileSync(ctx.store.sandboxPidFile(id), 'utf8'));
  } catch {
    pid = 0;
  }
  let cgroups: string[] = [];
  if (pid > 0) {
    let argv: string[] = [];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      argv = [];
    }
    const idAt = argv.indexOf('--id');
    // Only a sandbox of this container: the pid may have been reused.
    if (argv.includes('sandbox') && idAt >= 0 && argv[idAt + 1] === id) {
      cgroups = argv.flatMap((a, i) => (a === '--cgroup' && argv[i + 1] !== undefined ? [argv[i + 1]] : []));
      await killAndWait(pid);
    }
  }
  removeCgroups(cgroups);
  ctx.store.remove(id);
}

export async function deleteCommand(ctx: Ctx, args: string[]): Promise<number> {
  const f = parseFlags(args, { force: 'bool' }, { f: 'force' });
  const id = needId(f.positionals, 'delete');
  if (!ctx.store.exists(id)) {
    if (f.bools.has('force')) return 0;
    throw new CommandError(`container does not exist: ${id}`);
  }
  const unlock = ctx.store.lock(id);
  try {
    if (ctx.store.read(id) === undefined) {
      if (!f.bools.has('force')) throw new CommandError(`container ${id} is still being created`);
      await destroyHalfCreated(ctx, id);
      return 0;
    }
    const rec = load(ctx, id);
    const st = liveStatus(rec);
    if (st !== 'stopped' && st !== 'created' && !f.bools.has('force')) {
      throw new CommandError(`cannot delete container ${id} that is not stopped: ${st}`);
    }
    // A created container never ran: runc deletes it without --force.
    if (st === 'paused') setFrozen(rec.cgroups, false);
    await destroy(ctx, rec);
    return 0;
  } finally {
    unlock();
  }
}

export function stateCommand(ctx: Ctx, args: string[]): number {
  const f = parseFlags(args, {});
  const id = needId(f.positionals, 'state');
  process.stdout.write(JSON.stringify(ociState(load(ctx, id)), null, 2) + '\n');
  return 0;
}

export function listCommand(ctx: Ctx, args: string[]): number {
  const f = parseFlags(args, { format: 'string', quiet: 'bool' }, { f: 'format', q: 'quiet' });
  const format = f.strings.get('format') ?? 'table';
  if (format !== 'table' && format !== 'json') throw new CommandError(`invalid format option: ${format}`);
  const states = ctx.store.list().map((id) => ctx.store.read(id)).filter((r): r is ContainerRecord => r !== undefined).map(ociState);
  if (f.bools.has('quiet')) {
    for (const s of states) process.stdout.write(s.id + '\n');
    return 0;
  }
  if (format === 'json') {
    process.stdout.write(JSON.stringify(states.map((s) => ({
      ociVersion: s.ociVersion, id: s.id, pid: s.pid, status: s.status, bundle: s.bundle, rootfs: s.rootfs,
      created: s.created, owner: s.owner, ...(s.annotations !== undefined ? { annotations: s.annotations } : {}),
    }))) + '\n');
    return 0;
  }
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
    ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('') + '\n');
  return 0;
}

/** `wait ID`: blocks until init exits; prints {"id","exitStatus"} as runsc does. */
export async function waitCommand(ctx: Ctx, args: string[]): Promise<number> {
  const f = parseFlags(args, {});
  const id = needId(f.positionals, 'wait');
  const rec = load(ctx, id);
  let status: number | undefined;
  if (rec.pod !== undefined) {
    // A pod member's stand-in records the status when the container ends.
    while (sandboxAlive(rec)) await sleep(50);
  } else if (sandboxAlive(rec)) {
    try {
      const r = await request(ctx.store.controlSocket(id), { op: 'wait' });
      if (r.ok) status = r.status;
    } catch (e) {
      if (!(e instanceof ControlError)) throw e;
    }
  }
  if (status === undefined) {
    for (let i = 0; i < 100 && sandboxAlive(rec); i++) await sleep(20);
    status = ctx.store.exitStatus(id);
  }
  if (status === undefined) throw new CommandError(`the exit status of ${id} is unknown`);
  const sig = status & 0x7f;
  process.stdout.write(JSON.stringify({ id, exitStatus: sig !== 0 ? 128 + sig : (status >> 8) & 0xff }) + '\n');
  return 0;
}
