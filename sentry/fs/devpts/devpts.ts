// devpts: pseudo-terminal pairs. Opening /dev/ptmx (or /dev/pts/ptmx) creates a pty: the
// opener holds the master, and /dev/pts/N (N from TIOCGPTN) appears for the slave, which can
// be opened once unlocked (TIOCSPTLCK 0). Closing the master hangs the slave up and removes
// /dev/pts/N.

import { E } from '../../abi/errno.js';
import { err, isErr, type MaybePromise, type Result } from '../../abi/result.js';
import { SIG } from '../../kernel/signals.js';
import { Task } from '../../kernel/task.js';
import { O, POLL, S } from '../../vfs/constants.js';
import { FileDescription, type IoCtx } from '../../vfs/file.js';
import type { Opener } from '../../vfs/inode.js';
import type { Location } from '../../vfs/mount.js';
import { makedev, type Stat } from '../../vfs/stat.js';
import { SynthInode, SyntheticFs } from '../../vfs/synthetic.js';
import { waitAny, type WaitOutcome, type WaitQueue } from '../../vfs/wait_queue.js';
import { backgroundCheck, maybeAcquireOnOpen } from '../tty/job_control.js';
import { LFLAG, VC } from '../tty/termios.js';
import { Tty } from '../tty/tty.js';
import { TIOC, ttyCommonIoctl, ttySessionIoctl } from '../tty/tty_ioctl.js';

const DEVPTS_SUPER_MAGIC = 0x1cd1n;
/** UNIX98 pty slaves are char devices 136..143:N; the multiplexer is 5:2. */
const PTS_MAJOR = 136;
const MAX_PTYS = 4096;

const READABLE = POLL.IN | POLL.RDNORM;
const WRITABLE = POLL.OUT | POLL.WRNORM;

const ptyOfTty = new WeakMap<Tty, Pty>();

/** The pty a terminal belongs to (every Tty here is a pty's). */
export function ptyOf(tty: Tty): Pty | undefined {
  return ptyOfTty.get(tty);
}

/** Opens tty's program side as /dev/tty does (EIO once hung up). */
export function openTtyAgain(tty: Tty, loc: Location, flags: number): Result<FileDescription> {
  const p = ptyOfTty.get(tty);
  if (p === undefined || !p.masterOpen) return err(E.EIO);
  return new PtySlaveFile(flags, loc, p);
}

/** One pty pair's shared state. */
export class Pty {
  readonly tty: Tty;
  locked = true;
  masterOpen = true;
  slaveOpens = 0;
  slaveEverOpened = false;
  node!: PtsNode;

  constructor(readonly index: number) {
    this.tty = new Tty(index);
    ptyOfTty.set(this.tty, this);
  }
}

export class DevptsFs extends SyntheticFs {
  private readonly ptys = new Map<number, Pty>();

  constructor() {
    super('devpts', DEVPTS_SUPER_MAGIC, true);
    this.rootDir.children.set('ptmx', new PtmxNode(this, this, 0o000));
  }

  /** A new pty with the lowest free index (ENOSPC when all are in use). */
  allocate(): Result<Pty> {
    let i = 0;
    while (this.ptys.has(i)) i++;
    if (i >= MAX_PTYS) return err(E.ENOSPC);
    const p = new Pty(i);
    p.node = new PtsNode(this, p);
    this.ptys.set(i, p);
    this.rootDir.children.set(String(i), p.node);
    return p;
  }

  /** Creates a pty and opens its master (what open("/dev/ptmx") does). */
  openMaster(loc: Location, flags: number): Result<PtyMasterFile> {
    const p = this.allocate();
    if (isErr(p)) return p;
    return new PtyMasterFile(flags, loc, p, this);
  }

  /** The master's last reference went: hang up the slave and forget the pty. */
  releasePty(p: Pty): void {
    p.masterOpen = false;
    p.tty.hangup();
    this.ptys.delete(p.index);
    if (this.rootDir.children.get(String(p.index)) === p.node) this.rootDir.children.delete(String(p.index));
  }
}

/** The pty multiplexer: /dev/ptmx (mode 0666) and /dev/pts/ptmx (mode 0000). */
export class PtmxNode extends SynthInode {
  constructor(fs: SyntheticFs, private readonly devpts: DevptsFs, perm: number) {
    super(fs, S.IFCHR | perm);
  }
  protected override get rdev(): bigint {
    return makedev(5, 2);
  }
  open(loc: Location, flags: number): Result<FileDescription> {
    return this.devpts.openMaster(loc, flags);
  }
}

/** /dev/pts/N. */
export class PtsNode extends SynthInode {
  constructor(fs: DevptsFs, readonly pty: Pty) {
    super(fs, S.IFCHR | 0o600);
  }
  protected override get rdev(): bigint {
    return makedev(PTS_MAJOR + (this.pty.index >> 8), this.pty.index & 0xff);
  }
  open(loc: Location, flags: number, opener?: Opener): Result<FileDescription> {
    const p = this.pty;
    if (p.locked || !p.masterOpen) return err(E.EIO);
    const f = new PtySlaveFile(flags, loc, p);
    if (opener !== undefined && !opener.noctty && opener.ctx instanceof Task) maybeAcquireOnOpen(opener.ctx, p.tty);
    return f;
  }
}

export class PtyMasterFile extends FileDescription {
  constructor(flags: number, loc: Location | null, readonly pty: Pty, private readonly devpts: DevptsFs) {
    super(flags, loc);
  }

  get tty(): Tty {
    return this.pty.tty;
  }

  protected override release(): void {
    this.devpts.releasePty(this.pty);
  }

  override waitQueue(): WaitQueue {
    return this.tty.masterQueue;
  }

  /** Every slave has been closed after one was opened: reads fail with EIO, poll shows HUP. */
  private get slaveGone(): boolean {
    return this.pty.slaveEverOpened && this.pty.slaveOpens === 0;
  }

  override readiness(): number {
    let m = 0;
    if (this.tty.pendingOutput > 0) m |= READABLE;
    if (this.tty.inputSpace > 0) m |= WRITABLE;
    if (this.slaveGone) m |= POLL.HUP;
    return m;
  }

  private tryRead(dst: Uint8Array): Result<number> | null {
    if (dst.length === 0) return 0;
    const n = this.tty.takeOutput(dst);
    if (n > 0) return n;
    if (this.slaveGone) return err(E.EIO);
    return this.nonblocking ? err(E.EAGAIN) : null;
  }

  override read(dst: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    return this.tryRead(dst) ?? this.waitFor(READABLE | POLL.HUP, ctx, () => this.tryRead(dst));
  }

  private tryWrite(src: Uint8Array, st: { done: number }): Result<number> | null {
    st.done += this.tty.type(src.subarray(st.done));
    if (st.done === src.length) return st.done;
    if (this.nonblocking) return st.done > 0 ? st.done : err(E.EAGAIN);
    return null;
  }

  override write(src: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    const st = { done: 0 };
    return this.tryWrite(src, st) ?? this.waitFor(WRITABLE, ctx, () => this.tryWrite(src, st), () => st.done);
  }

  private async waitFor(mask: number, ctx: IoCtx, attempt: () => Result<number> | null, partial?: () => number): Promise<Result<number>> {
    for (;;) {
      const o = await this.tty.masterQueue.wait(mask, ctx.signal);
      if (o === 'interrupted') {
        const done = partial?.() ?? 0;
        return done > 0 ? done : err(E.EINTR);
      }
      const r = attempt();
      if (r !== null) return r;
    }
  }

  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    const p = this.pty;
    switch (cmd) {
      case TIOC.TIOCGPTN: {
        const r = t.mem.writeU32(arg, p.index);
        return isErr(r) ? r : 0;
      }
      case TIOC.TIOCSPTLCK: {
        const v = t.mem.readU32(arg);
        if (isErr(v)) return v;
        p.locked = v !== 0;
        return 0;
      }
      case TIOC.TIOCGPTLCK: {
        const r = t.mem.writeU32(arg, p.locked ? 1 : 0);
        return isErr(r) ? r : 0;
      }
      case TIOC.TIOCGPTPEER: {
        // Opens the slave without a path lookup (flags: O_RDWR, O_NOCTTY, O_NONBLOCK, O_CLOEXEC).
        if ((arg & ~(O.ACCMODE | O.NOCTTY | O.NONBLOCK | O.CLOEXEC)) !== 0) return err(E.EINVAL);
        if (p.locked) return err(E.EIO);
        const f = new PtySlaveFile(arg & (O.ACCMODE | O.NONBLOCK), null, p);
        const fd = t.fds.install(f, { cloexec: (arg & O.CLOEXEC) !== 0 });
        f.decRef();
        if (!isErr(fd) && (arg & O.NOCTTY) === 0) maybeAcquireOnOpen(t, p.tty);
        return fd;
      }
      case TIOC.FIONREAD: {
        const r = t.mem.writeU32(arg, this.tty.pendingOutput);
        return isErr(r) ? r : 0;
      }
      case TIOC.TIOCGPGRP: {
        // The master sees the slave's foreground group without being a controlling terminal.
        const r = t.mem.writeU32(arg, this.tty.session?.fgPgrp ?? 0);
        return isErr(r) ? r : 0;
      }
    }
    return ttyCommonIoctl(t, this.tty, cmd, arg, false) ?? err(E.ENOTTY);
  }
}

/** VTIME is in tenths of a second. */
const DECISECOND_MS = 100;

export class PtySlaveFile extends FileDescription {
  constructor(flags: number, loc: Location | null, readonly pty: Pty) {
    super(flags, loc);
    pty.slaveOpens++;
    pty.slaveEverOpened = true;
  }

  get tty(): Tty {
    return this.pty.tty;
  }

  /** The inode it was opened through (/dev/pts/N or /dev/tty); /dev/pts/N for TIOCGPTPEER. */
  override stat(): MaybePromise<Result<Stat>> {
    return this.location !== null ? super.stat() : this.pty.node.stat();
  }

  protected override release(): void {
    this.pty.slaveOpens--;
    if (this.pty.slaveOpens === 0) this.tty.masterQueue.notify(POLL.HUP | READABLE);
  }

  override waitQueue(): WaitQueue {
    return this.tty.slaveQueue;
  }

  override readiness(): number {
    const tty = this.tty;
    if (tty.hungUp) return READABLE | WRITABLE | POLL.HUP | POLL.ERR;
    let m = 0;
    if (tty.canRead()) m |= READABLE;
    if (tty.outputSpace > 0) m |= WRITABLE;
    return m;
  }

  /**
   * read(2) on the program side. Canonical: one line (0 at an end-of-file character).
   * Otherwise VMIN/VTIME decide: MIN bytes, or TIME tenths of a second of silence.
   */
  override read(dst: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    const tty = this.tty;
    const t = ctx.task;
    if (t !== undefined) {
      const bg = backgroundCheck(t, tty, SIG.SIGTTIN);
      if (bg !== undefined) return bg;
    }
    if (dst.length === 0) return 0;
    if (tty.hungUp) return 0;
    const tm = tty.termios;
    if (tm.lOn(LFLAG.ICANON)) {
      if (tty.canRead()) return tty.readLine(dst);
      if (this.nonblocking) return err(E.EAGAIN);
      return this.readWait(dst, ctx, () => (tty.canRead() ? tty.readLine(dst) : null), undefined);
    }
    const vmin = tm.cc[VC.VMIN];
    const vtime = tm.cc[VC.VTIME];
    const want = Math.min(Math.max(vmin, 1), dst.length);
    if (tty.canRead(this.nonblocking ? 1 : want)) return tty.readRaw(dst);
    if (this.nonblocking) return err(E.EAGAIN);
    if (vmin === 0 && vtime === 0) return tty.readRaw(dst);
    if (vmin === 0) {
      // Pure timeout: the first byte or TIME elapsing, whichever comes first.
      return this.readWait(dst, ctx, () => (tty.canRead() ? tty.readRaw(dst) : null), vtime * DECISECOND_MS, () => tty.readRaw(dst));
    }
    if (vtime === 0) return this.readWait(dst, ctx, () => (tty.canRead(want) ? tty.readRaw(dst) : null), undefined);
    // MIN and TIME: wait for a first byte, then for MIN bytes or TIME of silence between bytes.
    return this.readInterByte(dst, ctx, want, vtime * DECISECOND_MS);
  }

  private async readWait(
    dst: Uint8Array, ctx: IoCtx, attempt: () => number | null, timeoutMs: number | undefined, onTimeout?: () => number,
  ): Promise<Result<number>> {
    const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
    for (;;) {
      const left = deadline === undefined ? undefined : deadline - performance.now();
      if (left !== undefined && left <= 0) return onTimeout?.() ?? 0;
      const o = await waitOn(this.tty.slaveQueue, READABLE | POLL.HUP, left, ctx.signal);
      if (o === 'interrupted') return err(E.EINTR);
      if (this.tty.hungUp) return 0;
      const r = attempt();
      if (r !== null) return r;
    }
  }

  private async readInterByte(dst: Uint8Array, ctx: IoCtx, want: number, gapMs: number): Promise<Result<number>> {
    const tty = this.tty;
    const first = await this.readWait(dst, ctx, () => (tty.canRead() ? 0 : null), undefined);
    if (isErr(first) || tty.hungUp) return first;
    let have = tty.readableBytes;
    while (!tty.canRead(want)) {
      const o = await waitOn(tty.slaveQueue, READABLE | POLL.HUP, gapMs, ctx.signal);
      if (o === 'interrupted') break;
      if (o === 'timeout' || tty.hungUp) break;
      if (tty.readableBytes === have) continue;
      have = tty.readableBytes;
    }
    return tty.readRaw(dst);
  }

  /** write(2) on the program side: with TOSTOP a background writer is stopped. */
  override write(src: Uint8Array, ctx: IoCtx): MaybePromise<Result<number>> {
    const tty = this.tty;
    const t = ctx.task;
    if (tty.hungUp) return err(E.EIO);
    if (t !== undefined && tty.termios.lOn(LFLAG.TOSTOP)) {
      const bg = backgroundCheck(t, tty, SIG.SIGTTOU);
      if (bg !== undefined) return bg;
    }
    if (tty.outputSpace > 0) {
      tty.write(src);
      return src.length;
    }
    if (this.nonblocking) return err(E.EAGAIN);
    return this.writeSlow(src, ctx);
  }

  private async writeSlow(src: Uint8Array, ctx: IoCtx): Promise<Result<number>> {
    const tty = this.tty;
    for (;;) {
      const o = await tty.slaveQueue.wait(WRITABLE | POLL.HUP, ctx.signal);
      if (o === 'interrupted') return err(E.EINTR);
      if (tty.hungUp) return err(E.EIO);
      if (tty.outputSpace > 0) {
        tty.write(src);
        return src.length;
      }
    }
  }

  override ioctl(t: Task, cmd: number, arg: number): Result<number> {
    if (this.tty.hungUp) return cmd === TIOC.TIOCNOTTY || cmd === TIOC.TIOCGSID ? err(E.ENOTTY) : err(E.EIO);
    return ttySessionIoctl(t, this.tty, cmd, arg) ?? ttyCommonIoctl(t, this.tty, cmd, arg, true) ?? err(E.ENOTTY);
  }
}

/** Waits for mask on q for at most timeoutMs (undefined: forever). */
function waitOn(q: WaitQueue, mask: number, timeoutMs: number | undefined, signal?: AbortSignal): Promise<WaitOutcome> {
  return waitAny([{ queue: q, mask }], timeoutMs, signal);
}
