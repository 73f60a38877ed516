// Credentials: set*uid/set*gid, setgroups, setfsuid/setfsgid, capget/capset, with the
// permission rules of credentials(7) and capabilities(7) inside the sandbox's user view.

import { taskByVtid, vpid } from '../kernel/pid_namespace.js';
import { E } from '../abi/errno.js';
import { isErr } from '../abi/result.js';
import { SYS } from '../abi/sysno.js';
import { CAP_SETGID, CAP_SETUID, type Credentials } from '../kernel/credentials.js';
import type { SyscallHandler, SyscallTable } from './types.js';
import type { Task } from '../kernel/task.js';

const KEEP = 0xffffffff; // (uid_t)-1: leave unchanged
const NGROUPS_MAX = 65536;

function oneOf(v: number, ...set: number[]): boolean {
  return set.includes(v);
}

/** Whether every id given (KEEP aside) is mapped in the sandbox's user namespace. */
function mapped(t: Task, kind: 'uid' | 'gid', ...ids: number[]): boolean {
  const m = t.kernel.idMaps;
  return ids.every((id) => id === KEEP || (kind === 'uid' ? m.mapsUid(id) : m.mapsGid(id)));
}

const sysSetuid: SyscallHandler = (t, a) => {
  const u = a.uint(0);
  if (u === KEEP || !mapped(t, 'uid', u)) return -E.EINVAL;
  const c = t.creds;
  if (c.hasCap(CAP_SETUID)) c.setUids(u, u, u);
  else if (oneOf(u, c.uid, c.suid)) c.setUids(c.uid, u, c.suid);
  else return -E.EPERM;
  return 0;
};

const sysSetreuid: SyscallHandler = (t, a) => {
  const r = a.uint(0);
  const e = a.uint(1);
  if (!mapped(t, 'uid', r, e)) return -E.EINVAL;
  const c = t.creds;
  const priv = c.hasCap(CAP_SETUID);
  if (r !== KEEP && !priv && !oneOf(r, c.uid, c.euid)) return -E.EPERM;
  if (e !== KEEP && !priv && !oneOf(e, c.uid, c.euid, c.suid)) return -E.EPERM;
  const nr = r === KEEP ? c.uid : r;
  const ne = e === KEEP ? c.euid : e;
  // The saved id follows the new effective one when the real id is set or euid != old ruid.
  const ns = r !== KEEP || (e !== KEEP && e !== c.uid) ? ne : c.suid;
  c.setUids(nr, ne, ns);
  return 0;
};

const sysSetresuid: SyscallHandler = (t, a) => {
  const [r, e, s] = [a.uint(0), a.uint(1), a.uint(2)];
  if (!mapped(t, 'uid', r, e, s)) return -E.EINVAL;
  const c = t.creds;
  if (!c.hasCap(CAP_SETUID)) {
    for (const v of [r, e, s]) if (v !== KEEP && !oneOf(v, c.uid, c.euid, c.suid)) return -E.EPERM;
  }
  c.setUids(r === KEEP ? c.uid : r, e === KEEP ? c.euid : e, s === KEEP ? c.suid : s);
  return 0;
};

function setGids(c: Credentials, gid: number, egid: number, sgid: number): void {
  c.gid = gid;
  c.egid = egid;
  c.sgid = sgid;
  c.fsgid = egid;
}

const sysSetgid: SyscallHandler = (t, a) => {
  const g = a.uint(0);
  if (g === KEEP || !mapped(t, 'gid', g)) return -E.EINVAL;
  const c = t.creds;
  if (c.hasCap(CAP_SETGID)) setGids(c, g, g, g);
  else if (oneOf(g, c.gid, c.sgid)) setGids(c, c.gid, g, c.sgid);
  else return -E.EPERM;
  return 0;
};

const sysSetregid: SyscallHandler = (t, a) => {
  const r = a.uint(0);
  const e = a.uint(1);
  if (!mapped(t, 'gid', r, e)) return -E.EINVAL;
  const c = t.creds;
  const priv = c.hasCap(CAP_SETGID);
  if (r !== KEEP && !priv && !oneOf(r, c.gid, c.egid)) return -E.EPERM;
  if (e !== KEEP && !priv && !oneOf(e, c.gid, c.egid, c.sgid)) return -E.EPERM;
  const nr = r === KEEP ? c.gid : r;
  const ne = e === KEEP ? c.egid : e;
  const ns = r !== KEEP || (e !== KEEP && e !== c.gid) ? ne : c.sgid;
  setGids(c, nr, ne, ns);
  return 0;
};

const sysSetresgid: SyscallHandler = (t, a) => {
  const [r, e, s] = [a.uint(0), a.uint(1), a.uint(2)];
  if (!mapped(t, 'gid', r, e, s)) return -E.EINVAL;
  const c = t.creds;
  if (!c.hasCap(CAP_SETGID)) {
    for (const v of [r, e, s]) if (v !== KEEP && !oneOf(v, c.gid, c.egid, c.sgid)) return -E.EPERM;
  }
  setGids(c, r === KEEP ? c.gid : r, e === KEEP ? c.egid : e, s === KEEP ? c.sgid : s);
  return 0;
};

/** The file-system capabilities that follow fsuid 0 (CAP_FS_MASK in the kernel). */
const CAP_FS_MASK = [0, 1, 2, 3, 4, 9, 27, 32].reduce((m, c) => m | (1n << BigInt(c)), 0n);

/**
 * setfsuid(u): always returns the previous fsuid; changes it only when allowed. Leaving
 * fsuid 0 drops the file-system capabilities from the effective set; returning restores them.
 */
const sysSetfsuid: SyscallHandler = (t, a) => {
  const u = a.uint(0);
  const c = t.creds;
  const old = c.fsuid;
  if (u !== KEEP && (c.hasCap(CAP_SETUID) || oneOf(u, c.uid, c.euid, c.suid, c.fsuid))) {
    c.fsuid = u;
    if (old === 0 && u !== 0) c.capEffective &= ~CAP_FS_MASK;
    if (old !== 0 && u === 0) c.capEffective |= c.capPermitted & CAP_FS_MASK;
  }
  return old;
};

const sysSetfsgid: SyscallHandler = (t, a) => {
  const g = a.uint(0);
  const c = t.creds;
  const old = c.fsgid;
  if (g !== KEEP && (c.hasCap(CAP_SETGID) || oneOf(g, c.gid, c.egid, c.sgid, c.fsgid))) c.fsgid = g;
  return old;
};

/** setgroups(size, list): CAP_SETGID only. */
const sysSetgroups: SyscallHandler = (t, a) => {
  const n = a.int(0);
  if (n < 0 || n > NGROUPS_MAX) return -E.EINVAL;
  if (!t.creds.hasCap(CAP_SETGID)) return -E.EPERM;
  const groups: number[] = [];
  if (n > 0) {
    const b = t.mem.copyIn(a.ptr(1), n * 4);
    if (isErr(b)) return -b.errno;
    const dv = new DataView(b.buffer, b.byteOffset, n * 4);
    for (let i = 0; i < n; i++) groups.push(dv.getUint32(i * 4, true));
  }
  if (!groups.every((g) => t.kernel.idMaps.mapsGid(g))) return -E.EINVAL;
  t.creds.groups = [...new Set(groups)].sort((x, y) => x - y);
  return 0;
};

const CAP_V1 = 0x19980330;
const CAP_V2 = 0x20071026;
const CAP_V3 = 0x20080522;

/** Validates the header; on a bad version writes the preferred one back (EINVAL). */
function capHeader(t: Parameters<SyscallHandler>[0], hdr: number): { words: number; pid: number } | number {
  const b = t.mem.copyIn(hdr, 8);
  if (isErr(b)) return -b.errno;
  const dv = new DataView(b.buffer, b.byteOffset, 8);
  const version = dv.getUint32(0, true);
  const pid = dv.getInt32(4, true);
  if (version !== CAP_V1 && version !== CAP_V2 && version !== CAP_V3) {
    const w = t.mem.writeU32(hdr, CAP_V3);
    return isErr(w) ? -w.errno : -E.EINVAL;
  }
  if (pid < 0) return -E.EINVAL;
  return { words: version === CAP_V1 ? 1 : 2, pid };
}

/** capget(hdr, data): effective/permitted/inheritable of pid (0: self). */
const sysCapget: SyscallHandler = (t, a) => {
  const h = capHeader(t, a.ptr(0));
  if (typeof h === 'number') return h;
  const target = h.pid === 0 ? t : h.pid > 0 ? taskByVtid(t, h.pid) : undefined;
  if (target === undefined) return -E.ESRCH;
  if (a.ptr(1) === 0) return 0;
  const c = target.creds;
  const b = new Uint8Array(12 * h.words);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < h.words; i++) {
    const sh = BigInt(32 * i);
    dv.setUint32(i * 12, Number((c.capEffective >> sh) & 0xffffffffn), true);
    dv.setUint32(i * 12 + 4, Number((c.capPermitted >> sh) & 0xffffffffn), true);
    dv.setUint32(i * 12 + 8, Number((c.capInheritable >> sh) & 0xffffffffn), true);
  }
  const r = t.mem.copyOut(a.ptr(1), b);
  return isErr(r) ? -r.errno : 0;
};

/** capset(hdr, data): only self; permitted may only shrink, effective within permitted. */
const sysCapset: SyscallHandler = (t, a) => {
  const h = capHeader(t, a.ptr(0));
  if (typeof h === 'number') return h;
  if (h.pid !== 0 && h.pid !== vpid(t, t.tid)) return -E.EPERM;
  const b = t.mem.copyIn(a.ptr(1), 12 * h.words);
  if (isErr(b)) return -b.errno;
  const dv = new DataView(b.buffer, b.byteOffset, 12 * h.words);
  let eff = 0n;
  let perm = 0n;
  let inh = 0n;
  for (let i = 0; i < h.words; i++) {
    const sh = BigInt(32 * i);
    eff |= BigInt(dv.getUint32(i * 12, true)) << sh;
    perm |= BigInt(dv.getUint32(i * 12 + 4, true)) << sh;
    inh |= BigInt(dv.getUint32(i * 12 + 8, true)) << sh;
  }
  const c = t.creds;
  if ((perm & ~c.capPermitted) !== 0n) return -E.EPERM;
  if ((eff & ~perm) !== 0n) return -E.EPERM;
  if ((inh & ~(c.capInheritable | c.capPermitted)) !== 0n) return -E.EPERM;
  if ((inh & ~(c.capInheritable | c.capBounding)) !== 0n) return -E.EPERM;
  c.capEffective = eff;
  c.capPermitted = perm;
  c.capInheritable = inh;
  // An ambient capability lives only while it is both permitted and inheritable.
  c.capAmbient &= perm & inh;
  return 0;
};

export const credSyscalls: SyscallTable = {
  [SYS.setuid]: sysSetuid,
  [SYS.setgid]: sysSetgid,
  [SYS.setreuid]: sysSetreuid,
  [SYS.setregid]: sysSetregid,
  [SYS.setresuid]: sysSetresuid,
  [SYS.setresgid]: sysSetresgid,
  [SYS.setfsuid]: sysSetfsuid,
  [SYS.setfsgid]: sysSetfsgid,
  [SYS.setgroups]: sysSetgroups,
  [SYS.capget]: sysCapget,
  [SYS.capset]: sysCapset,
};
