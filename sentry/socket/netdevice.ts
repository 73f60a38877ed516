// The netdevice(7) ioctls every socket answers (SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFADDR...),
// read from the sandbox's netstack. Changing an interface (SIOCSIF*) is refused with EPERM.

import { E } from '../abi/errno.js';
import { err, isErr, type Result } from '../abi/result.js';
import type { Task } from '../kernel/task.js';
import type { Nic } from '../netstack/nic.js';
import { AF } from './constants.js';
import { formatInetAddress } from './inet/address.js';
import { netServiceOf } from './inet/net_service.js';

const SIOCGIF = {
  NAME: 0x8910, CONF: 0x8912, FLAGS: 0x8913, ADDR: 0x8915, DSTADDR: 0x8917, BRDADDR: 0x8919,
  NETMASK: 0x891b, METRIC: 0x891d, MTU: 0x8921, HWADDR: 0x8927, INDEX: 0x8933, TXQLEN: 0x8942,
} as const;
/** SIOCSIFFLAGS .. SIOCSIFTXQLEN and friends: configuration changes. */
const SETTERS = new Set([0x8914, 0x8916, 0x8918, 0x891a, 0x891c, 0x891e, 0x8922, 0x8924, 0x8934, 0x8943]);
const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;
const IFF = { UP: 0x1, BROADCAST: 0x2, LOOPBACK: 0x8, RUNNING: 0x40, MULTICAST: 0x1000 } as const;

function nicFlags(n: Nic): number {
  let f = n.isLoopback ? IFF.LOOPBACK : IFF.BROADCAST | IFF.MULTICAST;
  if (n.up) f |= IFF.UP | IFF.RUNNING;
  return f;
}

function ifName(req: Uint8Array): string {
  let end = req.indexOf(0);
  if (end < 0 || end > IFNAMSIZ) end = IFNAMSIZ;
  return Buffer.from(req.subarray(0, end)).toString('latin1');
}

/** Answers a netdevice ioctl, or ENOTTY when cmd is not one. */
export function netdeviceIoctl(t: Task, cmd: number, arg: number): Result<number> {
  if (SETTERS.has(cmd)) return err(E.EPERM);
  const isGet = Object.values(SIOCGIF).includes(cmd as never);
  if (!isGet) return err(E.ENOTTY);
  const stack = netServiceOf(t.kernel).stack;
  if (cmd === SIOCGIF.CONF) return ifconf(t, arg, stack.listNics());
  const req = t.mem.copyIn(arg, IFREQ_SIZE);
  if (isErr(req)) return req;
  const v = new DataView(req.buffer, req.byteOffset, IFREQ_SIZE);
  let nic: Nic | undefined;
  if (cmd === SIOCGIF.NAME) {
    nic = stack.nic(v.getInt32(16, true));
    if (nic === undefined) return err(E.ENODEV);
    req.fill(0, 0, IFNAMSIZ);
    req.set(Buffer.from(nic.name, 'latin1').subarray(0, IFNAMSIZ - 1));
  } else {
    const name = ifName(req);
    nic = stack.listNics().find((n) => n.name === name);
    if (nic === undefined) return err(E.ENODEV);
    req.fill(0, IFNAMSIZ);
    const a = nic.addresses[0];
    switch (cmd) {
      case SIOCGIF.FLAGS: v.setUint16(16, nicFlags(nic), true); break;
      case SIOCGIF.INDEX: v.setInt32(16, nic.id, true); break;
      case SIOCGIF.MTU: v.setInt32(16, nic.link.mtu, true); break;
      case SIOCGIF.METRIC: v.setInt32(16, 0, true); break;
      case SIOCGIF.TXQLEN: v.setInt32(16, 1000, true); break;
      case SIOCGIF.HWADDR:
        v.setUint16(16, nic.isLoopback ? 772 : 1, true);
        req.set(nic.link.mac.subarray(0, 6), 18);
        break;
      case SIOCGIF.ADDR: case SIOCGIF.DSTADDR: case SIOCGIF.NETMASK: case SIOCGIF.BRDADDR: {
        if (a === undefined) return err(E.EADDRNOTAVAIL);
        const mask = a.prefixLen === 0 ? 0 : (~0 << (32 - a.prefixLen)) >>> 0;
        let addr = a.addr;
        if (cmd === SIOCGIF.NETMASK) addr = mask;
        else if (cmd === SIOCGIF.BRDADDR) addr = nic.isLoopback ? 0 : (a.addr | ~mask) >>> 0;
        req.set(formatInetAddress({ addr, port: 0 }), 16);
        break;
      }
      default: return err(E.ENOTTY);
    }
  }
  const w = t.mem.copyOut(arg, req);
  return isErr(w) ? w : 0;
}

/** SIOCGIFCONF: one ifreq (name, AF_INET address) per IPv4 address, as many as fit. */
function ifconf(t: Task, arg: number, nics: Nic[]): Result<number> {
  const hdr = t.mem.copyIn(arg, 16);
  if (isErr(hdr)) return hdr;
  const hv = new DataView(hdr.buffer, hdr.byteOffset, 16);
  const len = hv.getInt32(0, true);
  const buf = Number(hv.getBigUint64(8, true));
  const entries: Uint8Array[] = [];
  for (const n of nics) {
    for (const a of n.addresses) {
      const e = new Uint8Array(IFREQ_SIZE);
      e.set(Buffer.from(n.name, 'latin1').subarray(0, IFNAMSIZ - 1));
      const sa = formatInetAddress({ addr: a.addr, port: 0 });
      sa[0] = AF.INET;
      e.set(sa, IFNAMSIZ);
      entries.push(e);
    }
  }
  let used = 0;
  if (buf === 0) {
    used = entries.length * IFREQ_SIZE;
  } else {
    for (const e of entries) {
      if (used + IFREQ_SIZE > len) break;
      const w = t.mem.copyOut(buf + used, e);
      if (isErr(w)) return w;
      used += IFREQ_SIZE;
    }
  }
  const w = t.mem.writeU32(arg, used);
  return isErr(w) ? w : 0;
}
