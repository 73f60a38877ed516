// spec, features, ps, events, pause, resume, update.

import { hostPidsOf } from '../../sentry/confine/host_pids.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ControlError, request } from '../../sentry/control/client.js';
import { applyResources, cgroupStats, setFrozen } from '../oci/cgroups.js';
import { ConfigError, MOUNT_TYPES, validateResources } from '../oci/config.js';
import { parseFlags, UsageError } from '../oci/flags.js';
import { defaultSpec, HOOK_KINDS, NAMESPACE_TYPES, OCI_VERSION, type OciResources } from '../oci/spec.js';
import { liveStatus, validId } from '../oci/state.js';
import { CommandError, type Ctx } from './context.js';
import { load } from './lifecycle.js';

function needId(positionals: string[], cmd: string): string {
  const id = positionals[0];
  if (id === undefined) throw new UsageError(`"${cmd}" requires a container id`);
  if (!validId(id)) throw new CommandError(`invalid container id: ${JSON.stringify(id)}`);
  return id;
}

export function specCommand(_ctx: Ctx, args: string[]): number {
  const f = parseFlags(args, { bundle: 'string', rootless: 'bool' }, { b: 'bundle' });
  const file = join(resolve(f.strings.get('bundle') ?? '.'), 'config.json');
  if (existsSync(file)) throw new CommandError('File config.json exists. Remove it first.');
  writeFileSync(file, JSON.stringify(defaultSpec(f.bools.has('rootless')), null, '\t') + '\n');
  return 0;
}

export function featuresCommand(_ctx: Ctx, args: string[]): number {
  parseFlags(args, {});
  const features = {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_KINDS],
    mountOptions: ['bind', 'rbind', 'ro', 'rw', 'nosuid', 'nodev', 'noexec', 'relatime', 'strictatime', 'noatime', 'mode', 'size'],
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: [],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      mountTypes: MOUNT_TYPES,
    },
    annotations: { 'io.github.tsvisor.platform': 'ptrace' },
  };
  process.stdout.write(JSON.stringify(features, null, 4) + '\n');
  return 0;
}

/** Host pids of the sandbox's processes (the stubs running them), as runc's ps reports. */
async function hostPids(ctx: Ctx, id: string): Promise<number[]> {
  const rec = load(ctx, id);
  const st = liveStatus(rec);
  if (st === 'stopped') return [];
  if (st === 'paused') throw new CommandError('container is paused');
  const r = await request(ctx.store.socketOf(rec), { op: 'ps', container: rec.pod !== undefined ? id : undefined });
  if (!r.ok) throw new CommandError(r.error);
  // A pod member's processes run in its pod sandbox's Sentry.
  return hostPidsOf(rec.pod !== undefined ? load(ctx, rec.pod).pid : rec.pid, (r.processes ?? []).map((p) => p.hostPid));
}

export async function psCommand(ctx: Ctx, args: string[]): Promise<number> {
  const f = parseFlags(args, { format: 'string' }, { f: 'format' }, 1);
  const id = needId(f.positionals, 'ps');
  const format = f.strings.get('format') ?? 'table';
  if (format !== 'table' && format !== 'json') throw new CommandError(`invalid format option: ${format}`);
  const pids = await hostPids(ctx, id);
  if (format === 'json') {
    process.stdout.write(JSON.stringify(pids) + '\n');
    return 0;
  }
  // Like runc: the host's ps output (default -ef), kept to the container's lines.
  const r = spawnSync('ps', f.rest.length > 0 ? f.rest : ['-ef'], { encoding: 'utf8' });
  if (r.status !== 0) throw new CommandError(`ps failed: ${r.stderr}`);
  const lines = r.stdout.split('\n');
  const col = lines[0].trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new CommandError("couldn't find PID field in ps output");
  const want = new Set(pids);
  process.stdout.write(lines[0] + '\n');
  for (const l of lines.slice(1)) if (want.has(Number(l.trim().split(/\s+/)[col]))) process.stdout.write(l + '\n');
  return 0;
}

async function statsEvent(ctx: Ctx, id: string): Promise<unknown> {
  const rec = load(ctx, id);
  const data = cgroupStats(rec.cgroups);
  if (liveStatus(rec) === 'running') {
    try {
      const r = await request(ctx.store.controlSocket(id), { op: 'stats' }, 5000);
      // The sandbox's own count of processes: what the container sees, not the Sentry's helpers.
      if (r.ok && r.stats !== undefined) data.pids = { ...(data.pids as object), current: r.stats.pids };
    } catch (e) {
      if (!(e instanceof ControlError)) throw e;
    }
  }
  return { type: 'stats', id, data };
}

export async function eventsCommand(ctx: Ctx, args: string[]): Promise<number> {
  const f = parseFlags(args, { stats: 'bool', interval: 'string' });
  const id = needId(f.positionals, 'events');
  if (f.bools.has('stats')) {
    process.stdout.write(JSON.stringify(await statsEvent(ctx, id)) + '\n');
    return 0;
  }
  const iv = f.strings.get('interval') ?? '5s';
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(iv);
  if (m === null) throw new CommandError(`invalid interval: ${iv}`);
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (ms <= 0) throw new CommandError('duration interval must be greater than 0');
  for (;;) {
    const rec = ctx.store.read(id);
    if (rec === undefined || liveStatus(rec) === 'stopped') return 0;
    process.stdout.write(JSON.stringify(await statsEvent(ctx, id)) + '\n');
    await new Promise((r) => setTimeout(r, ms));
  }
}

function pauseResume(ctx: Ctx, args: string[], pause: boolean): number {
  const f = parseFlags(args, {});
  const id = needId(f.positionals, pause ? 'pause' : 'resume');
  const unlock = ctx.store.lock(id);
  try {
    const rec = load(ctx, id);
    const st = liveStatus(rec);
    if (pause && st !== 'running') throw new CommandError(`container not running: ${st}`);
    if (!pause && st !== 'paused') throw new CommandError(`container not paused: ${st}`);
    if (rec.cgroups.length === 0) throw new CommandError('the container has no cgroup to freeze');
    try {
      setFrozen(rec.cgroups, pause);
    } catch (e) {
      throw new CommandError(e instanceof Error ? e.message : String(e));
    }
    rec.status = pause ? 'paused' : 'running';
    ctx.store.write(rec);
    return 0;
  } finally {
    unlock();
  }
}

export function pauseCommand(ctx: Ctx, args: string[]): number {
  return pauseResume(ctx, args, true);
}

export function resumeCommand(ctx: Ctx, args: string[]): number {
  return pauseResume(ctx, args, false);
}

export function updateCommand(ctx: Ctx, args: string[]): number {
  const f = parseFlags(args, {
    resources: 'string', memory: 'string', 'memory-reservation': 'string', 'memory-swap': 'string',
    'cpu-shares': 'string', 'cpu-quota': 'string', 'cpu-period': 'string', 'pids-limit': 'string', cpuset: 'string',
  }, { r: 'resources' });
  const id = needId(f.positionals, 'update');
  let res: OciResources = {};
  const file = f.strings.get('resources');
  try {
    if (file !== undefined) {
      const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
      const json: unknown = JSON.parse(text);
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CommandError('--resources: not a JSON object');
      res = validateResources(json as Record<string, unknown>);
    }
  } catch (e) {
    if (e instanceof CommandError) throw e;
    throw new CommandError(`--resources: ${e instanceof Error ? e.message : String(e)}`);
  }
  const num = (flag: string): number | undefined => {
    const v = f.strings.get(flag);
    if (v === undefined) return undefined;
    const n = parseSize(v);
    if (n === undefined) throw new CommandError(`invalid value for --${flag}: ${v}`);
    return n;
  };
  const mem = { limit: num('memory'), reservation: num('memory-reservation'), swap: num('memory-swap') };
  if (Object.values(mem).some((v) => v !== undefined)) res.memory = { ...res.memory, ...Object.fromEntries(Object.entries(mem).filter(([, v]) => v !== undefined)) };
  const cpu = { shares: num('cpu-shares'), quota: num('cpu-quota'), period: num('cpu-period') };
  if (Object.values(cpu).some((v) => v !== undefined)) res.cpu = { ...res.cpu, ...Object.fromEntries(Object.entries(cpu).filter(([, v]) => v !== undefined)) };
  const pids = num('pids-limit');
  if (pids !== undefined) res.pids = { limit: pids };
  try {
    validateResources(res as Record<string, unknown>);
  } catch (e) {
    if (e instanceof ConfigError) throw new CommandError(e.message.replace('config.json: linux.resources', 'update'));
    throw e;
  }
  const unlock = ctx.store.lock(id);
  try {
    const rec = load(ctx, id);
    if (liveStatus(rec) === 'stopped') throw new CommandError('container not running');
    if (rec.pod !== undefined) throw new CommandError(`${id} runs in pod sandbox ${rec.pod}: update that container's resources`);
    try {
      applyResources(rec.cgroups, res);
    } catch (e) {
      throw new CommandError(e instanceof Error ? e.message : String(e));
    }
    return 0;
  } finally {
    unlock();
  }
}

/** "512m", "1g", "100" (bytes) or "-1". */
function parseSize(v: string): number | undefined {
  const m = /^(-1|\d+)([kmg]?)b?$/i.exec(v.trim());
  if (m === null) return undefined;
  const n = Number(m[1]);
  const mul = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return n === -1 ? -1 : n * mul;
}
