// Container state under --root: one folder per container with state.json (runc's state
// fields plus what tsvisor needs), the control socket, and a lock file that serialises
// commands on one container (flock: released by the kernel if a command dies).

import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ociNative, LOCK_EX } from '../../sentry/control/native_oci.js';
import { OCI_VERSION, type OciState } from './spec.js';

export const DEFAULT_ROOT = '/run/tsvisor';

/** What state.json holds: the OCI state plus bookkeeping. */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** The status last recorded; the live status is derived from the sandbox process. */
  status: 'created' | 'running' | 'paused';
  /** The sandbox process: lives as long as the container's init, exits with its status. */
  pid: number;
  /** Its start time (field 22 of /proc/PID/stat), so a recycled pid is not mistaken for it. */
  pidStart: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  /** cgroup folders made for the container (removed by delete). */
  cgroups: string[];
  /** Processes started by `exec --detach` (host pids of their waiting `tsvisor exec`). */
  execPids: number[];
  /** Set for a pod's later containers: the container whose sandbox this one runs in. */
  pod?: string;
}

export class ContainerNotFound extends Error {
  constructor(id: string) {
    super(`container does not exist: ${id}`);
  }
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_+.-]*$/;

export function validId(id: string): boolean {
  return id.length > 0 && id.length <= 1024 && ID_RE.test(id) && id !== '.' && id !== '..';
}

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  controlSocket(id: string): string {
    return join(this.dir(id), 'control.sock');
  }

  /** The control socket of the sandbox a container runs in (its pod's, for a pod member). */
  socketOf(rec: ContainerRecord): string {
    return this.controlSocket(rec.pod ?? rec.id);
  }

  exists(id: string): boolean {
    return existsSync(join(this.dir(id), 'state.json')) || existsSync(join(this.dir(id), 'creating'));
  }

  /**
   * Claims a new container folder; false if the id is taken. mkdir is atomic, so of two
   * concurrent creates of one id exactly one wins.
   */
  claim(id: string): boolean {
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    writeFileSync(join(this.dir(id), 'creating'), String(process.pid));
    return true;
  }

  /** Takes the container's lock (blocking); returns the release function. */
  lock(id: string): () => void {
    let fd: number;
    try {
      fd = openSync(join(this.dir(id), 'lock'), 'a');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ContainerNotFound(id);
      throw e;
    }
    const r = ociNative().ociFlock(fd, LOCK_EX);
    if (r < 0) {
      closeSync(fd);
      throw new Error(`cannot lock container ${id}: errno ${-r}`);
    }
    return () => closeSync(fd);
  }

  read(id: string): ContainerRecord | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.dir(id), 'state.json'), 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as ContainerRecord;
    } catch {
      return undefined;
    }
  }

  /** Writes state.json atomically (rename), so readers never see half a file. */
  write(rec: ContainerRecord): void {
    const tmp = join(this.dir(rec.id), `state.json.${process.pid}`);
    writeFileSync(tmp, JSON.stringify(rec));
    renameSync(tmp, join(this.dir(rec.id), 'state.json'));
    rmSync(join(this.dir(rec.id), 'creating'), { force: true });
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  list(): string[] {
    try {
      return readdirSync(this.root).filter((n) => validId(n) && this.exists(n)).sort();
    } catch {
      return [];
    }
  }

  /** The sandbox process's pid, written by itself at start (before state.json exists). */
  sandboxPidFile(id: string): string {
    return join(this.dir(id), 'sandbox.pid');
  }

  /** Where the sandbox records init's wait status when it ends. */
  exitFile(id: string): string {
    return join(this.dir(id), 'exit_status');
  }

  exitStatus(id: string): number | undefined {
    try {
      const n = Number(readFileSync(this.exitFile(id), 'utf8').trim());
      return Number.isInteger(n) ? n : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Start time of a live (non-zombie) process, or undefined if it is gone. */
export function processStart(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: fields resume after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
  return rest[19];
}

export function sandboxAlive(rec: ContainerRecord): boolean {
  const st = processStart(rec.pid);
  return st !== undefined && st === rec.pidStart;
}

/** The live status: stopped once the sandbox process is gone. */
export function liveStatus(rec: ContainerRecord): OciState['status'] {
  return sandboxAlive(rec) ? rec.status : 'stopped';
}

/** The OCI state JSON as runc prints it. */
export function ociState(rec: ContainerRecord): OciState {
  const status = liveStatus(rec);
  const s: OciState = {
    ociVersion: rec.ociVersion ?? OCI_VERSION,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
  };
  if (Object.keys(rec.annotations).length > 0) s.annotations = rec.annotations;
  return s;
}
