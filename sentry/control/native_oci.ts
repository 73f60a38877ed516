// Typed access to native/oci.c (flock, SCM_RIGHTS fd passing, ptys). Every call returns -errno on failure.

import { native } from '../platform/ptrace/native.js';

export interface OciNative {
  ociFlock(fd: number, op: number): number;
  ociUnixConnect(path: string): number;
  ociSendFds(sock: number, fds: Int32Array, n: number): number;
  ociRecvFds(sock: number, out: Int32Array): number;
  ociOpenPty(out: Int32Array, rows: number, cols: number, raw?: number): number;
  ociSetCtty(fd: number): number;
  closeFd(fd: number): number;
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
export const MAX_PASSED_FDS = 16;

export function ociNative(): OciNative {
  return native() as unknown as OciNative;
}
