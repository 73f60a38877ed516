// ICMP sockets. Ping sockets (SOCK_DGRAM, IPPROTO_ICMP), as Linux gives unprivileged
// programs: the app writes echo requests (header and data), the socket's identifier
// replaces the app's, and only echo replies carrying that identifier are received. Raw
// ICMP sockets (SOCK_RAW, IPPROTO_ICMP): the app writes whole ICMP messages and reads every
// ICMP datagram the stack receives, IP header included, minus the types ICMP_FILTER drops.

import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import type { Task } from '../../kernel/task.js';
import type { IcmpEvent } from '../../netstack/stack.js';
import { IOCTL, POLL } from '../../vfs/constants.js';
import type { IoCtx } from '../../vfs/file.js';
import { buildIpv4 } from '../../netstack/ipv4.js';
import { AF, SOCK } from '../constants.js';
import {
  int32, readInt, releaseControl, type Received, type SendRequest, type UCred,
} from '../socket_file.js';
import { ConnectionlessSocket } from '../connectionless_socket.js';
import { receivedDatagram, recvQueued, sendDestination } from '../datagram.js';
import { destination, familyOf, formatInetAddress, parseInetAddress, type InetAddress } from './address.js';
import type { NetService } from './net_service.js';
import { pollBits } from './tcp_socket.js';
import { EchoIds } from './echo_ids.js';

const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
/** Replies queued before the oldest is dropped (a rough SO_RCVBUF). */
const MAX_QUEUED = 256;
const IPPROTO_ICMP = 1;
const SOL_RAW = 255;
const ICMP_FILTER = 1;

const echoIds = new EchoIds();

interface Reply {
  from: InetAddress;
  message: Uint8Array;
}

export class IcmpSocket extends ConnectionlessSocket {
  private ident = 0;
  private local = 0;
  private remote: InetAddress | null = null;
  private readonly replies: Reply[] = [];
  private readonly stopListening: () => void;
  /** ICMP_FILTER: bit t set drops type t (raw sockets). */
  private filter = 0;

  constructor(private readonly net: NetService, readonly raw: boolean, flags: number, readonly ownerCred: UCred) {
    super(AF.INET, raw ? SOCK.RAW : SOCK.DGRAM, IPPROTO_ICMP, flags);
    this.stopListening = net.stack.onIcmp((e) => this.onIcmp(e));
  }

  /** Claims identifier id (0: any free one). */
  private claim(id: number): Result<void> {
    const c = echoIds.claim(this.net, id);
    if (isErr(c)) return c;
    this.ident = c;
    return undefined;
  }

  private onIcmp(e: IcmpEvent): void {
    if (this.raw) return this.onRaw(e);
    const m = e.message;
    if (this.ident === 0 || m.type !== ICMP_ECHO_REPLY || m.rest >>> 16 !== this.ident) return;
    if (this.local !== 0 && e.dst !== this.local) return;
    if (this.remote !== null && e.src !== this.remote.addr) return;
    if (this.replies.length >= MAX_QUEUED) this.replies.shift();
    const msg = new Uint8Array(8 + m.body.length);
    msg[0] = m.type;
    msg[1] = m.code;
    msg[4] = m.rest >>> 24;
    msg[5] = (m.rest >>> 16) & 0xff;
    msg[6] = (m.rest >>> 8) & 0xff;
    msg[7] = m.rest & 0xff;
    msg.set(m.body, 8);
    this.replies.push({ from: { addr: e.src, port: 0 }, message: msg });
    this.queue.notify(POLL.IN | POLL.RDNORM);
  }

  private onRaw(e: IcmpEvent): void {
    if (e.message.type < 32 && (this.filter & (1 << e.message.type)) !== 0) return;
    if (this.local !== 0 && e.dst !== this.local) return;
    if (this.remote !== null && e.src !== this.remote.addr) return;
    if (this.replies.length >= MAX_QUEUED) this.replies.shift();
    const h = e.header;
    const message = buildIpv4({ src: h.src, dst: h.dst, protocol: IPPROTO_ICMP, ttl: h.ttl, tos: h.tos, id: h.id }, e.raw);
    this.replies.push({ from: { addr: e.src, port: 0 }, message });
    this.queue.notify(POLL.IN | POLL.RDNORM);
  }

  override bind(_t: Task, raw: Uint8Array): Result<void> {
    const a = parseInetAddress(raw, true);
    if (isErr(a)) return a;
    if (this.raw) {
      if (a.addr !== 0 && !this.net.stack.isLocalAddress(a.addr)) return err(E.EADDRNOTAVAIL);
      this.local = a.addr;
      return undefined;
    }
    if (this.ident !== 0) return err(E.EINVAL);
    if (a.addr !== 0 && !this.net.stack.isLocalAddress(a.addr)) return err(E.EADDRNOTAVAIL);
    const c = this.claim(a.port);
    if (isErr(c)) return c;
    this.local = a.addr;
    return undefined;
  }

  override connect(_t: Task, raw: Uint8Array): Result<void> {
    if (raw.length < 2) return err(E.EINVAL);
    if (familyOf(raw) === AF.UNSPEC) {
      this.remote = null;
      return undefined;
    }
    const a = parseInetAddress(raw);
    if (isErr(a)) return a;
    if (this.net.stack.route(destination(a).addr) === null) return err(E.ENETUNREACH);
    this.remote = destination(a);
    return undefined;
  }

  override shutdown(): Result<void> {
    return this.remote === null ? err(E.ENOTCONN) : undefined;
  }

  override sendmsg(req: SendRequest): Result<number> {
    releaseControl(req.control);
    const dst = sendDestination(req.to, (raw) => {
      const a = parseInetAddress(raw);
      return isErr(a) ? a : destination(a);
    }, this.remote);
    if (isErr(dst)) return dst;
    const d = req.data;
    if (this.raw) return this.sendRaw(dst, d);
    // Linux's ping_common_sendmsg: an echo request header is required.
    if (d.length < 8 || d[0] !== ICMP_ECHO_REQUEST || d[1] !== 0) return err(E.EINVAL);
    if (d.length > 65507) return err(E.EMSGSIZE);
    if (this.ident === 0) {
      const c = this.claim(0);
      if (isErr(c)) return c;
    }
    const seq = (d[6] << 8) | d[7];
    const r = this.net.run(() => this.net.stack.sendEcho(dst.addr, this.ident, seq, d.subarray(8)));
    return isErr(r) ? r : d.length;
  }

  /** A raw socket's message goes out as the app built it (checksum included). */
  private sendRaw(dst: InetAddress, d: Uint8Array): Result<number> {
    if (d.length > 65515) return err(E.EMSGSIZE);
    const stack = this.net.stack;
    const route = stack.route(dst.addr);
    if (route === null) return err(E.ENETUNREACH);
    const src = this.local !== 0 ? this.local : route.src;
    const r = this.net.run(() => stack.batch(() => stack.sendIpv4({ src, dst: dst.addr, protocol: IPPROTO_ICMP }, d.slice())));
    return isErr(r) ? r : d.length;
  }

  protected override familyGetsockopt(_t: Task, level: number, name: number): Result<Uint8Array> | null {
    if (level !== SOL_RAW) return null;
    if (!this.raw || name !== ICMP_FILTER) return err(E.ENOPROTOOPT);
    return int32(this.filter);
  }

  protected override familySetsockopt(_t: Task, level: number, name: number, val: Uint8Array): Result<void> | null {
    if (level !== SOL_RAW) return null;
    if (!this.raw || name !== ICMP_FILTER) return err(E.ENOPROTOOPT);
    const v = readInt(val);
    if (isErr(v)) return v;
    this.filter = v >>> 0;
    return undefined;
  }

  override recvmsg(dst: Uint8Array, flags: number, ctx: IoCtx): MaybePromise<Result<Received>> {
    return recvQueued(this, this.replies, flags, ctx, (r) => receivedDatagram(dst, r.message, formatInetAddress(r.from)));
  }

  override sockname(): Uint8Array {
    return formatInetAddress({ addr: this.local, port: this.raw ? 0 : this.ident });
  }

  override peername(): Result<Uint8Array> {
    return this.remote === null ? err(E.ENOTCONN) : formatInetAddress(this.remote);
  }

  override readiness(): number {
    return pollBits(POLL.OUT | (this.replies.length > 0 ? POLL.IN : 0));
  }

  protected override release(): void {
    this.stopListening();
    if (this.ident !== 0) echoIds.release(this.net, this.ident);
  }

  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    if (cmd !== IOCTL.FIONREAD) return super.ioctl(t, cmd, arg);
    const r = t.mem.copyOut(arg, int32(this.replies[0]?.message.length ?? 0));
    return isErr(r) ? r : 0;
  }
}
