// Unix permission checks against the caller's filesystem credentials. The sandbox's root
// (fsuid 0) has CAP_DAC_OVERRIDE: everything is allowed except executing a file that has
// no x bit at all.

import { isDir, R_OK, W_OK, X_OK } from './constants.js';

export interface FsCreds {
  readonly fsuid: number;
  readonly fsgid: number;
  readonly groups: readonly number[];
}

export interface Owned {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** May creds access a file with these attributes for mask (R_OK | W_OK | X_OK)? */
export function permits(creds: FsCreds, f: Owned, mask: number): boolean {
  mask &= R_OK | W_OK | X_OK;
  if (creds.fsuid === 0) {
    return (mask & X_OK) === 0 || isDir(f.mode) || (f.mode & 0o111) !== 0;
  }
  let bits: number;
  if (creds.fsuid === f.uid) bits = (f.mode >> 6) & 7;
  else if (creds.fsgid === f.gid || creds.groups.includes(f.gid)) bits = (f.mode >> 3) & 7;
  else bits = f.mode & 7;
  return (bits & mask) === mask;
}
