// AF_INET6 TCP and UDP sockets. A new socket is dual-stack on the netstack's IPv4 transport:
// bound to "::" it serves IPv4 peers through IPv4-mapped addresses (::ffff:a.b.c.d), as
// servers written for "[::]:port" expect. A native IPv6 address (bind, connect, sendto) or
// IPV6_V6ONLY moves it, while still unbound, to the IPv6 transport (netstack/ipv6), where
// it speaks to IPv6 peers only. Not done: one socket bound to "::" serving both families at
// once (its IPv6 peers are refused), and moving after bind.

import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import type { Task } from '../../kernel/task.js';
import type { IoCtx } from '../../vfs/file.js';
import type { WaitQueue } from '../../vfs/wait_queue.js';
import { AF, SO, SOL } from '../constants.js';
import {
  int32, readInt, SocketFile, type Accepted, type Received, type SendRequest, type UCred,
} from '../socket_file.js';
import { familyOf, formatInetAddress, parseInetAddress, type InetAddress } from './address.js';
import { setEndpointOwner } from './owners.js';
import { IP } from './ip_options.js';

/** sizeof(struct sockaddr_in6); RFC 2133's 24-byte form is accepted as Linux does. */
export const SOCKADDR_IN6_SIZE = 28;
const SIN6_LEN_RFC2133 = 24;
const IPV6 = { UNICAST_HOPS: 16, MULTICAST_HOPS: 18, V6ONLY: 26, RECVPKTINFO: 49, TCLASS: 67 } as const;

export type Inet6Address = { kind: 'v4'; a: InetAddress } | { kind: 'v6'; port: number };

/** Decodes a sockaddr_in6 into an IPv4 address (unspecified or mapped) or a native IPv6 one. */
export function parseInet6Address(b: Uint8Array): Result<Inet6Address> {
  if (b.length < SIN6_LEN_RFC2133) return err(E.EINVAL);
  if (familyOf(b) !== AF.INET6) return err(E.EAFNOSUPPORT);
  const port = (b[2] << 8) | b[3];
  const addr = b.subarray(8, 24);
  const zeros = (from: number, to: number): boolean => addr.subarray(from, to).every((x) => x === 0);
  if (zeros(0, 16)) return { kind: 'v4', a: { addr: 0, port } };
  if (zeros(0, 10) && addr[10] === 0xff && addr[11] === 0xff) {
    return { kind: 'v4', a: { addr: ((addr[12] << 24) | (addr[13] << 16) | (addr[14] << 8) | addr[15]) >>> 0, port } };
  }
  return { kind: 'v6', port };
}

/** An IPv4 endpoint as IPv6 sees it: "::" for the unspecified address, else ::ffff:a.b.c.d. */
export function formatInet6Address(a: InetAddress): Uint8Array {
  const b = new Uint8Array(SOCKADDR_IN6_SIZE);
  b[0] = AF.INET6;
  b[2] = a.port >>> 8;
  b[3] = a.port & 0xff;
  if (a.addr !== 0) {
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

export class Inet6Socket extends SocketFile {
  private v6only = false;
  /** inner runs on the netstack's IPv6 transport (native addresses), not its IPv4 one. */
  private native = false;
  private hopLimit = -1;
  private readonly v6Opts = new Map<number, number>();
  /** Options set while inner was the IPv4 socket, replayed on the IPv6 one when it takes over. */
  private readonly replay: { level: number; name: number; val: Uint8Array }[] = [];

  /**
   * inner: the socket carrying the traffic, owned here; IPv4 (dual-stack) until a native IPv6
   * address or IPV6_V6ONLY calls for makeNative's IPv6 socket (none for accepted sockets).
   */
  constructor(
    private inner: SocketFile,
    flags: number,
    readonly ownerCred: UCred,
    private readonly makeNative: (() => SocketFile) | null = null,
  ) {
    super(AF.INET6, inner.type, inner.protocol, flags);
    this.own(inner);
  }

  /** The app sees this socket's inode and family, so /proc/net/*6 lists the endpoint under it. */
  private own(s: SocketFile): void {
    if ('ep' in s && typeof s.ep === 'object' && s.ep !== null) {
      setEndpointOwner(s.ep, { uid: this.ownerCred.uid, ino: this.ino, v6: true });
    }
  }

  /** The inner socket blocks exactly when this one does (F_SETFL changes our flags). */
  private sync(): SocketFile {
    this.inner.flags = this.flags;
    return this.inner;
  }

  /** Moves to the IPv6 transport while the IPv4 socket is still unbound; false when it cannot. */
  private goNative(t: Task): boolean {
    if (this.native) return true;
    const local = this.inner.sockname();
    if (this.makeNative === null || (local[2] | local[3]) !== 0) return false;
    const n = this.makeNative();
    for (const o of this.replay) n.setsockopt(t, o.level, o.name, o.val);
    this.inner.decRef();
    this.inner = n;
    this.native = true;
    this.own(n);
    return true;
  }

  override bind(t: Task, raw: Uint8Array): MaybePromise<Result<void>> {
    const a = parseInet6Address(raw);
    if (isErr(a)) return a;
    if (!this.native && a.kind === 'v6' && !this.goNative(t)) return err(E.EADDRNOTAVAIL);
    if (this.native) {
      // A V6ONLY (or natively bound) socket has no IPv4 side: a mapped address is refused.
      if (a.kind === 'v4' && a.a.addr !== 0) return err(E.EINVAL);
      return this.sync().bind(t, raw);
    }
    if (a.kind === 'v6') return err(E.EADDRNOTAVAIL);
    return this.sync().bind(t, formatInetAddress(a.a));
  }

  override listen(backlog: number): Result<void> {
    return this.sync().listen(backlog);
  }

  override accept(flags: number, ctx: IoCtx): MaybePromise<Result<Accepted>> {
    const wrap = (r: Result<Accepted>): Result<Accepted> => {
      if (isErr(r)) return r;
      return { file: new Inet6Socket(r.file, flags, this.ownerCred), peer: toV6(r.peer) };
    };
    const r = this.sync().accept(flags, ctx);
    return r instanceof Promise ? r.then(wrap) : wrap(r);
  }

  /** Where a destination goes: the IPv6 socket (switching to it if need be) or the IPv4 one. */
  private target(t: Task | null, raw: Uint8Array): Result<Uint8Array> {
    const a = parseInet6Address(raw);
    if (isErr(a)) return a;
    if (!this.native && a.kind === 'v6' && (t === null || !this.goNative(t))) return err(E.ENETUNREACH);
    if (this.native) return a.kind === 'v4' && a.a.addr !== 0 ? err(E.ENETUNREACH) : raw;
    if (a.kind === 'v6') return err(E.ENETUNREACH);
    return formatInetAddress(a.a);
  }

  override connect(t: Task, raw: Uint8Array, ctx: IoCtx): MaybePromise<Result<void>> {
    if (familyOf(raw) === AF.UNSPEC) return this.sync().connect(t, raw, ctx);
    const to = this.target(t, raw);
    return isErr(to) ? to : this.sync().connect(t, to, ctx);
  }

  override sendmsg(req: SendRequest, ctx: IoCtx): MaybePromise<Result<number>> {
    if (req.to !== null && req.to.length > 0 && familyOf(req.to) !== AF.UNSPEC) {
      const to = this.target(req.task, req.to);
      if (isErr(to)) return to;
      return this.sync().sendmsg({ ...req, to }, ctx);
    }
    return this.sync().sendmsg(req, ctx);
  }

  override recvmsg(dst: Uint8Array, flags: number, ctx: IoCtx): MaybePromise<Result<Received>> {
    const fix = (r: Result<Received>): Result<Received> => (isErr(r) ? r : { ...r, from: toV6(r.from) });
    const r = this.sync().recvmsg(dst, flags, ctx);
    return r instanceof Promise ? r.then(fix) : fix(r);
  }

  override shutdown(how: number): Result<void> {
    return this.sync().shutdown(how);
  }

  override sockname(): Uint8Array {
    return toV6(this.inner.sockname()) ?? formatInet6Address({ addr: 0, port: 0 });
  }

  override peername(): Result<Uint8Array> {
    const p = this.inner.peername();
    return isErr(p) ? p : (toV6(p) ?? p);
  }

  override readiness(): number {
    return this.inner.readiness();
  }

  override waitQueue(): WaitQueue {
    return this.inner.waitQueue();
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

  /** Passes an option to inner, remembering it for an IPv6 socket that may take over. */
  private pass(t: Task, level: number, name: number, val: Uint8Array): Result<void> {
    const r = this.inner.setsockopt(t, level, name, val);
    if (!isErr(r) && !this.native) this.replay.push({ level, name, val: val.slice() });
    return r;
  }

  override setsockopt(t: Task, level: number, name: number, val: Uint8Array): Result<void> {
    if (level !== SOL.IPV6) return level === SOL.IP ? err(E.ENOPROTOOPT) : this.pass(t, level, name, val);
    const v = readInt(val);
    if (isErr(v)) return v;
    switch (name) {
      case IPV6.V6ONLY: {
        // Only before the socket is bound or connected, as Linux requires.
        const local = this.inner.sockname();
        if ((local[2] | local[3]) !== 0) return err(E.EINVAL);
        // A V6ONLY socket lives on the IPv6 transport; turning it off again keeps it there.
        if (v !== 0 && !this.goNative(t)) return err(E.EINVAL);
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
    return this.inner.ioctl(t, cmd, arg);
  }

  protected override release(): void {
    this.inner.decRef();
  }
}
