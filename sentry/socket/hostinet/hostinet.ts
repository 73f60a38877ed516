// --network=host for one sandbox: its AF_INET/AF_INET6 sockets become host sockets driven
// by the Sentry (hostinet_socket.ts) instead of netstack endpoints. AF_UNIX stays the
// Sentry's own; netlink route and /proc/net keep showing the sandbox netstack's view
// (loopback only), not the host's interfaces.

import { E } from '../../abi/errno.js';
import { err, type Result } from '../../abi/result.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/task.js';
import { SOCK } from '../constants.js';
import { credOf, type SocketFile } from '../socket_file.js';
import { HostinetSocket, type HostinetLog } from './hostinet_socket.js';

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;

const enabled = new WeakMap<Kernel, HostinetLog>();

/** Switches a sandbox to host networking (before init runs). */
export function enableHostinet(k: Kernel): void {
  const logged = new Set<string>();
  enabled.set(k, (key, msg) => {
    if (logged.has(key)) return;
    logged.add(key);
    k.log(msg);
  });
}

export function hostinetEnabled(k: Kernel): boolean {
  return enabled.has(k);
}

/**
 * socket(2) for AF_INET/AF_INET6 in host mode; null when the sandbox uses its netstack.
 * type has the SOCK_ flags stripped; flags holds O_NONBLOCK.
 */
export function hostinetCreate(t: Task, family: number, type: number, protocol: number, flags: number): Result<SocketFile> | null {
  const log = enabled.get(t.kernel);
  if (log === undefined) return null;
  const ping = family === 2 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
  if (type === SOCK.STREAM) {
    if (protocol !== 0 && protocol !== IPPROTO_TCP) return err(E.EPROTONOSUPPORT);
    return HostinetSocket.create(family, type, IPPROTO_TCP, flags, credOf(t), log);
  }
  if (type === SOCK.DGRAM) {
    if (protocol !== 0 && protocol !== IPPROTO_UDP && protocol !== ping) return err(E.EPROTONOSUPPORT);
    return HostinetSocket.create(family, type, protocol === 0 ? IPPROTO_UDP : protocol, flags, credOf(t), log);
  }
  if (type === SOCK.RAW) {
    // Raw sockets would let the app write whole IP packets onto the host's network.
    log('raw', 'hostinet: raw sockets are not offered with --network=host: EPERM');
    return err(E.EPERM);
  }
  return err(E.ESOCKTNOSUPPORT);
}
