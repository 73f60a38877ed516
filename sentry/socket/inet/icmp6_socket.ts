// ICMPv6 sockets over the netstack's IPv6 layer. Raw (SOCK_RAW, IPPROTO_ICMPV6): the app
// writes ICMPv6 messages (the checksum is always computed for it, RFC 3542 3.1) and reads
// every ICMPv6 message the stack receives, without the IPv6 header, minus the types
// ICMP6_FILTER blocks. Ping (SOCK_DGRAM, IPPROTO_ICMPV6): echo requests whose identifier the
// socket owns, and only the matching echo replies. IPV6_RECVHOPLIMIT (and RFC 2292's
// IPV6_HOPLIMIT) deliver each message's hop limit as a control message.

import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import type { Task } from '../../kernel/task.js';
import { wr16 } from '../../netstack/bytes.js';
import { checksum } from '../../netstack/checksum.js';
import { isLinkLocal6, isMulticast6, isUnspecified6, type Ipv6Addr } from '../../netstack/ipv6/addr6.js';
import { ICMP6_ECHO_REPLY, ICMP6_ECHO_REQUEST } from '../../netstack/ipv6/icmpv6.js';
import { NH_ICMPV6, pseudoHeaderSum6 } from '../../netstack/ipv6/ipv6.js';
import type { Icmpv6Event } from '../../netstack/ipv6/layer.js';
import { IOCTL, POLL } from '../../vfs/constants.js';
import type { IoCtx } from '../../vfs/file.js';
import { AF, SOCK, SOL } from '../constants.js';
import {
  int32, readInt, releaseControl, type Received, type SendRequest, type UCred,
} from '../socket_file.js';
import { ConnectionlessSocket } from '../connectionless_socket.js';
import { receivedDatagram, recvQueued, sendDestination } from '../datagram.js';
import type { NetService } from './net_service.js';
import { pollBits } from './tcp_socket.js';
import { EchoIds } from './echo_ids.js';

export const IPPROTO_ICMPV6 = 58;
const SOL_RAW = 255;
const ICMP6_FILTER = 1;
const IPV6_CHECKSUM = 7;
const IPV6_2292HOPLIMIT = 8;
const IPV6_UNICAST_HOPS = 16;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_HOPLIMIT = 52;
const SOCKADDR_IN6_SIZE = 28;
/** Messages queued before the oldest is dropped (a rough SO_RCVBUF). */
const MAX_QUEUED = 256;

interface Sockaddr6 {
  addr: Ipv6Addr;
  port: number;
  scope: number;
}

function parseSockaddr6(b: Uint8Array): Result<Sockaddr6> {
  if (b.length < 24) return err(E.EINVAL);
  if ((b[0] | (b[1] << 8)) !== AF.INET6) return err(E.EAFNOSUPPORT);
  const scope = b.length >= SOCKADDR_IN6_SIZE ? (b[24] | (b[25] << 8) | (b[26] << 16) | (b[27] << 24)) >>> 0 : 0;
  return { addr: b.slice(8, 24), port: (b[2] << 8) | b[3], scope };
}

function formatSockaddr6(a: Sockaddr6): Uint8Array {
  const b = new Uint8Array(SOCKADDR_IN6_SIZE);
  b[0] = AF.INET6;
  wr16(b, 2, a.port);
  b.set(a.addr, 8);
  new DataView(b.buffer).setUint32(24, a.scope, true);
  return b;
}

interface Message {
  from: Sockaddr6;
  data: Uint8Array;
  hopLimit: number;
}

const echoIds = new EchoIds();

export class Icmp6Socket extends ConnectionlessSocket {
  private ident = 0;
  private local: Sockaddr6 | null = null;
  private remote: Sockaddr6 | null = null;
  private readonly messages: Message[] = [];
  private readonly stopListening: () => void;
  /** ICMP6_FILTER: a set bit blocks that type (struct icmp6_filter, 256 bits). */
  private filter = new Uint8Array(32);
  private hopLimit = -1;
  /** Which hop-limit control message the app asked for: RFC 3542's, RFC 2292's, or none. */
  private hopLimitCmsg = 0;
  /** Where sendmsg writes the checksum (SOL_RAW IPV6_CHECKSUM); -1: the app's own. */
  private checksumOffset = 2;

  constructor(private readonly net: NetService, readonly raw: boolean, flags: number, readonly ownerCred: UCred) {
    super(AF.INET6, raw ? SOCK.RAW : SOCK.DGRAM, IPPROTO_ICMPV6, flags);
    this.stopListening = net.stack.ipv6.onIcmp((e) => this.onIcmp(e));
  }

  /** Claims identifier id (0: any free one). */
  private claim(id: number): Result<void> {
    const c = echoIds.claim(this.net, id);
    if (isErr(c)) return c;
    this.ident = c;
    return undefined;
  }

  private onIcmp(e: Icmpv6Event): void {
    const type = e.message.type;
    if (this.raw) {
      if ((this.filter[type >> 3] & (1 << (type & 7))) !== 0) return;
    } else if (this.ident === 0 || type !== ICMP6_ECHO_REPLY || e.raw.length < 8 || ((e.raw[4] << 8) | e.raw[5]) !== this.ident) {
      return;
    }
    if (this.local !== null && !isUnspecified6(this.local.addr) && !sameAddr(e.dst, this.local.addr) && !isMulticast6(e.dst)) return;
    if (this.remote !== null && !sameAddr(e.src, this.remote.addr)) return;
    if (this.messages.length >= MAX_QUEUED) this.messages.shift();
    const scope = isLinkLocal6(e.src) ? e.nicId : 0;
    this.messages.push({ from: { addr: e.src.slice(), port: 0, scope }, data: e.raw.slice(), hopLimit: e.hopLimit });
    this.queue.notify(POLL.IN | POLL.RDNORM);
  }

  override bind(_t: Task, raw: Uint8Array): Result<void> {
    const a = parseSockaddr6(raw);
    if (isErr(a)) return a;
    if (!isUnspecified6(a.addr) && !this.net.stack.ipv6.isLocal(a.addr)) return err(E.EADDRNOTAVAIL);
    if (!this.raw) {
      if (this.ident !== 0) return err(E.EINVAL);
      const c = this.claim(a.port);
      if (isErr(c)) return c;
    }
    this.local = a;
    return undefined;
  }

  override connect(_t: Task, raw: Uint8Array): Result<void> {
    if (raw.length >= 2 && (raw[0] | (raw[1] << 8)) === AF.UNSPEC) {
      this.remote = null;
      return undefined;
    }
    const a = parseSockaddr6(raw);
    if (isErr(a)) return a;
    if (this.net.stack.ipv6.route(a.addr, a.scope) === null) return err(E.ENETUNREACH);
    this.remote = a;
    return undefined;
  }

  override shutdown(): Result<void> {
    return this.remote === null ? err(E.ENOTCONN) : undefined;
  }

  override sendmsg(req: SendRequest): Result<number> {
    releaseControl(req.control);
    const dst = sendDestination(req.to, parseSockaddr6, this.remote);
    if (isErr(dst)) return dst;
    const d = req.data.slice();
    if (d.length > 65535 - 8) return err(E.EMSGSIZE);
    // Linux reads the type and code for the flow before anything else.
    if (this.raw && d.length < 2) return err(E.EFAULT);
    if (!this.raw) {
      // As Linux's ping_v6_sendmsg: an echo request is required; the socket's identifier goes in.
      if (d.length < 8 || d[0] !== ICMP6_ECHO_REQUEST || d[1] !== 0) return err(E.EINVAL);
      if (this.ident === 0) {
        const c = this.claim(0);
        if (isErr(c)) return c;
      }
      wr16(d, 4, this.ident);
    }
    const ipv6 = this.net.stack.ipv6;
    const route = ipv6.route(dst.addr, dst.scope);
    if (route === null) return err(E.ENETUNREACH);
    const src = this.local !== null && !isUnspecified6(this.local.addr) ? this.local.addr : route.src;
    if (this.checksumOffset >= 0) {
      // Linux refuses a message too short to hold the checksum it must fill in.
      if (this.checksumOffset + 1 >= d.length) return err(E.EINVAL);
      wr16(d, this.checksumOffset, 0);
      wr16(d, this.checksumOffset, checksum(d, 0, d.length, pseudoHeaderSum6(src, dst.addr, NH_ICMPV6, d.length)));
    }
    const hop = this.hopLimit >= 0 ? this.hopLimit : undefined;
    const r = this.net.run(() => this.net.stack.batch(() => ipv6.send({ src, dst: dst.addr, nextHeader: NH_ICMPV6, hopLimit: hop, nicId: route.nicId }, d)));
    return isErr(r) ? r : req.data.length;
  }

  protected override familyGetsockopt(_t: Task, level: number, name: number): Result<Uint8Array> | null {
    if (level === IPPROTO_ICMPV6) {
      if (!this.raw || name !== ICMP6_FILTER) return err(E.ENOPROTOOPT);
      return this.filter.slice();
    }
    if (level === SOL_RAW) return name === IPV6_CHECKSUM ? int32(this.checksumOffset) : err(E.ENOPROTOOPT);
    if (level !== SOL.IPV6) return null;
    switch (name) {
      case IPV6_UNICAST_HOPS: return int32(this.hopLimit < 0 ? 64 : this.hopLimit);
      case IPV6_RECVHOPLIMIT: return int32(this.hopLimitCmsg === IPV6_HOPLIMIT ? 1 : 0);
      case IPV6_2292HOPLIMIT: return int32(this.hopLimitCmsg === IPV6_2292HOPLIMIT ? 1 : 0);
      default: return err(E.ENOPROTOOPT);
    }
  }

  protected override familySetsockopt(_t: Task, level: number, name: number, val: Uint8Array): Result<void> | null {
    if (level === IPPROTO_ICMPV6) {
      if (!this.raw || name !== ICMP6_FILTER) return err(E.ENOPROTOOPT);
      const f = new Uint8Array(32);
      f.set(val.subarray(0, 32));
      this.filter = f;
      return undefined;
    }
    const v = readInt(val);
    if (level === SOL_RAW) {
      if (name !== IPV6_CHECKSUM || !this.raw) return err(E.ENOPROTOOPT);
      if (isErr(v)) return v;
      // As Linux: an even offset moves the checksum, a negative one turns it off.
      if (v > 0 && (v & 1) !== 0) return err(E.EINVAL);
      this.checksumOffset = v < 0 ? -1 : v;
      return undefined;
    }
    if (level !== SOL.IPV6) return null;
    if (isErr(v)) return v;
    switch (name) {
      case IPV6_CHECKSUM:
        // ICMPv6's checksum is not the app's to configure at the IPv6 level (RFC 3542 3.1).
        return err(E.EINVAL);
      case IPV6_UNICAST_HOPS:
        if (v < -1 || v > 255) return err(E.EINVAL);
        this.hopLimit = v;
        return undefined;
      case IPV6_RECVHOPLIMIT:
        this.hopLimitCmsg = v !== 0 ? IPV6_HOPLIMIT : 0;
        return undefined;
      case IPV6_2292HOPLIMIT:
        this.hopLimitCmsg = v !== 0 ? IPV6_2292HOPLIMIT : 0;
        return undefined;
      default:
        return err(E.ENOPROTOOPT);
    }
  }

  override recvmsg(dst: Uint8Array, flags: number, ctx: IoCtx): MaybePromise<Result<Received>> {
    return recvQueued(this, this.messages, flags, ctx, (m) => {
      const proto = this.hopLimitCmsg === 0 ? undefined : [{ level: SOL.IPV6, type: this.hopLimitCmsg, data: int32(m.hopLimit) }];
      return { ...receivedDatagram(dst, m.data, formatSockaddr6(m.from)), control: { proto } };
    });
  }

  override sockname(): Uint8Array {
    const l = this.local ?? { addr: new Uint8Array(16), port: 0, scope: 0 };
    return formatSockaddr6({ ...l, port: this.raw ? IPPROTO_ICMPV6 : this.ident });
  }

  /** Linux's inet6_getname: a peer with port 0 (always, for ICMPv6) counts as not connected. */
  override peername(): Result<Uint8Array> {
    return this.remote === null || this.remote.port === 0 ? err(E.ENOTCONN) : formatSockaddr6(this.remote);
  }

  override readiness(): number {
    return pollBits(POLL.OUT | (this.messages.length > 0 ? POLL.IN : 0));
  }

  protected override release(): void {
    this.stopListening();
    if (this.ident !== 0) echoIds.release(this.net, this.ident);
  }

  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    if (cmd !== IOCTL.FIONREAD) return super.ioctl(t, cmd, arg);
    const r = t.mem.copyOut(arg, int32(this.messages[0]?.data.length ?? 0));
    return isErr(r) ? r : 0;
  }
}

function sameAddr(a: Ipv6Addr, b: Ipv6Addr): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}
