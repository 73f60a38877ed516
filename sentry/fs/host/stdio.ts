// The sandbox's stdin/stdout/stderr: file descriptions over host fds the Sentry inherited
// from its caller. Reads never block Node's event loop: they fill a buffer that readers and
// poll consume. Pipes, sockets and terminals are read through a libuv stream (epoll), so a
// read that never completes cannot hold up the Sentry's exit (a blocked threadpool read
// would: Node joins its threadpool at exit); regular files through async fs.read. Writes
// use fs.writeSync, retried asynchronously if the host fd is non-blocking and full.

import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import * as tty from 'node:tty';
import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result, type SysError } from '../../abi/result.js';
import type { Task } from '../../kernel/task.js';
import { IOCTL, O, POLL } from '../../vfs/constants.js';
import { FileDescription, type IoCtx } from '../../vfs/file.js';
import type { Stat } from '../../vfs/stat.js';
import { WaitQueue } from '../../vfs/wait_queue.js';
import { hostCode, hostErr } from './host_errno.js';
import { statFromHost } from './host_stat.js';

const READ_CHUNK = 65536;
const EAGAIN_RETRY_MS = 10;

export interface HostStdioOpts {
  /** Terminal size for TIOCGWINSZ (default: $COLUMNS/$LINES or 80x24). */
  winsize?: () => { rows: number; cols: number };
}

/** Linux's default termios (tty_std_termios), reported for a host tty by TCGETS. */
function defaultTermios(): Uint8Array {
  const b = new Uint8Array(36);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0o2400, true); // c_iflag: ICRNL | IXON
  v.setUint32(4, 0o5, true); // c_oflag: OPOST | ONLCR
  v.setUint32(8, 0o2277, true); // c_cflag: B38400 | CS8 | CREAD | HUPCL
  v.setUint32(12, 0o105073, true); // c_lflag: ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN
  // c_line = 0, then c_cc: INTR QUIT ERASE KILL EOF TIME MIN SWTC START STOP SUSP EOL REPRINT DISCARD WERASE LNEXT EOL2
  b.set([3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0], 17);
  return b;
}

export class HostStdioFile extends FileDescription {
  readonly isTty: boolean;
  private readonly queue = new WaitQueue();
  private readonly buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  private eof = false;
  private readError: SysError | null = null;
  private reading = false;
  /** Set for pipes, sockets and terminals (created at the first read). */
  private stream: Readable | null = null;
  private readonly streamed: boolean;

  constructor(readonly hostFd: number, flags: number, private readonly opts: HostStdioOpts = {}) {
    super(flags, null);
    this.isTty = tty.isatty(hostFd);
    let streamed = this.isTty;
    try {
      const st = fs.fstatSync(hostFd);
      streamed ||= st.isFIFO() || st.isSocket();
    } catch {
      // A closed fd: reads will report the host's error.
    }
    this.streamed = streamed;
  }

  private received(chunk: Uint8Array): void {
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    this.queue.notify(POLL.IN | POLL.RDNORM);
  }

  /** Reads ahead from a stream until READ_CHUNK bytes wait unread. */
  private fillFromStream(): void {
    if (this.stream === null) {
      const s: Readable = this.isTty
        ? new tty.ReadStream(this.hostFd)
        : new net.Socket({ fd: this.hostFd, readable: true, writable: false });
      s.on('data', (chunk: Buffer) => {
        this.received(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
        if (this.bufferedBytes >= READ_CHUNK) s.pause();
      });
      s.on('end', () => {
        this.eof = true;
        this.queue.notify(POLL.IN | POLL.RDNORM);
      });
      s.on('error', (e: unknown) => {
        this.readError = hostErr(e);
        this.queue.notify(POLL.IN | POLL.RDNORM);
      });
      this.stream = s;
    }
    if (this.bufferedBytes < READ_CHUNK) this.stream.resume();
  }

  /** Starts one background host read unless one is running or a result is waiting. */
  private fill(): void {
    if (this.streamed) {
      this.fillFromStream();
      return;
    }
    if (this.reading || this.bufferedBytes > 0 || this.eof || this.readError !== null) return;
    this.reading = true;
    const buf = new Uint8Array(READ_CHUNK);
    fs.read(this.hostFd, buf, 0, READ_CHUNK, null, (e, n) => {
      if (e !== null) {
        if (hostCode(e) === 'EAGAIN') {
          // A non-blocking host fd with nothing yet: look again shortly.
          setTimeout(() => {
            this.reading = false;
            this.fill();
          }, EAGAIN_RETRY_MS);
          return;
        }
        this.readError = hostErr(e);
      } else if (n === 0) {
        this.eof = true;
      } else {
        this.reading = false;
        this.received(buf.subarray(0, n));
        return;
      }
      this.reading = false;
      this.queue.notify(POLL.IN | POLL.RDNORM);
    });
  }

  /** What a read can return now, or null if it must wait for the host. */
  private tryRead(dst: Uint8Array): Result<number> | null {
    if (this.bufferedBytes > 0) {
      let n = 0;
      while (n < dst.length && this.buffered.length > 0) {
        const c = this.buffered[0];
        const k = Math.min(c.length, dst.length - n);
        dst.set(c.subarray(0, k), n);
        n += k;
        if (k === c.length) this.buffered.shift();
        else this.buffered[0] = c.subarray(k);
      }
      this.bufferedBytes -= n;
      return n;
    }
    // A file's EOF is reported once (it may grow); an ended stream stays at EOF.
    if (this.eof) {
      if (!this.streamed) this.eof = false;
      return 0;
    }
    if (this.readError !== null) {
      const e = this.readError;
      this.readError = null;
      return e;
    }
    return null;
  }

  override read(dst: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    if (!this.readable) return err(E.EBADF);
    if (dst.length === 0) return 0;
    const r = this.tryRead(dst);
    if (r !== null) return r;
    this.fill();
    if (this.nonblocking) return err(E.EAGAIN);
    return this.readSlow(dst, ctx);
  }

  private async readSlow(dst: Uint8Array, ctx: IoCtx): Promise<Result<number>> {
    for (;;) {
      const o = await this.queue.wait(POLL.IN, ctx.signal);
      // The host read goes on; its data stays buffered for the next reader.
      if (o === 'interrupted') return err(E.EINTR);
      const r = this.tryRead(dst);
      if (r !== null) return r;
      this.fill();
    }
  }

  override write(src: Uint8Array): MaybePromise<Result<number>> {
    if (!this.writable) return err(E.EBADF);
    let done = 0;
    try {
      while (done < src.length) done += fs.writeSync(this.hostFd, src, done, src.length - done);
      return done;
    } catch (e) {
      if (hostCode(e) === 'EAGAIN') return this.writeLater(src, done);
      return done > 0 ? done : hostErr(e);
    }
  }

  private writeLater(src: Uint8Array, done: number): Promise<Result<number>> {
    return new Promise((resolve) => {
      const attempt = (): void => {
        try {
          while (done < src.length) done += fs.writeSync(this.hostFd, src, done, src.length - done);
          resolve(done);
        } catch (e) {
          if (hostCode(e) === 'EAGAIN') setTimeout(attempt, EAGAIN_RETRY_MS);
          else resolve(done > 0 ? done : hostErr(e));
        }
      };
      setTimeout(attempt, EAGAIN_RETRY_MS);
    });
  }

  override stat(): Result<Stat> {
    try {
      return statFromHost(fs.fstatSync(this.hostFd, { bigint: true }));
    } catch (e) {
      return hostErr(e);
    }
  }

  override readiness(): number {
    let m = 0;
    if (this.readable && (this.bufferedBytes > 0 || this.eof || this.readError !== null)) {
      m |= POLL.IN | POLL.RDNORM;
    }
    if (this.writable) m |= POLL.OUT | POLL.WRNORM;
    return m;
  }

  override waitQueue(): WaitQueue {
    return this.queue;
  }

  override prepareWait(mask: number): void {
    if (this.readable && (mask & (POLL.IN | POLL.RDNORM)) !== 0) this.fill();
  }

  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    switch (cmd) {
      case IOCTL.FIONREAD: {
        const r = t.mem.writeU32(arg, this.bufferedBytes);
        return isErr(r) ? r : 0;
      }
      case IOCTL.TCGETS: {
        if (!this.isTty) return err(E.ENOTTY);
        const r = t.mem.copyOut(arg, defaultTermios());
        return isErr(r) ? r : 0;
      }
      case IOCTL.TCSETS:
      case IOCTL.TCSETSW:
      case IOCTL.TCSETSF: {
        // Accepted but not applied: the host terminal's modes stay the caller's.
        if (!this.isTty) return err(E.ENOTTY);
        const r = t.mem.copyIn(arg, 36);
        return isErr(r) ? r : 0;
      }
      case IOCTL.TIOCGWINSZ: {
        if (!this.isTty) return err(E.ENOTTY);
        const ws = this.winsize();
        const b = new Uint8Array(8);
        const v = new DataView(b.buffer);
        v.setUint16(0, ws.rows, true);
        v.setUint16(2, ws.cols, true);
        const r = t.mem.copyOut(arg, b);
        return isErr(r) ? r : 0;
      }
      case IOCTL.TIOCGPGRP: {
        // No job control yet: the caller's process group is the foreground one.
        if (!this.isTty) return err(E.ENOTTY);
        const r = t.mem.writeU32(arg, t.pid);
        return isErr(r) ? r : 0;
      }
      case IOCTL.TIOCSPGRP:
        return this.isTty ? 0 : err(E.ENOTTY);
      default:
        return err(E.ENOTTY);
    }
  }

  private winsize(): { rows: number; cols: number } {
    if (this.opts.winsize !== undefined) return this.opts.winsize();
    const cols = Number(process.env.COLUMNS);
    const rows = Number(process.env.LINES);
    return {
      cols: Number.isInteger(cols) && cols > 0 ? cols : 80,
      rows: Number.isInteger(rows) && rows > 0 ? rows : 24,
    };
  }
}

/**
 * File descriptions for the Sentry's inherited fds 0, 1, 2, each holding its creator's
 * reference (install them in init's FdTable, then decRef). A tty is opened read-write.
 */
export function createHostStdio(opts: HostStdioOpts = {}): [HostStdioFile, HostStdioFile, HostStdioFile] {
  const mk = (fd: number, acc: number): HostStdioFile =>
    new HostStdioFile(fd, tty.isatty(fd) ? O.RDWR : acc, opts);
  return [mk(0, O.RDONLY), mk(1, O.WRONLY), mk(2, O.WRONLY)];
}
