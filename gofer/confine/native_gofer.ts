// Typed access to native/gofer.c: spawning and confining the Gofer, *at path operations on
// one component, and fd passing. Every call returns -errno on failure.

import { native } from '../../sentry/platform/ptrace/native.js';

export interface GoferNative {
  goferSpawn(execPath: string, argv: string[], ioFd: number, donateFd: number): number;
  childWait(pid: number, block: number): number;
  goferPivot(root: string): number;
  dropCaps(keepLo: number, keepHi: number): number;
  openRoot(path: string): number;
  openComponent(dirfd: number, name: string, flags: number, mode: number): number;
  statFd(fd: number, out: BigInt64Array): number;
  statfsFd(fd: number, out: BigInt64Array): number;
  mkdirAt(dirfd: number, name: string, mode: number): number;
  mknodAt(dirfd: number, name: string, mode: number, major: number, minor: number): number;
  symlinkAt(target: string, dirfd: number, name: string): number;
  linkAt(fd: number, dirfd: number, name: string): number;
  unlinkAt(dirfd: number, name: string, flags: number): number;
  renameAt(oldDirfd: number, oldName: string, newDirfd: number, newName: string): number;
  readlinkFd(fd: number): string | number;
  chmodFd(fd: number, mode: number): number;
  chownFd(fd: number, uid: number, gid: number): number;
  utimesFd(fd: number, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number): number;
  getdents(fd: number, buf: Uint8Array): number;
  seekDir(fd: number, offset: bigint): number;
  socketPair(type: number): [number, number] | number;
  sendFd(sock: number, fd: number, id: number): number;
  recvFd(sock: number): [number, number] | number;
  closeFd(fd: number): number;
  seccompInstall(filter: Uint8Array): number;
  /** fgetxattr/flistxattr/fsetxattr/fremovexattr on a real (not O_PATH) fd; an empty buf asks the size. */
  xattrGet(fd: number, name: string, buf: Uint8Array): number;
  xattrList(fd: number, buf: Uint8Array): number;
  xattrSet(fd: number, name: string, value: Uint8Array, flags: number): number;
  xattrRemove(fd: number, name: string): number;
}

export function goferNative(): GoferNative {
  return native() as unknown as GoferNative;
}

export const SOCK_STREAM = 1;
export const SOCK_SEQPACKET = 5;
