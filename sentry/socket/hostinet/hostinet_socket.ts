// An AF_INET/AF_INET6 socket of --network=host: backed by a non-blocking host socket that
// the Sentry drives. The app's calls are still answered here: arguments arrive decoded and
// copied by sys_socket.ts, blocking is the Sentry's (the task parks on this file's wait
// queue, woken by a libuv poll handle on the host fd), and options pass only by allowlist.

import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import type { Task } from '../../kernel/task.js';
import { IOCTL, POLL } from '../../vfs/constants.js';
import type { IoCtx } from '../../vfs/file.js';
import type { WaitOutcome } from '../../vfs/wait_queue.js';
import { MSG, SIOC, SOCK, SOL } from '../constants.js';
import { retryUntilReady } from '../retry.js';
import { int32, releaseControl, SocketFile, type Accepted, type Received, type SendRequest, type UCred } from '../socket_file.js';
import { ADDR_MAX, hostinetNative, UV } from './native.js';
import { OPT_MAX, optionRoute } from './sockopts.js';

/** MSG_ flags the host sees from the app: the rest (DONTWAIT, NOSIGNAL, WAITALL) are the Sentry's job. */
const SEND_FLAGS = MSG.OOB | MSG.DONTROUTE | MSG.EOR | MSG.CONFIRM | MSG.MORE;
const RECV_FLAGS = MSG.OOB | MSG.PEEK | MSG.TRUNC;
const SIOCATMARK = 0x8905;
const SIOCOUTQNSD = 0x894b;
/** The read-only netdevice ioctls answered from the host (struct ifreq in, filled in place). */
const IFREQ_GETS = new Set([0x8910, 0x8913, 0x8915, 0x8917, 0x8919, 0x891b, 0x891d, 0x8921, 0x8927, 0x8933, 0x8942]);
const IFREQ_SIZE = 40;
/** SIOCSIF*: configuring the host's interfaces is never the app's to do. */
const IF_SETTERS = new Set([0x8914, 0x8916, 0x8918, 0x891a, 0x891c, 0x891e, 0x8922, 0x8924, 0x8934, 0x8943]);

export type HostinetLog = (key: string, msg: string) => void;

export class HostinetSocket extends SocketFile {
  private readonly n = hostinetNative();
  /** The uv events the poll handle waits for now (0: disarmed). */
  private armed = 0;
  private closed = false;

  /** fd: a non-blocking host socket owned from now on (closed at release). */
  constructor(family: number, type: number, protocol: number, flags: number, readonly ownerCred: UCred,
    private readonly fd: number, private readonly log: HostinetLog) {
    super(family, type, protocol, flags);
    const w = this.n.hinWatch(fd, (ev) => this.onHostEvent(ev));
    if (w < 0) log('watch', `hostinet: cannot watch host socket: errno ${-w}`);
  }

  /** Makes a host socket for the app; family/type/protocol as socket(2) got them. */
  static create(family: number, type: number, protocol: number, flags: number, cred: UCred, log: HostinetLog): Result<HostinetSocket> {
    const fd = hostinetNative().hinSocket(family, type, protocol);
    if (fd < 0) return err(-fd);
    return new HostinetSocket(family, type, protocol, flags, cred, fd, log);
  }

  private onHostEvent(ev: number): void {
    this.armed = 0;
    if (this.closed) return;
    const r = this.readiness();
    this.queue.notify(ev < 0 ? r | POLL.ERR : r);
  }

  override readiness(): number {
    if (this.closed) return POLL.NVAL;
    const r = this.n.hinPoll(this.fd);
    return r < 0 ? POLL.ERR : r;
  }

  /** Arms the poll handle for the wanted events that are not ready yet (ready ones need no wake-up). */
  override prepareWait(mask: number): void {
    if (this.closed) return;
    const ready = this.readiness();
    let want = UV.DISCONNECT;
    if ((mask & (POLL.IN | POLL.RDNORM | POLL.RDHUP)) !== 0 && (ready & POLL.IN) === 0) want |= UV.READABLE;
    if ((mask & (POLL.OUT | POLL.WRNORM)) !== 0 && (ready & POLL.OUT) === 0) want |= UV.WRITABLE;
    if ((mask & POLL.PRI) !== 0 && (ready & POLL.PRI) === 0) want |= UV.PRIORITIZED;
    if ((ready & (POLL.ERR | POLL.HUP)) !== 0) return;
    if ((want | this.armed) === this.armed) return;
    this.armed |= want;
    const a = this.n.hinArm(this.fd, this.armed);
    if (a < 0) this.log('arm', `hostinet: cannot poll host socket: errno ${-a}`);
  }

  override waitFor(mask: number, ctx: IoCtx, timeoutMs: number, deadline?: { at: number }): Promise<WaitOutcome> {
    this.prepareWait(mask);
    return super.waitFor(mask, ctx, timeoutMs, deadline);
  }

  override bind(_t: Task, addr: Uint8Array): Result<void> {
    if (addr.length > ADDR_MAX) return err(E.EINVAL);
    const r = this.n.hinBind(this.fd, addr);
    return r < 0 ? err(-r) : undefined;
  }

  override listen(backlog: number): Result<void> {
    const r = this.n.hinListen(this.fd, backlog);
    return r < 0 ? err(-r) : undefined;
  }

  override accept(flags: number, ctx: IoCtx): MaybePromise<Result<Accepted>> {
    return retryUntilReady(this, POLL.IN, ctx, 'rcv', (): Result<Accepted> | null => {
      const addr = new Uint8Array(ADDR_MAX);
      const len = new Int32Array(1);
      const fd = this.n.hinAccept(this.fd, addr, len);
      if (fd === -E.EAGAIN) return this.nonblocking ? err(E.EAGAIN) : null;
      if (fd < 0) return err(-fd);
      const file = new HostinetSocket(this.family, this.type, this.protocol, flags, this.ownerCred, fd, this.log);
      return { file, peer: addr.slice(0, len[0]) };
    });
  }

  override connect(_t: Task, addr: Uint8Array, ctx: IoCtx): MaybePromise<Result<void>> {
    if (addr.length > ADDR_MAX) return err(E.EINVAL);
    const r = this.n.hinConnect(this.fd, addr);
    if (r === 0) return undefined;
    if (r !== -E.EINPROGRESS || this.nonblocking) return err(-r);
    // A blocking connect: the Sentry waits for the handshake, the host socket never blocks.
    return retryUntilReady(this, POLL.OUT, ctx, 'snd', (): Result<void> | null => {
      if ((this.readiness() & (POLL.OUT | POLL.ERR | POLL.HUP)) === 0) return null;
      const e = this.takeSoError();
      return e === 0 ? undefined : err(e);
    }, (e) => err(e === E.EAGAIN ? E.EINPROGRESS : e));
  }

  override sendmsg(req: SendRequest, ctx: IoCtx): MaybePromise<Result<number>> {
    const hadControl = req.control.rights !== undefined || (req.control.proto?.length ?? 0) > 0;
    releaseControl(req.control);
    // Control messages would have to be translated for the host; none is supported yet.
    if (hadControl) {
      this.log('cmsg', 'hostinet: control messages on sendmsg are not supported: EINVAL');
      return err(E.EINVAL);
    }
    if (req.to !== null && req.to.length > ADDR_MAX) return err(E.EINVAL);
    const to = req.to ?? new Uint8Array(0);
    const flags = req.flags & SEND_FLAGS;
    const data = req.data;
    let sent = 0;
    const step = (): Result<number> | null => {
      for (;;) {
        const r = this.n.hinSend(this.fd, data.subarray(sent), to, flags);
        if (r === -E.EAGAIN) {
          if (this.dontWait(req.flags)) return sent > 0 ? sent : err(E.EAGAIN);
          return null;
        }
        if (r < 0) return sent > 0 ? sent : err(-r);
        sent += r;
        // A datagram goes whole; a stream is sent in full unless non-blocking.
        if (this.type !== SOCK.STREAM || sent >= data.length) return sent;
      }
    };
    return retryUntilReady(this, POLL.OUT, ctx, 'snd', step, (e) => (sent > 0 ? sent : err(e)));
  }

  override recvmsg(dst: Uint8Array, flags: number, ctx: IoCtx): MaybePromise<Result<Received>> {
    // The error queue fills only with IP_RECVERR, which is not passed through: always empty.
    if ((flags & MSG.ERRQUEUE) !== 0) return err(E.EAGAIN);
    const stream = this.type === SOCK.STREAM;
    const peek = (flags & MSG.PEEK) !== 0;
    const waitAll = stream && !peek && (flags & MSG.WAITALL) !== 0;
    // Datagrams: always ask the host for the real length (the Sentry cuts and flags it).
    const hostFlags = (flags & RECV_FLAGS) | (stream ? 0 : MSG.TRUNC);
    const out: Received = { n: 0, full: 0, from: null, control: {}, flags: 0, discard: stream && (flags & MSG.TRUNC) !== 0 };
    const addr = new Uint8Array(ADDR_MAX);
    const info = new Int32Array(2);
    const step = (): Result<Received> | null => {
      for (;;) {
        const r = this.n.hinRecv(this.fd, dst.subarray(out.n), hostFlags, addr, info);
        if (r === -E.EAGAIN) {
          if (out.n > 0 && !waitAll) return out;
          if (this.dontWait(flags)) return out.n > 0 ? out : err(E.EAGAIN);
          return null;
        }
        if (r < 0) return out.n > 0 ? out : err(-r);
        if (!stream) {
          const n = Math.min(r, dst.length);
          return { n, full: r, from: info[0] > 0 ? addr.slice(0, info[0]) : null, control: {}, flags: info[1] & ~MSG.CTRUNC };
        }
        if (r === 0) return out;
        out.n += r;
        out.full = out.n;
        if (!waitAll || out.n >= dst.length) return out;
      }
    };
    return retryUntilReady(this, POLL.IN, ctx, 'rcv', step, (e) => (out.n > 0 ? out : err(e)));
  }

  override shutdown(how: number): Result<void> {
    const r = this.n.hinShutdown(this.fd, how);
    if (r < 0) return err(-r);
    this.queue.notify(this.readiness());
    return undefined;
  }

  override sockname(): Uint8Array {
    const b = new Uint8Array(ADDR_MAX);
    const l = this.n.hinName(this.fd, 0, b);
    return b.slice(0, Math.max(0, l));
  }

  override peername(): Result<Uint8Array> {
    const b = new Uint8Array(ADDR_MAX);
    const l = this.n.hinName(this.fd, 1, b);
    return l < 0 ? err(-l) : b.slice(0, l);
  }

  protected override takeSoError(): number {
    const b = new Uint8Array(4);
    const l = this.n.hinGetsockopt(this.fd, SOL.SOCKET, 4, b);
    return l < 4 ? 0 : new DataView(b.buffer).getInt32(0, true);
  }

  protected override familyGetsockopt(_t: Task, level: number, name: number): Result<Uint8Array> | null {
    const route = optionRoute(level, name, false);
    if (route === 'sentry') return null;
    if (route === 'refuse') {
      this.log(`opt:${level}:${name}`, `hostinet: getsockopt level ${level} option ${name} is not passed to the host: ENOPROTOOPT`);
      return err(E.ENOPROTOOPT);
    }
    const b = new Uint8Array(OPT_MAX);
    const l = this.n.hinGetsockopt(this.fd, level, name, b);
    return l < 0 ? err(-l) : b.slice(0, l);
  }

  protected override familySetsockopt(_t: Task, level: number, name: number, val: Uint8Array): Result<void> | null {
    const route = optionRoute(level, name, true);
    if (route === 'sentry') return null;
    if (route === 'refuse') {
      this.log(`opt:${level}:${name}`, `hostinet: setsockopt level ${level} option ${name} is not passed to the host: ENOPROTOOPT`);
      return err(E.ENOPROTOOPT);
    }
    if (val.length > OPT_MAX) return err(E.EINVAL);
    const r = this.n.hinSetsockopt(this.fd, level, name, val);
    return r < 0 ? err(-r) : undefined;
  }

  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    if (cmd === IOCTL.FIONREAD || cmd === SIOC.OUTQ || cmd === SIOCATMARK || cmd === SIOCOUTQNSD) {
      const v = this.n.hinIoctlInt(this.fd, cmd);
      if (v < 0) return err(-v);
      const r = t.mem.copyOut(arg, int32(v));
      return isErr(r) ? r : 0;
    }
    if (IF_SETTERS.has(cmd)) return err(E.EPERM);
    if (IFREQ_GETS.has(cmd)) {
      const req = t.mem.copyIn(arg, IFREQ_SIZE);
      if (isErr(req)) return req;
      const b = new Uint8Array(req);
      const r = this.n.hinIfreq(this.fd, cmd, b);
      if (r < 0) return err(-r);
      const w = t.mem.copyOut(arg, b);
      return isErr(w) ? w : 0;
    }
    if (cmd === SIOC.GIFCONF) return this.ifconf(t, arg);
    return err(E.ENOTTY);
  }

  /** SIOCGIFCONF: struct ifconf { int len; char *buf } with the host's IPv4 interfaces. */
  private ifconf(t: Task, arg: number): Result<number> {
    const hdr = t.mem.copyIn(arg, 16);
    if (isErr(hdr)) return hdr;
    const v = new DataView(hdr.buffer, hdr.byteOffset, 16);
    const len = v.getInt32(0, true);
    const ptr = Number(v.getBigUint64(8, true));
    if (len < 0) return err(E.EINVAL);
    const buf = new Uint8Array(ptr === 0 ? 0 : Math.min(len, 1 << 20));
    const got = this.n.hinIfconf(this.fd, buf);
    if (got < 0) return err(-got);
    if (ptr !== 0 && got > 0) {
      const w = t.mem.copyOut(ptr, buf.subarray(0, got));
      if (isErr(w)) return w;
    }
    const outLen = new Uint8Array(4);
    new DataView(outLen.buffer).setInt32(0, got, true);
    const w = t.mem.copyOut(arg, outLen);
    return isErr(w) ? w : 0;
  }

  protected override release(): void {
    this.closed = true;
    this.n.hinClose(this.fd);
  }
}
