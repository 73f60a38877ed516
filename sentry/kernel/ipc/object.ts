// What every System V IPC object shares (man 7 sysvipc): a key, an id, an owner and a mode,
// kept in a per-namespace, per-kind table of ids; plus the permission check Linux's
// ipcperms() makes and the ipc64_perm struct IPC_STAT copies out.

import { E } from '../../abi/errno.js';
import { err, isErr, type Result } from '../../abi/result.js';
import type { Credentials } from '../credentials.js';

export const IPC_PRIVATE = 0;
export const IPC_CREAT = 0o1000;
export const IPC_EXCL = 0o2000;
export const IPC_NOWAIT = 0o4000;
export const IPC_RMID = 0;
export const IPC_SET = 1;
export const IPC_STAT = 2;
export const IPC_INFO = 3;
/** glibc may or the cmd with IPC_64 on some ABIs: on x86-64 it means the same layout. */
export const IPC_64 = 0x100;

export const CAP_IPC_LOCK = 14;
export const CAP_IPC_OWNER = 15;
export const CAP_SYS_ADMIN = 21;
export const CAP_SYS_RESOURCE = 24;

/** Linux's SEQ_MULTIPLIER (IPCMNI): id = seq * this + index. */
const SEQ_MULTIPLIER = 32768;
export const S_IRUGO = 0o444;
export const S_IWUGO = 0o222;

export class IpcPerm {
  seq = 0;
  id = 0;
  ctime = nowSec();
  constructor(
    public key: number,
    public uid: number,
    public gid: number,
    public cuid: number,
    public cgid: number,
    /** Low 9 bits are permissions; shm keeps SHM_DEST/SHM_LOCKED above them, as Linux does. */
    public mode: number,
  ) {}

  static create(key: number, creds: Credentials, flags: number): IpcPerm {
    return new IpcPerm(key, creds.euid, creds.egid, creds.euid, creds.egid, flags & 0o777);
  }

  /** ipcperms(): false when `flag`'s requested r/w bits are not granted and CAP_IPC_OWNER is absent. */
  allows(creds: Credentials, flag: number): boolean {
    const requested = ((flag >> 6) | (flag >> 3) | flag) & 0o7;
    let granted = this.mode;
    if (creds.euid === this.cuid || creds.euid === this.uid) granted >>= 6;
    else if (inGroup(creds, this.cgid) || inGroup(creds, this.gid)) granted >>= 3;
    return (requested & ~granted & 0o7) === 0 || creds.hasCap(CAP_IPC_OWNER);
  }

  /** IPC_SET and IPC_RMID: the owner or creator, or CAP_SYS_ADMIN. */
  ownedBy(creds: Credentials): boolean {
    return creds.euid === this.cuid || creds.euid === this.uid || creds.hasCap(CAP_SYS_ADMIN);
  }

  /** struct ipc64_perm (48 bytes) at off. */
  write(dv: DataView, off: number): void {
    dv.setInt32(off, this.key, true);
    dv.setUint32(off + 4, this.uid, true);
    dv.setUint32(off + 8, this.gid, true);
    dv.setUint32(off + 12, this.cuid, true);
    dv.setUint32(off + 16, this.cgid, true);
    dv.setUint32(off + 20, this.mode, true);
    dv.setUint16(off + 24, this.seq, true);
  }

  /** IPC_SET's part of the perm: uid, gid and the permission bits. */
  set(dv: DataView, off: number): void {
    this.uid = dv.getUint32(off + 4, true);
    this.gid = dv.getUint32(off + 8, true);
    this.mode = (this.mode & ~0o777) | (dv.getUint32(off + 20, true) & 0o777);
    this.ctime = nowSec();
  }
}

function inGroup(c: Credentials, gid: number): boolean {
  return c.egid === gid || c.groups.includes(gid);
}

export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

export interface IpcObject {
  readonly perm: IpcPerm;
}

/** The ids of one kind of object in one namespace. */
export class IdTable<T extends IpcObject> {
  private readonly byIndex = new Map<number, T>();
  private seq = 0;

  constructor(readonly limit: () => number) {}

  get inUse(): number {
    return this.byIndex.size;
  }

  /** Objects in index order, with their index. */
  entries(): [number, T][] {
    return [...this.byIndex.entries()].sort((a, b) => a[0] - b[0]);
  }

  values(): T[] {
    return this.entries().map((e) => e[1]);
  }

  /** The highest index in use, or -1 (IPC_INFO's return value). */
  maxIndex(): number {
    let m = -1;
    for (const i of this.byIndex.keys()) m = Math.max(m, i);
    return m;
  }

  byKey(key: number): T | undefined {
    if (key === IPC_PRIVATE) return undefined;
    for (const o of this.byIndex.values()) if (o.perm.key === key) return o;
    return undefined;
  }

  get(id: number): T | undefined {
    if (id < 0) return undefined;
    const o = this.byIndex.get(id % SEQ_MULTIPLIER);
    return o !== undefined && o.perm.id === id ? o : undefined;
  }

  at(index: number): T | undefined {
    return this.byIndex.get(index);
  }

  /** Gives o an index and an id; ENOSPC past the namespace's limit. */
  add(o: T): Result<number> {
    if (this.byIndex.size >= Math.min(this.limit(), SEQ_MULTIPLIER)) return err(E.ENOSPC);
    let idx = 0;
    while (this.byIndex.has(idx)) idx++;
    const seq = this.seq;
    this.seq = (this.seq + 1) % 65536;
    o.perm.seq = seq;
    o.perm.id = seq * SEQ_MULTIPLIER + idx;
    this.byIndex.set(idx, o);
    return o.perm.id;
  }

  remove(o: T): void {
    const idx = o.perm.id % SEQ_MULTIPLIER;
    if (this.byIndex.get(idx) === o) this.byIndex.delete(idx);
  }
}

/**
 * The lookup shmget/semget/msgget share (ipcget): IPC_PRIVATE or an unknown key with
 * IPC_CREAT makes a new object; a known key is EEXIST under IPC_CREAT|IPC_EXCL, then
 * the kind's own checks, then the caller's permission for the requested mode.
 */
export function ipcGet<T extends IpcObject>(
  table: IdTable<T>, key: number, flags: number, creds: Credentials,
  make: () => Result<T>, check: (o: T) => number,
): Result<number> {
  const have = table.byKey(key);
  if (have === undefined) {
    if (key !== IPC_PRIVATE && (flags & IPC_CREAT) === 0) return err(E.ENOENT);
    const o = make();
    if (isErr(o)) return o;
    return table.add(o);
  }
  if ((flags & IPC_CREAT) !== 0 && (flags & IPC_EXCL) !== 0) return err(E.EEXIST);
  const c = check(have);
  if (c !== 0) return err(c);
  if (!have.perm.allows(creds, flags)) return err(E.EACCES);
  return have.perm.id;
}
