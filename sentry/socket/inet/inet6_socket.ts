// AF_INET6 TCP and UDP sockets. The netstack runs IPv4 and IPv6 as separate transports, so
// this socket composes them: an unbound socket starts on the IPv4 one (reaching IPv4 peers
// through IPv4-mapped addresses, ::ffff:a.b.c.d); a native IPv6 address or IPV6_V6ONLY moves
// it to the IPv6 one (netstack/ipv6). Bound to "::" without IPV6_V6ONLY it holds one socket
// on each transport on the same port ("dual"), so it serves both families at once and
// conflicts with IPv4 sockets on that port as Linux's does; connecting picks one of the two.

import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import type { Task } from '../../kernel/task.js';
import type { IoCtx } from '../../vfs/file.js';
import { O, POLL } from '../../vfs/constants.js';
import type { Waiter } from '../../vfs/wait_queue.js';
import { AF, MSG, SO, SOCK, SOL } from '../constants.js';
import {
  int32, readInt, SocketFile, type Accepted, type Received, type SendRequest, type UCred,
} from '../socket_file.js';
import { familyOf, formatInetAddress, parseInetAddress, type InetAddress } from './address.js';
import { setEndpointOwner } from './owners.js';
import { IP } from './ip_options.js';
import { retryUntilReady } from '../retry.js';

/** sizeof(struct sockaddr_in6); RFC 2133's 24-byte form is accepted as Linux does. */
export const SOCKADDR_IN6_SIZE = 28;
const SIN6_LEN_RFC2133 = 24;
const IPV6 = { UNICAST_HOPS: 16, MULTICAST_HOPS: 18, V6ONLY: 26, RECVPKTINFO: 49, TCLASS: 67 } as const;

/** mapped: written as ::ffff:a.b.c.d (so ::ffff:0.0.0.0 is IPv4's any address only, unlike ::). */
export type Inet6Address = { kind: 'v4'; a: InetAddress; mapped: boolean } | { kind: 'v6'; port: number };

/** Decodes a sockaddr_in6 into an IPv4 address (unspecified or mapped) or a native IPv6 one. */
export function parseInet6Address(b: Uint8Array): Result<Inet6Address> {
  if (b.length < SIN6_LEN_RFC2133) return err(E.EINVAL);
  if (familyOf(b) !== AF.INET6) return err(E.EAFNOSUPPORT);
  const port = (b[2] << 8) | b[3];
  const addr = b.subarray(8, 24);
  const zeros = (from: number, to: number): boolean => addr.subarray(from, to).every((x) => x === 0);
  if (zeros(0, 16)) return { kind: 'v4', a: { addr: 0, port }, mapped: false };
  if (zeros(0, 10) && addr[10] === 0xff && addr[11] === 0xff) {
    return { kind: 'v4', a: { addr: ((addr[12] << 24) | (addr[13] << 16) | (addr[14] << 8) | addr[15]) >>> 0, port }, mapped: true };
  }
  return { kind: 'v6', port };
}

/** An IPv4 endpoint as IPv6 sees it: "::" for the unspecified address, else ::ffff:a.b.c.d. */
export function formatInet6Address(a: InetAddress, mappedAny = false): Uint8Array {
  const b = new Uint8Array(SOCKADDR_IN6_SIZE);
  b[0] = AF.INET6;
  b[2] = a.port >>> 8;
  b[3] = a.port & 0xff;
  if (a.addr !== 0 || mappedAny) {
    b[18] = 0xff;
    b[19] = 0xff;
    b[20] = a.addr >>> 24;
    b[21] = (a.addr >>> 16) & 0xff;
    b[22] = (a.addr >>> 8) & 0xff;
    b[23] = a.addr & 0xff;
  }
  return b;
}

function toV6(raw: Uint8Array | null): Uint8Array | null {
  if (raw === null) return null;
  const a = parseInetAddress(raw);
  return isErr(a) ? raw : formatInet6Address(a);
}

function portOf(sockname: Uint8Array): number {
  return (sockname[2] << 8) | sockname[3];
}

/** sockaddr_in6 for [::]:port. */
function any6(port: number): Uint8Array {
  return formatInet6Address({ addr: 0, port });
}

/** The inner sockets' bind is synchronous; a Promise here would be a bug, answered EINVAL. */
function settled(r: MaybePromise<Result<void>>): Result<void> {
  if (!(r instanceof Promise)) return r;
  r.catch(() => undefined);
  return err(E.EINVAL);
}

export class Inet6Socket extends SocketFile {
  private v6only = false;
  /** inner runs on the netstack's IPv6 transport (native addresses), not its IPv4 one. */
  private native = false;
  /** Bound to ::ffff:0.0.0.0 (IPv4 only), which getsockname reports as such. */
  private mappedAny = false;
  /** In dual mode, the IPv6 socket bound to inner's port on "::" (inner is the IPv4 one). */
  private twin: SocketFile | null = null;
  /** The unbound IPv4 socket kept after IPV6_V6ONLY moved to IPv6, for turning it off again. */
  private spare: SocketFile | null = null;
  private hopLimit = -1;
  private readonly v6Opts = new Map<number, number>();
  /** Options passed to inner, replayed on an IPv6 socket made later. */
  private readonly replay: { t: Task; level: number; name: number; val: Uint8Array }[] = [];
  /** Each inner socket's readiness is forwarded to this socket's queue (poll, epoll, waits). */
  private readonly forwards = new Map<SocketFile, Waiter>();

  /**
   * inner: the socket carrying the traffic, owned here; IPv4 until a native IPv6 address or
   * IPV6_V6ONLY calls for makeNative's IPv6 socket (none for accepted sockets, which say
   * with native whether inner is an IPv6 one).
   */
  constructor(
    private inner: SocketFile,
    flags: number,
    readonly ownerCred: UCred,
    private readonly makeNative: (() => SocketFile) | null = null,
    native = false,
  ) {
    super(AF.INET6, inner.type, inner.protocol, flags);
    this.native = native;
    this.attach(inner);
  }

  /** The app sees this socket's inode and family, so /proc/net/*6 lists the endpoint under it. */
  private attach(s: SocketFile): void {
    this.own(s, false);
    s.flags = this.flags;
    this.forwards.set(s, s.waitQueue().subscribe(~0, (ev) => this.queue.notify(ev)));
  }

  /** hidden: s is the IPv4 half of a dual socket, whose IPv6 half /proc/net lists. */
  private own(s: SocketFile, hidden: boolean): void {
    if ('ep' in s && typeof s.ep === 'object' && s.ep !== null) {
      setEndpointOwner(s.ep, { uid: this.ownerCred.uid, ino: this.ino, v6: true, hidden });
    }
  }

  private detach(s: SocketFile | null): void {
    if (s === null) return;
    this.forwards.get(s)?.cancel();
    this.forwards.delete(s);
    s.decRef();
  }

  /** The inner sockets block exactly when this one does (F_SETFL changes our flags) and share its timeouts. */
  private sync(): SocketFile {
    this.inner.flags = this.flags;
    if (this.twin !== null) this.twin.flags = this.flags;
    this.rcvTimeoMs = this.inner.rcvTimeoMs;
    this.sndTimeoMs = this.inner.sndTimeoMs;
    return this.inner;
  }

  private bound(): boolean {
    return this.twin !== null || portOf(this.inner.sockname()) !== 0;
  }

  private newNative(make: () => SocketFile): SocketFile {
    const n = make();
    for (const o of this.replay) n.setsockopt(o.t, o.level, o.name, o.val);
    return n;
  }

  /**
   * Moves to the IPv6 transport: a dual socket keeps its IPv6 half, an unbound one takes a
   * fresh IPv6 socket. False when inner is bound to an IPv4 address.
   */
  private goNative(): boolean {
    if (this.native) return true;
    if (this.twin !== null) {
      this.detach(this.inner);
      this.inner = this.twin;
      this.twin = null;
    } else {
      if (this.makeNative === null || this.bound()) return false;
      const n = this.newNative(this.makeNative);
      this.spare = this.inner;
      this.forwards.get(this.inner)?.cancel();
      this.forwards.delete(this.inner);
      this.inner = n;
      this.attach(n);
    }
    this.native = true;
    return true;
  }

  /** A dual socket that talks to an IPv4 peer drops its IPv6 half. */
  private goV4(): void {
    this.detach(this.twin);
    this.twin = null;
    this.own(this.inner, false);
  }

  /**
   * Binds "::" on both transports to one port: IPv6 first (port 0 picks it), then IPv4 on the
   * same port; when IPv4 has it taken, another ephemeral port is tried.
   */
  private bindDual(t: Task, port: number): Result<void> {
    const make = this.makeNative;
    if (make === null) return settled(this.sync().bind(t, formatInetAddress({ addr: 0, port })));
    if (this.bound()) return err(E.EINVAL);
    for (let i = 0; i < (port === 0 ? 64 : 1); i++) {
      const n = this.newNative(make);
      n.flags = this.flags;
      const r = settled(n.bind(t, any6(port)));
      if (isErr(r)) {
        n.decRef();
        return r;
      }
      const r4 = settled(this.sync().bind(t, formatInetAddress({ addr: 0, port: portOf(n.sockname()) })));
      if (!isErr(r4)) {
        this.twin = n;
        this.attach(n);
        this.own(this.inner, true);
        return undefined;
      }
      n.decRef();
      if (port !== 0 || r4.errno !== E.EADDRINUSE) return r4;
    }
    return err(E.EADDRINUSE);
  }

  override bind(t: Task, raw: Uint8Array): MaybePromise<Result<void>> {
    const a = parseInet6Address(raw);
    if (isErr(a)) return a;
    if (this.native) {
      // A V6ONLY (or natively bound) socket has no IPv4 side: a mapped address is refused.
      if (a.kind === 'v4' && a.mapped) return err(E.EINVAL);
      this.dropSpare();
      return this.sync().bind(t, raw);
    }
    this.anyTask = t;
    if (a.kind === 'v6') {
      if (!this.goNative()) return err(this.bound() ? E.EINVAL : E.EADDRNOTAVAIL);
      this.dropSpare();
      return this.sync().bind(t, raw);
    }
    if (a.mapped) {
      const r = settled(this.sync().bind(t, formatInetAddress(a.a)));
      if (!isErr(r)) this.mappedAny = a.a.addr === 0;
      return r;
    }
    return this.bindDual(t, a.a.port);
  }

  private dropSpare(): void {
    this.spare?.decRef();
    this.spare = null;
  }

  override listen(backlog: number): Result<void> {
    // An unbound listener binds "::" on an ephemeral port, serving both families as Linux's.
    if (!this.native && !this.bound() && this.makeNative !== null) {
      const t = this.anyTask;
      if (t !== null) {
        const b = this.bindDual(t, 0);
        if (isErr(b)) return b;
      }
    }
    const r = this.sync().listen(backlog);
    if (isErr(r) || this.twin === null) return r;
    return this.twin.listen(backlog);
  }

  /** The task of the last bind/connect/setsockopt, for binds made on the app's behalf. */
  private anyTask: Task | null = null;

  override accept(flags: number, ctx: IoCtx): MaybePromise<Result<Accepted>> {
    const wrap = (r: Result<Accepted>, native: boolean): Result<Accepted> => {
      if (isErr(r)) return r;
      return { file: new Inet6Socket(r.file, flags, this.ownerCred, null, native), peer: toV6(r.peer) };
    };
    const twin = this.twin;
    if (twin === null) {
      const r = this.sync().accept(flags, ctx);
      return r instanceof Promise ? r.then((x) => wrap(x, this.native)) : wrap(r, this.native);
    }
    // Dual: take a connection from whichever half has one, else wait on both.
    let turn = 0;
    const attempt = (): Result<Accepted> | null => {
      for (let i = 0; i < 2; i++) {
        const v6 = (turn + i) % 2 === 1;
        const s = v6 ? twin : this.inner;
        s.flags = this.flags | O.NONBLOCK;
        const r = s.accept(flags, ctx);
        s.flags = this.flags;
        if (r instanceof Promise) continue;
        if (isErr(r) && r.errno === E.EAGAIN) continue;
        turn ^= 1;
        return wrap(r, v6);
      }
      return this.nonblocking ? err(E.EAGAIN) : null;
    };
    this.sync();
    return retryUntilReady(this, POLL.IN, ctx, 'rcv', attempt);
  }

  /**
   * Which socket a destination goes to (switching transports if need be) and the address
   * it takes there.
   */
  private target(t: Task | null, raw: Uint8Array): Result<{ s: SocketFile; to: Uint8Array }> {
    const a = parseInet6Address(raw);
    if (isErr(a)) return a;
    if (this.native) return a.kind === 'v4' && a.mapped ? err(E.ENETUNREACH) : { s: this.inner, to: raw };
    if (a.kind === 'v4' && !this.wantsV6(a)) return { s: this.inner, to: formatInetAddress(a.a) };
    if (this.twin !== null) return { s: this.twin, to: raw };
    if (t === null || !this.goNative()) return err(E.ENETUNREACH);
    return { s: this.inner, to: raw };
  }

  /**
   * Whether a destination is an IPv6 one. "::" means this host: ::1, or 127.0.0.1 for a
   * socket bound to an IPv4 address (Linux's tcp_v6_connect and udpv6_sendmsg).
   */
  private wantsV6(a: Inet6Address): boolean {
    if (a.kind === 'v6') return true;
    if (a.mapped || a.a.addr !== 0 || this.makeNative === null) return false;
    return this.native || this.twin !== null || !this.bound();
  }

  override connect(t: Task, raw: Uint8Array, ctx: IoCtx): MaybePromise<Result<void>> {
    this.anyTask = t;
    if (familyOf(raw) === AF.UNSPEC) return this.sync().connect(t, raw, ctx);
    const a = parseInet6Address(raw);
    if (isErr(a)) return a;
    // Connected, a dual socket keeps the half its peer's family needs.
    if (this.twin !== null) {
      if (this.wantsV6(a)) this.goNative();
      else this.goV4();
    }
    const to = this.target(t, raw);
    if (isErr(to)) return to;
    this.dropSpare();
    this.sync();
    return to.s.connect(t, to.to, ctx);
  }

  override sendmsg(req: SendRequest, ctx: IoCtx): MaybePromise<Result<number>> {
    if (req.to !== null && req.to.length > 0 && familyOf(req.to) !== AF.UNSPEC) {
      // An unbound datagram socket binds "::" first (Linux's autobind), so later
      // destinations of either family still work.
      if (this.type === SOCK.DGRAM && !this.native && !this.bound() && req.task !== null && this.makeNative !== null) {
        const b = this.bindDual(req.task, 0);
        if (isErr(b)) return b;
      }
      const to = this.target(req.task, req.to);
      if (isErr(to)) return to;
      this.sync();
      return to.s.sendmsg({ ...req, to: to.to }, ctx);
    }
    return this.sync().sendmsg(req, ctx);
  }

  override recvmsg(dst: Uint8Array, flags: number, ctx: IoCtx): MaybePromise<Result<Received>> {
    const fix = (r: Result<Received>): Result<Received> => (isErr(r) ? r : { ...r, from: toV6(r.from) });
    const twin = this.twin;
    if (twin === null) {
      const r = this.sync().recvmsg(dst, flags, ctx);
      return r instanceof Promise ? r.then(fix) : fix(r);
    }
    // Dual datagram socket: a datagram from either half, else wait on both.
    let turn = 0;
    const attempt = (): Result<Received> | null => {
      for (let i = 0; i < 2; i++) {
        const s = (turn + i) % 2 === 1 ? twin : this.inner;
        const r = s.recvmsg(dst, flags | MSG.DONTWAIT, ctx);
        if (r instanceof Promise) continue;
        if (isErr(r) && r.errno === E.EAGAIN) continue;
        turn ^= 1;
        return fix(r);
      }
      return this.dontWait(flags) ? err(E.EAGAIN) : null;
    };
    this.sync();
    return retryUntilReady(this, POLL.IN, ctx, 'rcv', attempt);
  }

  override shutdown(how: number): Result<void> {
    const r = this.sync().shutdown(how);
    this.twin?.shutdown(how);
    return r;
  }

  override sockname(): Uint8Array {
    const s = this.inner.sockname();
    if (this.native) return s;
    const a = parseInetAddress(s);
    return isErr(a) ? s : formatInet6Address(a, this.mappedAny);
  }

  override peername(): Result<Uint8Array> {
    const p = this.inner.peername();
    return isErr(p) ? p : (toV6(p) ?? p);
  }

  override readiness(): number {
    return this.inner.readiness() | (this.twin?.readiness() ?? 0);
  }

  override getsockopt(t: Task, level: number, name: number): Result<Uint8Array> {
    if (level === SOL.IPV6) {
      switch (name) {
        case IPV6.V6ONLY: return int32(this.v6only ? 1 : 0);
        case IPV6.UNICAST_HOPS: return int32(this.hopLimit === -1 ? 64 : this.hopLimit);
        case IPV6.MULTICAST_HOPS: return int32(this.v6Opts.get(name) ?? 1);
        case IPV6.RECVPKTINFO: case IPV6.TCLASS: return int32(this.v6Opts.get(name) ?? 0);
        default: return err(E.ENOPROTOOPT);
      }
    }
    if (level === SOL.IP) return err(E.ENOPROTOOPT);
    if (level === SOL.SOCKET && name === SO.DOMAIN) return int32(AF.INET6);
    return this.inner.getsockopt(t, level, name);
  }

  /** Passes an option to every inner socket, remembering it for an IPv6 socket made later. */
  private pass(t: Task, level: number, name: number, val: Uint8Array): Result<void> {
    this.anyTask = t;
    const r = this.inner.setsockopt(t, level, name, val);
    if (isErr(r)) return r;
    this.twin?.setsockopt(t, level, name, val);
    this.spare?.setsockopt(t, level, name, val);
    this.replay.push({ t, level, name, val: val.slice() });
    return r;
  }

  override setsockopt(t: Task, level: number, name: number, val: Uint8Array): Result<void> {
    if (level !== SOL.IPV6) return level === SOL.IP ? err(E.ENOPROTOOPT) : this.pass(t, level, name, val);
    const v = readInt(val);
    if (isErr(v)) return v;
    switch (name) {
      case IPV6.V6ONLY: {
        // Only before the socket is bound or connected, as Linux requires.
        if (this.bound()) return err(E.EINVAL);
        if (v !== 0 && !this.goNative()) return err(E.EINVAL);
        if (v === 0 && this.native && this.spare !== null) {
          // Back to the IPv4 socket kept for this; the IPv6 one was never used.
          this.detach(this.inner);
          this.inner = this.spare;
          this.spare = null;
          this.native = false;
          this.attach(this.inner);
        }
        this.v6only = v !== 0;
        return undefined;
      }
      case IPV6.UNICAST_HOPS: {
        if (v < -1 || v > 255) return err(E.EINVAL);
        this.hopLimit = v;
        return this.pass(t, SOL.IP, IP.TTL, int32(v === -1 ? -1 : Math.max(1, v)));
      }
      case IPV6.MULTICAST_HOPS: case IPV6.RECVPKTINFO: case IPV6.TCLASS:
        this.v6Opts.set(name, v);
        return undefined;
      default: return err(E.ENOPROTOOPT);
    }
  }

  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    // FIONREAD and friends answer for the half a read would take from.
    const twin = this.twin;
    if (twin !== null && (this.inner.readiness() & POLL.IN) === 0 && (twin.readiness() & POLL.IN) !== 0) return twin.ioctl(t, cmd, arg);
    return this.inner.ioctl(t, cmd, arg);
  }

  protected override release(): void {
    this.detach(this.inner);
    this.detach(this.twin);
    this.twin = null;
    this.dropSpare();
  }
}
