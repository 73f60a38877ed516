// Typed access to native/hostinet.c: the host sockets behind --network=host. Every call
// returns -errno on failure; every host socket is non-blocking.

import { native } from '../../platform/ptrace/native.js';

export interface HostinetNative {
  hinSocket(domain: number, type: number, protocol: number): number;
  hinClose(fd: number): number;
  /** cb(uvEvents, or -1 on a poll error) runs once per hinArm that fires. */
  hinWatch(fd: number, cb: (events: number) => void): number;
  hinArm(fd: number, uvEvents: number): number;
  hinPoll(fd: number): number;
  hinBind(fd: number, addr: Uint8Array): number;
  hinConnect(fd: number, addr: Uint8Array): number;
  hinListen(fd: number, backlog: number): number;
  hinAccept(fd: number, addrOut: Uint8Array, lenOut: Int32Array): number;
  hinSend(fd: number, data: Uint8Array, addr: Uint8Array, flags: number): number;
  hinRecv(fd: number, buf: Uint8Array, flags: number, addrOut: Uint8Array, info: Int32Array): number;
  hinSetsockopt(fd: number, level: number, name: number, val: Uint8Array): number;
  hinGetsockopt(fd: number, level: number, name: number, out: Uint8Array): number;
  hinShutdown(fd: number, how: number): number;
  hinName(fd: number, peer: number, out: Uint8Array): number;
  hinIoctlInt(fd: number, cmd: number): number;
  hinIfreq(fd: number, cmd: number, ifreq: Uint8Array): number;
  hinIfconf(fd: number, buf: Uint8Array): number;
}

export function hostinetNative(): HostinetNative {
  return native() as unknown as HostinetNative;
}

/** libuv's uv_poll_event bits. */
export const UV = { READABLE: 1, WRITABLE: 2, DISCONNECT: 4, PRIORITIZED: 8 } as const;

/** sizeof(struct sockaddr_storage): the most a host address takes. */
export const ADDR_MAX = 128;
