// AF_INET SOCK_DGRAM sockets over the netstack's UdpEndpoint: whole datagrams, an optional
// connected peer, broadcast with SO_BROADCAST, and ICMP errors reported on connected sockets.

import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import type { Task } from '../../kernel/task.js';
import type { UdpEndpoint } from '../../netstack/udp.js';
import { IOCTL, POLL } from '../../vfs/constants.js';
import type { IoCtx } from '../../vfs/file.js';
import { AF, MSG, SHUT, SIOC, SO, SOCK, SOL } from '../constants.js';
import { int32, readInt, releaseControl, type Received, type SendRequest, type UCred } from '../socket_file.js';
import { ConnectionlessSocket } from '../connectionless_socket.js';
import { receivedDatagram } from '../datagram.js';
import { retryUntilReady } from '../retry.js';
import { familyOf, ipv4Codec, type InetCodec } from './address.js';
import type { NetService } from './net_service.js';
import { setEndpointOwner } from './owners.js';
import { IpOptions } from './ip_options.js';
import { boundOrRouted, pollBits } from './tcp_socket.js';

export class UdpSocket extends ConnectionlessSocket {
  private readonly unsubscribe: () => void;
  private shutRd = false;
  private shutWr = false;
  private readonly ipOpts = new IpOptions();

  /** codec: the address family the endpoint's protocol speaks (IPv4 unless made for AF_INET6). */
  constructor(
    private readonly net: NetService,
    readonly ep: UdpEndpoint,
    flags: number,
    readonly ownerCred: UCred,
    private readonly codec: InetCodec = ipv4Codec((d) => net.stack.route(d)),
  ) {
    super(AF.INET, SOCK.DGRAM, 17, flags);
    setEndpointOwner(ep, { uid: ownerCred.uid, ino: this.ino, v6: false });
    this.unsubscribe = ep.subscribe((m) => this.queue.notify(pollBits(m)));
    this.rcvBuf = ep.opts.rcvBufSize;
  }

  protected override takeSoError(): number {
    return this.ep.takeError()?.errno ?? 0;
  }

  override bind(_t: Task, raw: Uint8Array): Result<void> {
    const a = this.codec.parse(raw, true);
    if (isErr(a)) return a;
    return this.net.run(() => this.ep.bind(a.addr, a.port));
  }

  override connect(_t: Task, raw: Uint8Array): Result<void> {
    if (raw.length < 2) return err(E.EINVAL);
    if (familyOf(raw) === AF.UNSPEC) return this.net.run(() => this.ep.connect(0, 0));
    const p = this.codec.parse(raw);
    if (isErr(p)) return p;
    const a = this.codec.destination(p);
    return this.net.run(() => this.ep.connect(a.addr, a.port));
  }

  override sendmsg(req: SendRequest): Result<number> {
    releaseControl(req.control);
    if ((req.flags & MSG.OOB) !== 0) return err(E.EOPNOTSUPP);
    if (this.shutWr) return err(E.EPIPE);
    if (req.to !== null && req.to.length > 0) {
      if (familyOf(req.to) === AF.UNSPEC && req.to.length >= 2 && req.to.length < 16) {
        return this.net.run(() => this.ep.sendTo(req.data));
      }
      const p = this.codec.parse(req.to);
      if (isErr(p)) return p;
      const a = this.codec.destination(p);
      return this.net.run(() => this.ep.sendTo(req.data, a.addr, a.port));
    }
    return this.net.run(() => this.ep.sendTo(req.data));
  }

  override recvmsg(dst: Uint8Array, flags: number, ctx: IoCtx): MaybePromise<Result<Received>> {
    if ((flags & MSG.OOB) !== 0) return err(E.EOPNOTSUPP);
    const peek = (flags & MSG.PEEK) !== 0;
    return retryUntilReady(this, POLL.IN, ctx, 'rcv', (): Result<Received> | null => {
      const m = this.net.run(() => this.ep.recvFrom(peek));
      if (isErr(m)) {
        if (m.errno !== E.EAGAIN) return m;
        if (this.shutRd) return { n: 0, full: 0, from: null, control: {}, flags: 0 };
        return this.dontWait(flags) ? m : null;
      }
      return receivedDatagram(dst, m.data, this.codec.format(m));
    });
  }

  override shutdown(how: number): Result<void> {
    if (how < SHUT.RD || how > SHUT.RDWR) return err(E.EINVAL);
    if (this.ep.remoteAddress() === null) return err(E.ENOTCONN);
    if (how !== SHUT.WR) this.shutRd = true;
    if (how !== SHUT.RD) this.shutWr = true;
    this.queue.notify(POLL.IN | POLL.RDNORM | POLL.HUP);
    return undefined;
  }

  override sockname(): Uint8Array {
    return this.codec.format(boundOrRouted(this.codec, this.ep.localAddress(), this.ep.remoteAddress()));
  }

  override peername(): Result<Uint8Array> {
    const p = this.ep.remoteAddress();
    return p === null ? err(E.ENOTCONN) : this.codec.format(p);
  }

  override readiness(): number {
    let m = pollBits(this.ep.readiness());
    if (this.shutRd) m |= POLL.IN | POLL.RDNORM | POLL.RDHUP;
    if (this.shutRd && this.shutWr) m |= POLL.HUP;
    return m;
  }

  protected override release(): void {
    this.unsubscribe();
    this.net.run(() => this.ep.close());
  }

  protected override optionChanged(name: number): void {
    const on = this.flag(name);
    if (name === SO.REUSEADDR) this.ep.opts.reuseAddr = on;
    else if (name === SO.REUSEPORT) this.ep.opts.reusePort = on;
    else if (name === SO.BROADCAST) this.ep.opts.broadcast = on;
  }

  protected override buffersChanged(): void {
    this.ep.opts.rcvBufSize = this.rcvBuf;
  }

  protected override familyGetsockopt(_t: Task, level: number, name: number): Result<Uint8Array> | null {
    if (level === SOL.SOCKET) return null;
    if (level === SOL.IP) return this.ipOpts.get(this.ep.opts, name);
    if (level === SOL.UDP) return err(E.ENOPROTOOPT);
    return err(E.EOPNOTSUPP);
  }

  protected override familySetsockopt(_t: Task, level: number, name: number, val: Uint8Array): Result<void> | null {
    if (level === SOL.SOCKET) return null;
    if (level !== SOL.IP) return err(E.ENOPROTOOPT);
    const v = readInt(val);
    if (isErr(v)) return v;
    return this.ipOpts.set(this.ep.opts, name, v);
  }

  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    let n: number;
    if (cmd === IOCTL.FIONREAD) n = this.ep.nextSize();
    else if (cmd === SIOC.OUTQ) n = 0;
    else return super.ioctl(t, cmd, arg);
    const r = t.mem.copyOut(arg, int32(n));
    return isErr(r) ? r : 0;
  }
}
