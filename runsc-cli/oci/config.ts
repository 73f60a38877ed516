// Reads and validates a bundle's config.json. Anything malformed, or asking for what tsvisor
// cannot do, is refused with an error naming the field, before anything is started.

import { capBit } from './capabilities.js';
import { sysctlRefusal } from './sysctl.js';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import {
  HOOK_KINDS, NAMESPACE_TYPES, type NamespaceType, type OciConfig, type OciHook, type OciHooks, type OciIdMapping,
  type OciMount, type OciNamespace, type OciResources, type OciRlimit,
} from './spec.js';

export class ConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`config.json: ${field}: ${message}`);
  }
}

/** RLIMIT_* names in Linux's numbering (<asm-generic/resource.h>). */
export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

/** Mount types the sandbox can provide (bind mounts come from the host, the rest are Sentry filesystems). */
export const MOUNT_TYPES = ['bind', 'none', 'tmpfs', 'proc', 'sysfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2'];

const KNOWN_MOUNT_OPTIONS = new Set([
  'bind', 'rbind', 'ro', 'rw', 'nosuid', 'suid', 'noexec', 'exec', 'nodev', 'dev', 'relatime', 'norelatime',
  'strictatime', 'nostrictatime', 'noatime', 'atime', 'nodiratime', 'diratime', 'private', 'rprivate', 'shared',
  'rshared', 'slave', 'rslave', 'unbindable', 'runbindable', 'newinstance', 'defaults', 'sync', 'async',
  'dirsync', 'mand', 'nomand', 'lazytime', 'nolazytime', 'silent', 'loud', 'iversion', 'noiversion', 'remount',
  'rro', 'rrw', 'rnosuid', 'rnodev', 'rnoexec', 'nosymfollow', 'tmpcopyup', 'idmap', 'ridmap', 'z', 'Z',
]);
const VALUED_MOUNT_OPTIONS = new Set(['mode', 'size', 'nr_inodes', 'uid', 'gid', 'ptmxmode', 'context', 'max_ino']);

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, field: string): Json {
  if (!isObj(v)) throw new ConfigError(field, 'must be an object');
  return v;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new ConfigError(field, 'must be a string');
  return v;
}

function int(v: unknown, field: string, min = -(2 ** 53), max = 2 ** 53): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(field, 'must be an integer');
  if (v < min || v > max) throw new ConfigError(field, `must be between ${min} and ${max}`);
  return v;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(field, 'must be true or false');
  return v;
}

function strArray(v: unknown, field: string): string[] {
  if (!Array.isArray(v)) throw new ConfigError(field, 'must be an array of strings');
  return v.map((s, i) => str(s, `${field}[${i}]`));
}

function optional<T>(o: Json, key: string, field: string, f: (v: unknown, field: string) => T): T | undefined {
  const v = o[key];
  return v === undefined || v === null ? undefined : f(v, `${field}.${key}`);
}

/** Reads <bundle>/config.json and validates it; throws ConfigError. */
export function loadConfig(bundle: string): OciConfig {
  const file = resolve(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('config.json', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('config.json', `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return validateConfig(json, bundle);
}

/** Validates a parsed config.json; root.path and bind sources are checked on the host. */
export function validateConfig(json: unknown, bundle: string): OciConfig {
  const c = obj(json, '(top level)');
  const ociVersion = str(c.ociVersion, 'ociVersion');
  if (!/^1\.\d+\.\d+/.test(ociVersion)) throw new ConfigError('ociVersion', `unsupported version "${ociVersion}" (want 1.x.y)`);
  const rootJ = obj(c.root, 'root');
  const rootPath = str(rootJ.path, 'root.path');
  const rootAbs = resolve(bundle, rootPath);
  if (!isDir(rootAbs)) throw new ConfigError('root.path', `${rootAbs} is not a directory`);
  const linuxJ = c.linux === undefined ? {} : obj(c.linux, 'linux');
  const proc = validateProcess(c.process, 'process');
  const linux = validateLinux(linuxJ);
  checkUserMapped(proc.user, linux);
  return {
    ociVersion,
    process: proc,
    root: { path: rootAbs, readonly: optional(rootJ, 'readonly', 'root', bool) ?? false },
    hostname: optional(c, 'hostname', '', (v, f) => hostnameField(v, f.slice(1))),
    domainname: optional(c, 'domainname', '', (v, f) => hostnameField(v, f.slice(1))),
    mounts: c.mounts === undefined ? [] : arr(c.mounts, 'mounts').map((m, i) => validateMount(m, `mounts[${i}]`, bundle)),
    hooks: c.hooks === undefined ? {} : validateHooks(c.hooks),
    annotations: c.annotations === undefined ? {} : stringMap(c.annotations, 'annotations'),
    linux,
  };
}

/** With a user namespace, the process's ids must be mapped in it (else Linux's setuid fails). */
function checkUserMapped(user: OciConfig['process']['user'], linux: OciConfig['linux']): void {
  if (linux.uidMappings.length === 0) return;
  const covers = (maps: OciIdMapping[], id: number): boolean => maps.some((m) => id >= m.containerID && id - m.containerID < m.size);
  if (!covers(linux.uidMappings, user.uid)) throw new ConfigError('process.user.uid', `uid ${user.uid} is not mapped by linux.uidMappings`);
  for (const g of [user.gid, ...(user.additionalGids ?? [])]) {
    if (!covers(linux.gidMappings, g)) throw new ConfigError('process.user.gid', `gid ${g} is not mapped by linux.gidMappings`);
  }
}

function arr(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new ConfigError(field, 'must be an array');
  return v;
}

function stringMap(v: unknown, field: string): Record<string, string> {
  const o = obj(v, field);
  const r: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) r[k] = str(x, `${field}.${k}`);
  return r;
}

function hostnameField(v: unknown, field: string): string {
  const s = str(v, field);
  if (s.length > 64) throw new ConfigError(field, 'longer than 64 characters');
  if (s.includes('\0')) throw new ConfigError(field, 'contains a NUL byte');
  return s;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function absPath(v: unknown, field: string): string {
  const s = str(v, field);
  if (!s.startsWith('/')) throw new ConfigError(field, `"${s}" is not an absolute path`);
  return s;
}

/** Validates a process object (config.json's, or exec --process's). */
export function validateProcess(v: unknown, field: string): OciConfig['process'] {
  const p = obj(v, field);
  const args = p.args === undefined ? [] : strArray(p.args, `${field}.args`);
  if (args.length === 0 || args[0] === '') throw new ConfigError(`${field}.args`, 'must name a program to run');
  const env = p.env === undefined ? [] : strArray(p.env, `${field}.env`);
  env.forEach((e, i) => {
    if (!e.includes('=')) throw new ConfigError(`${field}.env[${i}]`, `"${e}" is not NAME=VALUE`);
  });
  const cwd = absPath(p.cwd ?? '/', `${field}.cwd`);
  const u = p.user === undefined ? {} : obj(p.user, `${field}.user`);
  if (u.username !== undefined) throw new ConfigError(`${field}.user.username`, 'is for Windows containers');
  const user = {
    uid: optional(u, 'uid', `${field}.user`, (x, f) => int(x, f, 0, 0xfffffffe)) ?? 0,
    gid: optional(u, 'gid', `${field}.user`, (x, f) => int(x, f, 0, 0xfffffffe)) ?? 0,
    umask: optional(u, 'umask', `${field}.user`, (x, f) => int(x, f, 0, 0o777)),
    additionalGids: optional(u, 'additionalGids', `${field}.user`, (x, f) =>
      arr(x, f).map((g, i) => int(g, `${f}[${i}]`, 0, 0xfffffffe))),
  };
  const terminal = optional(p, 'terminal', field, bool) ?? false;
  const cs = p.consoleSize === undefined ? undefined : obj(p.consoleSize, `${field}.consoleSize`);
  const consoleSize = cs === undefined ? undefined : {
    height: int(cs.height, `${field}.consoleSize.height`, 0, 65535),
    width: int(cs.width, `${field}.consoleSize.width`, 0, 65535),
  };
  const rlimits: OciRlimit[] = p.rlimits === undefined ? [] : arr(p.rlimits, `${field}.rlimits`).map((r, i) => {
    const f = `${field}.rlimits[${i}]`;
    const o = obj(r, f);
    const type = str(o.type, `${f}.type`);
    if (RLIMITS[type] === undefined) throw new ConfigError(`${f}.type`, `unknown rlimit "${type}"`);
    const hard = int(o.hard, `${f}.hard`, 0, Number.MAX_SAFE_INTEGER);
    const soft = int(o.soft, `${f}.soft`, 0, Number.MAX_SAFE_INTEGER);
    if (soft > hard) throw new ConfigError(f, `soft limit ${soft} is above the hard limit ${hard}`);
    return { type, hard, soft };
  });
  const seen = new Set<string>();
  for (const [i, r] of rlimits.entries()) {
    if (seen.has(r.type)) throw new ConfigError(`${field}.rlimits[${i}].type`, `${r.type} given twice`);
    seen.add(r.type);
  }
  let capabilities: OciConfig['process']['capabilities'];
  if (p.capabilities !== undefined) {
    const co = obj(p.capabilities, `${field}.capabilities`);
    capabilities = {};
    for (const k of Object.keys(co)) {
      if (!['bounding', 'effective', 'inheritable', 'permitted', 'ambient'].includes(k)) {
        throw new ConfigError(`${field}.capabilities.${k}`, 'unknown capability set');
      }
      const caps = strArray(co[k], `${field}.capabilities.${k}`);
      caps.forEach((cap, i) => {
        if (capBit(cap) === undefined) throw new ConfigError(`${field}.capabilities.${k}[${i}]`, `"${cap}" is not a capability Linux defines`);
      });
      (capabilities as Record<string, string[]>)[k] = caps;
    }
  }
  return {
    terminal,
    consoleSize,
    user,
    args,
    env,
    cwd,
    capabilities,
    rlimits,
    noNewPrivileges: optional(p, 'noNewPrivileges', field, bool) ?? false,
    oomScoreAdj: optional(p, 'oomScoreAdj', field, (x, f) => int(x, f, -1000, 1000)),
  };
}

function validateMount(v: unknown, field: string, bundle: string): OciMount {
  const m = obj(v, field);
  const destination = absPath(m.destination, `${field}.destination`);
  const options = m.options === undefined ? [] : strArray(m.options, `${field}.options`);
  for (const [i, o] of options.entries()) {
    const eq = o.indexOf('=');
    const known = eq > 0 ? VALUED_MOUNT_OPTIONS.has(o.slice(0, eq)) : KNOWN_MOUNT_OPTIONS.has(o);
    if (!known) throw new ConfigError(`${field}.options[${i}]`, `unknown mount option "${o}"`);
  }
  const isBind = options.includes('bind') || options.includes('rbind');
  const type = m.type === undefined ? (isBind ? 'bind' : '') : str(m.type, `${field}.type`);
  if (!MOUNT_TYPES.includes(type)) throw new ConfigError(`${field}.type`, `unsupported filesystem type "${type}"`);
  let source = m.source === undefined ? '' : str(m.source, `${field}.source`);
  if (type === 'bind' || isBind) {
    if (source === '') throw new ConfigError(`${field}.source`, 'a bind mount needs a source');
    source = isAbsolute(source) ? source : resolve(bundle, source);
    try {
      statSync(source);
    } catch {
      throw new ConfigError(`${field}.source`, `${source} does not exist`);
    }
  } else if (type === 'none') {
    throw new ConfigError(`${field}.type`, 'type "none" is only valid with the bind or rbind option');
  }
  return { destination, type: isBind ? 'bind' : type, source, options };
}

function validateHooks(v: unknown): OciHooks {
  const h = obj(v, 'hooks');
  const hooks: OciHooks = {};
  for (const k of Object.keys(h)) {
    const kind = HOOK_KINDS.find((x) => x === k);
    if (kind === undefined) throw new ConfigError(`hooks.${k}`, 'unknown hook kind');
    hooks[kind] = arr(h[k], `hooks.${k}`).map((x, i): OciHook => {
      const f = `hooks.${k}[${i}]`;
      const o = obj(x, f);
      const path = absPath(o.path, `${f}.path`);
      return {
        path,
        args: optional(o, 'args', f, strArray),
        env: optional(o, 'env', f, strArray),
        timeout: optional(o, 'timeout', f, (t, tf) => int(t, tf, 1, 86400)),
      };
    });
  }
  return hooks;
}

function idMappings(v: unknown, field: string): OciIdMapping[] {
  return arr(v, field).map((x, i) => {
    const f = `${field}[${i}]`;
    const o = obj(x, f);
    return {
      containerID: int(o.containerID, `${f}.containerID`, 0, 0xfffffffe),
      hostID: int(o.hostID, `${f}.hostID`, 0, 0xfffffffe),
      size: int(o.size, `${f}.size`, 1, 0xffffffff),
    };
  });
}

/** A network namespace to take over must exist and must not be the runtime's own (the host's). */
function checkNetnsPath(path: string, field: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ConfigError(field, `${path} does not exist`);
  }
  let own;
  try {
    own = statSync('/proc/self/ns/net');
  } catch {
    own = undefined;
  }
  if (own !== undefined && own.ino === st.ino && own.dev === st.dev) {
    throw new ConfigError(field, `${path} is the host's network namespace: host networking is not supported`);
  }
}

function validateLinux(l: Json): OciConfig['linux'] {
  const namespaces: OciNamespace[] = l.namespaces === undefined ? [] : arr(l.namespaces, 'linux.namespaces').map((x, i) => {
    const f = `linux.namespaces[${i}]`;
    const o = obj(x, f);
    const t = str(o.type, `${f}.type`);
    const type = NAMESPACE_TYPES.find((n): n is NamespaceType => n === t);
    if (type === undefined) throw new ConfigError(`${f}.type`, `unknown namespace type "${t}"`);
    const path = optional(o, 'path', f, absPath);
    if (path !== undefined && path !== '') {
      if (type !== 'network') {
        // The Sentry provides these namespaces itself; there is no host one to join.
        throw new ConfigError(`${f}.path`, `joining an existing ${type} namespace (${path}) is not supported`);
      }
      // CNI's pod network: the Sentry takes over that namespace's interfaces.
      checkNetnsPath(path, `${f}.path`);
      return { type, path };
    }
    return { type };
  });
  const types = new Set<string>();
  for (const [i, n] of namespaces.entries()) {
    if (types.has(n.type)) throw new ConfigError(`linux.namespaces[${i}].type`, `namespace "${n.type}" given twice`);
    types.add(n.type);
  }
  if (!types.has('network')) {
    throw new ConfigError('linux.namespaces', 'no network namespace: host networking is not supported (the sandbox has its own network stack)');
  }
  const uidMappings = l.uidMappings === undefined ? [] : idMappings(l.uidMappings, 'linux.uidMappings');
  const gidMappings = l.gidMappings === undefined ? [] : idMappings(l.gidMappings, 'linux.gidMappings');
  if ((uidMappings.length > 0 || gidMappings.length > 0) && !types.has('user')) {
    throw new ConfigError('linux.uidMappings', 'id mappings need a user namespace in linux.namespaces');
  }
  checkIdMappings(uidMappings, gidMappings);
  const sysctl = l.sysctl === undefined ? {} : stringMap(l.sysctl, 'linux.sysctl');
  for (const k of Object.keys(sysctl)) {
    if (!/^[a-z0-9_]+([./][a-zA-Z0-9_-]+)+$/.test(k)) throw new ConfigError(`linux.sysctl.${k}`, 'not a sysctl name');
    const refusal = sysctlRefusal(k, types);
    if (refusal !== undefined) throw new ConfigError(`linux.sysctl.${k}`, refusal);
  }
  return {
    namespaces,
    uidMappings,
    gidMappings,
    resources: l.resources === undefined ? undefined : validateResources(obj(l.resources, 'linux.resources')),
    cgroupsPath: optional(l, 'cgroupsPath', 'linux', str),
    sysctl,
    maskedPaths: l.maskedPaths === undefined ? [] : strArray(l.maskedPaths, 'linux.maskedPaths').map((p, i) => absPath(p, `linux.maskedPaths[${i}]`)),
    readonlyPaths: l.readonlyPaths === undefined ? [] : strArray(l.readonlyPaths, 'linux.readonlyPaths').map((p, i) => absPath(p, `linux.readonlyPaths[${i}]`)),
  };
}

/** linux.resources (also the input of `update --resources`). Limits of -1 mean unlimited. */
export function validateResources(r: Json): OciResources {
  const out: OciResources = {};
  const big = Number.MAX_SAFE_INTEGER;
  if (r.memory !== undefined && r.memory !== null) {
    const m = obj(r.memory, 'linux.resources.memory');
    out.memory = {
      limit: optional(m, 'limit', 'linux.resources.memory', (v, f) => int(v, f, -1, big)),
      reservation: optional(m, 'reservation', 'linux.resources.memory', (v, f) => int(v, f, -1, big)),
      swap: optional(m, 'swap', 'linux.resources.memory', (v, f) => int(v, f, -1, big)),
    };
    const lim = out.memory.limit;
    if (lim !== undefined && lim !== -1 && lim < 4 * 1024 * 1024) {
      throw new ConfigError('linux.resources.memory.limit', `${lim} bytes is too little to run a sandbox (minimum 4 MiB)`);
    }
  }
  if (r.cpu !== undefined && r.cpu !== null) {
    const c = obj(r.cpu, 'linux.resources.cpu');
    out.cpu = {
      shares: optional(c, 'shares', 'linux.resources.cpu', (v, f) => int(v, f, 0, 262144)),
      quota: optional(c, 'quota', 'linux.resources.cpu', (v, f) => int(v, f, -1, big)),
      period: optional(c, 'period', 'linux.resources.cpu', (v, f) => int(v, f, 0, 1_000_000)),
      cpus: optional(c, 'cpus', 'linux.resources.cpu', str),
      mems: optional(c, 'mems', 'linux.resources.cpu', str),
    };
  }
  if (r.pids !== undefined && r.pids !== null) {
    const p = obj(r.pids, 'linux.resources.pids');
    out.pids = { limit: int(p.limit, 'linux.resources.pids.limit', -1, big) };
  }
  return out;
}

/**
 * What the Sentry can honour of a user namespace: its ids are the container's, and files
 * keep their host owners (nothing translates them), so each mapping must map ids to
 * themselves; uid and gid maps come together.
 */
function checkIdMappings(uids: OciIdMapping[], gids: OciIdMapping[]): void {
  if (uids.length === 0 && gids.length === 0) return;
  if (uids.length === 0) throw new ConfigError('linux.uidMappings', 'gidMappings without uidMappings');
  if (gids.length === 0) throw new ConfigError('linux.gidMappings', 'uidMappings without gidMappings');
  for (const [field, maps] of [['linux.uidMappings', uids], ['linux.gidMappings', gids]] as const) {
    for (const [i, m] of maps.entries()) {
      if (m.containerID !== m.hostID) {
        throw new ConfigError(`${field}[${i}]`, `mapping container id ${m.containerID} to host id ${m.hostID} is not supported: file owners are not translated, only identity mappings are`);
      }
    }
  }
}
