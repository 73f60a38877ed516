// cgroups for a container's host processes (the Sentry and its stubs): linux.resources
// limits, the freezer for pause/resume, and the figures `events --stats` reports.
// Works with cgroup v2 (unified) and v1 (including hybrid hosts, whose v2 tree has no
// controllers).

import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OciResources } from './spec.js';

const ROOT = '/sys/fs/cgroup';
const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids', 'freezer'];

export function cgroupV2(): boolean {
  return existsSync(join(ROOT, 'cgroup.controllers'));
}

/** The container's cgroup path: linux.cgroupsPath (cgroupfs "/a/b" or systemd "slice:prefix:name"), else /tsvisor/<id>. */
export function cgroupPath(cgroupsPath: string | undefined, id: string): string {
  if (cgroupsPath === undefined || cgroupsPath === '') return `/tsvisor/${id}`;
  const parts = cgroupsPath.split(':');
  if (parts.length === 3 && !cgroupsPath.startsWith('/')) {
    const [slice, prefix, name] = parts;
    return `/${slice === '' ? 'system.slice' : slice}/${prefix === '' ? '' : prefix + '-'}${name}.scope`;
  }
  return cgroupsPath.startsWith('/') ? cgroupsPath : `/${cgroupsPath}`;
}

function safeRel(path: string): string {
  const rel = path.split('/').filter((c) => c !== '' && c !== '.');
  if (rel.includes('..')) throw new Error(`cgroup path ${path} leaves the cgroup root`);
  return rel.join('/');
}

/** Folders of the container's cgroup, one per controller hierarchy (one on v2). */
export function cgroupDirs(path: string): string[] {
  const rel = safeRel(path);
  if (cgroupV2()) return [join(ROOT, rel)];
  return V1_CONTROLLERS.filter((c) => existsSync(join(ROOT, c))).map((c) => join(ROOT, c, rel));
}

function write(dir: string, file: string, value: string): void {
  const p = join(dir, file);
  try {
    writeFileSync(p, value);
  } catch (e) {
    throw new Error(`cannot write ${value} to ${p}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function controllerOf(dir: string): string {
  if (cgroupV2()) return 'unified';
  return dir.slice(ROOT.length + 1).split('/')[0];
}

/** Creates the folders; the caller removes them with removeCgroups on failure. */
export function createCgroups(dirs: string[]): void {
  if (cgroupV2() && dirs.length > 0) {
    // Controllers must be enabled in every ancestor's subtree_control.
    const rel = dirs[0].slice(ROOT.length + 1).split('/');
    let cur = ROOT;
    for (const comp of rel.slice(0, -1)) {
      try {
        writeFileSync(join(cur, 'cgroup.subtree_control'), '+memory +cpu +pids');
      } catch {
        // Some controllers may be unavailable; limits that need them will fail to apply below.
      }
      cur = join(cur, comp);
      mkdirSync(cur, { recursive: true });
    }
    try {
      writeFileSync(join(cur, 'cgroup.subtree_control'), '+memory +cpu +pids');
    } catch {
      // As above.
    }
  }
  for (const d of dirs) mkdirSync(d, { recursive: true });
}

/** Applies linux.resources (also used by `update`). Throws with the file that refused. */
export function applyResources(dirs: string[], r: OciResources | undefined): void {
  if (r === undefined) return;
  const v2 = cgroupV2();
  for (const d of dirs) {
    const c = controllerOf(d);
    if (r.memory !== undefined && (c === 'memory' || v2)) {
      const { limit, reservation, swap } = r.memory;
      if (v2) {
        if (limit !== undefined) write(d, 'memory.max', limit === -1 ? 'max' : String(limit));
        if (reservation !== undefined) write(d, 'memory.low', reservation === -1 ? '0' : String(reservation));
        if (swap !== undefined && limit !== undefined && existsSync(join(d, 'memory.swap.max'))) {
          write(d, 'memory.swap.max', swap === -1 ? 'max' : String(Math.max(0, swap - (limit === -1 ? 0 : limit))));
        }
      } else {
        if (limit !== undefined) write(d, 'memory.limit_in_bytes', String(limit));
        if (reservation !== undefined) write(d, 'memory.soft_limit_in_bytes', String(reservation));
        if (swap !== undefined && existsSync(join(d, 'memory.memsw.limit_in_bytes'))) write(d, 'memory.memsw.limit_in_bytes', String(swap));
      }
    }
    if (r.cpu !== undefined && (c === 'cpu' || v2)) {
      const { shares, quota, period } = r.cpu;
      if (v2) {
        if (shares !== undefined && shares > 0) write(d, 'cpu.weight', String(Math.max(1, Math.min(10000, Math.round(1 + ((shares - 2) * 9999) / 262142)))));
        if (quota !== undefined || period !== undefined) write(d, 'cpu.max', `${quota === undefined || quota === -1 ? 'max' : quota} ${period ?? 100000}`);
      } else {
        if (shares !== undefined && shares > 0) write(d, 'cpu.shares', String(shares));
        if (period !== undefined && period > 0) write(d, 'cpu.cfs_period_us', String(period));
        if (quota !== undefined) write(d, 'cpu.cfs_quota_us', String(quota));
      }
    }
    if (r.pids !== undefined && (c === 'pids' || v2)) {
      write(d, 'pids.max', r.pids.limit <= 0 ? 'max' : String(r.pids.limit));
    }
  }
}

/** Moves a host process (all its threads) into the cgroups. */
export function joinCgroups(dirs: string[], pid: number): void {
  for (const d of dirs) write(d, 'cgroup.procs', String(pid));
}

/** Removes the folders (they must be empty of processes); retries briefly while the kernel finishes exits. */
export function removeCgroups(dirs: string[]): string[] {
  const failed: string[] = [];
  for (const d of dirs) {
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      try {
        rmdirSync(d);
        ok = true;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') ok = true;
        else if (code !== 'EBUSY') break;
        else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
    if (!ok) failed.push(d);
  }
  return failed;
}

/** pause/resume: the freezer stops every host thread of the sandbox, Sentry included. */
export function setFrozen(dirs: string[], frozen: boolean): void {
  if (cgroupV2()) {
    for (const d of dirs) write(d, 'cgroup.freeze', frozen ? '1' : '0');
    return;
  }
  const f = dirs.find((d) => controllerOf(d) === 'freezer');
  if (f === undefined) throw new Error('no freezer cgroup on this host');
  write(f, 'freezer.state', frozen ? 'FROZEN' : 'THAWED');
  // FREEZING is transient; wait until the state settles.
  for (let i = 0; i < 100; i++) {
    const st = readFileSync(join(f, 'freezer.state'), 'utf8').trim();
    if (st === (frozen ? 'FROZEN' : 'THAWED')) return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
  throw new Error(`freezer did not reach ${frozen ? 'FROZEN' : 'THAWED'}`);
}

function readNum(p: string): number | undefined {
  try {
    const t = readFileSync(p, 'utf8').trim();
    return t === 'max' ? undefined : Number(t);
  } catch {
    return undefined;
  }
}

function readKv(p: string): Record<string, number> {
  const r: Record<string, number> = {};
  try {
    for (const line of readFileSync(p, 'utf8').split('\n')) {
      const [k, v] = line.trim().split(/\s+/);
      if (k !== undefined && v !== undefined) r[k] = Number(v);
    }
  } catch {
    // Missing file: no figures.
  }
  return r;
}

/** Host-side figures in the shape of runc's `events --stats` data (cpu, memory, pids). */
export function cgroupStats(dirs: string[]): { cpu: unknown; memory: unknown; pids: unknown } {
  const v2 = cgroupV2();
  const find = (c: string): string | undefined => (v2 ? dirs[0] : dirs.find((d) => controllerOf(d) === c));
  const cpuDir = find('cpuacct');
  const memDir = find('memory');
  const pidsDir = find('pids');
  let totalNs = 0;
  let userNs = 0;
  let kernelNs = 0;
  if (cpuDir !== undefined) {
    if (v2) {
      const s = readKv(join(cpuDir, 'cpu.stat'));
      totalNs = (s.usage_usec ?? 0) * 1000;
      userNs = (s.user_usec ?? 0) * 1000;
      kernelNs = (s.system_usec ?? 0) * 1000;
    } else {
      totalNs = readNum(join(cpuDir, 'cpuacct.usage')) ?? 0;
      const s = readKv(join(cpuDir, 'cpuacct.stat'));
      // USER_HZ ticks.
      userNs = (s.user ?? 0) * 10_000_000;
      kernelNs = (s.system ?? 0) * 10_000_000;
    }
  }
  let usage = 0;
  let max = 0;
  let limit = 0;
  if (memDir !== undefined) {
    usage = readNum(join(memDir, v2 ? 'memory.current' : 'memory.usage_in_bytes')) ?? 0;
    max = readNum(join(memDir, v2 ? 'memory.peak' : 'memory.max_usage_in_bytes')) ?? 0;
    limit = readNum(join(memDir, v2 ? 'memory.max' : 'memory.limit_in_bytes')) ?? 0;
  }
  const pidsCur = pidsDir === undefined ? 0 : readNum(join(pidsDir, 'pids.current')) ?? 0;
  const pidsMax = pidsDir === undefined ? 0 : readNum(join(pidsDir, 'pids.max')) ?? 0;
  return {
    cpu: { usage: { total: totalNs, user: userNs, kernel: kernelNs }, throttling: {} },
    memory: { usage: { limit, usage, max }, swap: { limit: 0, usage: 0 }, cache: 0 },
    pids: { current: pidsCur, limit: pidsMax },
  };
}
