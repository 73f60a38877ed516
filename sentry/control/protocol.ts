// The control protocol between the CLI and a sandbox: newline-delimited JSON over a unix
// stream socket. Each request gets one reply; `wait` and `exec` replies come when the
// process ends. exec's stdio fds follow the request as one SCM_RIGHTS message, sent after
// the server answers {ok:true, sendFds:true}.

import type { CapSets } from '../kernel/credentials.js';

export interface ExecSpec {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask?: number;
  /** The process's capability sets as hex masks (OCI process.capabilities); absent: root's defaults. */
  caps?: WireCaps;
  /** How many fds follow (0: stdin/stdout/stderr all /dev/null inside). 1 means a tty for all three. */
  fds: number;
  /** exec into this pod container (its root) instead of the sandbox's first one. */
  container?: string;
  /**
   * A startContainer hook: runs before the container starts, the program at `path` (args[0]
   * is only its argv[0]), with `stdin` (the container's state) as its standard input.
   */
  hook?: { path: string; stdin: string };
}

export type WireCaps = Record<keyof CapSets, string>;

/** Capability sets for the wire (JSON has no 64-bit integers). */
export function capsToWire(c: CapSets): WireCaps {
  return { bounding: c.bounding.toString(16), effective: c.effective.toString(16), permitted: c.permitted.toString(16),
    inheritable: c.inheritable.toString(16), ambient: c.ambient.toString(16) };
}

export function capsFromWire(w: WireCaps): CapSets {
  const v = (h: string): bigint => BigInt(`0x${h}`);
  return { bounding: v(w.bounding), effective: v(w.effective), permitted: v(w.permitted), inheritable: v(w.inheritable), ambient: v(w.ambient) };
}

function parseCaps(v: unknown): WireCaps | undefined | string {
  if (v === undefined) return undefined;
  if (!isObj(v)) return 'exec: bad caps';
  const keys = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;
  for (const k of keys) if (typeof v[k] !== 'string' || !/^[0-9a-f]{1,11}$/.test(v[k] as string)) return 'exec: bad caps';
  return { bounding: v.bounding as string, effective: v.effective as string, permitted: v.permitted as string, inheritable: v.inheritable as string, ambient: v.ambient as string };
}

/** A mount of a pod container, as sentry/control/oci_root.ts builds it (file contents in base64). */
export type WireMount =
  | { kind: 'dir'; source: string; destination: string; readOnly: boolean }
  | { kind: 'file'; data: string; mode: number; destination: string }
  | { kind: 'tmpfs'; destination: string; sizeBytes?: number }
  | { kind: 'mqueue'; destination: string };

export type Request =
  | { op: 'start' }
  /** pid: one process (an exec'd one) instead of init. */
  | { op: 'kill'; signal: number; all: boolean; pid?: number; container?: string }
  | { op: 'ps'; container?: string }
  /** A pod's next container: prepared now, run at startContainer; the reply comes when it exits. */
  | { op: 'container'; id: string; rootfs: string; readonly: boolean; mounts: WireMount[]; spec: ExecSpec }
  | { op: 'startContainer'; id: string }
  | { op: 'wait' }
  | { op: 'stats' }
  | { op: 'exec'; spec: ExecSpec };

export interface ProcessInfo {
  /** pid inside the sandbox. */
  pid: number;
  ppid: number;
  /** host pid of the stub process running it (what runc-style `ps` reports). */
  hostPid: number;
  comm: string;
}

export interface Stats {
  pids: number;
  threads: number;
  uptimeNs: number;
}

export type Reply =
  | { ok: true; sendFds?: boolean; ready?: boolean; pid?: number; status?: number; processes?: ProcessInfo[]; stats?: Stats }
  | { ok: false; error: string };

/** Splits a byte stream into JSON lines; malformed lines reach onError, never throw. */
export class LineReader {
  private buf = '';

  constructor(private readonly onLine: (v: unknown) => void, private readonly onError: (msg: string) => void) {}

  push(chunk: string): void {
    this.buf += chunk;
    if (this.buf.length > 1 << 20) {
      this.buf = '';
      this.onError('control message too long');
      return;
    }
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        this.onError('malformed control message');
        continue;
      }
      this.onLine(v);
    }
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isStrArr = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32;

/** Checks an incoming request's shape (the peer is the CLI, but a socket is an input). */
export function parseRequest(v: unknown): Request | string {
  if (!isObj(v) || typeof v.op !== 'string') return 'request without op';
  switch (v.op) {
    case 'start': case 'wait': case 'stats':
      return { op: v.op };
    case 'ps':
      if (v.container !== undefined && typeof v.container !== 'string') return 'ps: bad container';
      return { op: 'ps', container: v.container };
    case 'startContainer':
      if (typeof v.id !== 'string' || v.id === '') return 'startContainer: bad id';
      return { op: 'startContainer', id: v.id };
    case 'container': {
      const spec = parseRequest({ op: 'exec', spec: v.spec });
      if (typeof spec === 'string') return spec.replace('exec:', 'container:');
      if (spec.op !== 'exec') return 'container: bad process';
      if (typeof v.id !== 'string' || v.id === '' || typeof v.rootfs !== 'string' || !v.rootfs.startsWith('/')) return 'container: bad id or rootfs';
      if (!Array.isArray(v.mounts)) return 'container: bad mounts';
      const mounts: WireMount[] = [];
      for (const m of v.mounts as unknown[]) {
        if (!isObj(m) || typeof m.destination !== 'string' || !m.destination.startsWith('/')) return 'container: bad mount';
        if (m.kind === 'dir' && typeof m.source === 'string') mounts.push({ kind: 'dir', source: m.source, destination: m.destination, readOnly: m.readOnly === true });
        else if (m.kind === 'file' && typeof m.data === 'string' && isId(m.mode)) mounts.push({ kind: 'file', data: m.data, mode: m.mode, destination: m.destination });
        else if (m.kind === 'mqueue') mounts.push({ kind: 'mqueue', destination: m.destination });
        else if (m.kind === 'tmpfs') mounts.push({ kind: 'tmpfs', destination: m.destination, sizeBytes: isId(m.sizeBytes) ? m.sizeBytes : undefined });
        else return 'container: bad mount';
      }
      return { op: 'container', id: v.id, rootfs: v.rootfs, readonly: v.readonly === true, mounts, spec: spec.spec };
    }
    case 'kill':
      if (typeof v.signal !== 'number' || !Number.isInteger(v.signal) || v.signal < 0 || v.signal > 64) return 'kill: bad signal';
      if (v.pid !== undefined && (!isId(v.pid) || v.pid === 0)) return 'kill: bad pid';
      if (v.container !== undefined && typeof v.container !== 'string') return 'kill: bad container';
      return { op: 'kill', signal: v.signal, all: v.all === true, pid: v.pid, container: v.container };
    case 'exec': {
      const s = v.spec;
      if (!isObj(s) || !isStrArr(s.args) || s.args.length === 0 || !isStrArr(s.env) || typeof s.cwd !== 'string') return 'exec: bad process';
      if (!isId(s.uid) || !isId(s.gid) || !Array.isArray(s.additionalGids) || !s.additionalGids.every(isId)) return 'exec: bad user';
      if (!isId(s.fds) || s.fds > 3) return 'exec: bad fd count';
      const umask = s.umask === undefined ? undefined : isId(s.umask) && s.umask <= 0o777 ? s.umask : -1;
      if (umask === -1) return 'exec: bad umask';
      if (s.container !== undefined && typeof s.container !== 'string') return 'exec: bad container';
      const h = s.hook;
      if (h !== undefined && (!isObj(h) || typeof h.path !== 'string' || !h.path.startsWith('/') || typeof h.stdin !== 'string')) return 'exec: bad hook';
      const hook = h === undefined ? undefined : { path: h.path as string, stdin: h.stdin as string };
      const caps = parseCaps(s.caps);
      if (typeof caps === 'string') return caps;
      return { op: 'exec', spec: { args: s.args, env: s.env, cwd: s.cwd, uid: s.uid, gid: s.gid, additionalGids: s.additionalGids, umask, caps, fds: s.fds, container: s.container, hook } };
    }
    default:
      return `unknown op ${String(v.op)}`;
  }
}
