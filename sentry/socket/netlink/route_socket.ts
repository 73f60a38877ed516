// A NETLINK_ROUTE socket answering the dumps `ip addr`, `ip link` and `ip route` make
// (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE) from the sandbox's netstack. Requests that would
// change the configuration are refused with EOPNOTSUPP in an NLMSG_ERROR, as an unprivileged
// namespace's view would be read-only to the app here.

import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import type { Task } from '../../kernel/task.js';
import { inSubnet } from '../../netstack/addr.js';
import { isLinkLocal6, isLoopback6 } from '../../netstack/ipv6/addr6.js';
import type { Nic } from '../../netstack/nic.js';
import { IOCTL, POLL } from '../../vfs/constants.js';
import type { IoCtx } from '../../vfs/file.js';
import { AF, SOCK } from '../constants.js';
import type { NetService } from '../inet/net_service.js';
import {
  int32, readInt, releaseControl, type Received, type SendRequest, type UCred,
} from '../socket_file.js';
import { ConnectionlessSocket } from '../connectionless_socket.js';
import { receivedDatagram, recvQueued } from '../datagram.js';
import { NlWriter, NLM_F, NLMSG, parseMessages, type NlMessage } from './message.js';

const RTM = { NEWLINK: 16, GETLINK: 18, NEWADDR: 20, GETADDR: 22, NEWROUTE: 24, GETROUTE: 26 } as const;
const IFLA = { ADDRESS: 1, BROADCAST: 2, IFNAME: 3, MTU: 4, QDISC: 6, TXQLEN: 13, OPERSTATE: 16, LINKMODE: 17 } as const;
const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, CACHEINFO: 6, FLAGS: 8 } as const;
/** struct ifa_cacheinfo for a permanent address: preferred and valid lifetimes "forever". */
const FOREVER_CACHEINFO = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
const RTA = { DST: 1, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7, TABLE: 15, CACHEINFO: 12, PREF: 20 } as const;
const IFF = { UP: 0x1, BROADCAST: 0x2, LOOPBACK: 0x8, RUNNING: 0x40, MULTICAST: 0x1000, LOWER_UP: 0x10000 } as const;
const ARPHRD = { ETHER: 1, LOOPBACK: 772 } as const;
const RT_SCOPE = { UNIVERSE: 0, LINK: 253, HOST: 254 } as const;
const RT_TABLE = { MAIN: 254, LOCAL: 255 } as const;
const RTN = { UNICAST: 1, LOCAL: 2 } as const;
const RTPROT_KERNEL = 2;
const RTPROT_BOOT = 3;
const RTPROT_RA = 9;
const IFA_F_PERMANENT = 0x80;
const SOL_NETLINK = 270;
/** struct sockaddr_nl. */
const SOCKADDR_NL_SIZE = 12;

/** Port ids handed to sockets bound with pid 0 after the first (which gets its tgid). */
let nextPortId = 0x7fff_0000;

export class NetlinkRouteSocket extends ConnectionlessSocket {
  private portId = 0;
  private groups = 0;
  private readonly recvq: Uint8Array[] = [];
  private readonly nlOpts = new Map<number, number>();

  constructor(private readonly net: NetService, type: number, flags: number, readonly ownerCred: UCred) {
    super(AF.NETLINK, type, 0, flags);
  }

  override bind(_t: Task, raw: Uint8Array): Result<void> {
    if (raw.length < SOCKADDR_NL_SIZE) return err(E.EINVAL);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.length);
    if (v.getUint16(0, true) !== AF.NETLINK) return err(E.EINVAL);
    const pid = v.getUint32(4, true);
    if (this.portId !== 0 && pid !== 0 && pid !== this.portId) return err(E.EINVAL);
    this.groups = v.getUint32(8, true);
    if (this.portId === 0) this.portId = pid !== 0 ? pid : this.autoPort();
    return undefined;
  }

  private autoPort(): number {
    // Linux gives the first socket of a process its tgid; ours are unique per sandbox.
    return this.ownerCred.pid > 0 && !usedPids.has(this.ownerCred.pid) ? claim(this.ownerCred.pid) : claim(nextPortId++);
  }

  override connect(_t: Task, raw: Uint8Array): Result<void> {
    if (raw.length < SOCKADDR_NL_SIZE) return err(E.EINVAL);
    if (this.portId === 0) this.portId = this.autoPort();
    return undefined;
  }
  override shutdown(): Result<void> {
    return undefined;
  }

  override sockname(): Uint8Array {
    return sockaddrNl(this.portId, this.groups);
  }
  override peername(): Result<Uint8Array> {
    return sockaddrNl(0, 0);
  }

  override sendmsg(req: SendRequest): Result<number> {
    releaseControl(req.control);
    if (this.portId === 0) this.portId = this.autoPort();
    const msgs = parseMessages(req.data);
    for (const m of msgs) this.handle(m);
    if (msgs.length > 0) this.queue.notify(POLL.IN | POLL.RDNORM);
    return req.data.length;
  }

  override recvmsg(dst: Uint8Array, flags: number, ctx: IoCtx): MaybePromise<Result<Received>> {
    return recvQueued(this, this.recvq, flags, ctx, (d) => receivedDatagram(dst, d, sockaddrNl(0, 0)));
  }

  override readiness(): number {
    return POLL.OUT | POLL.WRNORM | (this.recvq.length > 0 ? POLL.IN | POLL.RDNORM : 0);
  }

  protected override release(): void {
    if (this.portId !== 0) usedPids.delete(this.portId);
  }

  protected override familyGetsockopt(_t: Task, level: number, name: number): Result<Uint8Array> | null {
    if (level !== SOL_NETLINK) return null;
    return int32(this.nlOpts.get(name) ?? 0);
  }

  protected override familySetsockopt(_t: Task, level: number, name: number, val: Uint8Array): Result<void> | null {
    if (level !== SOL_NETLINK) return null;
    // NETLINK_ADD_MEMBERSHIP, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK...: kept, not acted on.
    const v = readInt(val);
    if (isErr(v)) return v;
    this.nlOpts.set(name, v);
    return undefined;
  }

  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    if (cmd !== IOCTL.FIONREAD) return super.ioctl(t, cmd, arg);
    const r = t.mem.copyOut(arg, int32(this.recvq[0]?.length ?? 0));
    return isErr(r) ? r : 0;
  }

  // ---- requests ----

  private handle(m: NlMessage): void {
    const dump = (m.flags & NLM_F.DUMP) === NLM_F.DUMP;
    const w = new NlWriter(m.seq, this.portId);
    switch (m.type) {
      case RTM.GETLINK: {
        const idx = m.body.length >= 8 ? new DataView(m.body.buffer, m.body.byteOffset).getInt32(4, true) : 0;
        const nics = this.net.stack.listNics().filter((n) => dump || idx === 0 || n.id === idx);
        if (!dump && nics.length === 0) return this.reply(w.error(m, -E.ENODEV));
        for (const n of nics) this.link(w, n, dump);
        break;
      }
      case RTM.GETADDR: {
        const fam = m.body.length >= 1 ? m.body[0] : AF.UNSPEC;
        if (fam === AF.UNSPEC || fam === AF.INET) for (const n of this.net.stack.listNics()) this.addrs(w, n);
        if (fam === AF.UNSPEC || fam === AF.INET6) for (const n of this.net.stack.listNics()) this.addrs6(w, n);
        break;
      }
      case RTM.GETROUTE: {
        const fam = m.body.length >= 1 ? m.body[0] : AF.UNSPEC;
        if (fam === AF.UNSPEC || fam === AF.INET) this.routes(w);
        if (fam === AF.UNSPEC || fam === AF.INET6) this.routes6(w);
        break;
      }
      case NLMSG.NOOP:
      case NLMSG.DONE:
        return;
      default:
        return this.reply(w.error(m, -E.EOPNOTSUPP));
    }
    if (dump) w.done();
    else if ((m.flags & NLM_F.ACK) !== 0) w.error(m, 0);
    this.reply(w);
  }

  private reply(w: NlWriter): void {
    for (const d of w.datagrams()) this.recvq.push(d);
  }

  private link(w: NlWriter, n: Nic, multi: boolean): void {
    const lo = n.isLoopback;
    let flags = lo ? IFF.LOOPBACK : IFF.BROADCAST | IFF.MULTICAST;
    if (n.up) flags |= IFF.UP | IFF.RUNNING | IFF.LOWER_UP;
    const b = w.begin(RTM.NEWLINK, multi ? NLM_F.MULTI : 0);
    b.u8(AF.UNSPEC).u8(0).u16(lo ? ARPHRD.LOOPBACK : ARPHRD.ETHER).i32(n.id).u32(flags).u32(0);
    b.attrStr(IFLA.IFNAME, n.name);
    b.attrU32(IFLA.TXQLEN, 1000);
    b.attrU8(IFLA.OPERSTATE, lo ? 0 : n.up ? 6 : 2);
    b.attrU8(IFLA.LINKMODE, 0);
    b.attrU32(IFLA.MTU, n.link.mtu);
    b.attrStr(IFLA.QDISC, 'noqueue');
    b.attr(IFLA.ADDRESS, n.link.mac.length === 6 ? n.link.mac : new Uint8Array(6));
    b.attr(IFLA.BROADCAST, lo ? new Uint8Array(6) : new Uint8Array(6).fill(0xff));
    b.end();
  }

  private addrs(w: NlWriter, n: Nic): void {
    for (const a of n.addresses) {
      const host = a.addr >>> 24 === 127;
      const b = w.begin(RTM.NEWADDR, NLM_F.MULTI);
      b.u8(AF.INET).u8(a.prefixLen).u8(IFA_F_PERMANENT).u8(host ? RT_SCOPE.HOST : RT_SCOPE.UNIVERSE).u32(n.id);
      b.attr(IFA.ADDRESS, ipv4Bytes(a.addr));
      b.attr(IFA.LOCAL, ipv4Bytes(a.addr));
      if (!n.isLoopback && a.prefixLen < 31) {
        const mask = a.prefixLen === 0 ? 0 : (~0 << (32 - a.prefixLen)) >>> 0;
        b.attr(IFA.BROADCAST, ipv4Bytes((a.addr | ~mask) >>> 0));
      }
      b.attrStr(IFA.LABEL, n.name);
      b.attr(IFA.CACHEINFO, FOREVER_CACHEINFO);
      b.attrU32(IFA.FLAGS, IFA_F_PERMANENT);
      b.end();
    }
  }

  /** IPv6 addresses carry no label or broadcast; their scope says loopback, link or global. */
  private addrs6(w: NlWriter, n: Nic): void {
    for (const a of this.net.stack.ipv6.addresses(n.id)) {
      const scope = isLoopback6(a.addr) ? RT_SCOPE.HOST : isLinkLocal6(a.addr) ? RT_SCOPE.LINK : RT_SCOPE.UNIVERSE;
      const b = w.begin(RTM.NEWADDR, NLM_F.MULTI);
      b.u8(AF.INET6).u8(a.prefixLen).u8(IFA_F_PERMANENT).u8(scope).u32(n.id);
      b.attr(IFA.ADDRESS, a.addr);
      b.attr(IFA.CACHEINFO, FOREVER_CACHEINFO);
      b.attrU32(IFA.FLAGS, IFA_F_PERMANENT);
      b.end();
    }
  }

  /**
   * IPv6 routes as Linux dumps them (rt6_fill_node): scope universe, the main table's prefix
   * and configured routes, the local table's /128 per address; RA routes say when they lapse.
   */
  private routes6(w: NlWriter): void {
    const stack = this.net.stack;
    const { main, local } = stack.ipv6.routeView();
    const now = stack.now;
    const emit = (r: (typeof main)[number], table: number): void => {
      const proto = r.origin === 'ra' ? RTPROT_RA : r.origin === 'boot' ? RTPROT_BOOT : RTPROT_KERNEL;
      const b = w.begin(RTM.NEWROUTE, NLM_F.MULTI);
      b.u8(AF.INET6).u8(r.prefixLen).u8(0).u8(0).u8(table).u8(proto).u8(RT_SCOPE.UNIVERSE)
        .u8(table === RT_TABLE.LOCAL ? RTN.LOCAL : RTN.UNICAST).u32(0);
      b.attrU32(RTA.TABLE, table);
      if (r.prefixLen > 0) b.attr(RTA.DST, r.dest);
      b.attrU32(RTA.PRIORITY, r.metric);
      b.attrU32(RTA.OIF, r.nicId);
      if (r.gateway !== null) b.attr(RTA.GATEWAY, r.gateway);
      if (r.expiresAt !== Infinity) {
        // struct rta_cacheinfo; rta_expires in clock ticks (USER_HZ 100), as `ip` reads it.
        const ci = new Uint8Array(32);
        new DataView(ci.buffer).setInt32(8, Math.max(0, Math.ceil((r.expiresAt - now) / 10)), true);
        b.attr(RTA.CACHEINFO, ci);
      }
      b.attrU8(RTA.PREF, 0);
      b.end();
    };
    for (const r of main) emit(r, RT_TABLE.MAIN);
    for (const r of local) emit(r, RT_TABLE.LOCAL);
  }

  private routes(w: NlWriter): void {
    const stack = this.net.stack;
    for (const r of stack.routes.list()) {
      const nic = stack.nic(r.nicId);
      if (nic === undefined) continue;
      // Loopback's subnet lives in Linux's local table; `ip route` lists the main one.
      const local = nic.isLoopback;
      const src = r.gateway === 0 ? nic.addresses.find((a) => inSubnet(a.addr, r.dest, r.prefixLen))?.addr : undefined;
      const b = w.begin(RTM.NEWROUTE, NLM_F.MULTI);
      const scope = local ? RT_SCOPE.HOST : r.gateway === 0 ? RT_SCOPE.LINK : RT_SCOPE.UNIVERSE;
      const table = local ? RT_TABLE.LOCAL : RT_TABLE.MAIN;
      b.u8(AF.INET).u8(r.prefixLen).u8(0).u8(0).u8(table).u8(r.gateway === 0 ? RTPROT_KERNEL : RTPROT_BOOT).u8(scope)
        .u8(local ? RTN.LOCAL : RTN.UNICAST).u32(0);
      b.attrU32(RTA.TABLE, table);
      if (r.prefixLen > 0) b.attr(RTA.DST, ipv4Bytes(r.dest));
      if (r.gateway !== 0) b.attr(RTA.GATEWAY, ipv4Bytes(r.gateway));
      if (src !== undefined) b.attr(RTA.PREFSRC, ipv4Bytes(src));
      if (r.metric !== 0) b.attrU32(RTA.PRIORITY, r.metric);
      b.attrU32(RTA.OIF, r.nicId);
      b.end();
    }
  }
}

const usedPids = new Set<number>();
function claim(p: number): number {
  usedPids.add(p);
  return p;
}

function sockaddrNl(pid: number, groups: number): Uint8Array {
  const b = new Uint8Array(SOCKADDR_NL_SIZE);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF.NETLINK, true);
  v.setUint32(4, pid, true);
  v.setUint32(8, groups, true);
  return b;
}

function ipv4Bytes(a: number): Uint8Array {
  return Uint8Array.of(a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff);
}

/** AF_NETLINK socket types: SOCK_RAW and SOCK_DGRAM are the same thing. */
export function netlinkType(type: number): boolean {
  return type === SOCK.RAW || type === SOCK.DGRAM;
}
