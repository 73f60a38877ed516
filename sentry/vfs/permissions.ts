// Unix permission checks against the caller's filesystem credentials and capabilities
// (Linux's generic_permission): CAP_DAC_OVERRIDE allows everything except executing a
// file with no x bit at all; CAP_DAC_READ_SEARCH allows reading files and searching
// directories. Credentials without a capability set (access(2)'s real-id check) count as
// privileged when their uid is 0.

import { isDir, R_OK, W_OK, X_OK } from './constants.js';

export interface FsCreds {
  readonly fsuid: number;
  readonly fsgid: number;
  readonly groups: readonly number[];
  /** Effective capabilities; absent: all when fsuid is 0, none otherwise. */
  readonly capEffective?: bigint;
}

export const CAP = {
  CHOWN: 0, DAC_OVERRIDE: 1, DAC_READ_SEARCH: 2, FOWNER: 3, FSETID: 4, SYS_CHROOT: 18, SYS_ADMIN: 21, MKNOD: 27,
} as const;

/** Whether creds hold capability cap. */
export function capable(creds: FsCreds, cap: number): boolean {
  const caps = creds.capEffective ?? (creds.fsuid === 0 ? -1n : 0n);
  return (caps & (1n << BigInt(cap))) !== 0n;
}

export interface Owned {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** May creds access a file with these attributes for mask (R_OK | W_OK | X_OK)? */
export function permits(creds: FsCreds, f: Owned, mask: number): boolean {
  mask &= R_OK | W_OK | X_OK;
  let bits: number;
  if (creds.fsuid === f.uid) bits = (f.mode >> 6) & 7;
  else if (creds.fsgid === f.gid || creds.groups.includes(f.gid)) bits = (f.mode >> 3) & 7;
  else bits = f.mode & 7;
  if ((bits & mask) === mask) return true;
  const dir = isDir(f.mode);
  if (capable(creds, CAP.DAC_OVERRIDE) && ((mask & X_OK) === 0 || dir || (f.mode & 0o111) !== 0)) return true;
  const readOnly = (mask & W_OK) === 0 && (dir || (mask & X_OK) === 0);
  return readOnly && capable(creds, CAP.DAC_READ_SEARCH);
}
